// Conversation Services through twilio-node: create (with its default roles, configuration and notifications),
// fetch, list (paged), delete with everything it owns (gone at once, its rows reaped in batches afterwards); the account's default service is
// refused until another one is the default.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before } from 'node:test';
import { assertErrorBody, DATE_RE, defaults, e2eSuite, listAllRaw, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const SERVICE_KEYS = ['account_sid', 'sid', 'friendly_name', 'date_created', 'date_updated', 'url', 'links'];
const LINKS = {
  conversations: 'Conversations',
  users: 'Users',
  roles: 'Roles',
  bindings: 'Bindings',
  configuration: 'Configuration',
  participant_conversations: 'ParticipantConversations',
  conversation_with_participants: 'ConversationWithParticipants',
};
const MISSING_NAME = { status: 400, code: 20001, message: 'Missing required parameter FriendlyName in the post body' };
const NAME_LONG = { status: 400, code: 50003, message: 'Friendly name too long' };
const DEFAULT_REFUSED = { status: 400, code: 20001, message: /^Cannot delete the default Conversation Service IS[0-9a-f]{32}: make another service the DefaultChatServiceSid/ };
const NOT_ALLOWED = { status: 405, code: 20004, message: 'Method not allowed' };
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

/** Runs one SQL statement on the server's data file with the sqlite3 shell; rows as arrays of strings. */
function sql(h, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => l.split('|'));
}
const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;

