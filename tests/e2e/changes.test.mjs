// The change log: every write through the runner (users, roles, credentials, the configuration singletons) and
// every service create and delete leaves one ordered record in its transaction, read through
// GET /parley/changes?After=SEQ&PageSize=N by the account that made it, and by no other.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, PG_BASE, rejectsRest, start } from './harness.mjs';

const KEYS = ['seq', 'resource', 'sid', 'parent_sid', 'service_sid', 'kind', 'date'];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function createAccount(h, name) {
  const r = h.cli(['account', 'create', '--friendly-name', name]);
  assert.equal(r.status, 0, r.stderr);
  const f = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
  return { sid: f.account_sid, token: f.auth_token, client: h.newClient(f.account_sid, f.auth_token) };
}

async function changes(h, query = '', auth = true) {
  const res = await h.raw('GET', `/parley/changes${query}`, { auth });
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(Object.keys(res.json), ['changes', 'next_after']);
  for (const c of res.json.changes) {
    assert.deepEqual(Object.keys(c), KEYS);
    assert.match(c.date, ISO_MS);
  }
  return res.json;
}

/** Every record after `after`, page by page. */
async function allAfter(h, after, auth = true) {
  const out = [];
  for (;;) {
    const page = await changes(h, `?After=${after}&PageSize=3`, auth);
    out.push(...page.changes);
    if (page.changes.length === 0) {
      assert.equal(page.next_after, after);
      return out;
    }
    assert.equal(page.next_after, page.changes.at(-1).seq);
    after = page.next_after;
  }
}

const lastSeq = async (h) => {
  const all = await allAfter(h, 0);
  return all.length ? all.at(-1).seq : 0;
};

