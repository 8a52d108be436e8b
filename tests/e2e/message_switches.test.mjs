// The message switches of BEHAVIOUR-conversations (issue 14) through twilio-node, each off (the defaults) and on,
// on both path families: --strict-sms-body (1600 characters, counted as code points, on a body that goes out over
// SMS or WhatsApp: create, update, a pre-event's modified body; inbound traffic keeps 32 KB; §0.3),
// --no-delivery-receipts (no receipts, a null delivery; receipts made before still move through /parley/receipts;
// §4.1), --omit-message-chat-service-sid (no ChatServiceSid on onMessageAdded/Updated/Removed, the ReplayAfter
// replay included; still on the pre-events and on every other event; §10.2) and --event-media-keys snake (the
// Media event parameter's keys; §10.4). Every webhook request's signature is checked.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before } from 'node:test';
import twilio from 'twilio';
import { defaults, e2eSuite, parleyBin, randomHex, rejectsRest, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'd'.repeat(32);
const SMS_MAX = 1600;
const BODY_MAX = 32 * 1024;
const TOO_LONG = { status: 400, code: 50504, message: 'Message body parameter is too long' };
const ON = ['--strict-sms-body', '--no-delivery-receipts', '--omit-message-chat-service-sid', '--event-media-keys', 'snake'];

/** The tests of every switch; sw says which are on in this suite's server. */
function switchTests(ctx, it, sw) {
  let IS;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(4)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  let phone = 5556000;
  const number = () => `+1415${++phone}`;
  const hooked = { xTwilioWebhookEnabled: 'true' };

  function signed(req) {
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, req.params), `signature of ${req.url} ${req.raw}`);
  }

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  const families = [
    { name: 'short family', conversations: () => v1().conversations, rel: () => '/v1' },
    { name: 'service family', conversations: () => v1().services(IS).conversations, rel: () => `/v1/Services/${IS}` },
  ];
  const msgs = (fam, ch) => fam.conversations()(ch).messages;
  const listed = async (fam, ch) => {
    const res = await ctx.h.raw('GET', `${fam.rel()}/Conversations/${ch}/Messages?PageSize=100`);
    assert.equal(res.status, 200, res.body);
    return JSON.stringify(res.json.messages);
  };
  const sms = (fam, ch) => fam.conversations()(ch).participants.create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
  /** A conversation with a chat participant and an SMS one (or a WhatsApp one). */
  async function smsConversation(fam, whatsapp = false) {
    const cv = await fam.conversations().create({ friendlyName: uid('sms'), messagingServiceSid: MG });
    const chat = await fam.conversations()(cv.sid).participants.create({ identity: uid('agent') });
    const other = whatsapp
      ? await fam.conversations()(cv.sid).participants.create({ 'messagingBinding.address': `whatsapp:${number()}`, 'messagingBinding.proxyAddress': `whatsapp:${number()}` })
      : await sms(fam, cv.sid);
    return { cv, chat, other };
  }

  /** Under the strict switch: a refusal that leaves the conversation's messages as they were. Else: the call's value. */
  async function refusedIfStrict(fam, ch, call) {
    if (!sw.strict) return call();
    const before = await listed(fam, ch);
    await rejectsRest(call, TOO_LONG);
    assert.equal(await listed(fam, ch), before, 'a refused body changed nothing');
    return null;
  }

  for (const fam of families) {
    it(`${fam.name}: a body over 1600 characters to an SMS or WhatsApp participant (strict: ${sw.strict})`, async () => {
      const long = 'x'.repeat(SMS_MAX + 1);
      // characters, not bytes: 1600 two-byte characters pass in either mode
      const wide = 'é'.repeat(SMS_MAX);
      const { cv, chat, other } = await smsConversation(fam);
      const w = await msgs(fam, cv.sid).create({ author: chat.identity, body: wide });
      assert.equal(w.body, wide);
      assert.equal(w.index, 0);
      const made = await refusedIfStrict(fam, cv.sid, () => msgs(fam, cv.sid).create({ author: chat.identity, body: long }));
      if (!sw.strict) assert.equal(made.body, long);
      const next = await msgs(fam, cv.sid).create({ body: 'after' });
      assert.equal(next.index, sw.strict ? 1 : 2, 'a refused create takes no index');
      // the author's own SMS participant is no recipient: with no other non-chat participant nothing goes out over SMS
      const lone = await fam.conversations().create({ friendlyName: uid('lone'), messagingServiceSid: MG });
      const self = await sms(fam, lone.sid);
      const own = await msgs(fam, lone.sid).create({ author: self.messagingBinding.address, body: long });
      assert.equal(own.participantSid, self.sid);
      assert.equal(own.body, long);
      // with a second one it does
      await sms(fam, lone.sid);
      await refusedIfStrict(fam, lone.sid, () => msgs(fam, lone.sid).create({ author: self.messagingBinding.address, body: long }));
      // WhatsApp is a non-chat channel too
      const wa = await smsConversation(fam, true);
      await refusedIfStrict(fam, wa.cv.sid, () => msgs(fam, wa.cv.sid).create({ body: long }));
      // a chat-only conversation keeps the 32 KB of every channel, in either mode
      const chatOnly = await fam.conversations().create({ friendlyName: uid('chat') });
      await fam.conversations()(chatOnly.sid).participants.create({ identity: uid('bob') });
      assert.equal((await msgs(fam, chatOnly.sid).create({ body: 'y'.repeat(BODY_MAX) })).body.length, BODY_MAX);
      await rejectsRest(msgs(fam, chatOnly.sid).create({ body: 'y'.repeat(BODY_MAX + 1) }), TOO_LONG);
      assert.ok(other.sid);
    });

    it(`${fam.name}: an update's body over 1600 characters (strict: ${sw.strict}); other updates pass`, async () => {
      const long = 'z'.repeat(SMS_MAX + 1);
      const { cv } = await smsConversation(fam);
      const m = await msgs(fam, cv.sid).create({ body: 'short' });
      const u = await refusedIfStrict(fam, cv.sid, () => msgs(fam, cv.sid)(m.sid).update({ body: long }));
      assert.equal((await msgs(fam, cv.sid)(m.sid).fetch()).body, sw.strict ? 'short' : long);
      if (!sw.strict) assert.equal(u.body, long);
      assert.equal((await msgs(fam, cv.sid)(m.sid).update({ body: 'q'.repeat(SMS_MAX) })).body.length, SMS_MAX);
      // a long message from before the SMS participant came: its attributes may change, its body not grow again
      const chatOnly = await fam.conversations().create({ friendlyName: uid('later'), messagingServiceSid: MG });
      const old = await msgs(fam, chatOnly.sid).create({ body: long });
      await sms(fam, chatOnly.sid);
      const attrs = await msgs(fam, chatOnly.sid)(old.sid).update({ attributes: '{"edited":true}' });
      assert.equal(attrs.attributes, '{"edited":true}');
      assert.equal(attrs.body, long);
      await refusedIfStrict(fam, chatOnly.sid, () => msgs(fam, chatOnly.sid)(old.sid).update({ body: long + 'z' }));
    });
  }

  it(`a pre-event's modified body over 1600 characters (strict: ${sw.strict}); an over-long request is refused before the hook`, async () => {
    const fam = families[0];
    const long = 'm'.repeat(SMS_MAX + 1);
    const pre = rx.url('/sw-pre');
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onMessageAdd', 'onMessageUpdate'], preWebhookUrl: pre, target: 'webhook' });
    try {
      const { cv } = await smsConversation(fam);
      rx.rules['/sw-pre'] = { status: 200, body: JSON.stringify({ body: long }) };
      rx.requests.length = 0;
      const made = await refusedIfStrict(fam, cv.sid, () => msgs(fam, cv.sid).create({ ...hooked, body: 'short' }));
      assert.equal(rx.at('/sw-pre').length, 1, 'the hook was asked');
      signed(rx.at('/sw-pre')[0]);
      if (!sw.strict) assert.equal(made.body, long, 'the modified body is the message');
      // the request's own body breaks the rule: the hook is not asked
      rx.requests.length = 0;
      rx.rules['/sw-pre'] = { status: 200, body: JSON.stringify({ body: 'shortened' }) };
      const asked = await refusedIfStrict(fam, cv.sid, () => msgs(fam, cv.sid).create({ ...hooked, body: long }));
      assert.equal(rx.at('/sw-pre').length, sw.strict ? 0 : 1);
      if (!sw.strict) assert.equal(asked.body, 'shortened');
      // an update the hook lengthens
      const m = await msgs(fam, cv.sid).create({ body: 'plain' });
      rx.rules['/sw-pre'] = { status: 200, body: JSON.stringify({ body: long }) };
      await refusedIfStrict(fam, cv.sid, () => msgs(fam, cv.sid)(m.sid).update({ ...hooked, body: 'edit' }));
      assert.equal((await msgs(fam, cv.sid)(m.sid).fetch()).body, sw.strict ? 'plain' : long);
    } finally {
      rx.rules['/sw-pre'] = { status: 200 };
      await v1().configuration.webhooks().update({ filters: [], preWebhookUrl: '' });
    }
  });

  for (const fam of families) {
    it(`${fam.name}: delivery receipts of a message to non-chat participants (none: ${sw.noReceipts})`, async () => {
      const { cv, chat } = await smsConversation(fam);
      await sms(fam, cv.sid);
      const m = await msgs(fam, cv.sid).create({ author: chat.identity, body: 'to the phones' });
      const receipts = await msgs(fam, cv.sid)(m.sid).deliveryReceipts.list();
      const raw = await ctx.h.raw('GET', `${fam.rel()}/Conversations/${cv.sid}/Messages/${m.sid}`);
      if (sw.noReceipts) {
        assert.equal(m.delivery, null, 'no receipts: delivery is null as in a chat-only conversation');
        assert.equal(raw.json.delivery, null);
        assert.equal(receipts.length, 0);
      } else {
        assert.deepEqual(m.delivery, { total: 2, sent: 'all', delivered: 'none', read: 'none', failed: 'none', undelivered: 'none' });
        assert.equal(receipts.length, 2);
      }
    });
  }

  it(`inbound traffic keeps 32 KB under any switch; its receipts follow the receipts switch (none: ${sw.noReceipts})`, async () => {
    const fam = families[0];
    const cv = await v1().conversations.create({ friendlyName: uid('inbound'), messagingServiceSid: MG });
    const address = number(), proxy = number();
    await v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
    await sms(fam, cv.sid);
    const res = await ctx.h.raw('POST', '/parley/inbound', { body: { From: address, To: proxy, Body: 'i'.repeat(SMS_MAX + 1) } });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.conversation_sid, cv.sid);
    const receipts = await v1().conversations(cv.sid).messages(res.json.message_sid).deliveryReceipts.list();
    assert.equal(receipts.length, sw.noReceipts ? 0 : 1, 'one receipt, for the other SMS participant, unless switched off');
  });

  it(`message events: ChatServiceSid (omitted on the post-events: ${sw.omit}) and the Media keys (snake: ${sw.snake}), both families`, async () => {
    const post = rx.url('/sw-post'), pre = rx.url('/sw-pre-ev');
    await v1().configuration.webhooks().update({ method: 'POST', preWebhookUrl: pre, postWebhookUrl: post, target: 'webhook',
      filters: ['onMessageAdd', 'onMessageAdded', 'onMessageUpdated', 'onMessageRemoved', 'onConversationUpdated', 'onParticipantAdded'] });
    try {
      for (const fam of families) {
        const media = 'ME' + randomHex(32);
        const put = await ctx.h.raw('POST', `/parley/Media/${media}`, { body: { ContentType: 'image/jpeg', Filename: 'car.jpg', Size: '42056' } });
        assert.equal(put.status, 201, put.body);
        const cv = await fam.conversations().create({ friendlyName: uid('events') });
        rx.requests.length = 0;
        const m = await msgs(fam, cv.sid).create({ ...hooked, body: 'a caption', mediaSid: media });
        await msgs(fam, cv.sid)(m.sid).update({ ...hooked, attributes: '{"edited":true}' });
        await msgs(fam, cv.sid)(m.sid).remove(hooked);
        await fam.conversations()(cv.sid).update({ ...hooked, friendlyName: 'renamed' });
        await fam.conversations()(cv.sid).participants.create({ ...hooked, identity: uid('carol') });
        const got = await rx.waitFor('/sw-post', 5);
        const [preAdd] = await rx.waitFor('/sw-pre-ev', 1);
        await sleep(200);
        assert.equal(rx.at('/sw-post').length, 5);
        for (const r of [...got, preAdd]) signed(r);
        const by = Object.fromEntries(got.map((r) => [r.params.EventType, r.params]));
        assert.deepEqual(Object.keys(by).sort(), ['onConversationUpdated', 'onMessageAdded', 'onMessageRemoved', 'onMessageUpdated', 'onParticipantAdded']);
        for (const ev of ['onMessageAdded', 'onMessageUpdated', 'onMessageRemoved']) {
          if (sw.omit) assert.ok(!('ChatServiceSid' in by[ev]), `${fam.name}: no ChatServiceSid on ${ev}`);
          else assert.equal(by[ev].ChatServiceSid, IS, `${fam.name}: ChatServiceSid on ${ev}`);
          assert.equal(by[ev].MessageSid, m.sid);
        }
        // every other event, and the message pre-event, keep it
        assert.equal(by.onConversationUpdated.ChatServiceSid, IS);
        assert.equal(by.onParticipantAdded.ChatServiceSid, IS);
        assert.equal(preAdd.params.EventType, 'onMessageAdd');
        assert.equal(preAdd.params.ChatServiceSid, IS);
        const want = sw.snake
          ? [{ sid: media, filename: 'car.jpg', content_type: 'image/jpeg', size: 42056, category: 'media' }]
          : [{ Sid: media, Filename: 'car.jpg', ContentType: 'image/jpeg', Size: 42056, Category: 'media' }];
        for (const params of [by.onMessageAdded, by.onMessageUpdated, by.onMessageRemoved, preAdd.params]) {
          assert.deepEqual(JSON.parse(params.Media), want, `${fam.name}: Media of ${params.EventType}: ${params.Media}`);
          assert.deepEqual(Object.keys(JSON.parse(params.Media)[0]), Object.keys(want[0]), 'the keys in order');
        }
        // the REST representation is the same in either mode
        assert.deepEqual(m.media, [{ sid: media, size: 42056, content_type: 'image/jpeg', filename: 'car.jpg' }]);
      }
    } finally {
      await v1().configuration.webhooks().update({ filters: [], preWebhookUrl: '', postWebhookUrl: '' });
    }
  });

  it(`ReplayAfter's onMessageAdded follows both event switches (omit: ${sw.omit}, snake: ${sw.snake})`, async () => {
    const cv = await v1().conversations.create({ friendlyName: uid('replay') });
    const media = 'ME' + randomHex(32);
    const first = await v1().conversations(cv.sid).messages.create({ body: 'zero' });
    const second = await v1().conversations(cv.sid).messages.create({ mediaSid: media });
    const w = await v1().conversations(cv.sid).webhooks.create({ target: 'webhook', 'configuration.url': rx.url('/sw-replay'),
      'configuration.method': 'POST', 'configuration.filters': ['onMessageAdded'], 'configuration.replayAfter': 0 });
    const got = await rx.waitFor('/sw-replay', 2);
    assert.deepEqual(got.map((r) => r.params.MessageSid), [first.sid, second.sid]);
    for (const r of got) {
      signed(r);
      assert.equal(r.params.WebhookSid, w.sid);
      if (sw.omit) assert.ok(!('ChatServiceSid' in r.params), 'no ChatServiceSid in the replay');
      else assert.equal(r.params.ChatServiceSid, IS);
    }
    const [one] = JSON.parse(got[1].params.Media);
    assert.deepEqual(Object.keys(one), sw.snake ? ['sid', 'filename', 'content_type', 'size', 'category'] : ['Sid', 'Filename', 'ContentType', 'Size', 'Category']);
    assert.equal(one[sw.snake ? 'sid' : 'Sid'], media);
  });
}

