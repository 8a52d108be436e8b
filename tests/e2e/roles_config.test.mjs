// Account configuration, the four default roles on both families, and the (empty) user conversations list.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, DATE_RE, e2eSuite, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const CONFIG_KEYS = [
  'account_sid',
  'default_chat_service_sid',
  'default_messaging_service_sid',
  'default_inactive_timer',
  'default_closed_timer',
  'url',
  'links',
];
const ROLE_KEYS = ['sid', 'account_sid', 'chat_service_sid', 'friendly_name', 'type', 'permissions', 'date_created', 'date_updated', 'url'];

// docs/DECISIONS.md: BEHAVIOUR §3.3 lists, with the §10.3 correction for 'channel admin'.
const DEFAULT_ROLES = {
  'service admin': {
    type: 'service',
    permissions: [
      'createConversation', 'joinConversation', 'deleteConversation', 'addParticipant', 'removeParticipant',
      'editConversationName', 'editConversationAttributes', 'editAnyMessage', 'editAnyMessageAttributes',
      'deleteAnyMessage', 'editAnyUserInfo', 'editOwnUserInfo',
    ],
  },
  'service user': { type: 'service', permissions: ['createConversation', 'joinConversation', 'editOwnUserInfo'] },
  'channel admin': {
    type: 'conversation',
    permissions: [
      'deleteConversation', 'removeParticipant', 'editConversationName', 'editConversationAttributes', 'addParticipant',
      'sendMessage', 'sendMediaMessage', 'leaveConversation', 'editAnyMessage', 'editAnyMessageAttributes',
      'editAnyParticipantAttributes', 'deleteAnyMessage', 'editNotificationLevel',
    ],
  },
  'channel user': {
    type: 'conversation',
    permissions: [
      'sendMessage', 'sendMediaMessage', 'leaveConversation', 'editOwnMessage', 'editOwnMessageAttributes',
      'deleteOwnMessage', 'editOwnParticipantAttributes', 'editNotificationLevel',
    ],
  },
};
const sorted = (a) => [...a].sort();

