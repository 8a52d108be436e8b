// Several Parley servers on one PostgreSQL database (skipped unless PARLEY_TEST_PG is set).
//
// Two servers on different ports share one database and one account. Users created through one are fetched,
// updated, paged and deleted through the other; 16 concurrent clients spread over both update the same users
// and create conflicting identities: exactly one create per identity succeeds (the others get 409 50201), no
// update is lost or torn; a kill -9 of one server under load loses nothing it acknowledged; and neither do
// connections that the database cuts under load (each server reconnects and carries on).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { PG_BASE, pgAdmin, sendOn, sleep, start } from './harness.mjs';

const CLIENTS = 16;

/** Every user of the default service through server h, following next_page_url with the given page size. */
async function listAll(h, pageSize = 50) {
  const out = [];
  let url = `/v1/Users?PageSize=${pageSize}`;
  for (let guard = 0; url; guard++) {
    assert.ok(guard < 10_000, 'paging does not terminate');
    const res = await h.raw('GET', url);
    assert.equal(res.status, 200, `GET ${url}: ${res.body}`);
    out.push(...res.json.users);
    url = res.json.meta.next_page_url;
  }
  return out;
}

describe('several servers on one PostgreSQL database', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  const servers = () => [a, b];
  const agents = [];
  const agent = () => {
    const ag = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(ag);
    return ag;
  };
  const fail = (e) => {
    for (const h of servers()) if (h) process.stderr.write(`\n${h.tail(0, 80)}\n`);
    throw e;
  };
  const run = (name, opts, fn) =>
    test(name, { timeout: 300_000, ...opts }, async () => {
      try {
        for (const h of servers()) assert.ok(!h.unexpectedExit, `a server died: ${JSON.stringify(h.unexpectedExit)}`);
        await fn();
      } catch (e) {
        fail(e);
      }
    });

  before(async () => {
    a = await start({});
    // the second server: same database, same account, its own port
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken });
  });
  after(async () => {
    for (const ag of agents) ag.destroy();
    if (b) await b.cleanup();
    if (a) await a.cleanup();
  });

  run('created through one, fetched, updated, paged and deleted through the other', {}, async () => {
    const made = [];
    for (let i = 0; i < 23; i++) {
      const res = await a.raw('POST', '/v1/Users', { body: { Identity: `x-${i}`, FriendlyName: `a${i}`, Attributes: `{"i":${i}}` } });
      assert.equal(res.status, 201, res.body);
      made.push(res.json);
    }
    for (const u of made) {
      for (const key of [u.sid, encodeURIComponent(u.identity)]) {
        const res = await b.raw('GET', `/v1/Users/${key}`);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.sid, u.sid);
        assert.equal(res.json.friendly_name, u.friendly_name);
        assert.equal(res.json.attributes, u.attributes);
        assert.equal(res.json.url, `${b.url}/v1/Users/${u.sid}`, 'absolute URLs carry the answering server\'s --public-url');
      }
    }
    // an update through B is what A reads next
    for (const u of made.slice(0, 5)) {
      const res = await b.raw('POST', `/v1/Users/${u.sid}`, { body: { FriendlyName: `b-${u.identity}` } });
      assert.equal(res.status, 200, res.body);
      const back = await a.raw('GET', `/v1/Users/${u.sid}`);
      assert.equal(back.json.friendly_name, `b-${u.identity}`);
      assert.equal(back.json.attributes, u.attributes, 'the other field is kept');
    }
    // both page the same rows in the same order, whatever the page size
    const viaA = (await listAll(a, 50)).map((u) => u.sid);
    const viaB = (await listAll(b, 7)).map((u) => u.sid);
    assert.deepEqual(viaB, viaA);
    for (const u of made) assert.ok(viaB.includes(u.sid), `${u.identity} listed`);
    // a duplicate identity through the other server is a 409
    const dup = await b.raw('POST', '/v1/Users', { body: { Identity: 'x-3' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.code, 50201);
    // deleted through B: gone for A
    for (const u of made.slice(0, 10)) assert.equal((await b.raw('DELETE', `/v1/Users/${u.sid}`)).status, 204);
    for (const u of made.slice(0, 10)) assert.equal((await a.raw('GET', `/v1/Users/${u.sid}`)).status, 404);
    const left = (await listAll(a, 4)).map((u) => u.sid);
    for (const u of made.slice(10)) assert.ok(left.includes(u.sid));
    for (const u of made.slice(0, 10)) assert.ok(!left.includes(u.sid));
  });

  run(`${CLIENTS} clients on both servers: exactly one create per identity, the others 409 50201`, {}, async () => {
    const IDS = 25;
    const clients = Array.from({ length: CLIENTS }, (_, c) => ({ h: servers()[c % 2], agent: agent() }));
    const outcomes = await Promise.all(
      clients.map(async ({ h, agent: ag }, c) => {
        const mine = [];
        // each client walks the identities from a different start, so that creates collide in every order
        for (let k = 0; k < IDS; k++) {
          const i = (k + c) % IDS;
          const res = await sendOn(h, ag, 'POST', '/v1/Users', { Identity: `dup-${i}`, FriendlyName: `by-${c}` });
          assert.ok(!res.error, `client ${c}: ${res.error}`);
          mine.push({ i, c, status: res.status, json: res.json });
        }
        return mine;
      }),
    );
    const byId = new Map();
    for (const o of outcomes.flat()) {
      if (!byId.has(o.i)) byId.set(o.i, []);
      byId.get(o.i).push(o);
    }
    for (const [i, list] of byId) {
      const won = list.filter((o) => o.status === 201);
      const lost = list.filter((o) => o.status !== 201);
      assert.equal(won.length, 1, `dup-${i}: ${won.length} creates succeeded`);
      for (const o of lost) {
        assert.equal(o.status, 409, `dup-${i}: ${JSON.stringify(o.json)}`);
        assert.equal(o.json.code, 50201);
      }
      for (const h of servers()) {
        const res = await h.raw('GET', `/v1/Users/dup-${i}`);
        assert.equal(res.json.sid, won[0].json.sid);
        assert.equal(res.json.friendly_name, `by-${won[0].c}`);
      }
    }
  });

  run(`${CLIENTS} clients on both servers update the same users: nothing torn`, {}, async () => {
    const USERS = 4;
    const ROUNDS = 20;
    const users = [];
    for (let k = 0; k < USERS; k++) users.push((await a.raw('POST', '/v1/Users', { body: { Identity: `torn-${k}` } })).json);
    const acked = users.map(() => new Set());
    let failures = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const h = servers()[c % 2];
        const ag = agent();
        for (let r = 0; r < ROUNDS; r++) {
          const k = (c + r) % USERS;
          const n = c * 1000 + r;
          // by SID or by identity: both paths lock the same row
          const key = r % 2 ? users[k].sid : users[k].identity;
          const res = await sendOn(h, ag, 'POST', `/v1/Users/${key}`, { FriendlyName: `n${n}`, Attributes: `{"n":${n}}` });
          assert.ok(!res.error, String(res.error));
          if (res.status !== 200) {
            assert.ok(res.status === 503, `update answered ${res.status}: ${JSON.stringify(res.json)}`);
            failures++;
            continue;
          }
          assert.equal(res.json.attributes, `{"n":${Number(res.json.friendly_name.slice(1))}}`, `answer is torn`);
          acked[k].add(n);
        }
      }),
    );
    for (let k = 0; k < USERS; k++) {
      for (const h of servers()) {
        const f = (await h.raw('GET', `/v1/Users/${users[k].sid}`)).json;
        const n = Number(f.friendly_name.slice(1));
        assert.equal(f.attributes, `{"n":${n}}`, `final record is torn: ${f.friendly_name} / ${f.attributes}`);
        assert.ok(acked[k].has(n), `final value n${n} was never acknowledged`);
      }
    }
    process.stderr.write(`# multi-instance torn: ${CLIENTS * ROUNDS - failures} updates acknowledged, ${failures} answered 503\n`);
    assert.ok(failures <= (CLIENTS * ROUNDS) / 10, `${failures} updates answered 503`);
  });

  run(`${CLIENTS} clients on both servers update different fields of the same users: no update lost`, {}, async () => {
    // User k has one client writing its FriendlyName through one server and another writing its Attributes
    // through the other. Each rewrites the whole row (read, modify, write): without a row lock across the
    // servers, one would write back the other's field as it was, and that field would go backwards.
    const USERS = CLIENTS / 2;
    const ROUNDS = 25;
    const users = [];
    for (let k = 0; k < USERS; k++) {
      users.push((await b.raw('POST', '/v1/Users', { body: { Identity: `lost-${k}`, FriendlyName: 'f0', Attributes: '{"t":0}' } })).json);
    }
    const lastF = new Array(USERS).fill(0);
    const lastT = new Array(USERS).fill(0);
    const seen = (json) => ({ f: Number(json.friendly_name.slice(1)), t: JSON.parse(json.attributes).t });
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        const k = c >> 1;
        const field = c & 1 ? 'Attributes' : 'FriendlyName';
        const h = servers()[(c + k) % 2];
        const ag = agent();
        let other = 0; // the other field never goes backwards in what we are shown
        for (let v = 1; v <= ROUNDS; v++) {
          const body = field === 'FriendlyName' ? { FriendlyName: `f${v}` } : { Attributes: `{"t":${v}}` };
          const res = await sendOn(h, ag, 'POST', `/v1/Users/${users[k].sid}`, body);
          assert.ok(!res.error, String(res.error));
          if (res.status === 503) continue;
          assert.equal(res.status, 200, JSON.stringify(res.json));
          const s = seen(res.json);
          if (field === 'FriendlyName') {
            assert.equal(s.f, v);
            assert.ok(s.t >= other, `user ${k}: Attributes went back from ${other} to ${s.t}`);
            other = s.t;
            lastF[k] = v;
          } else {
            assert.equal(s.t, v);
            assert.ok(s.f >= other, `user ${k}: FriendlyName went back from ${other} to ${s.f}`);
            other = s.f;
            lastT[k] = v;
          }
        }
      }),
    );
    for (let k = 0; k < USERS; k++) {
      for (const h of servers()) {
        const s = seen((await h.raw('GET', `/v1/Users/${users[k].sid}`)).json);
        assert.deepEqual(s, { f: lastF[k], t: lastT[k] }, `user ${k}: every last acknowledged update is there`);
      }
    }
    assert.ok(lastF.every((v) => v > ROUNDS / 2) && lastT.every((v) => v > ROUNDS / 2), 'most updates were acknowledged');
  });

  run('kill -9 of one server under load: every create either server acknowledged is there', {}, async () => {
    const acked = new Map(); // identity -> sid
    const refused = new Set();
    let stop = false;
    let seq = 0;
    const workers = Array.from({ length: CLIENTS }, async (_, c) => {
      const h = servers()[c % 2];
      const ag = agent();
      while (!stop) {
        const id = `k9-${c}-${++seq}`;
        const res = await sendOn(h, ag, 'POST', '/v1/Users', { Identity: id });
        if (res.error) {
          if (h === a) {
            // A is gone: its clients stop; an unanswered create may or may not be there
            await sleep(20);
            if (!a.running) return;
          }
          continue;
        }
        if (res.status === 201) acked.set(id, res.json.sid);
        else refused.add(id);
      }
    });
    await sleep(700);
    const beforeKill = acked.size;
    await a.kill9();
    await sleep(700);
    stop = true;
    await Promise.all(workers);
    assert.ok(beforeKill > 20, `the load did real work before the kill (${beforeKill} creates)`);
    const stored = new Map((await listAll(b)).map((u) => [u.identity, u.sid]));
    for (const [id, sid] of acked) assert.equal(stored.get(id), sid, `acknowledged create ${id} is lost`);
    for (const id of refused) assert.ok(!stored.has(id), `refused create ${id} is stored`);
    // the killed server comes back on the same database and sees the same
    await a.restart();
    const again = new Map((await listAll(a, 200)).map((u) => [u.identity, u.sid]));
    for (const [id, sid] of acked) assert.equal(again.get(id), sid);
    process.stderr.write(`# multi-instance kill -9: ${acked.size} creates acknowledged (${beforeKill} before the kill), ${refused.size} refused\n`);
  });

  run('connections cut by the database under load: nothing acknowledged is lost, nothing refused is stored', {}, async () => {
    const acked = new Map();
    const refused = new Set();
    let stop = false;
    let seq = 0;
    const workers = Array.from({ length: 8 }, async (_, c) => {
      const h = servers()[c % 2];
      const ag = agent();
      while (!stop) {
        const id = `cut-${c}-${++seq}`;
        const res = await sendOn(h, ag, 'POST', '/v1/Users', { Identity: id });
        assert.ok(!res.error, `the server stopped answering: ${res.error}`);
        if (res.status === 201) acked.set(id, res.json.sid);
        else {
          assert.ok(res.status >= 500, `create answered ${res.status}: ${JSON.stringify(res.json)}`);
          refused.add(id);
        }
      }
    });
    // every Parley session on this database, readers and writers of both servers, ten times
    for (let k = 0; k < 10; k++) {
      await sleep(100);
      pgAdmin(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'parley' AND datname = '${a.pgDatabase}'`);
    }
    await sleep(200);
    stop = true;
    await Promise.all(workers);
    const stored = new Map((await listAll(b, 200)).map((u) => [u.identity, u.sid]));
    for (const [id, sid] of acked) assert.equal(stored.get(id), sid, `acknowledged create ${id} is lost`);
    // a 5xx after a COMMIT whose answer was cut has an unknown outcome; any other 5xx changed nothing
    const unknown = [...refused].filter((id) => stored.has(id));
    assert.ok(unknown.length <= 2 * 10, `${unknown.length} refused creates are stored`);
    assert.ok(acked.size > 50, `the load did real work (${acked.size})`);
    process.stderr.write(`# multi-instance cut connections: ${acked.size} acknowledged, ${refused.size} answered 5xx (${unknown.length} of them committed)\n`);
  });

  run('both servers exit with status 0 on SIGTERM', {}, async () => {
    await b.stop();
    await a.stop();
  });
});