e2eSuite('message switches off (the defaults)', { args: ['--pre-webhook-timeout', '700'] }, (ctx, it) => {
  switchTests(ctx, it, { strict: false, noReceipts: false, omit: false, snake: false });
});

e2eSuite('message switches on', { args: ['--pre-webhook-timeout', '700', ...ON] }, (ctx, it) => {
  switchTests(ctx, it, { strict: true, noReceipts: true, omit: true, snake: true });
});

e2eSuite('message switches: receipts from before --no-delivery-receipts', {}, (ctx, it) => {
  let rx;
  before(async () => {
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  it('receipts made without the switch still move through /parley/receipts with it; new messages get none', async () => {
    let v1 = ctx.h.client.conversations.v1;
    const cv = await v1.conversations.create({ messagingServiceSid: MG });
    const agent = await v1.conversations(cv.sid).participants.create({ identity: `agent-${randomHex(6)}` });
    const phone = await v1.conversations(cv.sid).participants.create({ 'messagingBinding.address': '+14155557001', 'messagingBinding.proxyAddress': '+14155557002' });
    const old = await v1.conversations(cv.sid).messages.create({ author: agent.identity, body: 'before' });
    const [receipt] = await v1.conversations(cv.sid).messages(old.sid).deliveryReceipts.list();
    assert.equal(receipt.participantSid, phone.sid);

    ctx.h.opts.args = ['--no-delivery-receipts', '--omit-message-chat-service-sid'];
    await ctx.h.restart();
    v1 = ctx.h.client.conversations.v1;
    await v1.configuration.webhooks().update({ method: 'POST', postWebhookUrl: rx.url('/sw-delivery'), filters: ['onDeliveryUpdated'], target: 'webhook' });
    const fresh = await v1.conversations(cv.sid).messages.create({ author: agent.identity, body: 'after' });
    assert.equal(fresh.delivery, null);
    assert.equal((await v1.conversations(cv.sid).messages(fresh.sid).deliveryReceipts.list()).length, 0);

    const res = await ctx.h.raw('POST', `/parley/receipts/${receipt.sid}`, { body: { Status: 'delivered' } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.status, 'delivered');
    assert.deepEqual((await v1.conversations(cv.sid).messages(old.sid).fetch()).delivery,
      { total: 1, sent: 'all', delivered: 'all', read: 'none', failed: 'none', undelivered: 'none' });
    assert.equal((await v1.conversations(cv.sid).messages(old.sid).deliveryReceipts(receipt.sid).fetch()).status, 'delivered');
    // onDeliveryUpdated is no message post-event: it keeps ChatServiceSid
    const [ev] = await rx.waitFor('/sw-delivery', 1);
    assert.ok(twilio.validateRequest(ctx.h.authToken, ev.headers['x-twilio-signature'], ev.url, ev.params), 'signed');
    assert.equal(ev.params.DeliveryReceiptSid, receipt.sid);
    assert.match(ev.params.ChatServiceSid, /^IS[0-9a-f]{32}$/);
  });
});

e2eSuite('message switches: the command line', {}, (ctx, it) => {
  it('--help names the four switches; --event-media-keys takes pascal or snake only', async () => {
    const help = spawnSync(parleyBin(), ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    for (const flag of ['--strict-sms-body', '--no-delivery-receipts', '--omit-message-chat-service-sid', '--event-media-keys pascal|snake'])
      assert.ok(help.stdout.includes(flag), `--help names ${flag}`);
    const bad = spawnSync(parleyBin(), ['--event-media-keys', 'camel'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--event-media-keys takes pascal or snake/);
  });
});
