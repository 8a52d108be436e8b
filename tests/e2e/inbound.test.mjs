// Inbound traffic through POST /parley/inbound (issue 14 item 7; BEHAVIOUR-conversations §2.1, §9.1, §10):
// a message from an address to a proxy address lands in the open conversation that binds the pair (author the
// address, its participant, the next index, unread counts moving, an inactive conversation revived), or in a new
// conversation an Address Configuration with auto-creation makes (its service, the sender as participant), with
// onConversationAdded, onParticipantAdded and onMessageAdded signed, in order, Source SMS/WHATSAPP and no
// X-Twilio-Webhook-Enabled; no route is 404 / 90001; bad input is refused and changes nothing; another account's
// conversation is never chosen. The REST side is read through twilio-node, the CLI counterpart is
// `parley inbound`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import twilio from 'twilio';
import { after, before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, randomHex, sleep, SID_RE } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'd'.repeat(32);
const MS_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

e2eSuite('inbound traffic', {}, (ctx, it) => {
  let IS;
  let rx;
  let phone = 5553000;
  const number = () => `+1415${++phone}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const inbound = (body, opts = {}) => ctx.h.raw('POST', '/parley/inbound', { body, ...opts });

  function signed(req) {
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, req.params), `signature of ${req.url} ${req.raw}`);
  }

  /** Every conversation of the account's default service with its messages and participants, serialised. */
  async function snapshot() {
    const convs = await v1().conversations.list();
    const out = [];
    for (const c of convs) {
      const msgs = await v1().conversations(c.sid).messages.list();
      const parts = await v1().conversations(c.sid).participants.list();
      out.push([c.sid, c.state, msgs.map((m) => m.sid), parts.map((p) => p.sid)]);
    }
    return JSON.stringify(out);
  }

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  /** A conversation with a chat participant and an SMS participant (address, proxy). */
  async function smsConversation() {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const identity = `agent-${randomHex(6)}`;
    const chat = await v1().conversations(cv.sid).participants.create({ identity });
    const address = number(), proxy = number();
    const sms = await v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
    return { cv, chat, identity, sms, address, proxy };
  }

  it('into the open conversation that binds the pair: author, participant, index, source, unread counts', async () => {
    const { cv, chat, identity, sms, address, proxy } = await smsConversation();
    await v1().conversations(cv.sid).messages.create({ author: identity, body: 'hello from the agent' });
    await v1().conversations(cv.sid).participants(chat.sid).update({ lastReadMessageIndex: 0 });
    // the messages above the agent's read horizon (what the UserConversations view's unread_messages_count
    // counts, store/participants.c)
    const unread = async () => {
      const horizon = (await v1().conversations(cv.sid).participants(chat.sid).fetch()).lastReadMessageIndex;
      return (await v1().conversations(cv.sid).messages.list()).filter((x) => x.index > horizon).length;
    };
    assert.equal(await unread(), 0);

    const res = await inbound({ From: address, To: proxy, Body: 'hi, it is me' });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.conversation_sid, cv.sid);
    assert.equal(res.json.conversation_created, false);
    assert.equal(res.json.participant_sid, sms.sid);
    assert.equal(res.json.index, 1);
    assert.equal(res.json.source, 'SMS');
    assert.equal(res.json.channel, 'sms');
    assert.match(res.json.message_sid, SID_RE('IM'));

    const m = await v1().conversations(cv.sid).messages(res.json.message_sid).fetch();
    assert.equal(m.author, address);
    assert.equal(m.participantSid, sms.sid);
    assert.equal(m.body, 'hi, it is me');
    assert.equal(m.index, 1);
    assert.equal(m.delivery, null, 'the sender is the only non-chat participant: no receipt');
    assert.equal(await unread(), 1, 'the agent has one unread message');
    const second = await inbound({ From: address, To: proxy, Body: 'are you there?' });
    assert.equal(second.json.index, 2);
    assert.equal(await unread(), 2);
    const list = await v1().conversations(cv.sid).messages.list();
    assert.deepEqual(list.map((x) => x.index), [0, 1, 2]);
  });

  it('WhatsApp: the channel inferred from the prefix, or named with bare numbers; Source WHATSAPP', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const address = number(), proxy = number();
    const wa = await v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': `whatsapp:${address}`, 'messagingBinding.proxyAddress': `whatsapp:${proxy}` });
    const a = await inbound({ From: `whatsapp:${address}`, To: `whatsapp:${proxy}`, Body: 'olá' });
    assert.equal(a.status, 201, a.body);
    assert.equal(a.json.conversation_sid, cv.sid);
    assert.equal(a.json.participant_sid, wa.sid);
    assert.equal(a.json.source, 'WHATSAPP');
    assert.equal(a.json.author, `whatsapp:${address}`);
    const b = await inbound({ From: address, To: proxy, Body: 'again', Channel: 'WhatsApp' });
    assert.equal(b.status, 201, b.body);
    assert.equal(b.json.conversation_sid, cv.sid);
    assert.equal(b.json.channel, 'whatsapp');
  });

  it('an inactive conversation is revived by the message: onConversationStateUpdated, Reason EVENT, Source SMS', async () => {
    await v1().configuration.webhooks().update({ method: 'POST', postWebhookUrl: rx.url('/revive'), filters: ['onConversationStateUpdated'], target: 'webhook' });
    try {
      const { cv, address, proxy } = await smsConversation();
      await v1().conversations(cv.sid).update({ state: 'inactive' });
      assert.equal((await v1().conversations(cv.sid).fetch()).state, 'inactive');
      const res = await inbound({ From: address, To: proxy, Body: 'wake up' });
      assert.equal(res.status, 201, res.body);
      assert.equal(res.json.conversation_sid, cv.sid);
      assert.equal((await v1().conversations(cv.sid).fetch()).state, 'active');
      const [ev] = await rx.waitFor('/revive', 1);
      await sleep(300);
      assert.equal(rx.at('/revive').length, 1, 'the REST state change without the header fired nothing');
      signed(ev);
      assert.equal(ev.params.ConversationSid, cv.sid);
      assert.equal(ev.params.StateFrom, 'inactive');
      assert.equal(ev.params.StateTo, 'active');
      assert.equal(ev.params.Reason, 'EVENT');
      assert.equal(ev.params.Source, 'SMS');
    } finally {
      await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '' });
    }
  });

  it('a closed conversation frees the pair: no route without a configuration, 404 / 90001, nothing changes', async () => {
    const { cv, address, proxy } = await smsConversation();
    await v1().conversations(cv.sid).update({ state: 'closed' });
    const before = await snapshot();
    const res = await inbound({ From: address, To: proxy, Body: 'anyone?' });
    assertErrorBody(res, { status: 404, code: 90001,
      message: `No open conversation binds ${address} to ${proxy}, and no sms Address Configuration of ${proxy} auto-creates one` });
    assert.equal(await snapshot(), before);
  });

  it('no route: a configuration without auto-creation, or of another channel, is no route either', async () => {
    const proxy = number();
    await v1().addressConfigurations.create({ type: 'sms', address: proxy, 'autoCreation.enabled': false });
    const before = await snapshot();
    assertErrorBody(await inbound({ From: number(), To: proxy, Body: 'x' }), { status: 404, code: 90001 });
    const wproxy = number();
    await v1().addressConfigurations.create({ type: 'sms', address: `whatsapp:${wproxy}`, 'autoCreation.enabled': true }).catch(() => {});
    await v1().addressConfigurations.create({ type: 'whatsapp', address: `whatsapp:${wproxy}`, 'autoCreation.enabled': false }).catch(() => {});
    assertErrorBody(await inbound({ From: `whatsapp:${number()}`, To: `whatsapp:${wproxy}`, Body: 'x' }), { status: 404, code: 90001 });
    assert.equal(await snapshot(), before);
  });

  it('auto-creation by an Address Configuration: conversation, participant, message and the three events, signed and in order', async () => {
    const other = await v1().services.create({ friendlyName: `inbound-${randomHex(4)}` });
    await v1().services(other.sid).configuration.webhooks().update({
      method: 'POST', postWebhookUrl: rx.url('/auto'),
      filters: ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded', 'onConversationStateUpdated'],
    });
    const proxy = number(), address = number();
    await v1().addressConfigurations.create({
      type: 'sms', address: proxy, 'autoCreation.enabled': true, 'autoCreation.type': 'default',
      'autoCreation.conversationServiceSid': other.sid,
    });
    rx.requests.length = 0;
    const res = await inbound({ From: address, To: proxy, Body: 'I would like a table for two' });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.conversation_created, true);
    assert.equal(res.json.chat_service_sid, other.sid);
    assert.equal(res.json.index, 0);
    const convs = v1().services(other.sid).conversations;
    const cv = await convs(res.json.conversation_sid).fetch();
    assert.equal(cv.state, 'active');
    assert.equal(cv.chatServiceSid, other.sid);
    const parts = await convs(cv.sid).participants.list();
    assert.equal(parts.length, 1);
    assert.deepEqual(parts[0].messagingBinding, { type: 'sms', address, proxy_address: proxy });
    assert.equal(parts[0].identity, null);
    assert.equal(parts[0].sid, res.json.participant_sid);
    const msgs = await convs(cv.sid).messages.list();
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].author, address);
    assert.equal(msgs[0].participantSid, parts[0].sid);
    assert.equal(msgs[0].body, 'I would like a table for two');
    // the pair is now bound: the next message goes to the same conversation, a REST participant of the pair is 50416
    const next = await inbound({ From: address, To: proxy, Body: 'at eight' });
    assert.equal(next.json.conversation_sid, cv.sid);
    assert.equal(next.json.conversation_created, false);
    assert.equal(next.json.index, 1);

    const got = await rx.waitFor('/auto', 4);
    await sleep(300);
    assert.equal(rx.at('/auto').length, 4, 'no other event (no state change, nothing else)');
    got.forEach(signed);
    assert.deepEqual(got.map((r) => r.params.EventType), ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded', 'onMessageAdded']);
    const [added, joined, first] = got.map((r) => r.params);
    for (const p of [added, joined, first]) {
      assert.equal(p.Source, 'SMS');
      assert.equal(p.AccountSid, ctx.h.accountSid);
      assert.equal(p.ChatServiceSid, other.sid);
      assert.equal(p.ConversationSid, cv.sid);
      assert.equal(p.RetryCount, '0');
      assert.equal(p.ClientIdentity, undefined);
    }
    assert.deepEqual(Object.keys(added).sort(), ['AccountSid', 'Attributes', 'ChatServiceSid', 'ConversationSid', 'DateCreated', 'DateUpdated',
      'EventType', 'MessagingBinding.Address', 'MessagingBinding.ProxyAddress', 'RetryCount', 'Source', 'State'].sort());
    assert.equal(added['MessagingBinding.Address'], address);
    assert.equal(added['MessagingBinding.ProxyAddress'], proxy);
    assert.equal(added.State, 'active');
    assert.match(added.DateCreated, MS_DATE);
    assert.deepEqual(Object.keys(joined).sort(), ['AccountSid', 'Attributes', 'ChatServiceSid', 'ConversationSid', 'DateCreated', 'EventType',
      'MessagingBinding.Address', 'MessagingBinding.ProxyAddress', 'MessagingBinding.Type', 'ParticipantSid', 'RetryCount', 'RoleSid', 'Source'].sort());
    assert.equal(joined.ParticipantSid, parts[0].sid);
    assert.equal(joined['MessagingBinding.Type'], 'SMS');
    assert.equal(joined.RoleSid, parts[0].roleSid);
    assert.equal(first.MessageSid, msgs[0].sid);
    assert.equal(first.Author, address);
    assert.equal(first.ParticipantSid, parts[0].sid);
    assert.equal(first.Index, '0');
    assert.equal(first.Body, 'I would like a table for two');
  });

  it('auto-creation of type webhook gives the conversation its scoped webhook, which receives the message', async () => {
    const proxy = number(), address = number();
    await v1().addressConfigurations.create({
      type: 'sms', address: proxy, 'autoCreation.enabled': true, 'autoCreation.type': 'webhook',
      'autoCreation.webhookUrl': rx.url('/auto-scoped'), 'autoCreation.webhookMethod': 'POST',
      'autoCreation.webhookFilters': ['onMessageAdded'],
    });
    const res = await inbound({ From: address, To: proxy, Body: 'a scoped hello' });
    assert.equal(res.status, 201, res.body);
    const hooks = await v1().conversations(res.json.conversation_sid).webhooks.list();
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].target, 'webhook');
    assert.equal(hooks[0].configuration.url, rx.url('/auto-scoped'));
    assert.deepEqual(hooks[0].configuration.filters, ['onMessageAdded']);
    const [got] = await rx.waitFor('/auto-scoped', 1);
    signed(got);
    assert.equal(got.params.WebhookSid, hooks[0].sid);
    assert.equal(got.params.EventType, 'onMessageAdded');
    assert.equal(got.params.Body, 'a scoped hello');
    assert.equal(got.params.Source, 'SMS');
  });

  it('auto-creation of type studio gives the conversation a scoped webhook of target studio with the flow', async () => {
    const proxy = number(), address = number();
    const flow = 'FW' + randomHex(32);
    await v1().addressConfigurations.create({
      type: 'sms', address: proxy, 'autoCreation.enabled': true, 'autoCreation.type': 'studio',
      'autoCreation.studioFlowSid': flow,
    });
    const res = await inbound({ From: address, To: proxy, Body: 'to the flow' });
    assert.equal(res.status, 201, res.body);
    const hooks = await v1().conversations(res.json.conversation_sid).webhooks.list();
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].target, 'studio');
    assert.equal(hooks[0].configuration.flow_sid, flow);
    // a configuration of type default attaches none
    const plainProxy = number();
    await v1().addressConfigurations.create({ type: 'sms', address: plainProxy, 'autoCreation.enabled': true, 'autoCreation.type': 'default' });
    const plain = await inbound({ From: address, To: plainProxy, Body: 'no target' });
    assert.equal(plain.status, 201, plain.body);
    assert.deepEqual(await v1().conversations(plain.json.conversation_sid).webhooks.list(), []);
  });

  it('auto-creation without a service in the configuration uses the default service', async () => {
    const proxy = `whatsapp:${number()}`, address = `whatsapp:${number()}`;
    await v1().addressConfigurations.create({ type: 'whatsapp', address: proxy, 'autoCreation.enabled': true });
    const res = await inbound({ From: address, To: proxy, Body: 'hello' });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.chat_service_sid, IS);
    assert.equal(res.json.source, 'WHATSAPP');
    const parts = await v1().conversations(res.json.conversation_sid).participants.list();
    assert.deepEqual(parts[0].messagingBinding, { type: 'whatsapp', address, proxy_address: proxy });
  });

  it('REST events without the header stay silent while inbound events always fire', async () => {
    await v1().configuration.webhooks().update({ method: 'POST', postWebhookUrl: rx.url('/account'), filters: ['onMessageAdded'], target: 'webhook' });
    try {
      const { cv, identity, address, proxy } = await smsConversation();
      rx.requests.length = 0;
      await v1().conversations(cv.sid).messages.create({ author: identity, body: 'REST, no header' });
      const res = await inbound({ From: address, To: proxy, Body: 'inbound' });
      assert.equal(res.status, 201);
      const got = await rx.waitFor('/account', 1);
      await sleep(300);
      assert.equal(rx.at('/account').length, 1);
      assert.equal(got[0].params.Body, 'inbound');
      assert.equal(got[0].params.Source, 'SMS');
      signed(got[0]);
    } finally {
      await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '' });
    }
  });

  it('bad input is refused with its code and changes nothing', async () => {
    const { address, proxy } = await smsConversation();
    const before = await snapshot();
    const cases = [
      [{ To: proxy, Body: 'x' }, 400, 20001, 'Missing required parameter From in the post body'],
      [{ From: address, Body: 'x' }, 400, 20001, 'Missing required parameter To in the post body'],
      [{ From: address, To: proxy, Body: 'x', Channel: 'pigeon' }, 400, 20001, undefined],
      [{ From: 'alice', To: proxy, Body: 'x' }, 400, 50407, undefined],
      [{ From: '+0123', To: proxy, Body: 'x' }, 400, 50407, undefined],
      [{ From: `whatsapp:${address}`, To: proxy, Body: 'x', Channel: 'sms' }, 400, 50407, undefined],
      [{ From: address, To: 'desk', Body: 'x' }, 400, 50408, 'Invalid participant proxy address'],
      [{ From: `whatsapp:${address}`, To: proxy, Body: 'x' }, 400, 50414, undefined],
      [{ From: address, To: address, Body: 'x' }, 400, 50409, undefined],
      [{ From: '', To: proxy, Body: 'x' }, 400, 20001, 'Missing required parameter From in the post body'],
      [{ From: address, To: proxy }, 400, 50503, 'Message body not provided'],
      [{ From: address, To: proxy, Body: '' }, 400, 50503, undefined],
      [{ From: address, To: proxy, Body: 'x'.repeat(32 * 1024 + 1) }, 400, 50504, 'Message body parameter is too long'],
      [{ From: address, To: proxy, MediaSid: 'ME123' }, 400, 50510, undefined],
    ];
    for (const [body, status, code, message] of cases) {
      assertErrorBody(await inbound(body), { status, code, message });
    }
    assert.equal((await inbound({ From: address, To: proxy, Body: 'x'.repeat(32 * 1024) })).status, 201, 'exactly the limit is accepted');
    const afterOk = await snapshot();
    assert.notEqual(afterOk, before);
    assert.equal((await inbound({ From: address, To: proxy, Body: 'x' }, { auth: false })).status, 401);
    assert.equal((await ctx.h.raw('GET', '/parley/inbound')).status, 405);
    assert.equal(await snapshot(), afterOk);
  });

  it('media: an inbound MMS with a MediaSid and no body', async () => {
    const { cv, address, proxy } = await smsConversation();
    const me = 'ME' + randomHex(32);
    const res = await inbound({ From: address, To: proxy, MediaSid: me });
    assert.equal(res.status, 201, res.body);
    const m = await v1().conversations(cv.sid).messages(res.json.message_sid).fetch();
    assert.equal(m.body, null);
    assert.equal(m.media[0].sid, me);
  });

  it('isolation: another account\'s conversation and configuration are never chosen', async () => {
    const { cv, address, proxy } = await smsConversation();
    const made = ctx.h.cli(['account', 'create']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const other = f.account_sid;
    const auth = [other, f.auth_token];
    const res = await inbound({ From: address, To: proxy, Body: 'wrong account' }, { auth });
    assertErrorBody(res, { status: 404, code: 90001 });
    assert.equal((await v1().conversations(cv.sid).messages.list()).length, 0, 'nothing reached the first account');
    // the second account's own configuration of the same proxy creates its own conversation
    const created = await ctx.h.raw('POST', '/v1/Configuration/Addresses', { auth, body: { Type: 'sms', Address: proxy, 'AutoCreation.Enabled': 'true' } });
    assert.equal(created.status, 201, created.body);
    const mine = await inbound({ From: address, To: proxy, Body: 'second account' }, { auth });
    assert.equal(mine.status, 201, mine.body);
    assert.equal(mine.json.account_sid, other);
    assert.notEqual(mine.json.conversation_sid, cv.sid);
    assert.equal((await v1().conversations(cv.sid).messages.list()).length, 0);
    // and the first account's pair is still its own
    assert.equal((await inbound({ From: address, To: proxy, Body: 'first account' })).json.conversation_sid, cv.sid);
  });

  it('parley inbound (the CLI) posts through the server with the account\'s credentials', async () => {
    const { cv, sms, address, proxy } = await smsConversation();
    const env = { ...process.env, PARLEY_URL: ctx.h.url, PARLEY_ACCOUNT_SID: ctx.h.accountSid, PARLEY_AUTH_TOKEN: ctx.h.authToken };
    const ok = spawnSync(ctx.h.bin, ['inbound', '--from', address, '--to', proxy, '--body', 'from the CLI'], { encoding: 'utf8', env });
    assert.equal(ok.status, 0, ok.stderr);
    const out = JSON.parse(ok.stdout);
    assert.equal(out.conversation_sid, cv.sid);
    assert.equal(out.participant_sid, sms.sid);
    const m = await v1().conversations(cv.sid).messages(out.message_sid).fetch();
    assert.equal(m.body, 'from the CLI');
    const bad = spawnSync(ctx.h.bin, ['inbound', '--from', address, '--to', number(), '--body', 'x'], { encoding: 'utf8', env });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).code, 90001);
    const usage = spawnSync(ctx.h.bin, ['inbound', '--from', address], { encoding: 'utf8', env });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: parley inbound/);
  });
});