e2eSuite('roles and configuration', {}, (ctx, it) => {
  const h = () => ctx.h;
  let IS;

  before(async () => {
    const res = await ctx.h.raw('GET', '/v1/Configuration');
    assert.equal(res.status, 200, res.body);
    IS = res.json.default_chat_service_sid;
  });

  const families = [
    { name: '/v1/Roles', path: () => '/v1/Roles', msg: () => '/Roles', roles: () => h().client.conversations.v1.roles },
    {
      name: '/v1/Services/{IS}/Roles',
      path: () => `/v1/Services/${IS}/Roles`,
      msg: () => `/Services/${IS}/Roles`,
      roles: () => h().client.conversations.v1.services(IS).roles,
    },
  ];

  it('configuration().fetch() through twilio-node', async () => {
    const c = await h().client.conversations.v1.configuration().fetch();
    assert.equal(c.accountSid, h().accountSid);
    assert.match(c.defaultChatServiceSid, SID_RE('IS'));
    assert.equal(c.defaultMessagingServiceSid, null);
    assert.equal(c.defaultInactiveTimer, null);
    assert.equal(c.defaultClosedTimer, null);
    assert.equal(c.url, `${h().url}/v1/Configuration`);
    assert.deepEqual(c.links, {
      service: `${h().url}/v1/Services/${c.defaultChatServiceSid}/Configuration`,
      webhooks: `${h().url}/v1/Configuration/Webhooks`,
    });
  });

  it('raw GET /v1/Configuration: exact keys in spec order', async () => {
    const res = await h().raw('GET', '/v1/Configuration');
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json), CONFIG_KEYS);
    assert.deepEqual(Object.keys(res.json.links).sort(), ['service', 'webhooks']);
    assert.equal(res.json.default_chat_service_sid, IS);
  });

  it('the default service is stable across fetches and a restart', async () => {
    const a = await h().client.conversations.v1.configuration().fetch();
    const rolesBefore = (await h().client.conversations.v1.roles.list()).map((r) => r.sid).sort();
    await h().restart();
    const b = await h().client.conversations.v1.configuration().fetch();
    assert.equal(b.defaultChatServiceSid, a.defaultChatServiceSid);
    const rolesAfter = (await h().client.conversations.v1.roles.list()).map((r) => r.sid).sort();
    assert.deepEqual(rolesAfter, rolesBefore);
  });

  for (const fam of families) {
    it(`${fam.name}: list() gives exactly the four default roles`, async () => {
      const roles = await fam.roles().list();
      assert.deepEqual(sorted(roles.map((r) => r.friendlyName)), sorted(Object.keys(DEFAULT_ROLES)));
      for (const r of roles) {
        const want = DEFAULT_ROLES[r.friendlyName];
        assert.match(r.sid, SID_RE('RL'));
        assert.equal(r.accountSid, h().accountSid);
        assert.equal(r.chatServiceSid, IS);
        assert.equal(r.type, want.type, `${r.friendlyName} type`);
        assert.ok(Array.isArray(r.permissions), 'permissions is an array');
        assert.deepEqual(sorted(r.permissions), sorted(want.permissions), `${r.friendlyName} permissions`);
        assert.equal(new Set(r.permissions).size, r.permissions.length, 'no duplicate permissions');
        assert.ok(r.dateCreated instanceof Date && !Number.isNaN(r.dateCreated.getTime()));
        assert.ok(r.dateUpdated instanceof Date && !Number.isNaN(r.dateUpdated.getTime()));
        assert.equal(r.url, `${h().url}${fam.path()}/${r.sid}`);
      }
      assert.equal(new Set(roles.map((r) => r.sid)).size, 4);
    });

    it(`${fam.name}: raw list: exact role keys in spec order, no links, meta key "roles"`, async () => {
      const res = await h().raw('GET', fam.path());
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json).sort(), ['meta', 'roles']);
      assert.equal(res.json.meta.key, 'roles');
      assert.equal(res.json.meta.page_size, 50);
      assert.equal(res.json.meta.next_page_url, null);
      assert.equal(res.json.meta.first_page_url, `${h().url}${fam.path()}?PageSize=50&Page=0`);
      assert.equal(res.json.roles.length, 4);
      for (const r of res.json.roles) {
        assert.deepEqual(Object.keys(r), ROLE_KEYS);
        assert.match(r.date_created, DATE_RE);
        assert.match(r.date_updated, DATE_RE);
        assert.equal(r.url, `${h().url}${fam.path()}/${r.sid}`);
      }
    });

    it(`${fam.name}: roles(sid).fetch() equals the listed role`, async () => {
      const listed = await fam.roles().list();
      for (const r of listed) {
        const f = await fam.roles()(r.sid).fetch();
        assert.deepEqual(f.toJSON(), r.toJSON());
        const raw = await h().raw('GET', `${fam.path()}/${r.sid}`);
        assert.equal(raw.status, 200);
        assert.deepEqual(Object.keys(raw.json), ROLE_KEYS);
      }
    });

    it(`${fam.name}: unknown or malformed role SID -> 404 20404`, async () => {
      for (const sid of ['RL' + randomHex(32), 'foo', 'US' + randomHex(32)]) {
        const err = { status: 404, code: 20404, message: `The requested resource ${fam.msg()}/${sid} was not found` };
        await rejectsRest(() => fam.roles()(sid).fetch(), err);
        assertErrorBody(await h().raw('GET', `${fam.path()}/${sid}`), err);
      }
    });
  }

  it('both families list the same role SIDs', async () => {
    const a = (await families[0].roles().list()).map((r) => r.sid).sort();
    const b = (await families[1].roles().list()).map((r) => r.sid).sort();
    assert.deepEqual(a, b);
  });

  it('userConversations.list() of a fresh user is empty on both families, by SID and by identity', async () => {
    const u = await h().client.conversations.v1.users.create({ identity: 'lonely@example.com' });
    const short = h().client.conversations.v1.users;
    const svc = h().client.conversations.v1.services(IS).users;
    for (const key of [u.sid, u.identity]) {
      assert.deepEqual(await short(key).userConversations.list(), []);
      assert.deepEqual(await svc(key).userConversations.list(), []);
    }
    for (const base of ['/v1/Users', `/v1/Services/${IS}/Users`]) {
      for (const key of [u.sid, encodeURIComponent(u.identity)]) {
        const res = await h().raw('GET', `${base}/${key}/Conversations`);
        assert.equal(res.status, 200, res.body);
        assert.deepEqual(Object.keys(res.json).sort(), ['conversations', 'meta']);
        assert.deepEqual(res.json.conversations, []);
        assert.equal(res.json.meta.key, 'conversations');
        assert.equal(res.json.meta.page, 0);
        assert.equal(res.json.meta.page_size, 50);
        assert.equal(res.json.meta.previous_page_url, null);
        assert.equal(res.json.meta.next_page_url, null);
        assert.ok(res.json.meta.url.startsWith(`${h().url}${base}/`), res.json.meta.url);
        assert.ok(res.json.meta.url.includes('/Conversations?PageSize=50&Page=0'), res.json.meta.url);
      }
    }
  });
});
