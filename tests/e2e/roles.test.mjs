// Roles through twilio-node on both path families: create, fetch, list, update (replaces the permission list),
// delete; permission names checked against the role's type; every validation error; role-in-use refusals.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, DATE_RE, defaults, e2eSuite, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const ROLE_KEYS = ['sid', 'account_sid', 'chat_service_sid', 'friendly_name', 'type', 'permissions', 'date_created', 'date_updated', 'url'];
const missing = (name) => ({ status: 400, code: 20001, message: `Missing required parameter ${name} in the post body` });
const NAME_LONG = { status: 400, code: 50003, message: 'Friendly name too long' };
const BAD_TYPE = { status: 400, code: 50105, message: 'Invalid role type' };
const NO_PERMISSION = { status: 400, code: 50104, message: 'Permission not found' };
const IN_USE = { status: 409, code: 20409, message: 'Conflict' };
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

const BOTH = [
  'addParticipant', 'addNonChatParticipant', 'deleteAnyMessage', 'deleteConversation', 'deleteOwnMessage', 'editAnyMessage',
  'editAnyMessageAttributes', 'editAnyParticipantAttributes', 'editConversationAttributes', 'editConversationName',
  'editOwnMessage', 'editOwnMessageAttributes', 'editOwnParticipantAttributes', 'removeParticipant',
];
const CONVERSATION_ONLY = ['editNotificationLevel', 'leaveConversation', 'sendMessage', 'sendMediaMessage'];
const SERVICE_ONLY = ['createConversation', 'editAnyUserInfo', 'editOwnUserInfo', 'joinConversation'];

