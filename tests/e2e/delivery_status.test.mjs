// Delivery status through POST /parley/receipts/{DY} (issue 14 item 7; BEHAVIOUR-conversations §3.6, §4, §10.4):
// a receipt moves forward (sent → delivered → read; failed and undelivered, from sent, end it), the message's delivery summary
// follows, onDeliveryUpdated fires with exactly its catalogue's parameters, signed, without any header; going
// backwards or out of an ending is 400 / 90002 and changes nothing; a repeated report changes nothing and fires
// nothing; another account's receipt is 404. The REST side through twilio-node; the CLI is `parley receipt`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import twilio from 'twilio';
import { after, before } from 'node:test';
import { assertErrorBody, e2eSuite, randomHex, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'e'.repeat(32);
const MS_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

e2eSuite('delivery status', {}, (ctx, it) => {
  let rx;
  let phone = 5554000;
  const number = () => `+1415${++phone}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const report = (sid, body, opts = {}) => ctx.h.raw('POST', `/parley/receipts/${sid}`, { body, ...opts });

  before(async () => {
    rx = await new Receiver().listen();
    await v1().configuration.webhooks().update({ method: 'POST', postWebhookUrl: rx.url('/delivery'), filters: ['onDeliveryUpdated'], target: 'webhook' });
  });
  after(async () => {
    await rx?.close();
  });

  /** A message from a chat participant to an SMS and a WhatsApp participant: its two receipts by participant. */
  async function sent() {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const parts = v1().conversations(cv.sid).participants;
    const agent = await parts.create({ identity: `agent-${randomHex(6)}` });
    const sms = await parts.create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
    const wa = await parts.create({ 'messagingBinding.address': `whatsapp:${number()}`, 'messagingBinding.proxyAddress': `whatsapp:${number()}` });
    const m = await v1().conversations(cv.sid).messages.create({ author: agent.identity, body: 'your table is ready' });
    const receipts = await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts.list();
    const by = Object.fromEntries(receipts.map((d) => [d.participantSid === sms.sid ? 'sms' : 'wa', d]));
    return { cv, m, sms, wa, by };
  }
  const delivery = async (cv, m) => (await v1().conversations(cv.sid).messages(m.sid).fetch()).delivery;
  const summary = (o) => ({ total: 2, sent: 'all', delivered: 'none', read: 'none', failed: 'none', undelivered: 'none', ...o });

  it('sent → delivered → read: the receipt, the delivery summary and onDeliveryUpdated at each step', async () => {
    const { cv, m, sms, wa, by } = await sent();
    assert.deepEqual(await delivery(cv, m), summary({}));
    rx.requests.length = 0;

    const d1 = await report(by.sms.sid, { Status: 'delivered' });
    assert.equal(d1.status, 200, d1.body);
    assert.deepEqual(Object.keys(d1.json), ['account_sid', 'chat_service_sid', 'conversation_sid', 'sid', 'message_sid', 'channel_message_sid',
      'participant_sid', 'status', 'error_code', 'date_created', 'date_updated', 'url']);
    assert.equal(d1.json.status, 'delivered');
    assert.equal(d1.json.error_code, 0);
    assert.match(d1.json.date_updated, DATE);
    assert.equal(d1.json.url, by.sms.url);
    const fetched = await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts(by.sms.sid).fetch();
    assert.equal(fetched.status, 'delivered');
    assert.ok(fetched.dateUpdated instanceof Date, 'date_updated set by the change');
    assert.deepEqual(await delivery(cv, m), summary({ delivered: 'some' }));

    assert.equal((await report(by.wa.sid, { Status: 'read' })).status, 200, 'sent straight to read is forward');
    assert.deepEqual(await delivery(cv, m), summary({ delivered: 'all', read: 'some' }), 'read counts as delivered');
    assert.equal((await report(by.sms.sid, { Status: 'READ' })).json.status, 'read', 'Status in any case');
    assert.deepEqual(await delivery(cv, m), summary({ delivered: 'all', read: 'all' }));

    const got = await rx.waitFor('/delivery', 3);
    await sleep(300);
    assert.equal(rx.at('/delivery').length, 3);
    const keys = ['AccountSid', 'ChannelMessageSid', 'ChatServiceSid', 'ConversationSid', 'DateCreated', 'DateUpdated', 'DeliveryReceiptSid',
      'ErrorCode', 'EventType', 'MessageSid', 'ParticipantSid', 'RetryCount', 'Source', 'Status'];
    for (const req of got) {
      assert.ok(twilio.validateRequest(ctx.h.authToken, req.headers['x-twilio-signature'], req.url, req.params), 'signed');
      assert.deepEqual(Object.keys(req.params).sort(), keys);
      assert.equal(req.params.EventType, 'onDeliveryUpdated');
      assert.equal(req.params.AccountSid, ctx.h.accountSid);
      assert.equal(req.params.ConversationSid, cv.sid);
      assert.equal(req.params.ChatServiceSid, cv.chatServiceSid);
      assert.equal(req.params.MessageSid, m.sid);
      assert.equal(req.params.ErrorCode, '0');
      assert.match(req.params.DateCreated, MS_DATE);
      assert.match(req.params.DateUpdated, MS_DATE);
    }
    assert.deepEqual(got.map((r) => [r.params.DeliveryReceiptSid, r.params.Status, r.params.ParticipantSid, r.params.Source]), [
      [by.sms.sid, 'delivered', sms.sid, 'SMS'], [by.wa.sid, 'read', wa.sid, 'WHATSAPP'], [by.sms.sid, 'read', sms.sid, 'SMS']]);
    assert.equal(got[0].params.ChannelMessageSid, by.sms.channelMessageSid);
  });

  it('going backwards or out of an ending is 400 / 90002 and changes nothing; a repeated report changes nothing', async () => {
    const { cv, m, by } = await sent();
    assert.equal((await report(by.sms.sid, { Status: 'delivered' })).status, 200);
    const failed = await report(by.wa.sid, { Status: 'failed', ErrorCode: '63016' });
    assert.equal(failed.status, 200, failed.body);
    assert.equal(failed.json.error_code, 63016);
    const stateBefore = await delivery(cv, m);
    assert.deepEqual(stateBefore, { total: 2, sent: 'some', delivered: 'some', read: 'none', failed: 'some', undelivered: 'none' });
    await sleep(300);
    rx.requests.length = 0;
    const smsBefore = await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts(by.sms.sid).fetch();
    for (const [sid, to, from] of [[by.sms.sid, 'sent', 'delivered'], [by.sms.sid, 'failed', 'delivered'], [by.sms.sid, 'undelivered', 'delivered'],
      [by.wa.sid, 'delivered', 'failed'], [by.wa.sid, 'read', 'failed'], [by.wa.sid, 'undelivered', 'failed']]) {
      assertErrorBody(await report(sid, { Status: to }), { status: 400, code: 90002, message: `Delivery receipt ${sid} cannot move from ${from} to ${to}` });
    }
    const again = await report(by.sms.sid, { Status: 'delivered' });
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'delivered');
    const smsAfter = await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts(by.sms.sid).fetch();
    assert.deepEqual(smsAfter.toJSON(), smsBefore.toJSON());
    assert.deepEqual(await delivery(cv, m), stateBefore);
    await sleep(500);
    assert.equal(rx.at('/delivery').length, 0, 'no event for a refused or repeated report');
  });

  it('failed and undelivered take an ErrorCode (30008 when none is given); other statuses refuse one', async () => {
    const { cv, m, by } = await sent();
    const u = await report(by.sms.sid, { Status: 'undelivered' });
    assert.equal(u.json.error_code, 30008);
    assertErrorBody(await report(by.wa.sid, { Status: 'delivered', ErrorCode: '30003' }), { status: 400, code: 20001,
      message: 'ErrorCode is only for Status failed or undelivered' });
    assertErrorBody(await report(by.wa.sid, { Status: 'failed', ErrorCode: 'x' }), { status: 400, code: 20001 });
    assertErrorBody(await report(by.wa.sid, { Status: 'lost' }), { status: 400, code: 20001 });
    assertErrorBody(await report(by.wa.sid, {}), { status: 400, code: 20001, message: 'Missing required parameter Status in the post body' });
    assert.deepEqual(await delivery(cv, m), { total: 2, sent: 'some', delivered: 'none', read: 'none', failed: 'none', undelivered: 'some' });
  });

  it('unknown, malformed and another account\'s receipts are 404; credentials are required', async () => {
    const { by } = await sent();
    assertErrorBody(await report('DY' + randomHex(32), { Status: 'delivered' }), { status: 404, code: 20404 });
    assertErrorBody(await report('nope', { Status: 'delivered' }), { status: 404, code: 20404 });
    const made = ctx.h.cli(['account', 'create']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    assertErrorBody(await report(by.sms.sid, { Status: 'delivered' }, { auth: [f.account_sid, f.auth_token] }), { status: 404, code: 20404 });
    assert.equal((await report(by.sms.sid, { Status: 'delivered' }, { auth: false })).status, 401);
    assert.equal((await v1().conversations(by.sms.conversationSid).messages(by.sms.messageSid).deliveryReceipts(by.sms.sid).fetch()).status, 'sent');
  });

  it('inbound and outbound together: an inbound SMS, a reply, its receipt delivered', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const agent = await v1().conversations(cv.sid).participants.create({ identity: `agent-${randomHex(6)}` });
    const address = number(), proxy = number();
    const sms = await v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
    const inbound = await ctx.h.raw('POST', '/parley/inbound', { body: { From: address, To: proxy, Body: 'is it open today?' } });
    assert.equal(inbound.status, 201, inbound.body);
    assert.equal((await v1().conversations(cv.sid).messages(inbound.json.message_sid).fetch()).delivery, null, 'no receipt for the author');
    const reply = await v1().conversations(cv.sid).messages.create({ author: agent.identity, body: 'until nine' });
    const [d] = await v1().conversations(cv.sid).messages(reply.sid).deliveryReceipts.list();
    assert.equal(d.participantSid, sms.sid);
    assert.equal((await report(d.sid, { Status: 'delivered' })).status, 200);
    assert.deepEqual((await v1().conversations(cv.sid).messages(reply.sid).fetch()).delivery,
      { total: 1, sent: 'all', delivered: 'all', read: 'none', failed: 'none', undelivered: 'none' });
  });

  it('parley receipt (the CLI) reports through the server', async () => {
    const { cv, m, by } = await sent();
    const env = { ...process.env, PARLEY_URL: ctx.h.url, PARLEY_ACCOUNT_SID: ctx.h.accountSid, PARLEY_AUTH_TOKEN: ctx.h.authToken };
    const ok = spawnSync(ctx.h.bin, ['receipt', by.sms.sid, '--status', 'failed', '--error-code', '30003'], { encoding: 'utf8', env });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).status, 'failed');
    const back = spawnSync(ctx.h.bin, ['receipt', by.sms.sid, '--status', 'read'], { encoding: 'utf8', env });
    assert.equal(back.status, 1);
    assert.equal(JSON.parse(back.stdout).code, 90002);
    assert.equal(spawnSync(ctx.h.bin, ['receipt', '--status', 'read'], { encoding: 'utf8', env }).status, 2);
    assert.deepEqual((await delivery(cv, m)).failed, 'some');
  });
});
