// Account configuration (/v1/Configuration update, the default-service switch that retargets every short path),
// service configuration (/v1/Services/{IS}/Configuration: the three default roles and ReachabilityEnabled) and
// its Notifications, through twilio-node and raw HTTP.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, listAllRaw, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const CONFIG_KEYS = ['account_sid', 'default_chat_service_sid', 'default_messaging_service_sid', 'default_inactive_timer', 'default_closed_timer', 'url', 'links'];
const SERVICE_CONFIG_KEYS = [
  'chat_service_sid',
  'default_conversation_creator_role_sid',
  'default_conversation_role_sid',
  'default_chat_service_role_sid',
  'url',
  'links',
  'reachability_enabled',
];
const NOTIFICATION_KEYS = ['account_sid', 'chat_service_sid', 'new_message', 'added_to_conversation', 'removed_from_conversation', 'log_enabled', 'url'];
const NO_PARAMS = { status: 400, code: 20161, message: 'Parameters are not specified for update request' };
const SERVICE_NOT_FOUND = { status: 400, code: 50050, message: 'Service Instance not found' };
const ROLE_NOT_FOUND = { status: 400, code: 50100, message: 'Role not found' };
const CONV_ROLE_NOT_FOUND = { status: 400, code: 50109, message: 'Conversation role not found' };
const invalidSid = (name) => ({ status: 400, code: 20423, message: new RegExp(`^Invalid SID for ${name}`) });
const badValue = (name) => ({ status: 400, code: 20001, message: new RegExp(`^Invalid value for ${name.replace(/\./g, '\\.')}`) });
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