e2eSuite('roles', {}, (ctx, it) => {
  const h = () => ctx.h;
  let IS; // default service
  let defaultRoles;
  let other; // a second service of the same account

  before(async () => {
    ({ serviceSid: IS, roles: defaultRoles } = await defaults(ctx.h));
    other = await ctx.h.client.conversations.v1.services.create({ friendlyName: 'roles: second service' });
  });

  const families = [
    { name: '/v1/Roles', roles: () => h().client.conversations.v1.roles, path: () => '/v1/Roles', msg: () => '/Roles', svc: () => IS },
    {
      name: '/v1/Services/{IS}/Roles',
      roles: () => h().client.conversations.v1.services(IS).roles,
      path: () => `/v1/Services/${IS}/Roles`,
      msg: () => `/Services/${IS}/Roles`,
      svc: () => IS,
    },
    {
      name: '/v1/Services/{second IS}/Roles',
      roles: () => h().client.conversations.v1.services(other.sid).roles,
      path: () => `/v1/Services/${other.sid}/Roles`,
      msg: () => `/Services/${other.sid}/Roles`,
      svc: () => other.sid,
    },
  ];

  function checkRole(r, fam, exp) {
    assert.match(r.sid, SID_RE('RL'));
    assert.equal(r.accountSid, h().accountSid);
    assert.equal(r.chatServiceSid, fam.svc());
    assert.equal(r.friendlyName, exp.friendlyName);
    assert.equal(r.type, exp.type);
    assert.deepEqual(r.permissions, exp.permissions);
    assert.ok(r.dateCreated instanceof Date && !Number.isNaN(r.dateCreated.getTime()));
    assert.ok(r.dateUpdated instanceof Date && !Number.isNaN(r.dateUpdated.getTime()));
    assert.equal(r.url, `${h().url}${fam.path()}/${r.sid}`);
  }

  const roleSids = async (fam) => (await fam.roles().list()).map((r) => r.sid).sort();

  for (const fam of families) {
    it(`${fam.name}: create a service role and a conversation role, fetch and list them`, async () => {
      const s = await fam.roles().create({ friendlyName: 'moderator', type: 'service', permission: ['createConversation', 'editAnyUserInfo', 'addParticipant'] });
      checkRole(s, fam, { friendlyName: 'moderator', type: 'service', permissions: ['createConversation', 'editAnyUserInfo', 'addParticipant'] });
      assert.equal(s.dateCreated.getTime(), s.dateUpdated.getTime());
      const c = await fam.roles().create({ friendlyName: 'Conversation Role', type: 'conversation', permission: ['sendMessage', 'leaveConversation', 'editOwnMessage', 'deleteOwnMessage'] });
      checkRole(c, fam, { friendlyName: 'Conversation Role', type: 'conversation', permissions: ['sendMessage', 'leaveConversation', 'editOwnMessage', 'deleteOwnMessage'] });

      assert.deepEqual((await fam.roles()(s.sid).fetch()).toJSON(), s.toJSON());
      assert.deepEqual((await fam.roles()(c.sid).fetch()).toJSON(), c.toJSON());
      const listed = await fam.roles().list();
      const sids = listed.map((r) => r.sid);
      assert.ok(sids.includes(s.sid) && sids.includes(c.sid));
      // creation order: the new roles come after the four defaults
      assert.deepEqual(sids.slice(-2), [s.sid, c.sid]);

      const raw = await h().raw('GET', `${fam.path()}/${s.sid}`);
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json), ROLE_KEYS);
      assert.match(raw.json.date_created, DATE_RE);
      await fam.roles()(s.sid).remove();
      await fam.roles()(c.sid).remove();
    });

    it(`${fam.name}: raw create answers 201 with the spec's keys; every valid name of each type is accepted`, async () => {
      const body = [['FriendlyName', 'all service'], ['Type', 'service'], ...[...BOTH, ...SERVICE_ONLY].map((p) => ['Permission', p])];
      const res = await h().raw('POST', fam.path(), { body });
      assert.equal(res.status, 201, res.body);
      assert.deepEqual(Object.keys(res.json), ROLE_KEYS);
      assert.deepEqual(res.json.permissions, [...BOTH, ...SERVICE_ONLY]);
      assert.equal(res.json.url, `${h().url}${fam.path()}/${res.json.sid}`);
      const body2 = [['FriendlyName', 'all conversation'], ['Type', 'conversation'], ...[...BOTH, ...CONVERSATION_ONLY].map((p) => ['Permission', p])];
      const res2 = await h().raw('POST', fam.path(), { body: body2 });
      assert.equal(res2.status, 201, res2.body);
      assert.deepEqual(res2.json.permissions, [...BOTH, ...CONVERSATION_ONLY]);
      for (const sid of [res.json.sid, res2.json.sid]) assert.equal((await h().raw('DELETE', `${fam.path()}/${sid}`)).status, 204);
    });

    it(`${fam.name}: repeated permissions are kept once, in first-seen order`, async () => {
      const r = await fam.roles().create({ friendlyName: 'dups', type: 'conversation', permission: ['sendMessage', 'leaveConversation', 'sendMessage', 'leaveConversation', 'addParticipant'] });
      assert.deepEqual(r.permissions, ['sendMessage', 'leaveConversation', 'addParticipant']);
      await fam.roles()(r.sid).remove();
    });

    it(`${fam.name}: update replaces the whole permission list; name and type stay`, async () => {
      const r = await fam.roles().create({ friendlyName: 'editable', type: 'service', permission: ['createConversation', 'joinConversation'] });
      const u = await fam.roles()(r.sid).update({ permission: ['editOwnUserInfo'] });
      checkRole(u, fam, { friendlyName: 'editable', type: 'service', permissions: ['editOwnUserInfo'] });
      assert.equal(u.dateCreated.getTime(), r.dateCreated.getTime());
      assert.ok(u.dateUpdated.getTime() >= r.dateUpdated.getTime());
      // Type and FriendlyName in an update body are ignored (immutable)
      const raw = await h().raw('POST', `${fam.path()}/${r.sid}`, { body: [['Permission', 'addParticipant'], ['Permission', 'removeParticipant'], ['Type', 'conversation'], ['FriendlyName', 'renamed']] });
      assert.equal(raw.status, 200, raw.body);
      assert.deepEqual(Object.keys(raw.json), ROLE_KEYS);
      assert.equal(raw.json.type, 'service');
      assert.equal(raw.json.friendly_name, 'editable');
      assert.deepEqual(raw.json.permissions, ['addParticipant', 'removeParticipant']);
      assert.deepEqual((await fam.roles()(r.sid).fetch()).permissions, ['addParticipant', 'removeParticipant']);
      await fam.roles()(r.sid).remove();
    });

    it(`${fam.name}: delete answers 204 with an empty body; the role is gone`, async () => {
      const r = await fam.roles().create({ friendlyName: 'doomed', type: 'conversation', permission: ['sendMessage'] });
      const res = await h().raw('DELETE', `${fam.path()}/${r.sid}`);
      assert.equal(res.status, 204);
      assert.equal(res.body, '');
      await rejectsRest(() => fam.roles()(r.sid).fetch(), notFound(`${fam.msg()}/${r.sid}`));
      await rejectsRest(() => fam.roles()(r.sid).remove(), notFound(`${fam.msg()}/${r.sid}`));
      assert.ok(!(await roleSids(fam)).includes(r.sid));
    });

    it(`${fam.name}: missing parameters -> 400 20001 naming the first missing one; nothing created`, async () => {
      const before = await roleSids(fam);
      const cases = [
        [{}, 'FriendlyName'],
        [{ Type: 'service', Permission: 'joinConversation' }, 'FriendlyName'],
        [{ FriendlyName: '', Type: 'service', Permission: 'joinConversation' }, 'FriendlyName'],
        [{ FriendlyName: 'x', Permission: 'joinConversation' }, 'Type'],
        [{ FriendlyName: 'x', Type: '', Permission: 'joinConversation' }, 'Type'],
        [{ FriendlyName: 'x', Type: 'service' }, 'Permission'],
        [{ FriendlyName: 'x', Type: 'service', Permission: '' }, 'Permission'],
      ];
      for (const [body, name] of cases) assertErrorBody(await h().raw('POST', fam.path(), { body }), missing(name));
      await rejectsRest(() => fam.roles().create({ friendlyName: 'x', type: 'service', permission: [] }), missing('Permission'));
      assert.deepEqual(await roleSids(fam), before);
    });

    it(`${fam.name}: FriendlyName up to 64 characters; 65 -> 400 50003`, async () => {
      const before = await roleSids(fam);
      await rejectsRest(() => fam.roles().create({ friendlyName: 'x'.repeat(65), type: 'service', permission: ['joinConversation'] }), NAME_LONG);
      await rejectsRest(() => fam.roles().create({ friendlyName: 'é'.repeat(65), type: 'service', permission: ['joinConversation'] }), NAME_LONG);
      assert.deepEqual(await roleSids(fam), before);
      for (const name of ['x'.repeat(64), 'é'.repeat(64)]) {
        const r = await fam.roles().create({ friendlyName: name, type: 'service', permission: ['joinConversation'] });
        assert.equal(r.friendlyName, name);
        await fam.roles()(r.sid).remove();
      }
    });

    it(`${fam.name}: a bad Type -> 400 50105`, async () => {
      const before = await roleSids(fam);
      for (const type of ['channel', 'Service', 'SERVICE', 'conversations', ' service', 'deployment']) {
        await rejectsRest(() => fam.roles().create({ friendlyName: 'x', type, permission: ['joinConversation'] }), BAD_TYPE);
      }
      assert.deepEqual(await roleSids(fam), before);
    });

    it(`${fam.name}: unknown permissions, or names of the other type -> 400 50104; nothing created`, async () => {
      const before = await roleSids(fam);
      for (const p of ['nope', 'sendmessage', 'SendMessage', ' sendMessage', ...CONVERSATION_ONLY]) {
        await rejectsRest(() => fam.roles().create({ friendlyName: 'x', type: 'service', permission: ['joinConversation', p] }), NO_PERMISSION);
      }
      for (const p of ['nope', ...SERVICE_ONLY]) {
        await rejectsRest(() => fam.roles().create({ friendlyName: 'x', type: 'conversation', permission: [p, 'sendMessage'] }), NO_PERMISSION);
      }
      assert.deepEqual(await roleSids(fam), before);
    });

    it(`${fam.name}: update checks names against the stored type; a bad update changes nothing`, async () => {
      const r = await fam.roles().create({ friendlyName: 'typed', type: 'conversation', permission: ['sendMessage'] });
      const snap = JSON.stringify((await fam.roles()(r.sid).fetch()).toJSON());
      for (const p of ['joinConversation', 'createConversation', 'bogus']) {
        await rejectsRest(() => fam.roles()(r.sid).update({ permission: ['leaveConversation', p] }), NO_PERMISSION);
      }
      // an empty value beside others is an error, not dropped
      await rejectsRest(() => fam.roles()(r.sid).update({ permission: ['leaveConversation', ''] }), NO_PERMISSION);
      await rejectsRest(() => fam.roles().create({ friendlyName: 'empty perm', type: 'conversation', permission: ['', 'sendMessage'] }), NO_PERMISSION);
      assertErrorBody(await h().raw('POST', fam.path(), { body: 'FriendlyName=x&Type=service&Permission=joinConversation&Permission=' }), NO_PERMISSION);
      assertErrorBody(await h().raw('POST', `${fam.path()}/${r.sid}`, { body: {} }), missing('Permission'));
      assertErrorBody(await h().raw('POST', `${fam.path()}/${r.sid}`, { body: { Permission: '' } }), missing('Permission'));
      assertErrorBody(await h().raw('POST', `${fam.path()}/${r.sid}`, { body: { FriendlyName: 'x' } }), missing('Permission'));
      assert.equal(JSON.stringify((await fam.roles()(r.sid).fetch()).toJSON()), snap);
      await fam.roles()(r.sid).remove();
    });

    it(`${fam.name}: unknown, malformed and other-service role SIDs -> 404 on fetch, update and delete`, async () => {
      const elsewhere = fam.svc() === IS ? other.sid : IS;
      const foreign = await h().client.conversations.v1.services(elsewhere).roles.create({ friendlyName: 'foreign', type: 'service', permission: ['joinConversation'] });
      for (const sid of ['RL' + randomHex(32), 'foo', 'US' + randomHex(32), foreign.sid]) {
        const err = notFound(`${fam.msg()}/${sid}`);
        await rejectsRest(() => fam.roles()(sid).fetch(), err);
        await rejectsRest(() => fam.roles()(sid).update({ permission: ['joinConversation'] }), err);
        await rejectsRest(() => fam.roles()(sid).remove(), err);
        assertErrorBody(await h().raw('POST', `${fam.path()}/${sid}`, { body: { Permission: 'joinConversation' } }), err);
        // the missing role outranks the missing parameter
        assertErrorBody(await h().raw('POST', `${fam.path()}/${sid}`, { body: {} }), err);
      }
      // still there, unchanged, in its own service
      const again = await h().client.conversations.v1.services(elsewhere).roles(foreign.sid).fetch();
      assert.deepEqual(again.permissions, ['joinConversation']);
      await h().client.conversations.v1.services(elsewhere).roles(foreign.sid).remove();
    });

    it(`${fam.name}: a role held by a user cannot be deleted (409 20409) until the user moves off it`, async () => {
      const r = await fam.roles().create({ friendlyName: 'in use', type: 'service', permission: ['joinConversation'] });
      const users = h().client.conversations.v1.services(fam.svc()).users;
      const u = await users.create({ identity: `holder-${randomHex(6)}`, roleSid: r.sid });
      assert.equal(u.roleSid, r.sid);
      const snap = JSON.stringify((await fam.roles()(r.sid).fetch()).toJSON());
      await rejectsRest(() => fam.roles()(r.sid).remove(), IN_USE);
      assertErrorBody(await h().raw('DELETE', `${fam.path()}/${r.sid}`), IN_USE);
      assert.equal(JSON.stringify((await fam.roles()(r.sid).fetch()).toJSON()), snap);
      assert.equal((await users(u.sid).fetch()).roleSid, r.sid);
      // move the user off the role: now it can go
      const cfg = await h().client.conversations.v1.services(fam.svc()).configuration().fetch();
      await users(u.sid).update({ roleSid: cfg.defaultChatServiceRoleSid });
      await fam.roles()(r.sid).remove();
      await rejectsRest(() => fam.roles()(r.sid).fetch(), notFound(`${fam.msg()}/${r.sid}`));
      await users(u.sid).remove();
    });
  }

  it('the three default roles of the service configuration cannot be deleted; an unused default role can', async () => {
    const svc = h().client.conversations.v1.services(other.sid);
    const cfg = await svc.configuration().fetch();
    const before = await svc.roles.list();
    for (const sid of [cfg.defaultChatServiceRoleSid, cfg.defaultConversationRoleSid, cfg.defaultConversationCreatorRoleSid]) {
      await rejectsRest(() => svc.roles(sid).remove(), IN_USE);
    }
    assert.deepEqual((await svc.roles.list()).map((r) => r.toJSON()), before.map((r) => r.toJSON()));
    // on the default service, through the short path
    for (const name of ['service user', 'channel user', 'channel admin']) {
      await rejectsRest(() => h().client.conversations.v1.roles(defaultRoles[name].sid).remove(), IN_USE);
    }
    // 'service admin' is referenced by nothing in the second service
    const admin = before.find((r) => r.friendlyName === 'service admin');
    await svc.roles(admin.sid).remove();
    assert.equal((await svc.roles.list()).length, before.length - 1);
  });

  it('a custom role that becomes a configuration default is protected; once replaced it can be deleted', async () => {
    const svc = h().client.conversations.v1.services(other.sid);
    const original = await svc.configuration().fetch();
    const r = await svc.roles.create({ friendlyName: 'new default', type: 'conversation', permission: ['sendMessage'] });
    await svc.configuration().update({ defaultConversationRoleSid: r.sid });
    await rejectsRest(() => svc.roles(r.sid).remove(), IN_USE);
    await svc.configuration().update({ defaultConversationRoleSid: original.defaultConversationRoleSid });
    await svc.roles(r.sid).remove();
  });

  it('both path families see the same roles of the default service; other services keep their own', async () => {
    const a = (await h().client.conversations.v1.roles.list()).map((r) => r.sid).sort();
    const b = (await h().client.conversations.v1.services(IS).roles.list()).map((r) => r.sid).sort();
    const c = (await h().client.conversations.v1.services(other.sid).roles.list()).map((r) => r.sid);
    assert.deepEqual(a, b);
    assert.ok(c.every((sid) => !a.includes(sid)));
  });

  it('roles survive a restart', async () => {
    const r = await h().client.conversations.v1.roles.create({ friendlyName: 'durable', type: 'service', permission: ['joinConversation', 'editOwnUserInfo'] });
    await h().restart();
    const f = await h().client.conversations.v1.roles(r.sid).fetch();
    assert.deepEqual(f.toJSON(), r.toJSON());
  });

  it('unsupported methods on role paths -> 405', async () => {
    const NOT_ALLOWED = { status: 405, code: 20004, message: 'Method not allowed' };
    assertErrorBody(await h().raw('DELETE', '/v1/Roles'), NOT_ALLOWED);
    assertErrorBody(await h().raw('PUT', `/v1/Roles/${defaultRoles['service user'].sid}`, { body: { Permission: 'x' } }), NOT_ALLOWED);
    assertErrorBody(await h().raw('DELETE', `/v1/Services/${IS}/Roles`), NOT_ALLOWED);
  });
});
