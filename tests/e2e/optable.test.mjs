// The generated operation table (tests/operations.gen.json, from the spec by scripts/gen_operations.py) against
// the running server. Which operations Parley implements is read from the server itself (tests/e2e/optable.mjs
// tells how). For every implemented operation, the test then runs it on seeded resources (both path families are
// operations of their own) and requires the table's success status and, for a body, exactly the spec's fields in the spec's order.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before } from 'node:test';
import { e2eSuite, randomHex } from './harness.mjs';
import { body, fieldNames, fill, implementedOps, isFamily, listQuery, TABLE } from './optable.mjs';

const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const keys = (o) => Object.keys(o ?? {});

e2eSuite('operation table', {}, (ctx, it) => {
  const h = () => ctx.h;
  let implemented = [];
  // resources by path family ('short' or 'service') and SID prefix: [0] for reads and updates, [1] for deletes
  const made = { short: {}, service: {} };
  const identities = { short: [], service: [] }; // of the users made, by slot
  let service; // the service whose paths the service family uses

  function sidFor(op, name, slot) {
    if (name === 'ChatServiceSid') {
      assert.ok(service, `${op.id}: no service was created`);
      return service;
    }
    const family = isFamily(op) ? 'service' : 'short';
    // {Sid} is the operation's own resource; {UserSid} a user, {ConversationSid} a conversation of the path's family
    const prefix = { Sid: op.prefix, UserSid: 'US', ConversationSid: 'CH', MessageSid: 'IM' }[name] ?? null;
    if (op.path === '/v1/Services/{Sid}') return made.short.IS?.[slot];
    const sid = prefix && made[family][prefix]?.[slot];
    assert.ok(sid, `${op.id}: no seeded resource for {${name}} (prefix ${prefix})`);
    return sid;
  }

  before(async () => {
    implemented = await implementedOps(ctx.h);
  });

  it('the probe tells an unknown path from a known one', async (t) => {
    assert.equal((await h().raw('PATCH', '/v1/Optable')).status, 404);
    assert.equal((await h().raw('PATCH', '/v1/Users')).status, 405);
    assert.equal((await h().raw('DELETE', '/v1/Users')).status, 405);
    assert.ok(implemented.some((e) => e.op.id === 'FetchUser'), 'FetchUser is implemented');
    assert.ok(implemented.some((e) => e.op.id === 'FetchServiceUser'), 'FetchServiceUser is implemented');
    t.diagnostic(`${implemented.length} of ${TABLE.length} operations implemented`);
  });

  it('creates answer the table status with the spec fields, on both path families', async () => {
    // parents first: the service before what lives under it
    const creates = implemented.filter((e) => e.op.kind === 'create');
    creates.sort((a, b) => a.op.path.split('/').length - b.op.path.split('/').length);
    assert.ok(creates.length > 0);
    for (const entry of creates) {
      const family = isFamily(entry.op) ? 'service' : 'short';
      for (let slot = 0; slot < 2; slot++) {
        const p = fill(entry.op.path, (name) => sidFor(entry.op, name, slot));
        const res = await h().raw('POST', p, { body: body(entry) });
        assert.equal(res.status, entry.op.status, `${entry.op.id} POST ${p}: ${res.body}`);
        assert.deepEqual(keys(res.json), fieldNames(entry), `${entry.op.id}: response keys`);
        assert.ok(res.json.sid.startsWith(entry.op.prefix), `${entry.op.id}: sid ${res.json.sid}`);
        (made[family][entry.op.prefix] ??= []).push(res.json.sid);
        if (entry.op.prefix === 'US') identities[family].push(res.json.identity);
        // the user of the slot joins the slot's conversation too: the user's view of it (UserConversation)
        if (entry.op.prefix === 'MB') {
          const joined = await h().raw('POST', p, { body: [['Identity', identities[family][slot]]] });
          assert.equal(joined.status, 201, `${entry.op.id} POST ${p}: ${joined.body}`);
        }
      }
      if (entry.op.id === 'CreateService') service = made.short.IS[0];
    }
    assert.ok(service, 'a service was created');
  });

  it('seeded bindings (REST cannot create them)', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const cr = made.short.CR?.[0] ?? null;
    for (let slot = 0; slot < 2; slot++) {
      const sid = 'BS' + randomHex(32);
      const sql =
        `INSERT INTO bindings(sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types, date_created, date_updated)` +
        ` VALUES ('${sid}', '${h().accountSid}', '${service}', ${cr ? `'${cr}'` : 'NULL'}, 'optable-${slot}', 'optable', 'apn', '["new_message"]', 1476968223000, 1476968224000)`;
      const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h().dataFile, sql], { encoding: 'utf8' });
      assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
      (made.service.BS ??= []).push(sid);
    }
  });

  // Delivery receipts have no create: a message posted to a conversation with an SMS participant gets one. The
  // seeded conversation of each family gets a messaging service, an SMS participant and a message, which becomes
  // the first message of the family (in that conversation) so that {MessageSid} names it.
  it('seeded receipts (a message to an SMS participant)', async () => {
    for (const family of ['short', 'service']) {
      const ch = made[family].CH?.[0];
      if (!ch || !made[family].IM) continue; // messages not implemented
      const base = family === 'service' ? `/v1/Services/${service}` : '/v1';
      const mg = 'MG' + randomHex(32);
      let res = await h().raw('POST', `${base}/Conversations/${ch}`, { body: { MessagingServiceSid: mg } });
      assert.equal(res.status, 200, res.body);
      const n = family === 'short' ? '1' : '2';
      res = await h().raw('POST', `${base}/Conversations/${ch}/Participants`, {
        body: { 'MessagingBinding.Address': `+1415555010${n}`, 'MessagingBinding.ProxyAddress': `+1415555020${n}` },
      });
      assert.equal(res.status, 201, res.body);
      res = await h().raw('POST', `${base}/Conversations/${ch}/Messages`, { body: { Body: 'to the SMS participant' } });
      assert.equal(res.status, 201, res.body);
      made[family].IM[0] = res.json.sid;
      res = await h().raw('GET', `${base}/Conversations/${ch}/Messages/${res.json.sid}/Receipts`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.delivery_receipts.length, 1, res.body);
      (made[family].DY ??= []).push(res.json.delivery_receipts[0].sid);
    }
  });

  // Runs a fetch, list or update and compares it with the table; false when there was nothing to compare.
  async function readOrUpdate(entry) {
    const { op } = entry;
    const family = isFamily(op) ? 'service' : 'short';
    const query = listQuery(entry, identities[family][0]);
    const p = fill(op.path, (name) => sidFor(op, name, 0)) + (query.length ? `?${new URLSearchParams(query)}` : '');
    const res = await h().raw(op.method, p, op.kind === 'update' ? { body: body(entry) } : {});
    assert.equal(res.status, op.status, `${op.id} ${op.method} ${p}: ${res.body}`);
    if (op.kind !== 'list') {
      assert.deepEqual(keys(res.json), fieldNames(entry), `${op.id}: response keys`);
      return true;
    }
    // every v1 list schema is {<list key>: [...], meta: {...}} in that order
    assert.deepEqual(keys(res.json), [op.list_key, 'meta'], `${op.id}: page keys`);
    assert.equal(res.json.meta.key, op.list_key);
    assert.equal(res.json.meta.page_size, Math.min(50, op.page_max));
    const items = res.json[op.list_key];
    // user conversations stay empty until conversations exist: nothing to compare there yet
    if (items.length === 0 && op.prefix === '') return false;
    assert.ok(items.length > 0, `${op.id}: the list of seeded resources is empty`);
    for (const item of items) assert.deepEqual(keys(item), fieldNames(entry), `${op.id}: item keys`);
    return true;
  }

  it('fetches, lists and updates answer the table status with exactly the spec fields in order', async (t) => {
    let checked = 0;
    for (const entry of implemented.filter((e) => ['fetch', 'list', 'update'].includes(e.op.kind))) {
      const { op } = entry;
      if (op.prefix === 'BS' && !made.service.BS) continue; // bindings not seeded (no sqlite3 shell)
      if (await readOrUpdate(entry)) checked++;
    }
    assert.ok(checked > 0);
    t.diagnostic(`${checked} operations compared`);
  });

  it('deletes answer the table status with no body', async () => {
    // children before parents: the second service goes last
    const deletes = implemented.filter((e) => e.op.kind === 'delete');
    deletes.sort((a, b) => b.op.path.split('/').length - a.op.path.split('/').length);
    assert.ok(deletes.length > 0);
    for (const entry of deletes) {
      const { op } = entry;
      if (op.prefix === 'BS' && !made.service.BS) continue;
      const p = fill(op.path, (name) => sidFor(op, name, 1));
      const res = await h().raw('DELETE', p);
      assert.equal(res.status, op.status, `${op.id} DELETE ${p}: ${res.body}`);
      assert.equal(res.body, '');
    }
  });
});