e2eSuite('configuration', {}, (ctx, it) => {
  const h = () => ctx.h;
  const conf = () => h().client.conversations.v1.configuration();
  let IS;
  let roles;
  let second; // another service of the account

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    second = await ctx.h.client.conversations.v1.services.create({ friendlyName: 'configuration: second' });
  });

  const snapshot = async () => JSON.stringify((await h().raw('GET', '/v1/Configuration')).json);

  // ---- account configuration -------------------------------------------------------------------------------

  it('update the messaging service and both timers; fetch returns them; spec keys in order', async () => {
    const MG = 'MG' + randomHex(32);
    const c = await conf().update({ defaultMessagingServiceSid: MG, defaultInactiveTimer: 'PT1M', defaultClosedTimer: 'PT10M' });
    assert.equal(c.accountSid, h().accountSid);
    assert.equal(c.defaultChatServiceSid, IS);
    assert.equal(c.defaultMessagingServiceSid, MG);
    assert.equal(c.defaultInactiveTimer, 'PT1M');
    assert.equal(c.defaultClosedTimer, 'PT10M');
    assert.deepEqual((await conf().fetch()).toJSON(), c.toJSON());
    const raw = await h().raw('POST', '/v1/Configuration', { body: { DefaultInactiveTimer: 'P1DT12H', DefaultClosedTimer: 'P2W' } });
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), CONFIG_KEYS);
    assert.equal(raw.json.default_inactive_timer, 'P1DT12H');
    assert.equal(raw.json.default_closed_timer, 'P2W');
    assert.equal(raw.json.default_messaging_service_sid, MG, 'absent parameters are left alone');
    assert.deepEqual(raw.json.links, {
      service: `${h().url}/v1/Services/${IS}/Configuration`,
      webhooks: `${h().url}/v1/Configuration/Webhooks`,
    });
  });

  it('an empty value clears the messaging service and the timers (null)', async () => {
    await conf().update({ defaultMessagingServiceSid: 'MG' + randomHex(32), defaultInactiveTimer: 'PT5M', defaultClosedTimer: 'PT1H' });
    const raw = await h().raw('POST', '/v1/Configuration', { body: { DefaultMessagingServiceSid: '', DefaultInactiveTimer: '', DefaultClosedTimer: '' } });
    assert.equal(raw.status, 200, raw.body);
    assert.equal(raw.json.default_messaging_service_sid, null);
    assert.equal(raw.json.default_inactive_timer, null);
    assert.equal(raw.json.default_closed_timer, null);
    const c = await conf().fetch();
    assert.equal(c.defaultMessagingServiceSid, null);
    assert.equal(c.defaultInactiveTimer, null);
  });

  it('timers: ISO 8601 durations of at least PT1M (inactive) and PT10M (closed); too short 50375/50376, malformed 50379/50380', async () => {
    const before = await snapshot();
    const inactiveShort = { status: 400, code: 50375, message: 'TimeToInactive should be greater or equal to 1 minute' };
    const closedShort = { status: 400, code: 50376, message: 'TimeToClosed should be greater or equal to 10 minutes' };
    const inactiveBad = { status: 400, code: 50379, message: 'TimeToInactive format is invalid' };
    const closedBad = { status: 400, code: 50380, message: 'TimeToClosed format is invalid' };
    for (const v of ['PT59S', 'PT0S', 'PT0M']) {
      await rejectsRest(() => conf().update({ defaultInactiveTimer: v }), inactiveShort);
    }
    for (const v of ['1 minute', '60', 'pt1m', 'PT1.5M', 'P', 'PT', '-PT1M', 'PT1M ', 'P1H', 'PT1M1M']) {
      await rejectsRest(() => conf().update({ defaultInactiveTimer: v }), inactiveBad);
    }
    for (const v of ['PT9M', 'PT599S', 'PT9M59S', 'P0D']) {
      await rejectsRest(() => conf().update({ defaultClosedTimer: v }), closedShort);
    }
    for (const v of ['ten minutes', 'P1H', '600']) {
      await rejectsRest(() => conf().update({ defaultClosedTimer: v }), closedBad);
    }
    // one bad timer fails the whole update
    await rejectsRest(() => conf().update({ defaultInactiveTimer: 'PT2M', defaultClosedTimer: 'PT5M' }), closedShort);
    assertErrorBody(await h().raw('POST', '/v1/Configuration', { body: { DefaultInactiveTimer: 'x'.repeat(65) } }), inactiveBad);
    assert.equal(await snapshot(), before);
    for (const [a, b] of [['PT60S', 'PT600S'], ['PT1H', 'P1D'], ['P1Y', 'P1M'], ['PT1M0S', 'PT10M0S']]) {
      const c = await conf().update({ defaultInactiveTimer: a, defaultClosedTimer: b });
      assert.equal(c.defaultInactiveTimer, a);
      assert.equal(c.defaultClosedTimer, b);
    }
  });

  it('malformed SIDs -> 400 20423 (messaging service: 50341); an unknown service -> 400 50050; an empty update -> 400 20161', async () => {
    const before = await snapshot();
    const badMessagingService = { status: 400, code: 50341, message: 'Invalid messaging service SID' };
    await rejectsRest(() => conf().update({ defaultMessagingServiceSid: 'MGxyz' }), badMessagingService);
    await rejectsRest(() => conf().update({ defaultMessagingServiceSid: 'IS' + randomHex(32) }), badMessagingService);
    await rejectsRest(() => conf().update({ defaultChatServiceSid: 'ISxyz' }), invalidSid('DefaultChatServiceSid'));
    await rejectsRest(() => conf().update({ defaultChatServiceSid: 'MG' + randomHex(32) }), invalidSid('DefaultChatServiceSid'));
    assertErrorBody(await h().raw('POST', '/v1/Configuration', { body: { DefaultChatServiceSid: '' } }), badValue('DefaultChatServiceSid'));
    await rejectsRest(() => conf().update({ defaultChatServiceSid: 'IS' + randomHex(32) }), SERVICE_NOT_FOUND);
    assertErrorBody(await h().raw('POST', '/v1/Configuration', { body: {} }), NO_PARAMS);
    assertErrorBody(await h().raw('POST', '/v1/Configuration', { body: { Unknown: 'x' } }), NO_PARAMS);
    await rejectsRest(() => conf().update({}), NO_PARAMS);
    assert.equal(await snapshot(), before);
  });

  it('DefaultChatServiceSid retargets every short path at once, and back', async () => {
    const B = second.sid;
    const bRoles = Object.fromEntries((await h().client.conversations.v1.services(B).roles.list()).map((r) => [r.friendlyName, r]));
    const aUser = await h().client.conversations.v1.users.create({ identity: `on-default-${randomHex(4)}` });
    const c = await conf().update({ defaultChatServiceSid: B });
    assert.equal(c.defaultChatServiceSid, B);
    assert.equal(c.links.service, `${h().url}/v1/Services/${B}/Configuration`);

    // short paths now act on B
    const u = await h().client.conversations.v1.users.create({ identity: 'switched' });
    assert.equal(u.chatServiceSid, B);
    assert.equal(u.roleSid, bRoles['service user'].sid, 'the default user role of B');
    assert.equal(u.url, `${h().url}/v1/Users/${u.sid}`);
    assert.deepEqual((await h().client.conversations.v1.users.list()).map((x) => x.sid), [u.sid]);
    await rejectsRest(() => h().client.conversations.v1.users(aUser.sid).fetch(), notFound(`/Users/${aUser.sid}`));
    const shortRoles = (await h().client.conversations.v1.roles.list()).map((r) => r.sid).sort();
    assert.deepEqual(shortRoles, Object.values(bRoles).map((r) => r.sid).sort());
    const r = await h().client.conversations.v1.roles.create({ friendlyName: 'on B', type: 'service', permission: ['joinConversation'] });
    assert.equal(r.chatServiceSid, B);
    // the explicit family still reaches the old default
    assert.equal((await h().client.conversations.v1.services(IS).users(aUser.sid).fetch()).sid, aUser.sid);

    // and back
    await conf().update({ defaultChatServiceSid: IS });
    assert.equal((await h().client.conversations.v1.users(aUser.sid).fetch()).chatServiceSid, IS);
    await rejectsRest(() => h().client.conversations.v1.users('switched').fetch(), notFound('/Users/switched'));
    assert.equal((await h().client.conversations.v1.roles(roles['service user'].sid).fetch()).chatServiceSid, IS);
  });

  it('the configuration survives a restart', async () => {
    const c = await conf().update({ defaultInactiveTimer: 'PT3M', defaultClosedTimer: 'PT30M', defaultMessagingServiceSid: 'MG' + randomHex(32) });
    await h().restart();
    assert.deepEqual((await conf().fetch()).toJSON(), c.toJSON());
  });

  // ---- service configuration -------------------------------------------------------------------------------

  const svcCfg = (sid) => h().client.conversations.v1.services(sid).configuration();

  it('service configuration fetch: spec keys, links, the three default roles', async () => {
    const raw = await h().raw('GET', `/v1/Services/${IS}/Configuration`);
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), SERVICE_CONFIG_KEYS);
    const base = `${h().url}/v1/Services/${IS}/Configuration`;
    assert.equal(raw.json.url, base);
    assert.deepEqual(raw.json.links, { notifications: `${base}/Notifications`, webhooks: `${base}/Webhooks` });
    const c = await svcCfg(IS).fetch();
    assert.equal(c.chatServiceSid, IS);
    assert.equal(c.defaultChatServiceRoleSid, roles['service user'].sid);
    assert.equal(c.defaultConversationCreatorRoleSid, roles['channel admin'].sid);
    assert.equal(c.defaultConversationRoleSid, roles['channel user'].sid);
    assert.equal(c.reachabilityEnabled, false);
  });

  it('service configuration update: custom default roles and ReachabilityEnabled; new users take the new role', async () => {
    const svc = h().client.conversations.v1.services(second.sid);
    const sRole = await svc.roles.create({ friendlyName: 'member', type: 'service', permission: ['joinConversation'] });
    const cRole = await svc.roles.create({ friendlyName: 'talker', type: 'conversation', permission: ['sendMessage'] });
    const kRole = await svc.roles.create({ friendlyName: 'creator', type: 'conversation', permission: ['sendMessage', 'addParticipant'] });
    const c = await svcCfg(second.sid).update({
      defaultChatServiceRoleSid: sRole.sid,
      defaultConversationRoleSid: cRole.sid,
      defaultConversationCreatorRoleSid: kRole.sid,
      reachabilityEnabled: true,
    });
    assert.equal(c.chatServiceSid, second.sid);
    assert.equal(c.defaultChatServiceRoleSid, sRole.sid);
    assert.equal(c.defaultConversationRoleSid, cRole.sid);
    assert.equal(c.defaultConversationCreatorRoleSid, kRole.sid);
    assert.equal(c.reachabilityEnabled, true);
    assert.deepEqual((await svcCfg(second.sid).fetch()).toJSON(), c.toJSON());
    const u = await svc.users.create({ identity: `member-${randomHex(4)}` });
    assert.equal(u.roleSid, sRole.sid);
    // a partial update leaves the rest alone
    const raw = await h().raw('POST', `/v1/Services/${second.sid}/Configuration`, { body: { ReachabilityEnabled: 'false' } });
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), SERVICE_CONFIG_KEYS);
    assert.equal(raw.json.reachability_enabled, false);
    assert.equal(raw.json.default_chat_service_role_sid, sRole.sid);
    // the default service is untouched
    assert.equal((await svcCfg(IS).fetch()).defaultChatServiceRoleSid, roles['service user'].sid);
  });

  it('service configuration: wrong type, other service, unknown role -> 50100 / 50109; malformed -> 20423; nothing changes', async () => {
    const svc = h().client.conversations.v1.services(second.sid);
    const before = JSON.stringify((await h().raw('GET', `/v1/Services/${second.sid}/Configuration`)).json);
    const sRole = await svc.roles.create({ friendlyName: 's', type: 'service', permission: ['joinConversation'] });
    const cRole = await svc.roles.create({ friendlyName: 'c', type: 'conversation', permission: ['sendMessage'] });
    const unknown = 'RL' + randomHex(32);
    const foreignService = roles['service user'].sid; // a service role of the default service
    const foreignConversation = roles['channel user'].sid;
    for (const sid of [cRole.sid, unknown, foreignService, foreignConversation]) {
      await rejectsRest(() => svcCfg(second.sid).update({ defaultChatServiceRoleSid: sid }), ROLE_NOT_FOUND);
    }
    for (const sid of [sRole.sid, unknown, foreignConversation, foreignService]) {
      await rejectsRest(() => svcCfg(second.sid).update({ defaultConversationRoleSid: sid }), CONV_ROLE_NOT_FOUND);
      await rejectsRest(() => svcCfg(second.sid).update({ defaultConversationCreatorRoleSid: sid }), CONV_ROLE_NOT_FOUND);
    }
    // one bad role fails the whole update
    await rejectsRest(() => svcCfg(second.sid).update({ defaultConversationRoleSid: cRole.sid, defaultChatServiceRoleSid: cRole.sid, reachabilityEnabled: true }), ROLE_NOT_FOUND);
    for (const name of ['DefaultChatServiceRoleSid', 'DefaultConversationRoleSid', 'DefaultConversationCreatorRoleSid']) {
      assertErrorBody(await h().raw('POST', `/v1/Services/${second.sid}/Configuration`, { body: { [name]: 'RLxyz' } }), invalidSid(name));
      assertErrorBody(await h().raw('POST', `/v1/Services/${second.sid}/Configuration`, { body: { [name]: 'US' + randomHex(32) } }), invalidSid(name));
    }
    for (const v of ['yes', '1', 'on', '']) {
      assertErrorBody(await h().raw('POST', `/v1/Services/${second.sid}/Configuration`, { body: { ReachabilityEnabled: v } }), badValue('ReachabilityEnabled'));
    }
    assertErrorBody(await h().raw('POST', `/v1/Services/${second.sid}/Configuration`, { body: {} }), NO_PARAMS);
    await rejectsRest(() => svcCfg(second.sid).update({}), NO_PARAMS);
    assert.equal(JSON.stringify((await h().raw('GET', `/v1/Services/${second.sid}/Configuration`)).json), before);
  });

  // ---- notifications ---------------------------------------------------------------------------------------

  const notes = (sid) => h().client.conversations.v1.services(sid).configuration.notifications();

  it('notifications fetch: everything off and unset, each kind {"enabled": false} as Twilio renders a fresh service', async () => {
    const raw = await h().raw('GET', `/v1/Services/${IS}/Configuration/Notifications`);
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), NOTIFICATION_KEYS);
    assert.deepEqual(raw.json, {
      account_sid: h().accountSid,
      chat_service_sid: IS,
      new_message: { enabled: false },
      added_to_conversation: { enabled: false },
      removed_from_conversation: { enabled: false },
      log_enabled: false,
      url: `${h().url}/v1/Services/${IS}/Configuration/Notifications`,
    });
    const n = await notes(IS).fetch();
    assert.equal(n.accountSid, h().accountSid);
    assert.equal(n.chatServiceSid, IS);
    assert.equal(n.logEnabled, false);
  });

  it('notifications update: every parameter stored and returned nested; partial updates keep the rest', async () => {
    const n = await notes(second.sid).update({
      logEnabled: true,
      'newMessage.enabled': true,
      'newMessage.template': 'You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}',
      'newMessage.sound': 'ring',
      'newMessage.badgeCountEnabled': true,
      'newMessage.withMedia.enabled': true,
      'newMessage.withMedia.template': 'You have a new message in ${CONVERSATION} with ${MEDIA_COUNT} media files: ${MEDIA}',
      'addedToConversation.enabled': true,
      'addedToConversation.template': 'You have been added to a Conversation: ${CONVERSATION}',
      'addedToConversation.sound': 'chime',
      'removedFromConversation.enabled': true,
      'removedFromConversation.template': 'You have been removed from a Conversation: ${CONVERSATION}',
      'removedFromConversation.sound': 'bell',
    });
    assert.equal(n.logEnabled, true);
    assert.deepEqual(n.newMessage, {
      enabled: true,
      template: 'You have a new message in ${CONVERSATION} from ${PARTICIPANT}: ${MESSAGE}',
      badge_count_enabled: true,
      sound: 'ring',
      with_media: { enabled: true, template: 'You have a new message in ${CONVERSATION} with ${MEDIA_COUNT} media files: ${MEDIA}' },
    });
    assert.deepEqual(n.addedToConversation, { enabled: true, template: 'You have been added to a Conversation: ${CONVERSATION}', sound: 'chime' });
    assert.deepEqual(n.removedFromConversation, { enabled: true, template: 'You have been removed from a Conversation: ${CONVERSATION}', sound: 'bell' });
    assert.deepEqual((await notes(second.sid).fetch()).toJSON(), n.toJSON());

    const raw = await h().raw('POST', `/v1/Services/${second.sid}/Configuration/Notifications`, {
      body: { 'NewMessage.Enabled': 'false', 'AddedToConversation.Sound': '', 'RemovedFromConversation.Template': 'bye ✓ "quoted"' },
    });
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), NOTIFICATION_KEYS);
    assert.equal(raw.json.new_message.enabled, false);
    assert.equal(raw.json.new_message.sound, 'ring');
    assert.equal(raw.json.new_message.with_media.enabled, true);
    assert.equal(raw.json.added_to_conversation.sound, '');
    assert.equal(raw.json.added_to_conversation.enabled, true);
    assert.equal(raw.json.removed_from_conversation.template, 'bye ✓ "quoted"');
    assert.equal(raw.json.log_enabled, true);
    // the default service's notifications are untouched
    assert.equal((await notes(IS).fetch()).logEnabled, false);
  });

  it('notifications: bad booleans -> 400 20001, empty update -> 400 20161, nothing changes', async () => {
    const before = JSON.stringify((await h().raw('GET', `/v1/Services/${second.sid}/Configuration/Notifications`)).json);
    for (const name of ['LogEnabled', 'NewMessage.Enabled', 'NewMessage.BadgeCountEnabled', 'NewMessage.WithMedia.Enabled', 'AddedToConversation.Enabled', 'RemovedFromConversation.Enabled']) {
      for (const v of ['yes', '1', '']) {
        assertErrorBody(
          await h().raw('POST', `/v1/Services/${second.sid}/Configuration/Notifications`, { body: { 'NewMessage.Sound': 'changed', [name]: v } }),
          badValue(name),
        );
      }
    }
    assertErrorBody(await h().raw('POST', `/v1/Services/${second.sid}/Configuration/Notifications`, { body: {} }), NO_PARAMS);
    await rejectsRest(() => notes(second.sid).update({}), NO_PARAMS);
    assert.equal(JSON.stringify((await h().raw('GET', `/v1/Services/${second.sid}/Configuration/Notifications`)).json), before);
  });

  it('service configuration and notifications survive a restart', async () => {
    const c = await svcCfg(second.sid).fetch();
    const n = await notes(second.sid).fetch();
    await h().restart();
    assert.deepEqual((await svcCfg(second.sid).fetch()).toJSON(), c.toJSON());
    assert.deepEqual((await notes(second.sid).fetch()).toJSON(), n.toJSON());
    assert.match(c.chatServiceSid, SID_RE('IS'));
  });

  it('unknown service in the path -> 404 for configuration and notifications', async () => {
    for (const sid of ['IS' + randomHex(32), 'nope']) {
      await rejectsRest(() => svcCfg(sid).fetch(), notFound(`/Services/${sid}/Configuration`));
      await rejectsRest(() => svcCfg(sid).update({ reachabilityEnabled: true }), notFound(`/Services/${sid}/Configuration`));
      await rejectsRest(() => notes(sid).fetch(), notFound(`/Services/${sid}/Configuration/Notifications`));
      await rejectsRest(() => notes(sid).update({ logEnabled: true }), notFound(`/Services/${sid}/Configuration/Notifications`));
    }
    // 404 outranks the empty update
    assertErrorBody(await h().raw('POST', `/v1/Services/IS${randomHex(32)}/Configuration`, { body: {} }), { status: 404, code: 20404 });
    assert.ok((await listAllRaw(h(), '/v1/Services', 'services')).length >= 2);
  });
});
