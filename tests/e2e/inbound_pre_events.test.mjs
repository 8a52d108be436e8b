// Pre-events of inbound traffic (issue 14; docs/DECISIONS.md "Inbound pre-events"; BEHAVIOUR-conversations §0.6,
// §10.1, §10.4; BEHAVIOUR §10.1): an inbound SMS/WhatsApp message asks the account's and the service's pre-event
// targets, as an action of an SMS participant does on Twilio: onConversationAdd first when it auto-creates a
// conversation (friendly_name modifiable), then onMessageAdd (body, author, attributes modifiable), with Source SMS or
// WHATSAPP and no ClientIdentity, without X-Twilio-Webhook-Enabled. A veto answers 400 / 50056 and stores nothing (no
// conversation, participant, message or post-event); a modified value that breaks a rule answers that rule's error;
// silence follows --pre-webhook-timeout / --pre-webhook-failure. Read back through twilio-node.

import assert from 'node:assert/strict';
import twilio from 'twilio';
import { after, before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, randomHex, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'e'.repeat(32);
const VETO = { status: 400, code: 50056, message: 'Webhook disabled processing of command' };

/** What every suite below shares: the receiver, numbers, the inbound call and a snapshot of the stored state. */
function fixture(ctx) {
  const f = { rx: null, IS: null, phone: 5557000 + Math.floor(Math.random() * 1000) * 1000 };
  f.v1 = () => ctx.h.client.conversations.v1;
  f.number = () => `+1628${++f.phone}`;
  f.inbound = (body) => ctx.h.raw('POST', '/parley/inbound', { body });
  f.signed = (req) => {
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, req.params), `signature of ${req.url}`);
  };
  /** Every conversation of the service with its messages and participants, serialised. */
  f.snapshot = async (service = f.IS) => {
    const convs = await f.v1().services(service).conversations.list();
    const out = [];
    for (const c of convs) {
      const msgs = await f.v1().services(service).conversations(c.sid).messages.list();
      const parts = await f.v1().services(service).conversations(c.sid).participants.list();
      out.push([c.sid, c.state, c.friendlyName, msgs.map((m) => [m.sid, m.body, m.author]), parts.map((p) => p.sid)]);
    }
    return JSON.stringify(out);
  };
  /** A conversation with a chat participant and an SMS (or WhatsApp) participant. */
  f.smsConversation = async (prefix = '') => {
    const cv = await f.v1().conversations.create({ messagingServiceSid: MG });
    const identity = `agent-${randomHex(6)}`;
    const chat = await f.v1().conversations(cv.sid).participants.create({ identity });
    const address = `${prefix}${f.number()}`, proxy = `${prefix}${f.number()}`;
    const sms = await f.v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
    return { cv, chat, identity, sms, address, proxy };
  };
  /** An Address Configuration that auto-creates into a new service; its SID and the proxy address. */
  f.autoCreating = async () => {
    const svc = await f.v1().services.create({ friendlyName: `pre-${randomHex(4)}` });
    const proxy = f.number();
    await f.v1().addressConfigurations.create({
      type: 'sms', address: proxy, 'autoCreation.enabled': true, 'autoCreation.type': 'default',
      'autoCreation.conversationServiceSid': svc.sid,
    });
    return { service: svc.sid, proxy };
  };
  before(async () => {
    ({ serviceSid: f.IS } = await defaults(ctx.h));
    f.rx = await new Receiver().listen();
  });
  after(async () => {
    await f.rx?.close();
  });
  return f;
}

