// Delivery receipts through twilio-node on both path families (BEHAVIOUR-conversations §4): one per non-chat
// recipient of a message (none for chat participants, none for the author's own participant), fetch and list
// (PageSize at most 50), the message's delivery summary, 404 for a receipt under another message, an unknown
// message or a non-DY key, and a message's delete taking its receipts along.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const MG = 'MG' + 'c'.repeat(32);
const KEYS = ['account_sid', 'conversation_sid', 'sid', 'message_sid', 'channel_message_sid', 'participant_sid', 'status',
  'error_code', 'date_created', 'date_updated', 'url'];
const SERVICE_KEYS = ['account_sid', 'chat_service_sid', 'conversation_sid', 'message_sid', 'sid', 'channel_message_sid',
  'participant_sid', 'status', 'error_code', 'date_created', 'date_updated', 'url'];

e2eSuite('delivery receipts', {}, (ctx, it) => {
  let IS;
  const v1 = () => ctx.h.client.conversations.v1;
  let phone = 5552000;
  const number = () => `+1415${++phone}`;
  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  const families = [
    { name: 'short family', conversations: () => v1().conversations, rel: () => '/v1', keys: KEYS },
    { name: 'service family', conversations: () => v1().services(IS).conversations, rel: () => `/v1/Services/${IS}`, keys: SERVICE_KEYS },
  ];

  /** A conversation with a chat participant, two SMS participants and a WhatsApp one. */
  async function setup(fam) {
    const cv = await fam.conversations().create({ messagingServiceSid: MG });
    const parts = fam.conversations()(cv.sid).participants;
    const chat = await parts.create({ identity: `chat-${randomHex(6)}` });
    const sms1 = await parts.create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
    const sms2 = await parts.create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
    const wa = await parts.create({ 'messagingBinding.address': `whatsapp:${number()}`, 'messagingBinding.proxyAddress': `whatsapp:${number()}` });
    return { cv, chat, sms1, sms2, wa };
  }

  for (const fam of families) {
    it(`${fam.name}: one receipt per non-chat recipient, in status sent; fetch and list; the delivery summary`, async () => {
      const { cv, chat, sms1, sms2, wa } = await setup(fam);
      const m = await fam.conversations()(cv.sid).messages.create({ author: chat.identity, body: 'to everyone' });
      assert.deepEqual(m.delivery, { total: 3, sent: 'all', delivered: 'none', read: 'none', failed: 'none', undelivered: 'none' });
      const receipts = await fam.conversations()(cv.sid).messages(m.sid).deliveryReceipts.list();
      assert.equal(receipts.length, 3);
      assert.deepEqual(receipts.map((d) => d.participantSid).sort(), [sms1.sid, sms2.sid, wa.sid].sort());
      for (const d of receipts) {
        assert.match(d.sid, SID_RE('DY'));
        assert.equal(d.accountSid, ctx.h.accountSid);
        assert.equal(d.conversationSid, cv.sid);
        assert.equal(d.messageSid, m.sid);
        assert.equal(d.status, 'sent');
        assert.equal(d.errorCode, 0);
        assert.equal(d.dateUpdated, null, 'never updated yet');
        assert.match(d.channelMessageSid, d.participantSid === wa.sid ? SID_RE('WA') : SID_RE('SM'));
        assert.equal(d.url, `${ctx.h.url}${fam.rel()}/Conversations/${cv.sid}/Messages/${m.sid}/Receipts/${d.sid}`);
      }
      const one = await fam.conversations()(cv.sid).messages(m.sid).deliveryReceipts(receipts[0].sid).fetch();
      assert.equal(one.sid, receipts[0].sid);
      const raw = await ctx.h.raw('GET', `${fam.rel()}/Conversations/${cv.sid}/Messages/${m.sid}/Receipts/${one.sid}`);
      assert.deepEqual(Object.keys(raw.json), fam.keys);
      // the author's own participant gets none
      const fromSms = await fam.conversations()(cv.sid).messages.create({ author: sms1.messagingBinding.address, body: 'from sms' });
      assert.equal(fromSms.participantSid, sms1.sid);
      assert.equal(fromSms.delivery.total, 2);
      const theirs = await fam.conversations()(cv.sid).messages(fromSms.sid).deliveryReceipts.list();
      assert.deepEqual(theirs.map((d) => d.participantSid).sort(), [sms2.sid, wa.sid].sort());
    });

    it(`${fam.name}: 404 for an unknown message, another message's receipt, a non-DY key; PageSize at most 50`, async () => {
      const { cv } = await setup(fam);
      const a = await fam.conversations()(cv.sid).messages.create({ body: 'a' });
      const b = await fam.conversations()(cv.sid).messages.create({ body: 'b' });
      const [ra] = await fam.conversations()(cv.sid).messages(a.sid).deliveryReceipts.list();
      await rejectsRest(fam.conversations()(cv.sid).messages(b.sid).deliveryReceipts(ra.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()(cv.sid).messages('IM' + randomHex(32)).deliveryReceipts.list(), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()(cv.sid).messages(a.sid).deliveryReceipts('DY' + randomHex(32)).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()(cv.sid).messages(a.sid).deliveryReceipts('nope').fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()('CH' + randomHex(32)).messages(a.sid).deliveryReceipts.list(), { status: 404, code: 20404 });
      const other = await fam.conversations().create({});
      await rejectsRest(fam.conversations()(other.sid).messages(a.sid).deliveryReceipts(ra.sid).fetch(), { status: 404, code: 20404 });
      const page = await ctx.h.raw('GET', `${fam.rel()}/Conversations/${cv.sid}/Messages/${a.sid}/Receipts?PageSize=500`);
      assert.equal(page.status, 200);
      assert.equal(page.json.meta.page_size, 50);
      assert.equal(page.json.meta.key, 'delivery_receipts');
      const paged = await ctx.h.raw('GET', `${fam.rel()}/Conversations/${cv.sid}/Messages/${a.sid}/Receipts?PageSize=2`);
      assert.equal(paged.json.delivery_receipts.length, 2);
      const rest = await ctx.h.raw('GET', paged.json.meta.next_page_url);
      assert.equal(rest.json.delivery_receipts.length, 1);
      assert.equal(rest.json.meta.next_page_url, null);
    });
  }

  it('a chat-only conversation gets no receipts: delivery is null and the list is empty', async () => {
    const cv = await v1().conversations.create({});
    await v1().conversations(cv.sid).participants.create({ identity: `only-${randomHex(6)}` });
    const m = await v1().conversations(cv.sid).messages.create({ body: 'chat' });
    assert.equal(m.delivery, null);
    assert.deepEqual(await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts.list(), []);
  });

  it("a message's delete takes its receipts along; the conversation's delete takes everything", async () => {
    const { cv } = await setup(families[0]);
    const m = await v1().conversations(cv.sid).messages.create({ body: 'gone soon' });
    const [d] = await v1().conversations(cv.sid).messages(m.sid).deliveryReceipts.list();
    await v1().conversations(cv.sid).messages(m.sid).remove();
    await rejectsRest(v1().conversations(cv.sid).messages(m.sid).deliveryReceipts(d.sid).fetch(), { status: 404, code: 20404 });
    const m2 = await v1().conversations(cv.sid).messages.create({ body: 'also gone' });
    assert.equal(m2.index, 1);
    await v1().conversations(cv.sid).remove();
    await rejectsRest(v1().conversations(cv.sid).messages(m2.sid).fetch(), { status: 404, code: 20404 });
    if (!ctx.h.dataFile.startsWith('postgres')) {
      const { spawnSync } = await import('node:child_process');
      const q = spawnSync('sqlite3', ['-cmd', '.timeout 5000', ctx.h.dataFile,
        `SELECT (SELECT count(*) FROM messages WHERE conversation_sid = '${cv.sid}') + (SELECT count(*) FROM delivery_receipts WHERE conversation_sid = '${cv.sid}')`], { encoding: 'utf8' });
      if (q.status === 0) assert.equal(q.stdout.trim(), '0', 'no message or receipt row is left');
    }
  });
});
