// Participants through twilio-node on both path families (BEHAVIOUR-conversations §2): the three kinds, the
// auto-created user, fetch by SID or identity (with "+", "@", spaces and non-ASCII letters), update, delete,
// every error code with its status (and that a refusal changes nothing), the closed guard, the limits, the
// bound number pair, paging with each(), 20 parallel creates of one identity, events, account isolation.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest, SID_RE, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'a'.repeat(32);

e2eSuite('participants', { args: ['--pre-webhook-timeout', '700'] }, (ctx, it) => {
  let IS;
  let roles;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const hooked = { xTwilioWebhookEnabled: 'true' };
  // distinct phone numbers per test
  let phone = 5550000;
  const number = () => `+1415${++phone}`;

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  const families = [
    {
      name: 'short family',
      conversations: () => v1().conversations,
      base: () => `${ctx.h.url}/v1`,
      rel: '/v1',
    },
    {
      name: 'service family',
      conversations: () => v1().services(IS).conversations,
      base: () => `${ctx.h.url}/v1/Services/${IS}`,
      rel: () => `/v1/Services/${IS}`,
    },
  ];
  const rel = (fam) => (typeof fam.rel === 'function' ? fam.rel() : fam.rel);

  const parts = (cv, fam = families[0]) => fam.conversations()(cv.sid).participants;
  const newConversation = (fam, opts = {}) => fam.conversations().create({ friendlyName: uid('conv'), ...opts });
  const list = async (fam, ch) => (await ctx.h.raw('GET', `${rel(fam)}/Conversations/${ch}/Participants?PageSize=100`)).json;

  /** Every field of a twilio-node ParticipantInstance, and the raw keys in the spec's order. */
  function checkParticipant(p, fam, ch, exp) {
    assert.match(p.sid, SID_RE('MB'));
    assert.equal(p.accountSid, ctx.h.accountSid);
    assert.equal(p.conversationSid, ch);
    assert.equal(p.identity, exp.identity ?? null);
    assert.equal(p.attributes, exp.attributes ?? '{}');
    assert.deepEqual(p.messagingBinding, exp.messagingBinding ?? null);
    assert.equal(p.roleSid, exp.roleSid ?? roles['channel user'].sid);
    assert.ok(p.dateCreated instanceof Date && !Number.isNaN(p.dateCreated.getTime()));
    assert.ok(p.dateUpdated instanceof Date && !Number.isNaN(p.dateUpdated.getTime()));
    assert.equal(p.url, `${fam.base()}/Conversations/${ch}/Participants/${p.sid}`);
    assert.equal(p.lastReadMessageIndex, exp.lastReadMessageIndex ?? null);
    assert.equal(p.lastReadTimestamp, exp.lastReadTimestamp ?? null);
  }

  for (const fam of families) {
    it(`${fam.name}: a chat participant by identity; its user is created with the default user role`, async () => {
      const cv = await newConversation(fam);
      const identity = uid('chat');
      await assert.rejects(v1().users(identity).fetch(), { status: 404 });
      const p = await parts(cv, fam).create({ identity });
      checkParticipant(p, fam, cv.sid, { identity });
      const raw = await ctx.h.raw('GET', `${rel(fam)}/Conversations/${cv.sid}/Participants/${p.sid}`);
      const keys = ['account_sid', 'conversation_sid', 'sid', 'identity', 'attributes', 'messaging_binding', 'role_sid',
        'date_created', 'date_updated', 'url', 'last_read_message_index', 'last_read_timestamp'];
      if (fam.name === 'service family') keys.splice(1, 0, 'chat_service_sid');
      assert.deepEqual(Object.keys(raw.json), keys);
      if (fam.name === 'service family') assert.equal(raw.json.chat_service_sid, IS);
      const u = await v1().users(identity).fetch();
      assert.equal(u.roleSid, roles['service user'].sid);
      assert.equal(u.friendlyName, null);
      assert.equal(u.attributes, '{}');
      // an existing user is kept as it is
      const known = uid('known');
      const before = await v1().users.create({ identity: known, friendlyName: 'Known', roleSid: roles['service admin'].sid });
      await parts(cv, fam).create({ identity: known });
      const again = await v1().users(known).fetch();
      assert.equal(again.roleSid, roles['service admin'].sid);
      assert.equal(again.dateUpdated.getTime(), before.dateUpdated.getTime());
    });

    it(`${fam.name}: fetch, update and delete by SID or identity ("+", "@", spaces, non-ASCII)`, async () => {
      const cv = await newConversation(fam);
      for (const identity of ['p+q@example.com', 'with space', 'Ωmega_ünïcödé-ß', `plain-${randomHex(4)}`]) {
        const p = await parts(cv, fam).create({ identity, attributes: '{"a": 1}' });
        const key = encodeURIComponent(identity);
        const bySid = await parts(cv, fam)(p.sid).fetch();
        const byIdentity = await parts(cv, fam)(key).fetch();
        assert.equal(byIdentity.sid, p.sid);
        assert.deepEqual(byIdentity.toJSON(), bySid.toJSON());
        assert.equal(byIdentity.url, `${fam.base()}/Conversations/${cv.sid}/Participants/${p.sid}`, 'url uses the SID');
        const upd = await parts(cv, fam)(key).update({ attributes: '[1, 2]' });
        assert.equal(upd.attributes, '[1, 2]');
        assert.equal(upd.identity, identity);
        await parts(cv, fam)(key).remove();
        await rejectsRest(parts(cv, fam)(p.sid).fetch(), { status: 404, code: 20404 });
        await rejectsRest(parts(cv, fam)(key).remove(), { status: 404, code: 20404 });
      }
    });

    it(`${fam.name}: the conversation may be named by its unique name; an unknown one is 404`, async () => {
      const unique = `room ${randomHex(4)} +é`;
      const cv = await newConversation(fam, { uniqueName: unique });
      const p = await fam.conversations()(encodeURIComponent(unique)).participants.create({ identity: uid('u') });
      assert.equal(p.conversationSid, cv.sid);
      assert.equal(p.url, `${fam.base()}/Conversations/${cv.sid}/Participants/${p.sid}`);
      const gone = 'CH' + randomHex(32);
      await rejectsRest(fam.conversations()(gone).participants.create({ identity: 'x' }), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()(gone).participants.list(), { status: 404, code: 20404 });
      await rejectsRest(fam.conversations()(gone).participants('x').fetch(), { status: 404, code: 20404 });
      await rejectsRest(parts(cv, fam)('MB' + randomHex(32)).fetch(), { status: 404, code: 20404 });
    });

    it(`${fam.name}: update attributes, role, read horizon and dates`, async () => {
      const cv = await newConversation(fam);
      const p = await parts(cv, fam).create({ identity: uid('upd') });
      const convRole = await v1().roles.create({ friendlyName: uid('conv-role'), type: 'conversation', permission: ['sendMessage'] });
      const u = await parts(cv, fam)(p.sid).update({ roleSid: convRole.sid, lastReadMessageIndex: 7, lastReadTimestamp: '2024-01-02T03:04:05Z' });
      checkParticipant(u, fam, cv.sid, { identity: p.identity, roleSid: convRole.sid, lastReadMessageIndex: 7, lastReadTimestamp: '2024-01-02T03:04:05Z' });
      assert.ok(u.dateUpdated.getTime() >= p.dateUpdated.getTime());
      // null clears the horizon (the string: twilio-node sends no parameter for JS null)
      const cleared = await ctx.h.raw('POST', `${rel(fam)}/Conversations/${cv.sid}/Participants/${p.sid}`, { body: { LastReadMessageIndex: 'null' } });
      assert.equal(cleared.status, 200, cleared.body);
      assert.equal(cleared.json.last_read_message_index, null);
      assert.equal(cleared.json.last_read_timestamp, '2024-01-02T03:04:05Z');
      const dated = await parts(cv, fam)(p.sid).update({ dateCreated: new Date('2020-05-06T07:08:09Z'), dateUpdated: new Date('2021-05-06T07:08:09Z') });
      assert.equal(dated.dateCreated.toISOString(), '2020-05-06T07:08:09.000Z');
      assert.equal(dated.dateUpdated.toISOString(), '2021-05-06T07:08:09.000Z');
      const created = await parts(cv, fam).create({ identity: uid('dated'), dateCreated: new Date('2019-01-01T00:00:00Z') });
      assert.equal(created.dateCreated.toISOString(), '2019-01-01T00:00:00.000Z');
    });

    it(`${fam.name}: non-chat participants: the messaging_binding object and its types`, async () => {
      const cv = await newConversation(fam, { messagingServiceSid: MG });
      const address = number();
      const proxy = number();
      const sms = await parts(cv, fam).create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy });
      checkParticipant(sms, fam, cv.sid, { messagingBinding: { type: 'sms', address, proxy_address: proxy } });
      const wa = await parts(cv, fam).create({ 'messagingBinding.address': `whatsapp:${number()}`, 'messagingBinding.proxyAddress': `whatsapp:${proxy}` });
      assert.equal(wa.messagingBinding.type, 'whatsapp');
      assert.equal(wa.identity, null);
      // Group MMS: the business number (projected address), a chat member with one, an SMS member without a proxy
      const group = await newConversation(fam, { messagingServiceSid: MG });
      const projected = number();
      const biz = await parts(group, fam).create({ 'messagingBinding.projectedAddress': projected });
      assert.deepEqual(biz.messagingBinding, { type: 'sms', projected_address: projected });
      const agent = await parts(group, fam).create({ identity: uid('agent'), 'messagingBinding.projectedAddress': projected });
      assert.deepEqual(agent.messagingBinding, { type: 'sms', projected_address: projected });
      const member = number();
      const m = await parts(group, fam).create({ 'messagingBinding.address': member });
      assert.deepEqual(m.messagingBinding, { type: 'sms', address: member });
      // without a group, an address needs its proxy
      await rejectsRest(parts(cv, fam).create({ 'messagingBinding.address': number() }), { status: 400, code: 50412, message: 'Participant proxy address is empty' });
    });

    it(`${fam.name}: list and page with each()`, async () => {
      const cv = await newConversation(fam);
      const made = [];
      for (let i = 0; i < 23; i++) made.push((await parts(cv, fam).create({ identity: uid('page') })).sid);
      const seen = [];
      await parts(cv, fam).each({ pageSize: 5 }, (p) => seen.push(p.sid));
      assert.deepEqual(seen, made, 'every participant once, in creation order');
      const page = await ctx.h.raw('GET', `${rel(fam)}/Conversations/${cv.sid}/Participants?PageSize=5`);
      assert.equal(page.json.meta.key, 'participants');
      assert.equal(page.json.meta.url, `${fam.base()}/Conversations/${cv.sid}/Participants?PageSize=5&Page=0`);
      assert.match(page.json.meta.next_page_url, new RegExp(`^${fam.base()}/Conversations/${cv.sid}/Participants\\?PageSize=5&Page=1&PageToken=`));
    });
  }

  const unchanged = async (ch, fn) => {
    const before = JSON.stringify(await list(families[0], ch));
    const users = JSON.stringify((await ctx.h.raw('GET', '/v1/Users?PageSize=1000')).json.users);
    await fn();
    assert.equal(JSON.stringify(await list(families[0], ch)), before, 'a refused request changed the participants');
    assert.equal(JSON.stringify((await ctx.h.raw('GET', '/v1/Users?PageSize=1000')).json.users), users, 'a refused request changed the users');
  };

  it('create refusals: every code with its status, and nothing changes', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const plain = await v1().conversations.create({});
    const chat = await parts(cv).create({ identity: 'dup' });
    const taken = { address: number(), proxy: number() };
    await parts(cv).create({ 'messagingBinding.address': taken.address, 'messagingBinding.proxyAddress': taken.proxy });
    const serviceRole = roles['service user'].sid;
    const cases = [
      [{}, 400, 50204, 'Identity not provided'],
      [{ identity: 'x', 'messagingBinding.address': number() }, 400, 50211, 'Identity parameter not acceptable for this Participant'],
      [{ identity: 'x', 'messagingBinding.proxyAddress': number() }, 400, 50211],
      [{ identity: 'US' + randomHex(32) }, 400, 50206, 'Identity should not match user SID pattern'],
      [{ identity: 'i'.repeat(257) }, 400, 50207, 'Identity too long'],
      [{ 'messagingBinding.address': 'not a number', 'messagingBinding.proxyAddress': number() }, 400, 50407, 'Invalid messaging binding address'],
      [{ 'messagingBinding.address': '+1' + '2'.repeat(300), 'messagingBinding.proxyAddress': number() }, 400, 50407],
      [{ 'messagingBinding.address': number(), 'messagingBinding.projectedAddress': number() }, 400, 50407],
      [{ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': 'nope' }, 400, 50408, 'Invalid participant proxy address'],
      [{ 'messagingBinding.address': '+14155550999', 'messagingBinding.proxyAddress': '+14155550999' }, 400, 50409, 'Participant address equals proxy address'],
      [{ 'messagingBinding.address': '', 'messagingBinding.proxyAddress': number() }, 400, 50411, 'Participant address is empty'],
      [{ 'messagingBinding.proxyAddress': number() }, 400, 50411],
      [{ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': '' }, 400, 50412, 'Participant proxy address is empty'],
      [{ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': `whatsapp:${number()}` }, 400, 50414, 'Participant address type does not match proxy address type'],
      [{ identity: 'r1', roleSid: 'RL' + randomHex(32) }, 400, 50109, 'Conversation role not found'],
      [{ identity: 'r2', roleSid: serviceRole }, 400, 50109, 'Conversation role not found'],
      [{ identity: 'r3', roleSid: 'XX' + randomHex(32) }, 400, 20423],
      [{ identity: 'a1', attributes: '{bad' }, 400, 50304, 'Attributes not valid JSON'],
      [{ identity: 'a2', attributes: JSON.stringify({ k: 'x'.repeat(4100) }) }, 400, 50303, 'Attributes too long'],
      [{ identity: 'dup' }, 409, 50433, 'Participant already exists'],
      [{ 'messagingBinding.address': taken.address, 'messagingBinding.proxyAddress': taken.proxy }, 409, 50416,
        `A binding for this participant and proxy address already exists in Conversation ${cv.sid}`],
    ];
    await unchanged(cv.sid, async () => {
      for (const [params, status, code, message] of cases) {
        await rejectsRest(parts(cv).create(params), { status, code, message });
      }
      const bad = await ctx.h.raw('POST', `/v1/Conversations/${cv.sid}/Participants`, { body: { Identity: 'd1', DateCreated: 'yesterday' } });
      assert.equal(bad.json?.code, 50308, bad.body);
      assert.equal(bad.status, 400);
    });
    // the pair is taken account-wide, by another conversation too
    const other = await v1().conversations.create({ messagingServiceSid: MG });
    await rejectsRest(parts(other).create({ 'messagingBinding.address': taken.address, 'messagingBinding.proxyAddress': taken.proxy }), {
      status: 409, code: 50416, message: `A binding for this participant and proxy address already exists in Conversation ${cv.sid}`,
    });
    // a conversation without a messaging service takes chat participants only
    await rejectsRest(parts(plain).create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() }), {
      status: 400, code: 50373, message: 'No Messaging Service assigned to Conversation',
    });
    assert.equal(chat.identity, 'dup');
  });

  it('a closed conversation refuses participant writes (50377) and frees its number pairs', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const p = await parts(cv).create({ identity: uid('closing') });
    const pair = { 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() };
    await parts(cv).create(pair);
    await cv.update({ state: 'closed' });
    const closed = { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" };
    await unchanged(cv.sid, async () => {
      await rejectsRest(parts(cv).create({ identity: uid('late') }), closed);
      await rejectsRest(parts(cv)(p.sid).update({ attributes: '{"x":1}' }), closed);
      await rejectsRest(parts(cv)(p.sid).remove(), closed);
    });
    assert.equal((await parts(cv)(p.sid).fetch()).sid, p.sid, 'reads still work');
    assert.equal((await parts(cv).list()).length, 2);
    const next = await v1().conversations.create({ messagingServiceSid: MG });
    const reused = await parts(next).create(pair);
    assert.equal(reused.messagingBinding.address, pair['messagingBinding.address']);
  });

  it('update refusals: every code, and nothing changes', async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const chat = await parts(cv).create({ identity: uid('u') });
    const sms = await parts(cv).create({ 'messagingBinding.address': number(), 'messagingBinding.proxyAddress': number() });
    const noProxyGroup = await v1().conversations.create({ messagingServiceSid: MG });
    const biz = await parts(noProxyGroup).create({ 'messagingBinding.projectedAddress': number() });
    const member = await parts(noProxyGroup).create({ 'messagingBinding.address': number() });
    const cases = [
      [chat, { lastReadMessageIndex: 'abc' }, 400, 50421, 'Invalid last read message index format'],
      [chat, { lastReadMessageIndex: '-1' }, 400, 50421],
      [chat, { lastReadTimestamp: 'soon' }, 400, 50405, 'Invalid last consumption timestamp format'],
      [chat, { roleSid: roles['service admin'].sid }, 400, 50109],
      [chat, { attributes: '{' }, 400, 50304],
      [chat, { identity: 'other' }, 400, 50444, 'Failed to add an identity to a participant'],
      [chat, { 'messagingBinding.proxyAddress': number() }, 400, 50441, 'Failed to add a proxy address to a participant'],
      [sms, { 'messagingBinding.proxyAddress': number() }, 400, 50441],
      [chat, { 'messagingBinding.proxyAddress': 'null' }, 400, 50440, 'Failed to remove the proxy address of a participant'],
      [chat, { 'messagingBinding.projectedAddress': 'null' }, 400, 50442, 'Failed to remove the projected address of a participant'],
      [sms, { 'messagingBinding.projectedAddress': number() }, 400, 50443, 'Failed to add a projected address to a participant'],
    ];
    await unchanged(cv.sid, async () => {
      for (const [p, params, status, code, message] of cases) {
        await rejectsRest(v1().conversations(p.conversationSid).participants(p.sid).update(params), { status, code, message });
      }
      const empty = await ctx.h.raw('POST', `/v1/Conversations/${cv.sid}/Participants/${chat.sid}`, { body: {} });
      assert.equal(empty.status, 400);
      assert.equal(empty.json.code, 20161);
    });
    // remove then add a proxy address; give a projected-address participant an identity
    const removed = await parts(cv)(sms.sid).update({ 'messagingBinding.proxyAddress': 'null' });
    assert.equal(removed.messagingBinding.proxy_address, undefined);
    const proxy = number();
    const readded = await parts(cv)(sms.sid).update({ 'messagingBinding.proxyAddress': proxy });
    assert.equal(readded.messagingBinding.proxy_address, proxy);
    const named = await parts(noProxyGroup)(biz.sid).update({ identity: uid('biz') });
    assert.equal(named.identity.startsWith('biz-'), true);
    assert.ok(member.sid);
  });

  it('limits: 50 non-chat participants, 1000 in all, 1000 conversations per identity', { timeout: 240_000 }, async () => {
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    const proxy = number();
    for (let i = 0; i < 50; i++) {
      await ctx.h.raw('POST', `/v1/Conversations/${cv.sid}/Participants`, { body: { 'MessagingBinding.Address': `+1650${2000000 + i}`, 'MessagingBinding.ProxyAddress': proxy } });
    }
    await rejectsRest(parts(cv).create({ 'messagingBinding.address': '+16509999999', 'messagingBinding.proxyAddress': proxy }), {
      status: 400, code: 50418, message: 'Non-Chat participants limit exceeded',
    });
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 8 });
    const { sendOn } = await import('./harness.mjs');
    const batch = [];
    for (let i = 0; i < 950; i++) batch.push(sendOn(ctx.h, agent, 'POST', `/v1/Conversations/${cv.sid}/Participants`, { Identity: `limit-${i}` }));
    const res = await Promise.all(batch);
    assert.equal(res.filter((r) => r.status === 201).length, 950);
    await rejectsRest(parts(cv).create({ identity: 'one-too-many' }), { status: 400, code: 50417, message: 'Participants limit exceeded' });
    // an identity in 1000 conversations joins no further one (50214)
    const convs = await Promise.all(Array.from({ length: 1000 }, () => sendOn(ctx.h, agent, 'POST', '/v1/Conversations', {})));
    assert.equal(convs.filter((r) => r.status === 201).length, 1000);
    const joins = await Promise.all(convs.map((c) => sendOn(ctx.h, agent, 'POST', `/v1/Conversations/${c.json.sid}/Participants`, { Identity: 'everywhere' })));
    assert.equal(joins.filter((r) => r.status === 201).length, 1000);
    const last = await v1().conversations.create({});
    await rejectsRest(parts(last).create({ identity: 'everywhere' }), { status: 400, code: 50214, message: 'User conversation limit exceeded' });
    assert.equal((await parts(last).create({ identity: 'elsewhere' })).identity, 'elsewhere');
    agent.destroy();
  });

  it('20 parallel creates of one identity: exactly one 201, the others 409/50433', async () => {
    const cv = await v1().conversations.create({});
    const identity = uid('race');
    const all = await Promise.allSettled(Array.from({ length: 20 }, () => parts(cv).create({ identity })));
    const ok = all.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 1, 'exactly one create succeeded');
    for (const r of all.filter((x) => x.status === 'rejected')) {
      assert.equal(r.reason.status, 409);
      assert.equal(r.reason.code, 50433);
    }
    assert.equal((await parts(cv).list()).length, 1);
    assert.equal((await v1().users(identity).fetch()).identity, identity, 'one user was created');
  });

  it('deleting the conversation deletes its participants (cascade)', async () => {
    const cv = await v1().conversations.create({ uniqueName: uid('cascade') });
    const p = await parts(cv).create({ identity: uid('c') });
    await cv.remove();
    await rejectsRest(v1().conversations(cv.sid).participants(p.sid).fetch(), { status: 404, code: 20404 });
    // the identity may join a new conversation of the same unique name
    const again = await v1().conversations.create({ uniqueName: cv.uniqueName });
    assert.equal((await parts(again).create({ identity: p.identity })).identity, p.identity);
  });

  it('another account sees none of it: 404 on both path families', async () => {
    const cv = await v1().conversations.create({});
    const p = await parts(cv).create({ identity: uid('mine') });
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const ov1 = ctx.h.newClient(f.account_sid, f.auth_token).conversations.v1;
    const IS2 = (await ov1.configuration().fetch()).defaultChatServiceSid;
    await rejectsRest(ov1.services(IS2).conversations(cv.sid).participants(p.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(ov1.conversations(cv.sid).participants(p.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(ov1.conversations(cv.sid).participants.list(), { status: 404, code: 20404 });
    await rejectsRest(ov1.conversations(cv.sid).participants.create({ identity: 'x' }), { status: 404, code: 20404 });
    await rejectsRest(ov1.services(IS2).conversations(cv.sid).participants.create({ identity: 'x' }), { status: 404, code: 20404 });
    // the missing conversation outranks a parameter error, also where the write is what finds it
    await rejectsRest(ov1.conversations(cv.sid).participants.create({ identity: 'x', attributes: 'not json' }), { status: 404, code: 20404 });
    await rejectsRest(ov1.conversations(cv.sid).participants.create({}), { status: 404, code: 20404 });
    await rejectsRest(ov1.conversations(cv.sid).participants(p.sid).remove(), { status: 404, code: 20404 });
    await rejectsRest(ov1.services(IS).conversations(cv.sid).participants(p.sid).fetch(), { status: 404, code: 20404 });
    assert.equal((await parts(cv)(p.sid).fetch()).sid, p.sid);
    assert.deepEqual((await parts(cv).list()).map((x) => x.sid), [p.sid]);
  });

  it('events: onParticipantAdded/Updated/Removed with exactly the catalogue parameters; none without the header', async () => {
    const post = `http://127.0.0.1:${rx.port}/post`;
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved'], postWebhookUrl: post, target: 'webhook' });
    const cv = await v1().conversations.create({ messagingServiceSid: MG });
    rx.requests.length = 0;
    await parts(cv).create({ identity: uid('quiet') });
    const identity = uid('loud');
    const p = await parts(cv).create({ identity, attributes: '{"k":"v"}', ...hooked });
    const u = await parts(cv)(p.sid).update({ lastReadMessageIndex: 3, ...hooked });
    await parts(cv)(p.sid).remove(hooked);
    const address = number();
    const proxy = number();
    const sms = await parts(cv).create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': proxy, ...hooked });
    for (let i = 0; i < 100 && rx.requests.length < 4; i++) await sleep(50);
    await sleep(200);
    assert.equal(rx.requests.length, 4, JSON.stringify(rx.requests.map((r) => r.params.EventType)));
    // dates carry milliseconds (BEHAVIOUR §10.2.3); the REST body has whole seconds of the same instant
    const dated = (params, keys) => {
      const out = { ...params };
      for (const [k, d] of Object.entries(keys)) {
        assert.match(out[k], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, k);
        assert.equal(Math.floor(Date.parse(out[k]) / 1000) * 1000, d.getTime(), k);
        out[k] = d.toISOString();
      }
      return out;
    };
    const [added, updated, removed, smsAdded] = rx.requests.map((r) => r.params);
    Object.assign(added, dated(added, { DateCreated: p.dateCreated }));
    Object.assign(updated, dated(updated, { DateCreated: p.dateCreated, DateUpdated: u.dateUpdated }));
    Object.assign(removed, dated(removed, { DateCreated: p.dateCreated, DateUpdated: u.dateUpdated }));
    Object.assign(smsAdded, dated(smsAdded, { DateCreated: sms.dateCreated }));
    const common = { AccountSid: ctx.h.accountSid, ChatServiceSid: IS, Source: 'API', RetryCount: '0', ConversationSid: cv.sid };
    const ms = (d) => d.toISOString();
    assert.deepEqual(added, { ...common, EventType: 'onParticipantAdded', ParticipantSid: p.sid, DateCreated: ms(p.dateCreated), Identity: identity,
      RoleSid: roles['channel user'].sid, Attributes: '{"k":"v"}', 'MessagingBinding.Type': 'CHAT' });
    assert.deepEqual(updated, { ...common, EventType: 'onParticipantUpdated', ParticipantSid: p.sid, DateCreated: ms(p.dateCreated), DateUpdated: ms(u.dateUpdated),
      Identity: identity, RoleSid: roles['channel user'].sid, Attributes: '{"k":"v"}', 'MessagingBinding.Type': 'CHAT', LastReadMessageIndex: '3' });
    assert.match(removed.DateRemoved, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const { DateRemoved, ...rest } = removed;
    assert.deepEqual(rest, { ...common, EventType: 'onParticipantRemoved', ParticipantSid: p.sid, DateCreated: ms(p.dateCreated), DateUpdated: ms(u.dateUpdated),
      Identity: identity, RoleSid: roles['channel user'].sid, Attributes: '{"k":"v"}', 'MessagingBinding.Type': 'CHAT' });
    assert.ok(DateRemoved);
    assert.deepEqual(smsAdded, { ...common, EventType: 'onParticipantAdded', ParticipantSid: sms.sid, DateCreated: ms(sms.dateCreated),
      RoleSid: roles['channel user'].sid, Attributes: '{}', 'MessagingBinding.Address': address, 'MessagingBinding.ProxyAddress': proxy, 'MessagingBinding.Type': 'SMS' });
    await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '' });
  });

  it('pre-events: onParticipantAdd/Update/Remove veto changes nothing; a 200 lets it through', async () => {
    const pre = `http://127.0.0.1:${rx.port}/pre`;
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onParticipantAdd', 'onParticipantUpdate', 'onParticipantRemove'], preWebhookUrl: pre, target: 'webhook' });
    const cv = await v1().conversations.create({});
    const p = await parts(cv).create({ identity: uid('pre') });
    rx.rules['/pre'] = { status: 403 };
    rx.requests.length = 0;
    await unchanged(cv.sid, async () => {
      await rejectsRest(parts(cv).create({ identity: uid('vetoed'), ...hooked }), { status: 400, code: 50056 });
      await rejectsRest(parts(cv)(p.sid).update({ attributes: '{"no":1}', ...hooked }), { status: 400, code: 50056 });
      await rejectsRest(parts(cv)(p.sid).remove(hooked), { status: 400, code: 50056 });
    });
    assert.deepEqual(rx.requests.map((r) => r.params.EventType), ['onParticipantAdd', 'onParticipantUpdate', 'onParticipantRemove']);
    const add = rx.requests[0].params;
    assert.equal(add.ParticipantSid, undefined, 'onParticipantAdd has no ParticipantSid');
    assert.equal(add.ConversationSid, cv.sid);
    assert.equal(add.RoleSid, roles['channel user'].sid);
    assert.equal(rx.requests[1].params.ParticipantSid, p.sid);
    rx.rules['/pre'] = { status: 200 };
    const through = await parts(cv).create({ identity: uid('allowed'), ...hooked });
    assert.match(through.sid, SID_RE('MB'));
    await parts(cv)(through.sid).remove(hooked);
    await rejectsRest(parts(cv)(through.sid).fetch(), { status: 404, code: 20404 });
    await v1().configuration.webhooks().update({ filters: [], preWebhookUrl: '' });
  });
});

// BEHAVIOUR-conversations §0.4: "allow participant DELETE on closed" is a switch, off by default (above).
e2eSuite('participants with --closed-allows-delete', { args: ['--closed-allows-delete'] }, (ctx, it) => {
  it('a closed conversation lets its participants go; every other write is still 50377', async () => {
    const v1 = ctx.h.client.conversations.v1;
    const cv = await v1.conversations.create({});
    const stay = await v1.conversations(cv.sid).participants.create({ identity: 'stays' });
    const go = await v1.conversations(cv.sid).participants.create({ identity: 'goes' });
    await v1.conversations(cv.sid).participants.create({ identity: 'leaves' });
    await v1.conversations(cv.sid).update({ state: 'closed' });
    const closed = { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" };
    await rejectsRest(v1.conversations(cv.sid).participants.create({ identity: 'late' }), closed);
    await rejectsRest(v1.conversations(cv.sid).participants(stay.sid).update({ attributes: '{"a":1}' }), closed);
    await rejectsRest(v1.users('leaves').userConversations(cv.sid).update({ notificationLevel: 'muted' }), closed);
    await v1.conversations(cv.sid).participants(go.sid).remove();
    await v1.users('leaves').userConversations(cv.sid).remove();
    assert.deepEqual((await v1.conversations(cv.sid).participants.list()).map((p) => p.identity), ['stays']);
  });
});
