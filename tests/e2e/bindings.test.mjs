// Push bindings (/v1/Services/{IS}/Bindings): REST cannot create them, so a service's list is empty until push
// registrations exist. To exercise the real tables and queries, rows are written into the data file with the
// sqlite3 shell (as a push registration would), then listed with the BindingType and Identity filters, fetched
// and deleted through twilio-node.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, randomHex, rejectsRest, sleep } from './harness.mjs';

const BINDING_KEYS = ['sid', 'account_sid', 'chat_service_sid', 'credential_sid', 'date_created', 'date_updated', 'endpoint', 'identity', 'binding_type', 'message_types', 'url'];
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });
const BAD_TYPE = { status: 400, code: 20001, message: /^Invalid value for BindingType/ };
const NOT_ALLOWED = { status: 405, code: 20004, message: 'Method not allowed' };

const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;
function sql(h, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => l.split('|'));
}
const q = (v) => (v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);

e2eSuite('bindings', {}, (ctx, it) => {
  const h = () => ctx.h;
  let IS;
  let other;
  let cr1;
  let cr2;
  const B = {}; // seeded rows by name

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    other = await ctx.h.client.conversations.v1.services.create({ friendlyName: 'bindings: other' });
  });

  const bindings = (sid = IS) => h().client.conversations.v1.services(sid).bindings;
  const path = (sid = IS) => `/v1/Services/${sid}/Bindings`;
  const sids = (list) => list.map((b) => b.sid);

  it('a service has no bindings until push registrations exist', async () => {
    for (const sid of [IS, other.sid]) {
      assert.deepEqual(await bindings(sid).list(), []);
      assert.deepEqual(await bindings(sid).list({ bindingType: ['apn', 'fcm'], identity: ['alice'] }), []);
      const raw = await h().raw('GET', path(sid));
      assert.equal(raw.status, 200, raw.body);
      assert.deepEqual(Object.keys(raw.json).sort(), ['bindings', 'meta']);
      assert.deepEqual(raw.json.bindings, []);
      assert.equal(raw.json.meta.key, 'bindings');
      assert.equal(raw.json.meta.page_size, 50);
      assert.equal(raw.json.meta.url, `${h().url}${path(sid)}?PageSize=50&Page=0`);
      assert.equal(raw.json.meta.next_page_url, null);
    }
  });

  it('filters go into the meta URLs in spec order, repeated and percent-encoded', async () => {
    const res = await h().raw('GET', `${path()}?Identity=a%40b.c&BindingType=apn&Identity=x+y&BindingType=twilsock&PageSize=7`);
    assert.equal(res.status, 200, res.body);
    const filters = 'BindingType=apn&BindingType=twilsock&Identity=a%40b.c&Identity=x%20y&';
    assert.equal(res.json.meta.url, `${h().url}${path()}?${filters}PageSize=7&Page=0`);
    assert.equal(res.json.meta.first_page_url, `${h().url}${path()}?${filters}PageSize=7&Page=0`);
  });

  it('unknown or malformed binding SIDs -> 404 on fetch and delete; bad BindingType -> 400; no create', async () => {
    for (const sid of ['BS' + randomHex(32), 'BSxyz', 'CR' + randomHex(32)]) {
      await rejectsRest(() => bindings()(sid).fetch(), notFound(`/Services/${IS}/Bindings/${sid}`));
      await rejectsRest(() => bindings()(sid).remove(), notFound(`/Services/${IS}/Bindings/${sid}`));
    }
    for (const v of ['APN', 'sms', '']) {
      assertErrorBody(await h().raw('GET', `${path()}?BindingType=apn&BindingType=${v}`), BAD_TYPE);
    }
    assertErrorBody(await h().raw('POST', path(), { body: { BindingType: 'apn', Identity: 'alice' } }), NOT_ALLOWED);
    assertErrorBody(await h().raw('DELETE', path()), NOT_ALLOWED);
    assertErrorBody(await h().raw('GET', `/v1/Bindings`), notFound('/Bindings'));
  });

  it('seeded rows: list in creation order with every field as the spec shows', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    cr1 = await h().client.conversations.v1.credentials.create({ type: 'apn', friendlyName: 'ios' });
    cr2 = await h().client.conversations.v1.credentials.create({ type: 'fcm', friendlyName: 'android', secret: 'server-key' });
    const rows = [
      ['alice_apn', IS, cr1.sid, 'alice-iphone', 'alice', 'apn', '["new_message","added_to_conversation"]'],
      ['alice_fcm', IS, cr2.sid, 'alice-pixel', 'alice', 'fcm', '["removed_from_conversation","new_message","added_to_conversation"]'],
      ['bob_gcm', IS, cr2.sid, 'bob-old', 'bob', 'gcm', '["new_message"]'],
      ['carol_ws', IS, null, 'carol-browser', 'carol@example.com', 'twilsock', '[]'],
      ['other_apn', other.sid, cr1.sid, 'alice-ipad', 'alice', 'apn', '["new_message"]'],
    ];
    let t = 1476968223000;
    for (const [name, svc, cred, endpoint, identity, type, types] of rows) {
      B[name] = 'BS' + randomHex(32);
      sql(
        h(),
        `INSERT INTO bindings(sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types, date_created, date_updated)` +
          ` VALUES (${q(B[name])}, ${q(h().accountSid)}, ${q(svc)}, ${q(cred)}, ${q(endpoint)}, ${q(identity)}, ${q(type)}, ${q(types)}, ${t}, ${t + 1000})`,
      );
      t += 60000;
    }
    const list = await bindings().list();
    assert.deepEqual(sids(list), [B.alice_apn, B.alice_fcm, B.bob_gcm, B.carol_ws]);
    const raw = await h().raw('GET', `${path()}/${B.alice_apn}`);
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), BINDING_KEYS);
    assert.deepEqual(raw.json, {
      sid: B.alice_apn,
      account_sid: h().accountSid,
      chat_service_sid: IS,
      credential_sid: cr1.sid,
      date_created: '2016-10-20T12:57:03Z',
      date_updated: '2016-10-20T12:57:04Z',
      endpoint: 'alice-iphone',
      identity: 'alice',
      binding_type: 'apn',
      message_types: ['new_message', 'added_to_conversation'],
      url: `${h().url}${path()}/${B.alice_apn}`,
    });
    const ws = await bindings()(B.carol_ws).fetch();
    assert.equal(ws.credentialSid, null);
    assert.deepEqual(ws.messageTypes, []);
    assert.equal(ws.bindingType, 'twilsock');
    const f = await bindings()(B.alice_fcm).fetch();
    assert.deepEqual(f.toJSON(), list[1].toJSON());
    // the other service sees only its own
    assert.deepEqual(sids(await bindings(other.sid).list()), [B.other_apn]);
    await rejectsRest(() => bindings()(B.other_apn).fetch(), notFound(`/Services/${IS}/Bindings/${B.other_apn}`));
    await rejectsRest(() => bindings(other.sid)(B.alice_apn).fetch(), notFound(`/Services/${other.sid}/Bindings/${B.alice_apn}`));
  });

  it('BindingType and Identity filters: each repeatable, combined with AND', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const cases = [
      [{ bindingType: ['apn'] }, [B.alice_apn]],
      [{ bindingType: ['apn', 'fcm'] }, [B.alice_apn, B.alice_fcm]],
      [{ bindingType: ['twilsock', 'gcm'] }, [B.bob_gcm, B.carol_ws]],
      [{ identity: ['alice'] }, [B.alice_apn, B.alice_fcm]],
      [{ identity: ['alice', 'bob'] }, [B.alice_apn, B.alice_fcm, B.bob_gcm]],
      [{ identity: ['carol@example.com'] }, [B.carol_ws]],
      [{ identity: ['Alice'] }, []],
      [{ identity: ['nobody'] }, []],
      [{ bindingType: ['fcm', 'gcm'], identity: ['bob'] }, [B.bob_gcm]],
      [{ bindingType: ['apn'], identity: ['bob'] }, []],
      [{ bindingType: ['apn', 'fcm', 'gcm', 'twilsock'], identity: ['alice', 'bob', 'carol@example.com'] }, [B.alice_apn, B.alice_fcm, B.bob_gcm, B.carol_ws]],
    ];
    for (const [filter, want] of cases) {
      assert.deepEqual(sids(await bindings().list(filter)), want, JSON.stringify(filter));
    }
    assert.deepEqual(sids(await bindings(other.sid).list({ identity: ['alice'] })), [B.other_apn]);
  });

  it('Identity and BindingType filters take any list that fits the request (20 and 120 identities)', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    for (const count of [20, 120]) {
      const identities = ['alice', ...Array.from({ length: count - 2 }, (_, i) => `someone-${i}-${randomHex(8)}@example.com`), 'bob'];
      assert.deepEqual(sids(await bindings().list({ identity: identities })), [B.alice_apn, B.alice_fcm, B.bob_gcm], `${count} identities`);
      assert.deepEqual(sids(await bindings().list({ identity: identities, bindingType: ['gcm', 'fcm'], pageSize: 1 })), [B.alice_fcm, B.bob_gcm]);
      const query = identities.map((i) => `Identity=${encodeURIComponent(i)}`).join('&');
      const res = await h().raw('GET', `${path()}?${query}&BindingType=apn&BindingType=fcm&PageSize=1`);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(sids(res.json.bindings), [B.alice_apn]);
      assert.equal(res.json.meta.url, `${h().url}${path()}?BindingType=apn&BindingType=fcm&${query}&PageSize=1&Page=0`);
      assert.ok(res.json.meta.next_page_url.startsWith(`${h().url}${path()}?BindingType=apn&BindingType=fcm&${query}&PageSize=1&Page=1&PageToken=`));
    }
  });

  it('paging keeps the filters in next_page_url and previous_page_url', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const first = await h().raw('GET', `${path()}?Identity=alice&Identity=bob&PageSize=1`);
    assert.equal(first.status, 200, first.body);
    const seen = [...first.json.bindings];
    let next = first.json.meta.next_page_url;
    assert.ok(next.startsWith(`${h().url}${path()}?Identity=alice&Identity=bob&PageSize=1&Page=1&PageToken=`), next);
    let last;
    while (next) {
      const res = await h().raw('GET', next);
      assert.equal(res.status, 200, res.body);
      assert.ok(res.json.meta.previous_page_url.includes('?Identity=alice&Identity=bob&PageSize=1&Page='), res.json.meta.previous_page_url);
      seen.push(...res.json.bindings);
      last = res;
      next = res.json.meta.next_page_url;
    }
    assert.deepEqual(sids(seen), [B.alice_apn, B.alice_fcm, B.bob_gcm]);
    const back = await h().raw('GET', last.json.meta.previous_page_url);
    assert.deepEqual(sids(back.json.bindings), [B.alice_fcm]);
    assert.deepEqual(sids(await bindings().list({ identity: ['alice', 'bob'], pageSize: 1 })), [B.alice_apn, B.alice_fcm, B.bob_gcm]);
  });

  it('delete -> 204; deleting a credential takes its bindings; deleting a service takes its bindings', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const res = await h().raw('DELETE', `${path()}/${B.bob_gcm}`);
    assert.equal(res.status, 204, res.body);
    assert.equal(res.body, '');
    await rejectsRest(() => bindings()(B.bob_gcm).fetch(), notFound(`/Services/${IS}/Bindings/${B.bob_gcm}`));
    await rejectsRest(() => bindings()(B.bob_gcm).remove(), notFound(`/Services/${IS}/Bindings/${B.bob_gcm}`));
    assert.deepEqual(sids(await bindings().list()), [B.alice_apn, B.alice_fcm, B.carol_ws]);

    await h().client.conversations.v1.credentials(cr2.sid).remove();
    assert.deepEqual(sids(await bindings().list()), [B.alice_apn, B.carol_ws]);

    await h().client.conversations.v1.services(other.sid).remove();
    // the 204 hides the service at once; its rows are reaped in the background (docs/DECISIONS.md)
    await rejectsRest(() => h().client.conversations.v1.services(other.sid).bindings(B.other_apn).fetch(),
      notFound(`/Services/${other.sid}/Bindings/${B.other_apn}`));
    let left;
    for (let i = 0; i < 100; i++) {
      left = sql(h(), `SELECT count(*) FROM bindings WHERE sid = '${B.other_apn}'`);
      if (left[0][0] === '0') break;
      await sleep(50);
    }
    assert.deepEqual(left, [['0']]);
    assert.deepEqual(sids(await bindings().list()), [B.alice_apn, B.carol_ws]);
  });

  it('bindings survive a restart', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const before = (await bindings().list()).map((b) => b.toJSON());
    await h().restart();
    assert.deepEqual((await bindings().list()).map((b) => b.toJSON()), before);
  });
});
