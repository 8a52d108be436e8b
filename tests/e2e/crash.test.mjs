// Nothing acknowledged is lost: concurrent creates and updates while the server is killed with SIGKILL at
// random moments, again and again; and a full disk, which must give Twilio-style 5xx errors, never a corrupt
// store, and recover once there is room again.
//
// CRASH_ROUNDS (default 20) sets the number of kill -9 rounds.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { e2eSuite, sendOn, sleep } from './harness.mjs';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 20);
const WORKERS = 8;

function integrity(file) {
  return execFileSync('sqlite3', [file, 'PRAGMA integrity_check; PRAGMA foreign_key_check;'], { encoding: 'utf8' }).trim();
}

e2eSuite('crashes under load', {}, (ctx, it) => {
  it(`kill -9 at random moments, ${ROUNDS} times: every 2xx is there, nothing refused is`, { timeout: 600_000 }, async () => {
    const created = new Map(); // identity -> sid (acknowledged)
    const refused = new Set(); // identities whose create got a 4xx/5xx
    const acked = new Map(); // identity -> index of the last acknowledged update
    const inflightUpdate = new Map(); // identity -> index of an update whose answer never came
    let seq = 0;
    let stats = { ok: 0, err: 0, lost: 0 };

    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const worker = async (w) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const mine = [];
        while (!stop) {
          if (mine.length === 0 || Math.random() < 0.5) {
            const id = `c${round}-${w}-${++seq}`;
            const res = await sendOn(ctx.h, agent, 'POST', '/v1/Users', { Identity: id, FriendlyName: 'v0' }, 10_000);
            if (res.error) {
              stats.lost++;
              continue; // unknown outcome: either is fine
            }
            if (res.status === 201) {
              created.set(id, res.json.sid);
              acked.set(id, 0);
              mine.push(id);
              stats.ok++;
            } else {
              refused.add(id);
              stats.err++;
            }
          } else {
            const id = mine[Math.floor(Math.random() * mine.length)];
            const next = acked.get(id) + 1;
            inflightUpdate.set(id, next);
            const res = await sendOn(ctx.h, agent, 'POST', `/v1/Users/${encodeURIComponent(id)}`, { FriendlyName: `v${next}` }, 10_000);
            if (res.error) {
              stats.lost++;
              mine.splice(mine.indexOf(id), 1); // its state is now one of two values: leave it alone
              continue;
            }
            inflightUpdate.delete(id);
            if (res.status === 200) {
              acked.set(id, next);
              stats.ok++;
            } else stats.err++;
          }
        }
        agent.destroy();
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      await sleep(150 + Math.random() * 500);
      await ctx.h.kill9();
      stop = true;
      await Promise.all(workers);
      assert.equal(integrity(ctx.h.dataFile), 'ok', `integrity after round ${round}`);
      await ctx.h.restart();
    }

    // every acknowledged create is there with an acknowledged (or the one unanswered) value; no refused one is
    const all = new Map();
    let url = '/v1/Users?PageSize=50';
    while (url) {
      const res = await ctx.h.raw('GET', url);
      assert.equal(res.status, 200);
      for (const u of res.json.users) all.set(u.identity, u);
      url = res.json.meta.next_page_url;
    }
    for (const [id, sid] of created) {
      const u = all.get(id);
      assert.ok(u, `acknowledged create of ${id} was lost`);
      assert.equal(u.sid, sid);
      const v = Number(u.friendly_name.slice(1));
      const ok = v === acked.get(id) || v === inflightUpdate.get(id);
      assert.ok(ok, `${id}: stored v${v}, last acknowledged v${acked.get(id)}`);
    }
    for (const id of refused) assert.ok(!all.has(id), `${id} was refused but stored`);
    process.stderr.write(`# crash: ${ROUNDS} rounds, ${stats.ok} acknowledged, ${stats.err} refused, ${stats.lost} cut off by the kill; ${created.size} users checked\n`);
    assert.ok(created.size > ROUNDS, 'the load did real work');
  });
});

e2eSuite('disk full', { wrap: ['prlimit', '--fsize=3000000:unlimited', '--'] }, (ctx, it) => {
  it('writes past the limit get 5xx Twilio errors, the store stays sound, and recovers when space returns', { timeout: 120_000 }, async () => {
    const attrs = JSON.stringify({ pad: 'p'.repeat(12_000) });
    const acked = [];
    let failure;
    for (let i = 0; i < 2000 && !failure; i++) {
      const res = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: `full-${i}`, Attributes: attrs } });
      if (res.status === 201) acked.push(`full-${i}`);
      else failure = res;
    }
    assert.ok(failure, 'the file size limit was reached');
    assert.ok(failure.status >= 500, `status ${failure.status}: ${failure.body}`);
    assert.deepEqual(Object.keys(failure.json), ['code', 'message', 'more_info', 'status']);
    assert.ok(acked.length > 10);
    // reads still work, and everything acknowledged is there
    for (const id of [acked[0], acked.at(-1)]) assert.equal((await ctx.h.raw('GET', `/v1/Users/${id}`)).status, 200);
    // room again
    execFileSync('prlimit', ['--pid', String(ctx.h.proc.pid), '--fsize=unlimited:unlimited']);
    let res;
    for (let i = 0; i < 20; i++) {
      res = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: `after-${i}`, Attributes: attrs } });
      if (res.status === 201) break;
      await sleep(100);
    }
    assert.equal(res.status, 201, `after the limit was lifted: ${res.body}`);
    await ctx.h.stop();
    assert.equal(integrity(ctx.h.dataFile), 'ok');
    await ctx.h.restart();
    for (const id of acked) assert.equal((await ctx.h.raw('GET', `/v1/Users/${id}`)).status, 200, `${id} lost`);
  });
});