e2eSuite('change log', {}, (ctx, it) => {
  let IS;
  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  it('users and roles: created, updated, deleted, in order, with their service', async () => {
    const h = ctx.h;
    const from = await lastSeq(h);
    const v1 = h.client.conversations.v1;
    const u = await v1.users.create({ identity: 'alice' });
    await v1.users(u.sid).update({ friendlyName: 'Alice' });
    const role = await v1.roles.create({ friendlyName: 'r', type: 'conversation', permission: ['sendMessage'] });
    await v1.roles(role.sid).update({ permission: ['sendMessage', 'leaveConversation'] });
    await v1.users('alice').remove(); // by identity: the record names the SID
    await v1.roles(role.sid).remove();
    const got = await allAfter(h, from);
    assert.deepEqual(
      got.map((c) => [c.resource, c.sid, c.kind, c.service_sid, c.parent_sid]),
      [
        ['user', u.sid, 'created', IS, null],
        ['user', u.sid, 'updated', IS, null],
        ['role', role.sid, 'created', IS, null],
        ['role', role.sid, 'updated', IS, null],
        ['user', u.sid, 'deleted', IS, null],
        ['role', role.sid, 'deleted', IS, null],
      ],
    );
    got.forEach((c, i) => assert.equal(c.seq, from + 1 + i, 'one number per record, none skipped'));
    const dates = got.map((c) => Date.parse(c.date));
    assert.deepEqual([...dates].sort((a, b) => a - b), dates);
    assert.ok(Math.abs(dates[0] - Date.now()) < 60_000);
  });

  it('a refused write leaves no record', async () => {
    const h = ctx.h;
    const v1 = h.client.conversations.v1;
    await v1.users.create({ identity: 'bob' });
    const from = await lastSeq(h);
    await rejectsRest(v1.users.create({ identity: 'bob' }), { status: 409, code: 50201 });
    await rejectsRest(v1.users('nobody').update({ friendlyName: 'x' }), { status: 404, code: 20404 });
    await rejectsRest(v1.users('nobody').remove(), { status: 404, code: 20404 });
    const role = await v1.roles.create({ friendlyName: 'held', type: 'service', permission: ['createConversation'] });
    await v1.users.create({ identity: 'carol', roleSid: role.sid });
    const mid = await lastSeq(h);
    await rejectsRest(v1.roles(role.sid).remove(), { status: 409, code: 20409 }); // in use
    assert.equal(await lastSeq(h), mid);
    assert.equal(mid, from + 2);
  });

  it('services, credentials and the configuration singletons are recorded too', async () => {
    const h = ctx.h;
    const v1 = h.client.conversations.v1;
    const from = await lastSeq(h);
    const svc = await v1.services.create({ friendlyName: 'changes' });
    await v1.services(svc.sid).configuration().update({ reachabilityEnabled: true });
    const cred = await v1.credentials.create({ type: 'fcm', secret: 'server-key' });
    await v1.credentials(cred.sid).update({ friendlyName: 'push' });
    await v1.credentials(cred.sid).remove();
    await v1.services(svc.sid).remove();
    const got = await allAfter(h, from);
    assert.deepEqual(
      got.map((c) => [c.resource, c.sid, c.kind, c.service_sid]),
      [
        ['service', svc.sid, 'created', svc.sid],
        ['service_configuration', svc.sid, 'updated', svc.sid],
        ['credential', cred.sid, 'created', null],
        ['credential', cred.sid, 'updated', null],
        ['credential', cred.sid, 'deleted', null],
        ['service', svc.sid, 'deleted', svc.sid],
      ],
    );
  });

  it('participants: their conversation\'s SID as parent (also when the path names it by unique name), one record per write; a conversation\'s delete is one record that implies its participants', async () => {
    const h = ctx.h;
    const v1 = h.client.conversations.v1;
    const cv = await v1.conversations.create({ uniqueName: 'changes-room' });
    const from = await lastSeq(h);
    const byName = v1.conversations('changes-room').participants;
    const p1 = await byName.create({ identity: 'changes-p1' }); // the user is created with it
    const p2 = await v1.conversations(cv.sid).participants.create({ identity: 'changes-p2' });
    await byName(p1.sid).update({ attributes: '{"a":1}' });
    await byName('changes-p2').update({ attributes: '{"b":2}' }); // by identity
    await byName('changes-p2').remove();
    const after = await allAfter(h, from);
    // without timers, a participant added leaves the conversation's row (and its record) alone
    assert.deepEqual(after.filter((c) => c.resource === 'conversation'), []);
    const mine = after.filter((c) => c.resource === 'participant');
    assert.deepEqual(
      mine.map((c) => [c.sid, c.kind, c.parent_sid, c.service_sid]),
      [
        [p1.sid, 'created', cv.sid, IS],
        [p2.sid, 'created', cv.sid, IS],
        [p1.sid, 'updated', cv.sid, IS],
        [p2.sid, 'updated', cv.sid, IS],
        [p2.sid, 'deleted', cv.sid, IS],
      ],
    );
    const mid = await lastSeq(h);
    await v1.conversations(cv.sid).remove(); // p1 goes with it, by cascade
    const gone = await allAfter(h, mid);
    assert.deepEqual(gone.map((c) => [c.resource, c.sid, c.kind, c.parent_sid]), [['conversation', cv.sid, 'deleted', null]]);
    const res = await h.raw('GET', `/v1/Participants/${p1.sid}`);
    assert.equal(res.status, 404);
  });

  it('another account sees only its own records, numbered on their own', async () => {
    const h = ctx.h;
    const B = createAccount(h, 'Tenant B');
    const bAuth = [B.sid, B.token];
    assert.deepEqual((await changes(h, '', bAuth)).changes, []);
    const u = await B.client.conversations.v1.users.create({ identity: 'alice' });
    const b = await allAfter(h, 0, bAuth);
    assert.deepEqual(b.map((c) => [c.seq, c.resource, c.sid, c.kind]), [[1, 'user', u.sid, 'created']]);
    const a = await allAfter(h, 0);
    assert.ok(a.length > 1);
    assert.ok(!a.some((c) => c.sid === u.sid), 'A does not see B\'s user');
  });

  it('After and PageSize: defaults, bounds and bad values', async () => {
    const h = ctx.h;
    const v1 = h.client.conversations.v1;
    for (let i = 0; i < 60; i++) await v1.users.create({ identity: `many-${i}` });
    const first = await changes(h);
    assert.equal(first.changes.length, 50, 'PageSize defaults to 50');
    assert.equal(first.changes[0].seq, 1);
    const big = await changes(h, '?PageSize=1000');
    assert.ok(big.changes.length > 60);
    const one = await changes(h, `?After=${first.next_after}&PageSize=1`);
    assert.deepEqual(one.changes.map((c) => c.seq), [first.next_after + 1]);
    const end = await changes(h, '?After=999999999');
    assert.deepEqual(end, { changes: [], next_after: 999999999 });
    // past an account's numbers (SQLite keys a record by the account's number and its own, 40 bits)
    for (const after of ['1099511627775', '1099511627776', '999999999999999999']) {
      const res = await h.raw('GET', `/parley/changes?After=${after}`);
      assert.equal(res.status, 200, after);
      assert.match(res.body, new RegExp(`^\\{"changes":\\[\\],"next_after":${after}\\}$`), after);
    }
    for (const [q, name] of [['?PageSize=0', 'PageSize'], ['?PageSize=1001', 'PageSize'], ['?PageSize=ten', 'PageSize'], ['?After=-1', 'After'], ['?After=1x', 'After'], ['?After=9223372036854775807', 'After']]) {
      assertErrorBody(await h.raw('GET', `/parley/changes${q}`), { status: 400, code: 20001, message: `Invalid value for ${name}` });
    }
    const res = await h.raw('GET', '/parley/changes', { auth: false });
    assert.equal(res.status, 401);
  });
});

describe('change log: two servers on one PostgreSQL database', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  before(async () => {
    a = await start({});
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken });
  });
  after(async () => {
    if (b) await b.cleanup();
    if (a) await a.cleanup();
  });

  test('writes through both at once: one record each, numbered without gaps in commit order', { timeout: 120_000 }, async () => {
    const N = 60;
    const made = await Promise.all(
      Array.from({ length: N }, (_, i) => (i % 2 ? b : a).raw('POST', '/v1/Users', { body: { Identity: `two-${i}` } })),
    );
    for (const res of made) assert.equal(res.status, 201, res.body);
    const viaA = await allAfter(a, 0);
    const viaB = await allAfter(b, 0);
    assert.deepEqual(viaB, viaA, 'both servers read one log');
    assert.equal(viaA.length, N);
    viaA.forEach((c, i) => assert.equal(c.seq, i + 1));
    assert.deepEqual(new Set(viaA.map((c) => c.sid)), new Set(made.map((r) => r.json.sid)));
    assert.ok(viaA.every((c) => c.kind === 'created' && c.resource === 'user'));
    await a.stop();
    await b.stop();
  });
});
