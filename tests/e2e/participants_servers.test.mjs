// Participants with two Parley servers on one PostgreSQL database (skipped unless PARLEY_TEST_PG is set): one
// chat participant per identity holds across servers (the unique index, not a check in one process), and a
// new identity joining several conversations through both servers at once gets one user, no error.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { PG_BASE, sendOn, start } from './harness.mjs';

describe('participants on two servers sharing PostgreSQL', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  const agents = [];
  const agent = () => {
    const ag = new http.Agent({ keepAlive: true, maxSockets: 4 });
    agents.push(ag);
    return ag;
  };

  before(async () => {
    a = await start({});
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken });
  });
  after(async () => {
    for (const ag of agents) ag.destroy();
    for (const h of [b, a]) if (h) await h.cleanup();
  });

  test('20 parallel creates of one identity over both servers: exactly one 201, the others 409/50433', { timeout: 120_000 }, async () => {
    const agA = agent();
    const agB = agent();
    for (let round = 0; round < 5; round++) {
      const cv = await a.raw('POST', '/v1/Conversations', { body: { FriendlyName: `race ${round}` } });
      assert.equal(cv.status, 201, cv.body);
      const path = `/v1/Conversations/${cv.json.sid}/Participants`;
      const identity = `race-${round}-${Date.now()}`;
      const all = await Promise.all(
        Array.from({ length: 20 }, (_, i) => sendOn(i % 2 ? b : a, i % 2 ? agB : agA, 'POST', path, { Identity: identity })),
      );
      const created = all.filter((r) => r.status === 201);
      assert.equal(created.length, 1, `round ${round}: ${JSON.stringify(all.map((r) => r.status))}`);
      for (const r of all.filter((x) => x.status !== 201)) {
        assert.equal(r.status, 409, JSON.stringify(r.json));
        assert.equal(r.json.code, 50433);
      }
      const listed = await b.raw('GET', `${path}?PageSize=50`);
      assert.equal(listed.json.participants.length, 1);
      const users = await a.raw('GET', `/v1/Users/${encodeURIComponent(identity)}`);
      assert.equal(users.status, 200, 'one user for the identity');
    }
  });

  test('a new identity joins 10 conversations through both servers at once: all 201, one user', { timeout: 120_000 }, async () => {
    const identity = `joiner-${Date.now()}`;
    const convs = [];
    for (let i = 0; i < 10; i++) convs.push((await a.raw('POST', '/v1/Conversations', { body: {} })).json.sid);
    const agA = agent();
    const agB = agent();
    const all = await Promise.all(
      convs.map((ch, i) => sendOn(i % 2 ? b : a, i % 2 ? agB : agA, 'POST', `/v1/Conversations/${ch}/Participants`, { Identity: identity })),
    );
    assert.deepEqual(all.map((r) => r.status), convs.map(() => 201), JSON.stringify(all.map((r) => r.json?.code)));
    const view = await b.raw('GET', `/v1/Users/${identity}/Conversations?PageSize=50`);
    assert.equal(view.status, 200, view.body);
    assert.deepEqual(view.json.conversations.map((c) => c.conversation_sid).sort(), [...convs].sort());
  });
});