e2eSuite('inbound pre-events', { args: ['--pre-webhook-timeout', '700'] }, (ctx, it) => {
  const f = fixture(ctx);
  const account = () => f.v1().configuration.webhooks();
  const clearAccount = () => account().update({ filters: [], preWebhookUrl: '', postWebhookUrl: '' });

  it('a veto of onMessageAdd stores nothing: 400 / 50056, no message, no post-event; the hook saw the SMS message', async () => {
    const { cv, sms, address, proxy } = await f.smsConversation();
    await account().update({ method: 'POST', preWebhookUrl: f.rx.url('/veto-pre'), postWebhookUrl: f.rx.url('/veto-post'),
      filters: ['onMessageAdd', 'onMessageAdded'], target: 'webhook' });
    try {
      f.rx.rules['/veto-pre'] = { status: 403 };
      const before = await f.snapshot();
      const res = await f.inbound({ From: address, To: proxy, Body: 'buy cheap pills' });
      assertErrorBody(res, VETO);
      assert.equal(await f.snapshot(), before, 'a veto changed nothing');
      const [pre] = f.rx.at('/veto-pre');
      f.signed(pre);
      assert.deepEqual(Object.keys(pre.params).sort(), ['AccountSid', 'Attributes', 'Author', 'Body', 'ChatServiceSid',
        'ConversationSid', 'EventType', 'ParticipantSid', 'RetryCount', 'Source'].sort());
      assert.equal(pre.params.EventType, 'onMessageAdd');
      assert.equal(pre.params.Source, 'SMS');
      assert.equal(pre.params.AccountSid, ctx.h.accountSid);
      assert.equal(pre.params.ChatServiceSid, f.IS);
      assert.equal(pre.params.ConversationSid, cv.sid);
      assert.equal(pre.params.Author, address);
      assert.equal(pre.params.ParticipantSid, sms.sid);
      assert.equal(pre.params.Body, 'buy cheap pills');
      assert.equal(pre.params.Attributes, '{}');
      // a 500 vetoes too; the same message then goes through once the hook allows it, taking index 0 (a veto
      // took no index)
      f.rx.rules['/veto-pre'] = { status: 500 };
      assertErrorBody(await f.inbound({ From: address, To: proxy, Body: 'again' }), VETO);
      f.rx.rules['/veto-pre'] = { status: 200 };
      const ok = await f.inbound({ From: address, To: proxy, Body: 'hello' });
      assert.equal(ok.status, 201, ok.body);
      assert.equal(ok.json.index, 0);
      const posts = await f.rx.waitFor('/veto-post', 1);
      await sleep(300);
      assert.equal(f.rx.at('/veto-post').length, 1, 'only the allowed message fired onMessageAdded');
      assert.equal(posts[0].params.Body, 'hello');
      assert.equal(posts[0].params.MessageSid, ok.json.message_sid);
    } finally {
      f.rx.rules['/veto-pre'] = {};
      await clearAccount();
    }
  });

  it('WhatsApp: onMessageAdd carries Source WHATSAPP, at the service level; a veto stores nothing', async () => {
    const { cv, address, proxy } = await f.smsConversation('whatsapp:');
    await f.v1().services(f.IS).configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/wa-pre'), filters: ['onMessageAdd'] });
    try {
      f.rx.rules['/wa-pre'] = { status: 401 };
      const before = await f.snapshot();
      assertErrorBody(await f.inbound({ From: address, To: proxy, Body: 'olá' }), VETO);
      assert.equal(await f.snapshot(), before);
      const [pre] = f.rx.at('/wa-pre');
      assert.equal(pre.params.Source, 'WHATSAPP');
      assert.equal(pre.params.Author, address);
      assert.equal(pre.params.ConversationSid, cv.sid);
      assert.equal(pre.params.ClientIdentity, undefined);
    } finally {
      f.rx.rules['/wa-pre'] = {};
      await f.v1().services(f.IS).configuration.webhooks().update({ filters: [''], preWebhookUrl: '' });
    }
  });

  it('a 200 with JSON modifies body, author and attributes; the modified author re-resolves the participant', async () => {
    const { cv, chat, identity, address, proxy } = await f.smsConversation();
    await account().update({ method: 'POST', preWebhookUrl: f.rx.url('/mod-pre'), postWebhookUrl: f.rx.url('/mod-post'),
      filters: ['onMessageAdd', 'onMessageAdded'], target: 'webhook' });
    try {
      f.rx.rules['/mod-pre'] = { status: 200, body: JSON.stringify({ body: 'From: +1 (redacted), hi', author: identity, attributes: '{"filtered":true}' }) };
      const res = await f.inbound({ From: address, To: proxy, Body: 'hi, my card is 4111 1111 1111 1111' });
      assert.equal(res.status, 201, res.body);
      assert.equal(res.json.body, 'From: +1 (redacted), hi');
      assert.equal(res.json.author, identity);
      assert.equal(res.json.participant_sid, chat.sid);
      const m = await f.v1().conversations(cv.sid).messages(res.json.message_sid).fetch();
      assert.equal(m.body, 'From: +1 (redacted), hi');
      assert.equal(m.author, identity);
      assert.equal(m.participantSid, chat.sid);
      assert.equal(m.attributes, '{"filtered":true}');
      const [post] = await f.rx.waitFor('/mod-post', 1);
      assert.equal(post.params.Body, 'From: +1 (redacted), hi');
      assert.equal(post.params.Attributes, '{"filtered":true}');
      assert.equal(post.params.Source, 'SMS');
      // a partial answer changes only what it names; unknown keys are ignored
      f.rx.rules['/mod-pre'] = { status: 200, body: JSON.stringify({ body: 'only the body', friendly_name: 'ignored' }) };
      const second = await f.inbound({ From: address, To: proxy, Body: 'original' });
      assert.equal(second.status, 201, second.body);
      const m2 = await f.v1().conversations(cv.sid).messages(second.json.message_sid).fetch();
      assert.equal(m2.body, 'only the body');
      assert.equal(m2.author, address);
      assert.equal(m2.attributes, '{}');
    } finally {
      f.rx.rules['/mod-pre'] = {};
      await clearAccount();
    }
  });

  it('a modified value that fails validation is refused with its error and stores nothing', async () => {
    const { address, proxy } = await f.smsConversation();
    await account().update({ method: 'POST', preWebhookUrl: f.rx.url('/bad-pre'), postWebhookUrl: f.rx.url('/bad-post'),
      filters: ['onMessageAdd', 'onMessageAdded'], target: 'webhook' });
    try {
      const before = await f.snapshot();
      const cases = [
        [{ body: 'x'.repeat(32 * 1024 + 1) }, 50504],
        [{ author: 'a'.repeat(257) }, 50310],
        [{ attributes: '{broken' }, 50304],
      ];
      for (const [answer, code] of cases) {
        f.rx.rules['/bad-pre'] = { status: 200, body: JSON.stringify(answer) };
        const res = await f.inbound({ From: address, To: proxy, Body: 'fine as sent' });
        assert.equal(res.status, 400, `${JSON.stringify(answer).slice(0, 40)}: ${res.body}`);
        assert.equal(res.json.code, code, res.body);
      }
      assert.equal(await f.snapshot(), before, 'a refused modification changed nothing');
      await sleep(300);
      assert.equal(f.rx.at('/bad-post').length, 0, 'no post-event');
    } finally {
      f.rx.rules['/bad-pre'] = {};
      await clearAccount();
    }
  });

  it('auto-creation: a veto of onConversationAdd creates nothing; its parameters name the binding and the first message', async () => {
    const { service, proxy } = await f.autoCreating();
    const address = f.number();
    await f.v1().services(service).configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/auto-pre'),
      postWebhookUrl: f.rx.url('/auto-post'),
      filters: ['onConversationAdd', 'onMessageAdd', 'onConversationAdded', 'onParticipantAdded', 'onMessageAdded'] });
    f.rx.rules['/auto-pre'] = { status: 403 };
    const res = await f.inbound({ From: address, To: proxy, Body: 'a table for two' });
    assertErrorBody(res, VETO);
    assert.equal((await f.v1().services(service).conversations.list()).length, 0, 'no conversation was created');
    const pres = f.rx.at('/auto-pre');
    assert.equal(pres.length, 1, 'the veto of onConversationAdd stopped it: onMessageAdd was not asked');
    const [pre] = pres;
    f.signed(pre);
    const cfg = await f.v1().configuration().fetch();
    const keys = ['AccountSid', 'Attributes', 'ChatServiceSid', 'EventType', 'MessageBody', 'MessagingBinding.Address',
      'MessagingBinding.ProxyAddress', 'RetryCount', 'Source', 'State'];
    if (cfg.defaultMessagingServiceSid) keys.push('MessagingServiceSid');
    assert.deepEqual(Object.keys(pre.params).sort(), keys.sort(), 'no ConversationSid: it does not exist yet');
    assert.equal(pre.params.EventType, 'onConversationAdd');
    assert.equal(pre.params.Source, 'SMS');
    assert.equal(pre.params.ChatServiceSid, service);
    assert.equal(pre.params['MessagingBinding.Address'], address);
    assert.equal(pre.params['MessagingBinding.ProxyAddress'], proxy);
    assert.equal(pre.params.MessageBody, 'a table for two');
    assert.equal(pre.params.State, 'active');
    assert.equal(pre.params.Attributes, '{}');
    await sleep(300);
    assert.equal(f.rx.at('/auto-post').length, 0, 'no post-event');

    // allowed with a friendly_name: the conversation gets it, and onMessageAdd follows naming the conversation and
    // participant the write then creates
    f.rx.requests.length = 0;
    f.rx.rules['/auto-pre'] = { status: 200, body: JSON.stringify({ friendly_name: 'Table for two' }) };
    const ok = await f.inbound({ From: address, To: proxy, Body: 'a table for two' });
    assert.equal(ok.status, 201, ok.body);
    assert.equal(ok.json.conversation_created, true);
    const cv = await f.v1().services(service).conversations(ok.json.conversation_sid).fetch();
    assert.equal(cv.friendlyName, 'Table for two');
    const calls = f.rx.at('/auto-pre');
    assert.deepEqual(calls.map((c) => c.params.EventType), ['onConversationAdd', 'onMessageAdd']);
    assert.equal(calls[1].params.ConversationSid, cv.sid);
    assert.equal(calls[1].params.ParticipantSid, ok.json.participant_sid);
    assert.equal(calls[1].params.Author, address);
    assert.equal(calls[1].params.Source, 'SMS');
    const posts = await f.rx.waitFor('/auto-post', 3);
    assert.deepEqual(posts.map((p) => p.params.EventType), ['onConversationAdded', 'onParticipantAdded', 'onMessageAdded']);
    assert.equal(posts[0].params.FriendlyName, 'Table for two');
    assert.equal(posts[0].params.ConversationSid, cv.sid);
    f.rx.rules['/auto-pre'] = {};
  });

  it('auto-creation: a veto of onMessageAdd, or a friendly_name over 256 characters, creates nothing either', async () => {
    const { service, proxy } = await f.autoCreating();
    const address = f.number();
    await f.v1().services(service).configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/auto2-pre'),
      postWebhookUrl: f.rx.url('/auto2-post'), filters: ['onConversationAdd', 'onMessageAdd', 'onConversationAdded', 'onMessageAdded'] });
    // the conversation is allowed, the message is not
    let n = 0;
    const answers = [{ status: 200 }, { status: 403 }];
    Object.defineProperty(f.rx.rules, '/auto2-pre', { configurable: true, enumerable: true, get: () => answers[n++ % 2] });
    try {
      assertErrorBody(await f.inbound({ From: address, To: proxy, Body: 'first' }), VETO);
      assert.deepEqual(f.rx.at('/auto2-pre').map((c) => c.params.EventType), ['onConversationAdd', 'onMessageAdd']);
      assert.equal((await f.v1().services(service).conversations.list()).length, 0, 'no conversation without its message');
    } finally {
      delete f.rx.rules['/auto2-pre'];
    }
    f.rx.rules['/auto2-pre'] = { status: 200, body: JSON.stringify({ friendly_name: 'n'.repeat(257) }) };
    const long = await f.inbound({ From: address, To: proxy, Body: 'second' });
    assert.equal(long.status, 400, long.body);
    assert.equal(long.json.code, 50003);
    assert.equal((await f.v1().services(service).conversations.list()).length, 0);
    await sleep(300);
    assert.equal(f.rx.at('/auto2-post').length, 0, 'no post-event');
    f.rx.rules['/auto2-pre'] = {};
  });

  it('media: onConversationAdd and onMessageAdd carry the Media parameter of an inbound MMS', async () => {
    const { service, proxy } = await f.autoCreating();
    await f.v1().services(service).configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/media-pre'), filters: ['onConversationAdd', 'onMessageAdd'] });
    const media = 'ME' + randomHex(32);
    const res = await f.inbound({ From: f.number(), To: proxy, MediaSid: media });
    assert.equal(res.status, 201, res.body);
    const calls = f.rx.at('/media-pre');
    assert.deepEqual(calls.map((c) => c.params.EventType), ['onConversationAdd', 'onMessageAdd']);
    for (const c of calls) {
      const [m] = JSON.parse(c.params.Media);
      assert.equal(m.Sid, media);
      assert.equal(m.ContentType, 'application/octet-stream', 'an unregistered media, synthesized as the message renders it');
    }
    assert.equal(calls[0].params.MessageBody, undefined, 'no body: no MessageBody');
    assert.equal(calls[1].params.Body, undefined);
  });

  it('targets select by their filters: a pre URL without onMessageAdd is not asked for a message; no pre URL changes nothing', async () => {
    const { address, proxy } = await f.smsConversation();
    await account().update({ method: 'POST', preWebhookUrl: f.rx.url('/sel-pre'), filters: ['onConversationAdd'], target: 'webhook' });
    try {
      const res = await f.inbound({ From: address, To: proxy, Body: 'into the existing one' });
      assert.equal(res.status, 201, res.body);
      assert.equal(f.rx.at('/sel-pre').length, 0, 'onConversationAdd is only for an auto-creation');
      // an auto-creation asks onConversationAdd only, through the account-level target
      const { service, proxy: autoProxy } = await f.autoCreating();
      const made = await f.inbound({ From: f.number(), To: autoProxy, Body: 'new one' });
      assert.equal(made.status, 201, made.body);
      assert.deepEqual(f.rx.at('/sel-pre').map((c) => [c.params.EventType, c.params.ChatServiceSid]), [['onConversationAdd', service]]);
    } finally {
      await clearAccount();
    }
    // no pre-event URL at all: the message is stored as sent, nothing is asked
    f.rx.requests.length = 0;
    const plain = await f.inbound({ From: address, To: proxy, Body: 'no hooks' });
    assert.equal(plain.status, 201, plain.body);
    assert.equal(plain.json.body, 'no hooks');
    assert.equal(plain.json.author, address);
    assert.equal(f.rx.requests.length, 0);
  });

  it('a silent hook: after --pre-webhook-timeout the message is stored unmodified (policy proceed)', async () => {
    const { cv, address, proxy } = await f.smsConversation();
    await account().update({ method: 'POST', preWebhookUrl: f.rx.url('/slow-pre'), filters: ['onMessageAdd'], target: 'webhook' });
    try {
      f.rx.rules['/slow-pre'] = { hang: true };
      const t0 = Date.now();
      const res = await f.inbound({ From: address, To: proxy, Body: 'waited for' });
      assert.equal(res.status, 201, res.body);
      assert.ok(Date.now() - t0 >= 600, `the hook was waited for (${Date.now() - t0} ms)`);
      assert.equal(f.rx.at('/slow-pre').length, 1);
      const m = await f.v1().conversations(cv.sid).messages(res.json.message_sid).fetch();
      assert.equal(m.body, 'waited for');
    } finally {
      f.rx.rules['/slow-pre'] = {};
      await clearAccount();
    }
  });
});

