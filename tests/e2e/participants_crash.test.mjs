// kill -9 while participants are being added: every acknowledged participant is there afterwards, with its
// auto-created user and its user's view; nothing refused is. CRASH_ROUNDS (default 6) sets the rounds.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { e2eSuite, PG_BASE, sendOn, sleep } from './harness.mjs';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const WORKERS = 6;

e2eSuite('participants: crashes under load', {}, (ctx, it) => {
  it(`kill -9 at random moments, ${ROUNDS} times: every 201 is there, with its user`, { timeout: 300_000 }, async () => {
    const cv = await ctx.h.raw('POST', '/v1/Conversations', { body: { UniqueName: 'crash-room' } });
    assert.equal(cv.status, 201, cv.body);
    const path = `/v1/Conversations/${cv.json.sid}/Participants`;
    const created = new Map(); // identity -> participant SID (acknowledged)
    const refused = new Set();
    let seq = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const worker = async (w) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        while (!stop) {
          const identity = `crash ${round}-${w}-${++seq}`;
          const res = await sendOn(ctx.h, agent, 'POST', path, { Identity: identity }, 10_000);
          if (res.error) continue; // unknown outcome: either is fine
          if (res.status === 201) created.set(identity, res.json.sid);
          else refused.add(identity);
        }
        agent.destroy();
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await sleep(150 + Math.random() * 400);
      await ctx.h.kill9();
      stop = true;
      await Promise.all(workers);
      if (!PG_BASE) {
        const check = execFileSync('sqlite3', [ctx.h.dataFile, 'PRAGMA integrity_check; PRAGMA foreign_key_check;'], { encoding: 'utf8' }).trim();
        assert.equal(check, 'ok', `integrity after round ${round}`);
      }
      await ctx.h.restart();
    }
    assert.ok(created.size > 0, 'some creates were acknowledged');
    const listed = new Map();
    let url = `${path}?PageSize=100`;
    while (url) {
      const res = await ctx.h.raw('GET', url);
      assert.equal(res.status, 200, res.body);
      for (const p of res.json.participants) listed.set(p.identity, p.sid);
      url = res.json.meta.next_page_url;
    }
    for (const [identity, sid] of created) {
      assert.equal(listed.get(identity), sid, `acknowledged participant ${identity} is there`);
    }
    for (const identity of refused) assert.ok(!listed.has(identity), `refused ${identity} is not there`);
    // the users and their views came with them (one transaction)
    for (const identity of [...created.keys()].slice(0, 20)) {
      const view = await ctx.h.raw('GET', `/v1/Users/${encodeURIComponent(identity)}/Conversations/crash-room`);
      assert.equal(view.status, 200, `${identity}: ${view.body}`);
      assert.equal(view.json.participant_sid, created.get(identity));
    }
  });
});
