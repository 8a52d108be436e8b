// Conversations on two Parley servers sharing one PostgreSQL database (skipped unless PARLEY_TEST_PG is set):
// a unique name is taken once whichever server the concurrent creates reach, and a state timer fires exactly
// once when both servers' test clocks pass its due time (the claim of store/timers.h), with one event and
// one change record.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PG_BASE, sleep, start, randomHex } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MINUTE = 60_000;

describe('conversations on two servers, one PostgreSQL database', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  let rx;
  const run = (name, fn) =>
    test(name, { timeout: 120_000 }, async () => {
      try {
        await fn();
      } catch (e) {
        for (const h of [a, b]) if (h) process.stderr.write(`\n${h.tail(0, 60)}\n`);
        throw e;
      }
    });

  before(async () => {
    a = await start({ args: ['--test-clock'] });
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken, args: ['--test-clock'] });
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
    for (const h of [b, a]) if (h) await h.stop().catch(() => {});
    for (const h of [b, a]) if (h) await h.cleanup();
  });

  run('20 concurrent creates of one unique name over both servers: exactly one 201, the others 409/50353', async () => {
    const name = `race ${randomHex(8)} ü+@`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).raw('POST', '/v1/Conversations', { body: { UniqueName: name } })),
    );
    const created = results.filter((r) => r.status === 201);
    assert.equal(created.length, 1, results.map((r) => r.status).join(','));
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409, r.body);
      assert.equal(r.json.code, 50353);
    }
    for (const h of [a, b]) {
      const f = await h.raw('GET', `/v1/Conversations/${encodeURIComponent(name)}`);
      assert.equal(f.json.sid, created[0].json.sid);
    }
  });

  run('a timer due on both servers fires once: one state event, one change record', async () => {
    await a.client.conversations.v1.configuration.webhooks().update({
      method: 'POST', filters: ['onConversationStateUpdated'], postWebhookUrl: rx.url('/once'), target: 'webhook',
    });
    const sids = [];
    for (let i = 0; i < 5; i++) {
      const c = await (i % 2 ? a : b).client.conversations.v1.conversations.create({ 'timers.inactive': 'PT1M' });
      sids.push(c.sid);
    }
    const before = await a.raw('GET', '/parley/changes?After=0&PageSize=1000');
    const last = before.json.changes.at(-1).seq;
    await Promise.all([a, b].map((h) => h.raw('POST', '/parley/clock', { body: { AdvanceMs: String(2 * MINUTE) } })));
    for (const sid of sids) {
      const f = await b.client.conversations.v1.conversations(sid).fetch();
      assert.equal(f.state, 'inactive');
    }
    await rx.waitFor('/once', sids.length);
    await sleep(1500);
    // one event per conversation: deliveries are at least once, so count distinct idempotency tokens
    for (const sid of sids) {
      const tokens = new Set(rx.at('/once').filter((r) => r.params.ConversationSid === sid).map((r) => r.headers['i-twilio-idempotency-token']));
      assert.equal(tokens.size, 1, `${sid}: one event`);
    }
    const res = await a.raw('GET', `/parley/changes?After=${last}&PageSize=1000`);
    for (const sid of sids) assert.equal(res.json.changes.filter((ch) => ch.sid === sid).length, 1, `${sid}: one change record`);
  });
});