e2eSuite('services', {}, (ctx, it) => {
  const h = () => ctx.h;
  const services = () => h().client.conversations.v1.services;
  let IS;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  function checkService(s, exp) {
    assert.match(s.sid, SID_RE('IS'));
    assert.equal(s.accountSid, h().accountSid);
    assert.equal(s.friendlyName, exp.friendlyName);
    assert.ok(s.dateCreated instanceof Date && !Number.isNaN(s.dateCreated.getTime()));
    assert.equal(s.dateUpdated.getTime(), s.dateCreated.getTime());
    const url = `${h().url}/v1/Services/${s.sid}`;
    assert.equal(s.url, url);
    assert.deepEqual(s.links, Object.fromEntries(Object.entries(LINKS).map(([k, v]) => [k, `${url}/${v}`])));
  }

  it('the account starts with exactly its default service', async () => {
    const list = await services().list();
    assert.equal(list.length, 1);
    assert.equal(list[0].sid, IS);
    checkService(list[0], { friendlyName: 'Default Conversations Service' });
  });

  it('create -> 201 with the spec keys; fetch and list return it', async () => {
    const s = await services().create({ friendlyName: 'Support' });
    checkService(s, { friendlyName: 'Support' });
    assert.deepEqual((await services()(s.sid).fetch()).toJSON(), s.toJSON());
    const raw = await h().raw('GET', `/v1/Services/${s.sid}`);
    assert.equal(raw.status, 200);
    assert.deepEqual(Object.keys(raw.json), SERVICE_KEYS);
    assert.deepEqual(Object.keys(raw.json.links), Object.keys(LINKS));
    assert.match(raw.json.date_created, DATE_RE);
    const created = await h().raw('POST', '/v1/Services', { body: { FriendlyName: 'Raw' } });
    assert.equal(created.status, 201, created.body);
    assert.deepEqual(Object.keys(created.json), SERVICE_KEYS);
    const sids = (await services().list()).map((x) => x.sid);
    assert.deepEqual(sids.slice(-2), [s.sid, created.json.sid], 'creation order');
  });

  it('a new service owns four default roles, a configuration pointing at them, and notifications all off', async () => {
    const s = await services().create({ friendlyName: 'Fresh' });
    const roles = await services()(s.sid).roles.list();
    const byName = Object.fromEntries(roles.map((r) => [r.friendlyName, r]));
    assert.deepEqual(Object.keys(byName).sort(), ['channel admin', 'channel user', 'service admin', 'service user']);
    for (const r of roles) assert.equal(r.chatServiceSid, s.sid);
    assert.equal(byName['service user'].type, 'service');
    assert.equal(byName['channel admin'].type, 'conversation');
    const cfg = await services()(s.sid).configuration().fetch();
    assert.equal(cfg.chatServiceSid, s.sid);
    assert.equal(cfg.defaultChatServiceRoleSid, byName['service user'].sid);
    assert.equal(cfg.defaultConversationCreatorRoleSid, byName['channel admin'].sid);
    assert.equal(cfg.defaultConversationRoleSid, byName['channel user'].sid);
    assert.equal(cfg.reachabilityEnabled, false);
    const n = await services()(s.sid).configuration.notifications().fetch();
    assert.equal(n.chatServiceSid, s.sid);
    assert.equal(n.logEnabled, false);
    assert.equal(n.newMessage.enabled, false);
    assert.equal(n.addedToConversation.enabled, false);
    assert.equal(n.removedFromConversation.enabled, false);
    // a new user of that service gets its service user role
    const u = await services()(s.sid).users.create({ identity: 'fresh-user' });
    assert.equal(u.chatServiceSid, s.sid);
    assert.equal(u.roleSid, byName['service user'].sid);
  });

  it('FriendlyName is required and at most 256 characters; nothing is created on error', async () => {
    const before = JSON.stringify(await listAllRaw(h(), '/v1/Services', 'services'));
    assertErrorBody(await h().raw('POST', '/v1/Services', { body: {} }), MISSING_NAME);
    assertErrorBody(await h().raw('POST', '/v1/Services', { body: { FriendlyName: '' } }), MISSING_NAME);
    await rejectsRest(() => services().create({ friendlyName: 'x'.repeat(257) }), NAME_LONG);
    await rejectsRest(() => services().create({ friendlyName: '€'.repeat(257) }), NAME_LONG);
    assert.equal(JSON.stringify(await listAllRaw(h(), '/v1/Services', 'services')), before);
    const s = await services().create({ friendlyName: '€'.repeat(256) });
    assert.equal(s.friendlyName, '€'.repeat(256));
    await services()(s.sid).remove();
  });

  it('list pages by PageSize (max 100) and follows next_page_url to the end', async () => {
    for (let i = 0; i < 5; i++) await services().create({ friendlyName: `paged ${i}` });
    const all = await listAllRaw(h(), '/v1/Services', 'services');
    const first = await h().raw('GET', '/v1/Services?PageSize=2');
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.json).sort(), ['meta', 'services']);
    assert.equal(first.json.meta.key, 'services');
    assert.equal(first.json.meta.page_size, 2);
    assert.equal(first.json.meta.first_page_url, `${h().url}/v1/Services?PageSize=2&Page=0`);
    const paged = [];
    let url = '/v1/Services?PageSize=2';
    while (url) {
      const res = await h().raw('GET', url);
      assert.equal(res.status, 200, res.body);
      assert.ok(res.json.services.length <= 2);
      paged.push(...res.json.services);
      url = res.json.meta.next_page_url;
    }
    assert.deepEqual(paged.map((s) => s.sid), all.map((s) => s.sid));
    const big = await h().raw('GET', '/v1/Services?PageSize=1000');
    assert.equal(big.json.meta.page_size, 100);
    const sdk = await services().list({ pageSize: 3 });
    assert.deepEqual(sdk.map((s) => s.sid), all.map((s) => s.sid));
  });

  it('delete removes the service with its users, roles, configuration and notifications; nothing else changes', async () => {
    const doomed = await services().create({ friendlyName: 'Doomed' });
    const keep = await services().create({ friendlyName: 'Keeper' });
    const d = services()(doomed.sid);
    const k = services()(keep.sid);
    const custom = await d.roles.create({ friendlyName: 'custom', type: 'service', permission: ['joinConversation'] });
    const convRole = await d.roles.create({ friendlyName: 'conv', type: 'conversation', permission: ['sendMessage'] });
    await d.configuration().update({ defaultConversationRoleSid: convRole.sid, reachabilityEnabled: true });
    await d.configuration.notifications().update({ logEnabled: true, 'newMessage.enabled': true });
    const u1 = await d.users.create({ identity: 'alice' });
    const u2 = await d.users.create({ identity: 'bob', roleSid: custom.sid });
    await k.users.create({ identity: 'alice' });
    await h().client.conversations.v1.users.create({ identity: `default-${randomHex(4)}` });

    const snapshot = async () =>
      JSON.stringify({
        defUsers: await listAllRaw(h(), '/v1/Users', 'users'),
        defRoles: await listAllRaw(h(), '/v1/Roles', 'roles'),
        defCfg: (await h().raw('GET', `/v1/Services/${IS}/Configuration`)).json,
        keepUsers: await listAllRaw(h(), `/v1/Services/${keep.sid}/Users`, 'users'),
        keepRoles: await listAllRaw(h(), `/v1/Services/${keep.sid}/Roles`, 'roles'),
        keepCfg: (await h().raw('GET', `/v1/Services/${keep.sid}/Configuration`)).json,
        keepNotifications: (await h().raw('GET', `/v1/Services/${keep.sid}/Configuration/Notifications`)).json,
        keep: (await h().raw('GET', `/v1/Services/${keep.sid}`)).json,
      });
    const before = await snapshot();

    const res = await h().raw('DELETE', `/v1/Services/${doomed.sid}`);
    assert.equal(res.status, 204, res.body);
    assert.equal(res.body, '');

    const msg = `/Services/${doomed.sid}`;
    await rejectsRest(() => d.fetch(), notFound(msg));
    await rejectsRest(() => d.remove(), notFound(msg));
    await rejectsRest(() => d.users.list(), notFound(`${msg}/Users`));
    await rejectsRest(() => d.users(u1.sid).fetch(), notFound(`${msg}/Users/${u1.sid}`));
    await rejectsRest(() => d.users('bob').fetch(), notFound(`${msg}/Users/bob`));
    await rejectsRest(() => d.roles.list(), notFound(`${msg}/Roles`));
    await rejectsRest(() => d.roles(custom.sid).fetch(), notFound(`${msg}/Roles/${custom.sid}`));
    await rejectsRest(() => d.configuration().fetch(), notFound(`${msg}/Configuration`));
    await rejectsRest(() => d.configuration.notifications().fetch(), notFound(`${msg}/Configuration/Notifications`));
    await rejectsRest(() => d.bindings.list(), notFound(`${msg}/Bindings`));
    assert.ok(!(await services().list()).some((s) => s.sid === doomed.sid));
    // the roles and users are not reachable from any other service either
    await rejectsRest(() => h().client.conversations.v1.roles(custom.sid).fetch(), notFound(`/Roles/${custom.sid}`));
    await rejectsRest(() => h().client.conversations.v1.users(u2.sid).fetch(), notFound(`/Users/${u2.sid}`));

    assert.equal(await snapshot(), before, 'other services and the default service are untouched');
    if (haveSqlite) {
      for (const table of ['users', 'roles', 'service_configs', 'service_notifications', 'bindings', 'service_webhooks']) {
        assert.deepEqual(sql(h(), `SELECT count(*) FROM ${table} WHERE service_sid = '${doomed.sid}'`), [['0']], `${table} rows left`);
      }
      assert.deepEqual(sql(h(), `SELECT count(*) FROM roles WHERE sid IN ('${custom.sid}', '${convRole.sid}')`), [['0']]);
    }
    // the identity is free again in a new service
    const again = await services().create({ friendlyName: 'Doomed again' });
    assert.equal((await services()(again.sid).users.create({ identity: 'alice' })).identity, 'alice');
  });

  it('deleting the default service is refused (400) and changes nothing; after a switch it can be deleted', async () => {
    const list = JSON.stringify(await listAllRaw(h(), '/v1/Services', 'services'));
    await rejectsRest(() => services()(IS).remove(), DEFAULT_REFUSED);
    assertErrorBody(await h().raw('DELETE', `/v1/Services/${IS}`), DEFAULT_REFUSED);
    assert.equal(JSON.stringify(await listAllRaw(h(), '/v1/Services', 'services')), list);
    assert.equal((await services()(IS).fetch()).sid, IS);

    const next = await services().create({ friendlyName: 'Next default' });
    const cfg = await h().client.conversations.v1.configuration().update({ defaultChatServiceSid: next.sid });
    assert.equal(cfg.defaultChatServiceSid, next.sid);
    // now the new default is protected and the old one is an ordinary service
    await rejectsRest(() => services()(next.sid).remove(), DEFAULT_REFUSED);
    const old = await services().create({ friendlyName: 'Ordinary' });
    await services()(old.sid).remove();
    await h().client.conversations.v1.configuration().update({ defaultChatServiceSid: IS });
    await services()(next.sid).remove();
  });

  it('unknown and malformed service SIDs -> 404 on fetch and delete', async () => {
    for (const sid of ['IS' + randomHex(32), 'ISxyz', 'CH' + randomHex(32), 'nope']) {
      await rejectsRest(() => services()(sid).fetch(), notFound(`/Services/${sid}`));
      await rejectsRest(() => services()(sid).remove(), notFound(`/Services/${sid}`));
      for (const sub of ['Configuration', 'Configuration/Notifications', 'Bindings', `Bindings/BS${randomHex(32)}`]) {
        assertErrorBody(await h().raw('GET', `/v1/Services/${sid}/${sub}`), notFound(`/Services/${sid}/${sub}`));
      }
    }
  });

  it('unsupported methods on service paths -> 405 (a service has no update)', async () => {
    assertErrorBody(await h().raw('POST', `/v1/Services/${IS}`, { body: { FriendlyName: 'renamed' } }), NOT_ALLOWED);
    assertErrorBody(await h().raw('DELETE', '/v1/Services'), NOT_ALLOWED);
    assertErrorBody(await h().raw('PUT', '/v1/Services', { body: { FriendlyName: 'x' } }), NOT_ALLOWED);
    assertErrorBody(await h().raw('DELETE', `/v1/Services/${IS}/Configuration`), NOT_ALLOWED);
    assertErrorBody(await h().raw('POST', `/v1/Services/${IS}/Bindings`, { body: { BindingType: 'apn' } }), NOT_ALLOWED);
    assert.equal((await services()(IS).fetch()).friendlyName, 'Default Conversations Service');
  });

  it('services survive a restart', async () => {
    const s = await services().create({ friendlyName: 'Durable' });
    await h().restart();
    assert.deepEqual((await services()(s.sid).fetch()).toJSON(), s.toJSON());
  });
});