e2eSuite('inbound pre-events: reject on pre-event failure', { args: ['--pre-webhook-timeout', '300', '--pre-webhook-failure', 'reject'] }, (ctx, it) => {
  const f = fixture(ctx);

  it('a silent or unreachable hook refuses the message (400 / 50056) and nothing changes', async () => {
    const { address, proxy } = await f.smsConversation();
    await f.v1().configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/hang-pre'), filters: ['onMessageAdd', 'onConversationAdd'], target: 'webhook' });
    f.rx.rules['/hang-pre'] = { hang: true };
    const before = await f.snapshot();
    const res = await f.inbound({ From: address, To: proxy, Body: 'nobody answers' });
    assertErrorBody(res, { ...VETO, message: 'Webhook disabled processing of command: the pre-event webhook did not answer' });
    assert.equal(await f.snapshot(), before);
    // an auto-creation too
    const { service, proxy: autoProxy } = await f.autoCreating();
    assertErrorBody(await f.inbound({ From: f.number(), To: autoProxy, Body: 'hello?' }), { status: 400, code: 50056 });
    assert.equal((await f.v1().services(service).conversations.list()).length, 0);
    // a hook that answers 200 lets it through
    f.rx.rules['/hang-pre'] = { status: 200 };
    const ok = await f.inbound({ From: address, To: proxy, Body: 'now answered' });
    assert.equal(ok.status, 201, ok.body);
  });
});

e2eSuite('inbound pre-events: --rest-pre-webhooks off', { args: ['--pre-webhook-timeout', '700', '--rest-pre-webhooks', 'off'] }, (ctx, it) => {
  const f = fixture(ctx);

  it('the switch is for REST calls: a REST create is not asked, an inbound message still is', async () => {
    const { cv, address, proxy } = await f.smsConversation();
    await f.v1().configuration.webhooks().update({ method: 'POST', preWebhookUrl: f.rx.url('/off-pre'), filters: ['onMessageAdd'], target: 'webhook' });
    f.rx.rules['/off-pre'] = { status: 403 };
    const rest = await f.v1().conversations(cv.sid).messages.create({ xTwilioWebhookEnabled: 'true', body: 'through REST' });
    assert.equal(rest.body, 'through REST');
    assert.equal(f.rx.at('/off-pre').length, 0, 'no pre-event for the REST call');
    assertErrorBody(await f.inbound({ From: address, To: proxy, Body: 'through SMS' }), VETO);
    assert.equal(f.rx.at('/off-pre').length, 1);
    assert.equal(f.rx.at('/off-pre')[0].params.Source, 'SMS');
  });
});
