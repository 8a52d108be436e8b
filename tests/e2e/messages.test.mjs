// Messages through twilio-node on both path families (BEHAVIOUR-conversations §3): create, fetch, update, delete
// and list in both orders; the index (from 0, per conversation, never reused, distinct under 50 parallel creates);
// the author's participant; every error code with its status, and that a refusal changes nothing; the closed
// guard; ContentSid, Subject, the date overrides and media (synthesized, registered, strict); the conversation's
// revival; the events with and without X-Twilio-Webhook-Enabled; account isolation; kill -9 after a 2xx.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest, SID_RE, sleep, start } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'b'.repeat(32);
const KEYS = ['account_sid', 'conversation_sid', 'sid', 'index', 'author', 'body', 'media', 'attributes', 'participant_sid',
  'date_created', 'date_updated', 'url', 'delivery', 'links', 'content_sid'];
const SERVICE_KEYS = ['account_sid', 'chat_service_sid', 'conversation_sid', 'sid', 'index', 'author', 'body', 'media',
  'attributes', 'participant_sid', 'date_created', 'date_updated', 'delivery', 'url', 'links', 'content_sid'];

e2eSuite('messages', { args: ['--pre-webhook-timeout', '700', '--max-body', '1048576'] }, (ctx, it) => {
  let IS;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(4)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  let phone = 5551000;
  const number = () => `+1415${++phone}`;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  const families = [
    { name: 'short family', conversations: () => v1().conversations, rel: () => '/v1', keys: KEYS },
    { name: 'service family', conversations: () => v1().services(IS).conversations, rel: () => `/v1/Services/${IS}`, keys: SERVICE_KEYS },
  ];
  const newConversation = (fam, opts = {}) => fam.conversations().create({ friendlyName: uid('conv'), ...opts });
  const msgs = (fam, ch) => fam.conversations()(ch).messages;
  const rawPath = (fam, ch, rest = '') => `${fam.rel()}/Conversations/${ch}/Messages${rest}`;
  const listRaw = async (fam, ch, q = 'PageSize=100') => {
    const res = await ctx.h.raw('GET', `${rawPath(fam, ch)}?${q}`);
    assert.equal(res.status, 200, res.body);
    return res.json;
  };
  const snapshot = async (fam, ch) => JSON.stringify((await listRaw(fam, ch)).messages);

  for (const fam of families) {
    it(`${fam.name}: create with defaults, fetch, the keys in the family's order, url and links`, async () => {
      const cv = await newConversation(fam);
      const m = await msgs(fam, cv.sid).create({ body: 'hello' });
      assert.match(m.sid, SID_RE('IM'));
      assert.equal(m.index, 0);
      assert.equal(m.author, 'system');
      assert.equal(m.participantSid, null);
      assert.equal(m.body, 'hello');
      assert.equal(m.media, null);
      assert.equal(m.attributes, '{}');
      assert.equal(m.delivery, null, 'no non-chat recipient: no delivery summary');
      assert.equal(m.contentSid, null);
      assert.equal(m.dateCreated.getTime(), m.dateUpdated.getTime());
      const base = `${ctx.h.url}${fam.rel()}/Conversations/${cv.sid}/Messages/${m.sid}`;
      assert.equal(m.url, base);
      assert.deepEqual(m.links, { delivery_receipts: `${base}/Receipts`, channel_metadata: `${base}/ChannelMetadata` });
      const raw = await ctx.h.raw('GET', rawPath(fam, cv.sid, `/${m.sid}`));
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json), fam.keys);
      if (fam.name === 'service family') assert.equal(raw.json.chat_service_sid, IS);
      const f = await msgs(fam, cv.sid)(m.sid).fetch();
      assert.equal(f.sid, m.sid);
      assert.equal(f.body, 'hello');
      // the conversation's unique name reaches its messages too (§0.2, recommended)
      const named = await newConversation(fam, { uniqueName: uid('named') });
      const n = await msgs(fam, named.uniqueName).create({ body: 'by name' });
      assert.equal(n.conversationSid, named.sid);
      assert.ok(n.url.includes(`/Conversations/${named.sid}/Messages/`), 'the url names the SID');
      assert.equal((await ctx.h.raw('GET', `${rawPath(fam, cv.sid)}/${m.sid}/ChannelMetadata`)).status, 404);
    });

    it(`${fam.name}: the author resolves a participant by identity or by binding address`, async () => {
      const cv = await newConversation(fam, { messagingServiceSid: MG });
      const alice = await fam.conversations()(cv.sid).participants.create({ identity: uid('alice') });
      const addr = number();
      const sms = await fam.conversations()(cv.sid).participants.create({ 'messagingBinding.address': addr, 'messagingBinding.proxyAddress': number() });
      const a = await msgs(fam, cv.sid).create({ author: alice.identity, body: 'from alice' });
      assert.equal(a.participantSid, alice.sid);
      const s = await msgs(fam, cv.sid).create({ author: addr, body: 'from sms' });
      assert.equal(s.participantSid, sms.sid);
      const x = await msgs(fam, cv.sid).create({ author: 'nobody', body: 'x' });
      assert.equal(x.participantSid, null);
      // changing the author re-resolves it
      const u = await msgs(fam, cv.sid)(x.sid).update({ author: alice.identity });
      assert.equal(u.participantSid, alice.sid);
      const back = await msgs(fam, cv.sid)(x.sid).update({ author: 'someone else' });
      assert.equal(back.participantSid, null);
    });

    it(`${fam.name}: update body, attributes, subject and dates; delete leaves an index gap`, async () => {
      const cv = await newConversation(fam);
      const m0 = await msgs(fam, cv.sid).create({ body: 'a' });
      const m1 = await msgs(fam, cv.sid).create({ body: 'b', attributes: '{"k":1}' });
      assert.equal(m1.index, 1);
      assert.equal(m1.attributes, '{"k":1}');
      await sleep(5);
      const u = await msgs(fam, cv.sid)(m1.sid).update({ body: 'b2', attributes: '{"k":2}', subject: 'hidden' });
      assert.equal(u.body, 'b2');
      assert.equal(u.attributes, '{"k":2}');
      assert.equal(u.index, 1, 'the index never changes');
      assert.ok(u.dateUpdated.getTime() > u.dateCreated.getTime() || u.dateUpdated.getTime() >= m1.dateUpdated.getTime());
      const raw = await ctx.h.raw('GET', rawPath(fam, cv.sid, `/${m1.sid}`));
      assert.ok(!('subject' in raw.json), 'Subject is stored, not rendered');
      const d = await msgs(fam, cv.sid)(m1.sid).update({ dateCreated: new Date('2020-01-02T03:04:05Z'), dateUpdated: new Date('2020-01-03T03:04:05Z') });
      assert.equal(d.dateCreated.toISOString(), '2020-01-02T03:04:05.000Z');
      assert.equal(d.dateUpdated.toISOString(), '2020-01-03T03:04:05.000Z');
      assert.equal(await msgs(fam, cv.sid)(m1.sid).remove(), true);
      await rejectsRest(msgs(fam, cv.sid)(m1.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(msgs(fam, cv.sid)(m1.sid).remove(), { status: 404, code: 20404 });
      const m2 = await msgs(fam, cv.sid).create({ body: 'c' });
      assert.equal(m2.index, 2, 'a deleted index is never reused');
      // the last message deleted: the next one still takes a new index
      await msgs(fam, cv.sid)(m2.sid).remove();
      const m3 = await msgs(fam, cv.sid).create({ body: 'd' });
      assert.equal(m3.index, 3);
      assert.deepEqual((await listRaw(fam, cv.sid)).messages.map((m) => m.index), [0, 3]);
      assert.equal(m0.index, 0);
    });

    it(`${fam.name}: DateCreated / DateUpdated overrides on create; the index is still the next one`, async () => {
      const cv = await newConversation(fam);
      await msgs(fam, cv.sid).create({ body: 'now' });
      const old = await msgs(fam, cv.sid).create({ body: 'imported', dateCreated: new Date('2019-05-06T07:08:09Z') });
      assert.equal(old.index, 1);
      assert.equal(old.dateCreated.toISOString(), '2019-05-06T07:08:09.000Z');
      assert.equal(old.dateUpdated.toISOString(), '2019-05-06T07:08:09.000Z', 'date_updated equals date_created');
      const both = await msgs(fam, cv.sid).create({ body: 'x', dateCreated: new Date('2019-05-06T07:08:09Z'), dateUpdated: new Date('2019-06-06T07:08:09Z') });
      assert.equal(both.dateUpdated.toISOString(), '2019-06-06T07:08:09.000Z');
    });

    it(`${fam.name}: ContentSid ignores Body and MediaSid; ContentVariables rules`, async () => {
      const cv = await newConversation(fam);
      const hx = 'HX' + randomHex(32);
      const m = await msgs(fam, cv.sid).create({ contentSid: hx, contentVariables: '{"1":"John"}', body: 'ignored', mediaSid: 'ME' + randomHex(32) });
      assert.equal(m.contentSid, hx);
      assert.equal(m.body, null);
      assert.equal(m.media, null);
      const before = await snapshot(fam, cv.sid);
      const bad = [
        [{ contentSid: 'HXnope' }, 50526, 'Invalid content SID'],
        [{ body: 'x', contentVariables: '{}' }, 50528, 'Content SID is missing'],
        [{ contentSid: hx, contentVariables: '[1]' }, 50527, 'Invalid content variables format'],
        [{ contentSid: hx, contentVariables: 'nope' }, 50527, 'Invalid content variables format'],
        [{ contentSid: hx, contentVariables: JSON.stringify({ ['k'.repeat(17)]: 'v' }) }, 50540, 'Content variable key is too long'],
        [{ contentSid: hx, contentVariables: JSON.stringify({ k: 'v'.repeat(257) }) }, 50541, 'Content variable value is too long'],
        [{ contentSid: hx, contentVariables: JSON.stringify(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']))) }, 50529, 'Content variables are too long'],
      ];
      for (const [params, code, message] of bad) await rejectsRest(msgs(fam, cv.sid).create(params), { status: 400, code, message });
      assert.equal(await snapshot(fam, cv.sid), before, 'the refusals changed nothing');
    });

    it(`${fam.name}: every refusal has its code and status, and changes nothing`, async () => {
      const cv = await newConversation(fam);
      const m = await msgs(fam, cv.sid).create({ body: 'keep' });
      const before = await snapshot(fam, cv.sid);
      const cases = [
        [{}, 50503, 'Message body not provided'],
        [{ body: 'x'.repeat(32 * 1024 + 1) }, 50504, 'Message body parameter is too long'],
        [{ body: 'x', attributes: JSON.stringify({ a: 'x'.repeat(4096) }) }, 50303, 'Attributes too long'],
        [{ body: 'x', attributes: '{nope' }, 50304, undefined],
        [{ body: 'x', author: 'a'.repeat(257) }, 50310, 'Author parameter is too long'],
        [{ mediaSid: 'MEnope' }, 50510, 'Invalid message media SID'],
        [{ body: 'x', dateCreated: 'yesterday' }, 50308, undefined],
        [{ body: 'x', dateUpdated: 'tomorrow' }, 50309, undefined],
      ];
      for (const [params, code, message] of cases) {
        const res = await ctx.h.raw('POST', rawPath(fam, cv.sid), {
          body: Object.fromEntries(Object.entries(params).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v])),
        });
        assert.equal(res.status, 400, res.body);
        assert.equal(res.json.code, code, res.body);
        if (message) assert.equal(res.json.message, message);
      }
      // exactly 32 KB of body and 4 KB of attributes pass
      const big = await msgs(fam, cv.sid).create({ body: 'é'.repeat(16 * 1024) });
      assert.equal(big.body.length, 16 * 1024);
      await msgs(fam, cv.sid)(big.sid).remove();
      // update refusals
      await rejectsRest(msgs(fam, cv.sid)(m.sid).update({ body: 'x'.repeat(32 * 1024 + 1) }), { status: 400, code: 50504 });
      await rejectsRest(msgs(fam, cv.sid)(m.sid).update({ author: 'a'.repeat(257) }), { status: 400, code: 50310 });
      const empty = await ctx.h.raw('POST', rawPath(fam, cv.sid, `/${m.sid}`), { body: {} });
      assert.equal(empty.status, 400);
      assert.equal(empty.json.code, 20161);
      // missing resources: 404 first
      await rejectsRest(msgs(fam, 'CH' + randomHex(32)).create({ body: 'x' }), { status: 404, code: 20404 });
      await rejectsRest(msgs(fam, cv.sid)('IM' + randomHex(32)).fetch(), { status: 404, code: 20404 });
      await rejectsRest(msgs(fam, cv.sid)('not-a-sid').fetch(), { status: 404, code: 20404 });
      const other = await newConversation(fam);
      await rejectsRest(msgs(fam, other.sid)(m.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(msgs(fam, other.sid)(m.sid).update({ body: 'x' }), { status: 404, code: 20404 });
      await rejectsRest(msgs(fam, other.sid)(m.sid).remove(), { status: 404, code: 20404 });
      const order = await ctx.h.raw('GET', `${rawPath(fam, cv.sid)}?Order=sideways`);
      assert.equal(order.status, 400);
      assert.equal(order.json.code, 20001);
      assert.equal(await snapshot(fam, cv.sid), before, 'the refusals changed nothing');
    });

    it(`${fam.name}: the closed guard on create, update and delete; reads still work`, async () => {
      const cv = await newConversation(fam);
      const m = await msgs(fam, cv.sid).create({ body: 'before' });
      await fam.conversations()(cv.sid).update({ state: 'closed' });
      const closed = { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" };
      await rejectsRest(msgs(fam, cv.sid).create({ body: 'after' }), closed);
      await rejectsRest(msgs(fam, cv.sid)(m.sid).update({ body: 'changed' }), closed);
      await rejectsRest(msgs(fam, cv.sid)(m.sid).remove(), closed);
      const f = await msgs(fam, cv.sid)(m.sid).fetch();
      assert.equal(f.body, 'before');
      assert.equal((await listRaw(fam, cv.sid)).messages.length, 1);
    });

    it(`${fam.name}: list in both orders, any case, echoed lower-case; each() over several pages`, async () => {
      const cv = await newConversation(fam);
      const made = [];
      for (let i = 0; i < 13; i++) made.push(await msgs(fam, cv.sid).create({ body: `m${i}` }));
      await msgs(fam, cv.sid)(made[5].sid).remove();
      const asc = made.filter((_, i) => i !== 5).map((m) => m.index);
      const desc = [...asc].reverse();
      const page = await listRaw(fam, cv.sid, 'Order=DeSc&PageSize=4');
      assert.deepEqual(page.messages.map((m) => m.index), desc.slice(0, 4));
      assert.ok(page.meta.url.includes('Order=desc&PageSize=4'), page.meta.url);
      assert.ok(page.meta.next_page_url.includes('Order=desc&'), page.meta.next_page_url);
      // follow next and then previous by the meta URLs
      const next = (await ctx.h.raw('GET', page.meta.next_page_url)).json;
      assert.deepEqual(next.messages.map((m) => m.index), desc.slice(4, 8));
      const prev = (await ctx.h.raw('GET', next.meta.previous_page_url)).json;
      assert.deepEqual(prev.messages.map((m) => m.index), desc.slice(0, 4));
      assert.deepEqual((await listRaw(fam, cv.sid, 'Order=ASC&PageSize=4')).messages.map((m) => m.index), asc.slice(0, 4));
      for (const [order, want] of [['asc', asc], ['desc', desc], [undefined, asc]]) {
        const got = [];
        await new Promise((resolve, reject) =>
          msgs(fam, cv.sid).each({ order, pageSize: 3, done: (e) => (e ? reject(e) : resolve()) }, (m) => {
            got.push(m.index);
          }),
        );
        assert.deepEqual(got, want, `each() in order ${order}`);
        const listed = await msgs(fam, cv.sid).list({ order, pageSize: 5 });
        assert.deepEqual(listed.map((m) => m.index), want, `list() in order ${order}`);
      }
      // a page of messages costs one index range: the last page is as cheap as the first (see the bench note)
      const last = await listRaw(fam, cv.sid, 'Order=desc&PageSize=100');
      assert.equal(last.meta.next_page_url, null);
    });
  }

  it('50 parallel creates in one conversation: distinct, increasing indexes 0..49; after a delete, no reuse', async () => {
    const cv = await v1().conversations.create({});
    const res = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ctx.h.raw('POST', `/v1/Conversations/${cv.sid}/Messages`, { body: { Body: `p${i}` } })),
    );
    for (const r of res) assert.equal(r.status, 201, r.body);
    const indexes = res.map((r) => r.json.index).sort((a, b) => a - b);
    assert.deepEqual(indexes, Array.from({ length: 50 }, (_, i) => i));
    // the order of the indexes is the order of the commits: date_created never goes backwards along them
    const listed = (await ctx.h.raw('GET', `/v1/Conversations/${cv.sid}/Messages?PageSize=100`)).json.messages;
    assert.deepEqual(listed.map((m) => m.index), indexes);
    const top = listed[listed.length - 1];
    await v1().conversations(cv.sid).messages(top.sid).remove();
    const again = await v1().conversations(cv.sid).messages.create({ body: 'after the delete' });
    assert.equal(again.index, 50);
  });

  it('every message write and every receipt leaves one change record, in order', async () => {
    const changes = async (after) => (await ctx.h.raw('GET', `/parley/changes?After=${after}&PageSize=1000`)).json;
    const start = (await changes(0)).next_after;
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const sms = await v1().conversations(cv.sid).participants.create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
    const m = await v1().conversations(cv.sid).messages.create({ body: 'recorded' });
    await v1().conversations(cv.sid).messages(m.sid).update({ body: 'recorded again' });
    await v1().conversations(cv.sid).messages(m.sid).remove();
    const mine = (await changes(start)).changes.filter((c) => c.resource === 'message' || c.resource === 'delivery_receipt');
    assert.deepEqual(mine.map((c) => [c.resource, c.kind]), [['message', 'created'], ['delivery_receipt', 'created'], ['message', 'updated'], ['message', 'deleted']]);
    assert.ok(mine.filter((c) => c.resource === 'message').every((c) => c.sid === m.sid && c.parent_sid === cv.sid));
    assert.equal(mine[1].parent_sid, m.sid);
    assert.ok(sms.sid);
  });

  it('a Group MMS takes messages only from its participants (50513), and changes nothing on a refusal', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const member = await v1().conversations(cv.sid).participants.create({ identity: uid('gmms'), 'messagingBinding.projectedAddress': number() });
    const ok = await v1().conversations(cv.sid).messages.create({ author: member.identity, body: 'to the group' });
    assert.equal(ok.participantSid, member.sid);
    const refused = { status: 400, code: 50513, message: 'Message author should be among Group MMS participants' };
    await rejectsRest(v1().conversations(cv.sid).messages.create({ body: 'from the system' }), refused);
    await rejectsRest(v1().conversations(cv.sid).messages.create({ author: 'stranger', body: 'x' }), refused);
    await rejectsRest(v1().conversations(cv.sid).messages(ok.sid).update({ author: 'stranger' }), refused);
    const listed = await v1().conversations(cv.sid).messages.list();
    assert.deepEqual(listed.map((m) => [m.index, m.author]), [[0, member.identity]]);
    // a conversation without a projected participant takes any author
    const plain = await v1().conversations.create({});
    assert.equal((await v1().conversations(plain.sid).messages.create({ author: 'stranger', body: 'x' })).participantSid, null);
  });

  it('a message revives an inactive conversation and restarts its timers', async () => {
    const cv = await v1().conversations.create({ 'timers.inactive': 'PT5M', 'timers.closed': 'PT20M' });
    const before = cv.timers;
    await sleep(1100);
    await v1().conversations(cv.sid).update({ state: 'inactive' });
    await v1().conversations(cv.sid).messages.create({ body: 'wake up' });
    const now = await v1().conversations(cv.sid).fetch();
    assert.equal(now.state, 'active');
    assert.ok(new Date(now.timers.date_closed) > new Date(before.date_closed), `closed timer restarted: ${JSON.stringify([before, now.timers])}`);
    assert.ok(now.timers.date_inactive, 'the inactive timer is armed again');
  });

  it('media: synthesized for any ME SID, registered metadata through /parley/Media, 50508 for a second use, 50509', async () => {
    const cv = await v1().conversations.create({});
    const me = 'ME' + randomHex(32);
    const m = await v1().conversations(cv.sid).messages.create({ mediaSid: me });
    assert.equal(m.body, null);
    assert.deepEqual(m.media, [{ sid: me, size: 0, content_type: 'application/octet-stream', filename: null }]);
    const reg = 'ME' + randomHex(32);
    const put = await ctx.h.raw('POST', `/parley/Media/${reg}`, { body: { ContentType: 'image/jpeg', Filename: 'car.jpg', Size: '42056' } });
    assert.equal(put.status, 201, put.body);
    assert.equal((await ctx.h.raw('GET', `/parley/Media/${reg}`)).json.filename, 'car.jpg');
    assert.equal((await ctx.h.raw('GET', `/parley/Media/${reg}`, { auth: false })).status, 401);
    const bad = await ctx.h.raw('POST', `/parley/Media/MEnope`, { body: { ContentType: 'image/jpeg' } });
    assert.equal(bad.json.code, 50510);
    const both = await v1().conversations(cv.sid).messages.create({ mediaSid: reg, body: 'a caption' });
    assert.equal(both.body, 'a caption');
    assert.deepEqual(both.media, [{ sid: reg, size: 42056, content_type: 'image/jpeg', filename: 'car.jpg' }]);
    await rejectsRest(v1().conversations(cv.sid).messages.create({ mediaSid: reg }), { status: 400, code: 50508, message: 'Media already sent with another message' });
    await rejectsRest(v1().conversations(cv.sid).messages(both.sid).update({ body: 'new caption' }), { status: 400, code: 50509, message: 'Media message body cannot be updated' });
    const attrs = await v1().conversations(cv.sid).messages(both.sid).update({ attributes: '{"ok":true}' });
    assert.equal(attrs.attributes, '{"ok":true}');
  });

  it('post-events onMessageAdded/Updated/Removed with exactly their parameters, only with the header', async () => {
    const post = rx.url('/msg-post');
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onMessageAdded', 'onMessageUpdated', 'onMessageRemoved'], postWebhookUrl: post, target: 'webhook' });
    try {
      const cv = await v1().conversations.create({ messagingServiceSid: MG });
      const alice = await v1().conversations(cv.sid).participants.create({ identity: uid('alice') });
      rx.requests.length = 0;
      await v1().conversations(cv.sid).messages.create({ body: 'silent' });
      const hooked = { xTwilioWebhookEnabled: 'true' };
      const me = 'ME' + randomHex(32);
      const m = await v1().conversations(cv.sid).messages.create({ ...hooked, author: alice.identity, body: 'hi & bye', mediaSid: me, attributes: '{"a":1}' });
      await v1().conversations(cv.sid).messages(m.sid).update({ ...hooked, attributes: '{"edited":true}' });
      await v1().conversations(cv.sid).messages(m.sid).remove(hooked);
      const got = await rx.waitFor('/msg-post', 3);
      await sleep(300);
      assert.equal(rx.at('/msg-post').length, 3, 'nothing fired without the header');
      const [added, updated, removed] = got.map((r) => r.params);
      assert.deepEqual(Object.keys(added).sort(), ['AccountSid', 'Attributes', 'Author', 'Body', 'ChatServiceSid', 'ConversationSid', 'DateCreated',
        'EventType', 'Index', 'Media', 'MessageSid', 'MessagingServiceSid', 'ParticipantSid', 'RetryCount', 'Source'].sort());
      assert.equal(added.EventType, 'onMessageAdded');
      assert.equal(added.Source, 'API');
      assert.equal(added.MessageSid, m.sid);
      assert.equal(added.Index, '1');
      assert.equal(added.Body, 'hi & bye');
      assert.equal(added.Author, alice.identity);
      assert.equal(added.ParticipantSid, alice.sid);
      assert.equal(added.MessagingServiceSid, MG);
      assert.match(added.DateCreated, /\.\d{3}Z$/);
      assert.deepEqual(JSON.parse(added.Media), [{ Sid: me, Filename: null, ContentType: 'application/octet-stream', Size: 0, Category: 'media' }]);
      assert.deepEqual(Object.keys(updated).sort(), ['AccountSid', 'Attributes', 'Author', 'Body', 'ChatServiceSid', 'ConversationSid', 'DateCreated',
        'DateUpdated', 'EventType', 'Index', 'Media', 'MessageSid', 'ParticipantSid', 'RetryCount', 'Source'].sort());
      assert.equal(updated.Attributes, '{"edited":true}');
      assert.equal(updated.Body, 'hi & bye');
      assert.equal(removed.EventType, 'onMessageRemoved');
      assert.ok(removed.DateRemoved, 'DateRemoved on the removal');
      assert.ok(got.every((r) => r.headers['x-twilio-signature']), 'signed');
    } finally {
      await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '' });
    }
  });

  it('pre-events: a veto changes nothing; body, author and attributes modified; a bad modified value is refused', async () => {
    const pre = rx.url('/msg-pre');
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onMessageAdd', 'onMessageUpdate', 'onMessageRemove'], preWebhookUrl: pre, target: 'webhook' });
    const hooked = { xTwilioWebhookEnabled: 'true' };
    try {
      const cv = await v1().conversations.create({});
      const bob = await v1().conversations(cv.sid).participants.create({ identity: uid('bob') });
      rx.rules['/msg-pre'] = { status: 403 };
      rx.requests.length = 0;
      await rejectsRest(v1().conversations(cv.sid).messages.create({ ...hooked, body: 'vetoed' }), { status: 400, code: 50056 });
      const add = rx.at('/msg-pre')[0].params;
      assert.deepEqual(Object.keys(add).sort(), ['AccountSid', 'Attributes', 'Author', 'Body', 'ChatServiceSid', 'ConversationSid', 'EventType', 'RetryCount', 'Source'].sort());
      assert.equal((await v1().conversations(cv.sid).messages.list()).length, 0, 'a veto wrote nothing');
      // a veto takes no index either
      rx.rules['/msg-pre'] = { status: 200, body: JSON.stringify({ body: 'rewritten', author: bob.identity, attributes: '{"by":"hook"}' }) };
      const m = await v1().conversations(cv.sid).messages.create({ ...hooked, body: 'original' });
      assert.equal(m.index, 0);
      assert.equal(m.body, 'rewritten');
      assert.equal(m.author, bob.identity);
      assert.equal(m.participantSid, bob.sid, 'a modified author re-resolves the participant');
      assert.equal(m.attributes, '{"by":"hook"}');
      rx.rules['/msg-pre'] = { status: 200, body: JSON.stringify({ body: 'x'.repeat(32 * 1024 + 1) }) };
      await rejectsRest(v1().conversations(cv.sid).messages.create({ ...hooked, body: 'short' }), { status: 400, code: 50504 });
      rx.rules['/msg-pre'] = { status: 200, body: JSON.stringify({ attributes: '{broken' }) };
      await rejectsRest(v1().conversations(cv.sid).messages(m.sid).update({ ...hooked, body: 'edit' }), { status: 400, code: 50304 });
      rx.rules['/msg-pre'] = { status: 403 };
      await rejectsRest(v1().conversations(cv.sid).messages(m.sid).remove(hooked), { status: 400, code: 50056 });
      const still = await v1().conversations(cv.sid).messages(m.sid).fetch();
      assert.equal(still.body, 'rewritten');
      assert.equal(still.attributes, '{"by":"hook"}');
    } finally {
      rx.rules['/msg-pre'] = { status: 200 };
      await v1().configuration.webhooks().update({ filters: [], preWebhookUrl: '' });
    }
  });

  it("another account's conversation and messages are 404 on both families", async () => {
    const cv = await v1().conversations.create({});
    const m = await v1().conversations(cv.sid).messages.create({ body: 'mine' });
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const client = ctx.h.newClient(f.account_sid, f.auth_token);
    const IS2 = (await client.conversations.v1.configuration().fetch()).defaultChatServiceSid;
    await rejectsRest(client.conversations.v1.conversations(cv.sid).messages(m.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(client.conversations.v1.conversations(cv.sid).messages.create({ body: 'theirs' }), { status: 404, code: 20404 });
    await rejectsRest(client.conversations.v1.services(IS2).conversations(cv.sid).messages.create({ body: 'theirs' }), { status: 404, code: 20404 });
    // the missing conversation outranks a parameter error, also where the write is what finds it
    await rejectsRest(client.conversations.v1.conversations(cv.sid).messages.create({ body: 'x', attributes: 'not json' }), { status: 404, code: 20404 });
    assert.deepEqual((await v1().conversations(cv.sid).messages.list()).map((x) => x.sid), [m.sid]);
    await rejectsRest(client.conversations.v1.services(IS2).conversations(cv.sid).messages(m.sid).remove(), { status: 404, code: 20404 });
    await rejectsRest(client.conversations.v1.services(IS).conversations(cv.sid).messages.list(), { status: 404, code: 20404 });
  });

  it('kill -9 right after a 2xx message create loses nothing', async () => {
    const cv = await v1().conversations.create({});
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await v1().conversations(cv.sid).messages.create({ body: `durable ${i}` })).sid);
    await ctx.h.kill9();
    await ctx.h.restart();
    const listed = await ctx.h.client.conversations.v1.conversations(cv.sid).messages.list();
    assert.deepEqual(listed.map((m) => m.sid), made);
    const next = await ctx.h.client.conversations.v1.conversations(cv.sid).messages.create({ body: 'after the crash' });
    assert.equal(next.index, 5);
  });
});

e2eSuite('messages, strict media', { args: ['--media-strict'] }, (ctx, it) => {
  it('an unregistered MediaSid is 50507 and changes nothing; a registered one passes', async () => {
    const v1 = ctx.h.client.conversations.v1;
    const cv = await v1.conversations.create({});
    const me = 'ME' + randomHex(32);
    await rejectsRest(v1.conversations(cv.sid).messages.create({ mediaSid: me }), { status: 400, code: 50507, message: 'Media not found' });
    assert.equal((await v1.conversations(cv.sid).messages.list()).length, 0);
    const put = await ctx.h.raw('POST', `/parley/Media/${me}`, { body: { ContentType: 'image/png', Size: '7' } });
    assert.equal(put.status, 201, put.body);
    const m = await v1.conversations(cv.sid).messages.create({ mediaSid: me });
    assert.deepEqual(m.media, [{ sid: me, size: 7, content_type: 'image/png', filename: null }]);
    assert.equal(m.index, 0, 'the refused create took no index');
  });
});

// keep `start` referenced for suites that start their own servers
void start;
