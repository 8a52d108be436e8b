// Fidelity of the input side (issue 12): what Twilio accepts and how it answers, through twilio-node and raw HTTP.
// twilio-python's booleans are in python_sdk.test.mjs.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, randomHex, rejectsRest } from './harness.mjs';
import { fill, implementedOps } from './optable.mjs';

// Parley's own GET routes under /parley (not in the Twilio spec, so not in the operation table).
const ADMIN_GETS = ['/parley/webhooks/log'];

const badValue = (name) => ({ status: 400, code: 20001, message: new RegExp(`^Invalid value for ${name.replace(/\./g, '\\.')}`) });

e2eSuite('fidelity', {}, (ctx, it) => {
  const h = () => ctx.h;
  const v1 = () => h().client.conversations.v1;
  let IS;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  // ---- booleans ------------------------------------------------------------------------------------------------

  it('booleans are accepted in any case on every boolean parameter; other words are still refused', async () => {
    const cred = await h().raw('POST', '/v1/Credentials', { body: { Type: 'apn', Sandbox: 'TRUE' } });
    assert.equal(cred.status, 201, cred.body);
    assert.equal(cred.json.sandbox, 'True');
    const upd = await h().raw('POST', `/v1/Credentials/${cred.json.sid}`, { body: { Sandbox: 'False' } });
    assert.equal(upd.status, 200, upd.body);
    assert.equal(upd.json.sandbox, 'False');
    for (const [v, want] of [['True', true], ['fALSE', false], ['TRUE', true], ['false', false]]) {
      const r = await h().raw('POST', `/v1/Services/${IS}/Configuration`, { body: { ReachabilityEnabled: v } });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.reachability_enabled, want, v);
    }
    const names = ['LogEnabled', 'NewMessage.Enabled', 'NewMessage.BadgeCountEnabled', 'NewMessage.WithMedia.Enabled', 'AddedToConversation.Enabled', 'RemovedFromConversation.Enabled'];
    const body = Object.fromEntries(names.map((n) => [n, 'True']));
    const n = await h().raw('POST', `/v1/Services/${IS}/Configuration/Notifications`, { body });
    assert.equal(n.status, 200, n.body);
    assert.equal(n.json.log_enabled, true);
    assert.equal(n.json.new_message.enabled, true);
    assert.equal(n.json.new_message.badge_count_enabled, true);
    assert.equal(n.json.new_message.with_media.enabled, true);
    assert.equal(n.json.added_to_conversation.enabled, true);
    assert.equal(n.json.removed_from_conversation.enabled, true);
    // twilio-node sends lower case
    const back = await v1().services(IS).configuration.notifications().update({ logEnabled: false, 'newMessage.enabled': false });
    assert.equal(back.logEnabled, false);
    assert.equal(back.newMessage.enabled, false);
    for (const v of ['yes', '1', 'T', 'truee', ' true']) {
      assertErrorBody(await h().raw('POST', `/v1/Services/${IS}/Configuration`, { body: { ReachabilityEnabled: v } }), badValue('ReachabilityEnabled'));
    }
  });

  // ---- webhook configurations ------------------------------------------------------------------------------------

  const EVENTS = [
    'onMessageAdded', 'onMessageUpdated', 'onMessageRemoved', 'onMessageAdd', 'onMessageUpdate', 'onMessageRemove',
    'onConversationUpdated', 'onConversationRemoved', 'onConversationAdd', 'onConversationAdded', 'onConversationRemove',
    'onConversationUpdate', 'onConversationStateUpdated', 'onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved',
    'onParticipantAdd', 'onParticipantRemove', 'onParticipantUpdate', 'onDeliveryUpdated', 'onUserAdded', 'onUserUpdate', 'onUserUpdated',
  ];
  const SERVICE_HOOK_KEYS = ['account_sid', 'chat_service_sid', 'pre_webhook_url', 'post_webhook_url', 'filters', 'method', 'url'];
  const NO_PARAMS = { status: 400, code: 20161, message: 'Parameters are not specified for update request' };
  const BAD_METHOD = { status: 400, code: 50055, message: 'Invalid webhook method' };

  it('account webhook configuration never set: filters [], method POST, target webhook; clearing Filters gives [] again', async () => {
    const raw = await h().raw('GET', '/v1/Configuration/Webhooks');
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(raw.json.filters, []);
    assert.equal(raw.json.method, 'POST');
    assert.equal(raw.json.target, 'webhook');
    assert.deepEqual((await v1().configuration.webhooks().fetch()).filters, []);
    const set = await v1().configuration.webhooks().update({ filters: ['onUserAdded'] });
    assert.deepEqual(set.filters, ['onUserAdded']);
    const cleared = await h().raw('POST', '/v1/Configuration/Webhooks', { body: { Filters: '' } });
    assert.equal(cleared.status, 200, cleared.body);
    assert.deepEqual(cleared.json.filters, []);
  });

  it('service webhook configuration: keys in schema order; a URL without Method renders POST, what delivery uses', async () => {
    const svc = await v1().services.create({ friendlyName: 'fidelity: hooks' });
    const hooks = () => v1().services(svc.sid).configuration.webhooks();
    const empty = await h().raw('GET', `/v1/Services/${svc.sid}/Configuration/Webhooks`);
    assert.deepEqual(Object.keys(empty.json), SERVICE_HOOK_KEYS);
    assert.equal(empty.json.method, null, 'nothing set: the spec\'s fetchEmpty');
    assert.equal(empty.json.filters, null);
    const set = await hooks().update({ postWebhookUrl: 'https://example.com/post', filters: ['onMessageAdded'] });
    assert.equal(set.method, 'POST');
    const raw = await h().raw('GET', `/v1/Services/${svc.sid}/Configuration/Webhooks`);
    assert.deepEqual(Object.keys(raw.json), SERVICE_HOOK_KEYS);
    assert.deepEqual(raw.json, {
      account_sid: h().accountSid,
      chat_service_sid: svc.sid,
      pre_webhook_url: null,
      post_webhook_url: 'https://example.com/post',
      filters: ['onMessageAdded'],
      method: 'POST',
      url: `${h().url}/v1/Services/${svc.sid}/Configuration/Webhooks`,
    });
    assert.equal((await hooks().update({ method: 'get' })).method, 'GET');
  });

  it('Filters: every event of the catalogue is accepted; names that are no event (onMessageSend) and other text 400/50054', async () => {
    const all = await v1().configuration.webhooks().update({ filters: EVENTS });
    assert.deepEqual(all.filters, EVENTS);
    const svc = await v1().services(IS).configuration.webhooks().update({ filters: EVENTS });
    assert.deepEqual(svc.filters, EVENTS);
    const before = (await h().raw('GET', '/v1/Configuration/Webhooks')).body;
    for (const bad of ['onMessageSend', 'onMessageSent', 'onConversationDestroyed', 'foo', 'onmessageAdded', 'on', 'on Message', 'onMessage1', 'onUser_Added']) {
      await rejectsRest(v1().configuration.webhooks().update({ filters: ['onUserAdded', bad] }), { status: 400, code: 50054, message: /Invalid webhook format/ });
      await rejectsRest(v1().services(IS).configuration.webhooks().update({ filters: [bad] }), { status: 400, code: 50054 });
    }
    assert.equal((await h().raw('GET', '/v1/Configuration/Webhooks')).body, before);
  });

  it('webhook Method other than GET/POST: 400/50055 at both levels, nothing changes', async () => {
    const before = (await h().raw('GET', '/v1/Configuration/Webhooks')).body;
    for (const m of ['PUT', 'get ', 'DELETE', 'x']) {
      assertErrorBody(await h().raw('POST', '/v1/Configuration/Webhooks', { body: { Method: m } }), BAD_METHOD);
      assertErrorBody(await h().raw('POST', `/v1/Services/${IS}/Configuration/Webhooks`, { body: { Method: m } }), BAD_METHOD);
    }
    await rejectsRest(v1().configuration.webhooks().update({ method: 'PATCH' }), BAD_METHOD);
    await rejectsRest(v1().services(IS).configuration.webhooks().update({ method: 'PATCH' }), BAD_METHOD);
    assert.equal((await h().raw('GET', '/v1/Configuration/Webhooks')).body, before);
  });

  it('empty updates: every singleton update (and credential update) answers 400/20161 and changes nothing', async () => {
    const cred = await v1().credentials.create({ type: 'fcm', secret: 'k' });
    const paths = [
      '/v1/Configuration',
      '/v1/Configuration/Webhooks',
      `/v1/Services/${IS}/Configuration`,
      `/v1/Services/${IS}/Configuration/Notifications`,
      `/v1/Services/${IS}/Configuration/Webhooks`,
      `/v1/Credentials/${cred.sid}`,
    ];
    for (const p of paths) {
      const before = (await h().raw('GET', p)).body;
      assertErrorBody(await h().raw('POST', p, { body: {} }), NO_PARAMS);
      assertErrorBody(await h().raw('POST', p, { body: { Unknown: 'x' } }), NO_PARAMS);
      assert.equal((await h().raw('GET', p)).body, before, p);
    }
    await rejectsRest(v1().configuration.webhooks().update({}), NO_PARAMS);
    await rejectsRest(v1().services(IS).configuration.webhooks().update({}), NO_PARAMS);
  });

  // ---- notifications ---------------------------------------------------------------------------------------------

  it('a fresh service renders each notification kind as {"enabled": false}; set keys appear, through both views', async () => {
    const svc = await v1().services.create({ friendlyName: 'fidelity: notifications' });
    const p = `/v1/Services/${svc.sid}/Configuration/Notifications`;
    const fresh = await h().raw('GET', p);
    assert.equal(fresh.status, 200, fresh.body);
    assert.deepEqual(fresh.json.new_message, { enabled: false });
    assert.deepEqual(fresh.json.added_to_conversation, { enabled: false });
    assert.deepEqual(fresh.json.removed_from_conversation, { enabled: false });
    const n = await v1().services(svc.sid).configuration.notifications().fetch();
    assert.deepEqual(n.newMessage, { enabled: false });
    const set = await v1().services(svc.sid).configuration.notifications().update({ 'newMessage.sound': 'ding', 'newMessage.withMedia.enabled': true, 'addedToConversation.template': 'hi' });
    assert.deepEqual(set.newMessage, { enabled: false, sound: 'ding', with_media: { enabled: true } });
    assert.deepEqual(set.addedToConversation, { enabled: false, template: 'hi' });
    assert.deepEqual(set.removedFromConversation, { enabled: false });
  });

  it('notification templates over 1024 characters: 400/50058; sounds over 256: 400/50059; nothing changes', async () => {
    const p = `/v1/Services/${IS}/Configuration/Notifications`;
    const TOO_LONG_TEMPLATE = { status: 400, code: 50058, message: 'Notification template too long' };
    const TOO_LONG_SOUND = { status: 400, code: 50059, message: 'Notification sound name too long' };
    const templates = ['NewMessage.Template', 'NewMessage.WithMedia.Template', 'AddedToConversation.Template', 'RemovedFromConversation.Template'];
    const sounds = ['NewMessage.Sound', 'AddedToConversation.Sound', 'RemovedFromConversation.Sound'];
    const before = (await h().raw('GET', p)).body;
    for (const name of templates) {
      assertErrorBody(await h().raw('POST', p, { body: { LogEnabled: 'true', [name]: 't'.repeat(1025) } }), TOO_LONG_TEMPLATE);
      assertErrorBody(await h().raw('POST', p, { body: { [name]: 'é'.repeat(1025) } }), TOO_LONG_TEMPLATE);
    }
    for (const name of sounds) {
      assertErrorBody(await h().raw('POST', p, { body: { LogEnabled: 'true', [name]: 's'.repeat(257) } }), TOO_LONG_SOUND);
    }
    await rejectsRest(v1().services(IS).configuration.notifications().update({ 'newMessage.template': 'x'.repeat(2000) }), TOO_LONG_TEMPLATE);
    await rejectsRest(v1().services(IS).configuration.notifications().update({ 'removedFromConversation.sound': 'x'.repeat(300) }), TOO_LONG_SOUND);
    assert.equal((await h().raw('GET', p)).body, before);
    // at the limits, counted in characters
    const ok = await h().raw('POST', p, { body: Object.fromEntries([...templates.map((t) => [t, 'é'.repeat(1024)]), ...sounds.map((t) => [t, 's'.repeat(256)])]) });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.json.new_message.template, 'é'.repeat(1024));
    assert.equal(ok.json.removed_from_conversation.sound, 's'.repeat(256));
  });

  // ---- smaller ones ----------------------------------------------------------------------------------------------

  it('sandbox is [APN only]: a credential that is not (or no longer) APN shows "False"', async () => {
    const c = await v1().credentials.create({ type: 'apn', sandbox: true });
    assert.equal(c.sandbox, 'True');
    const fcm = await v1().credentials(c.sid).update({ type: 'fcm', secret: 'k' });
    assert.equal(fcm.type, 'fcm');
    assert.equal(fcm.sandbox, 'False');
    assert.equal((await h().raw('GET', `/v1/Credentials/${c.sid}`)).json.sandbox, 'False');
    const listed = (await v1().credentials.list()).find((x) => x.sid === c.sid);
    assert.equal(listed.sandbox, 'False');
    const direct = await h().raw('POST', '/v1/Credentials', { body: { Type: 'gcm', Sandbox: 'true', ApiKey: 'k' } });
    assert.equal(direct.status, 201, direct.body);
    assert.equal(direct.json.sandbox, 'False');
    // back to apn: the stored flag shows again
    assert.equal((await v1().credentials(c.sid).update({ type: 'apn' })).sandbox, 'True');
  });

  it('deleting a role in use: 409/20409 with the dictionary title "Conflict"', async () => {
    const role = await v1().roles.create({ friendlyName: 'fidelity: held', type: 'service', permission: ['joinConversation'] });
    await v1().users.create({ identity: `holder-${randomHex(8)}`, roleSid: role.sid });
    await rejectsRest(v1().roles(role.sid).remove(), { status: 409, code: 20409, message: 'Conflict' });
    assertErrorBody(await h().raw('DELETE', `/v1/Roles/${role.sid}`), { status: 409, code: 20409, message: 'Conflict' });
  });

  // ---- HTTP ------------------------------------------------------------------------------------------------------

  it('HEAD on every GET path answers like GET (status, headers, Content-Length) without a body', async () => {
    const user = await v1().users.create({ identity: `head-${randomHex(8)}` });
    const role = (await v1().roles.list())[0];
    const cred = await v1().credentials.create({ type: 'fcm', secret: 'k' });
    const addr = await v1().addressConfigurations.create({ type: 'sms', address: '+15550001234' });
    const conv = await v1().conversations.create({ messagingServiceSid: 'MG' + 'e'.repeat(32) });
    // what lives under the conversation: an SMS participant, a message to it with its receipt, a webhook
    const member = await v1().conversations(conv.sid).participants.create({ 'messagingBinding.address': '+14155559001', 'messagingBinding.proxyAddress': '+14155559002' });
    const message = await v1().conversations(conv.sid).messages.create({ body: 'head' });
    const [receipt] = await v1().conversations(conv.sid).messages(message.sid).deliveryReceipts.list();
    const hook = await v1()
      .conversations(conv.sid)
      .webhooks.create({ target: 'webhook', 'configuration.url': 'https://example.com/head', 'configuration.filters': ['onMessageAdded'] });
    const bySid = {
      US: user.sid, RL: role.sid, IS, CR: cred.sid, BS: 'BS' + '0'.repeat(32), IG: addr.sid, CH: conv.sid, MB: member.sid,
      IM: message.sid, DY: receipt.sid, WH: hook.sid,
    };
    const nested = { ConversationSid: conv.sid, MessageSid: message.sid };
    const paths = ['/healthz', '/metrics', '/v1/Nope', `/v1/Users/${user.sid}?PageSize=0`, ...ADMIN_GETS];
    // every GET the server implements (the operation table and the probe), both path families
    const gets = (await implementedOps(h())).filter((e) => e.op.method === 'GET');
    assert.ok(gets.length >= 15, `implemented GET operations: ${gets.length}`);
    for (const e of gets) {
      paths.push(
        fill(e.op.path, (name) => {
          const sid = name === 'ChatServiceSid' ? IS : name === 'UserSid' ? user.sid : name === 'Sid' ? bySid[e.op.prefix] : nested[name];
          assert.ok(sid, `${e.op.id}: no value for {${name}}`);
          return sid;
        }),
      );
    }
    for (const p of paths) {
      const get = await h().raw('GET', p);
      const head = await h().raw('HEAD', p);
      assert.equal(head.status, get.status, `HEAD ${p}: ${get.body}`);
      assert.notEqual(head.status, 405, `HEAD ${p}`);
      assert.equal(head.body, '', `HEAD ${p}: no body`);
      assert.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${p}`);
      assert.equal(head.headers['content-length'], String(get.buffer.length), `HEAD ${p}: Content-Length of the GET body`);
      assert.match(head.headers['twilio-request-id'] ?? '', /^RQ[0-9a-f]{32}$/);
      assert.equal(head.headers['x-home-region'], 'us1');
    }
    // HEAD needs credentials as GET does
    const anon = await h().raw('HEAD', '/v1/Users', { auth: false });
    assert.equal(anon.status, 401);
    assert.equal(anon.body, '');
  });
});
