// Conversation-scoped webhooks through twilio-node (BEHAVIOUR-conversations §5): the ten operations on both path
// families, every rule of §5.2 with its code (each refusal changing nothing), the limit of five, the closed guard,
// the configuration object by target, isolation between accounts; and delivery (§5.3): a local receiver validates
// X-Twilio-Signature with twilio-node's validateRequest and sees WebhookSid, for POST and GET targets, only for the
// events the target takes, in order, retried after a failing receiver, in the delivery log; the cascade on the
// conversation's delete. Trigger keyword matching on message bodies is covered by tests/unit/test_scoped_webhooks.c
// until messages exist.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import twilio from 'twilio';
import { after, before, describe, test } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, form, PG_BASE, randomHex, rejectsRest, sleep, start, SID_RE, DATE_RE } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FLOW = 'FW' + 'a'.repeat(32);
const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;

e2eSuite('conversation-scoped webhooks', {}, (ctx, it) => {
  let IS;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(6)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const on = { xTwilioWebhookEnabled: 'true' };
  const FAMILIES = ['short', 'service'];
  const convs = (family) => (family === 'short' ? v1().conversations : v1().services(IS).conversations);
  const base = (family) => (family === 'short' ? '/v1' : `/v1/Services/${IS}`);
  const hookOf = (url, filters = ['onConversationUpdated']) => ({
    target: 'webhook',
    'configuration.url': url,
    'configuration.filters': filters,
  });

  function signed(req) {
    assert.equal(req.headers['user-agent'], 'TwilioProxy/1.1');
    assert.match(req.headers['i-twilio-idempotency-token'], UUID);
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    // a GET target's parameters are in its URL, which the signature covers
    const params = req.method === 'POST' ? req.params : {};
    assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, params), `signature of ${req.method} ${req.url} ${req.raw}`);
  }

  /** The raw list of a conversation's webhooks on a family: what a refused request must leave unchanged. */
  const snapshot = async (family, ch) => (await ctx.h.raw('GET', `${base(family)}/Conversations/${ch}/Webhooks`)).body;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  for (const family of FAMILIES) {
    it(`${family} family: create, fetch, list, update and delete, with the spec's keys and the configuration by target`, async () => {
      const c = await convs(family).create({ uniqueName: uid('crud') });
      const hooks = () => convs(family)(c.sid).webhooks;
      const w = await hooks().create(hookOf('https://example.com/a', ['onMessageAdded', 'onParticipantAdded']));
      assert.match(w.sid, SID_RE('WH'));
      assert.equal(w.accountSid, ctx.h.accountSid);
      assert.equal(w.conversationSid, c.sid);
      assert.equal(w.target, 'webhook');
      assert.deepEqual(w.configuration, { url: 'https://example.com/a', method: 'post', filters: ['onMessageAdded', 'onParticipantAdded'] });
      assert.equal(w.url, `${ctx.h.url}${base(family)}/Conversations/${c.sid}/Webhooks/${w.sid}`);
      // the spec's keys in order; chat_service_sid on the service family only
      const raw = await ctx.h.raw('GET', `${base(family)}/Conversations/${c.sid}/Webhooks/${w.sid}`);
      assert.equal(raw.status, 200);
      const keys = ['sid', 'account_sid', 'conversation_sid', 'target', 'url', 'configuration', 'date_created', 'date_updated'];
      if (family === 'service') keys.splice(2, 0, 'chat_service_sid');
      assert.deepEqual(Object.keys(raw.json), keys);
      if (family === 'service') assert.equal(raw.json.chat_service_sid, IS);
      assert.match(raw.json.date_created, DATE_RE);
      assert.equal(raw.json.date_created, raw.json.date_updated);

      const t = await hooks().create({ target: 'trigger', 'configuration.url': 'https://example.com/t', 'configuration.triggers': ['help', 'agent'], 'configuration.method': 'GET' });
      assert.deepEqual(t.configuration, { url: 'https://example.com/t', method: 'get', triggers: ['help', 'agent'] });
      const s = await hooks().create({ target: 'studio', 'configuration.flowSid': FLOW, 'configuration.replayAfter': 7 });
      assert.deepEqual(s.configuration, { flow_sid: FLOW, replay_after: 7 });

      // the conversation's unique name addresses it too; url and list use the SID
      const byName = await convs(family)(c.uniqueName).webhooks(w.sid).fetch();
      assert.equal(byName.sid, w.sid);
      const listed = await convs(family)(c.uniqueName).webhooks.list();
      assert.deepEqual(listed.map((x) => x.sid), [w.sid, t.sid, s.sid]);
      const page = await ctx.h.raw('GET', `${base(family)}/Conversations/${c.uniqueName}/Webhooks?PageSize=2`);
      assert.equal(page.json.meta.page_size, 2);
      assert.equal(page.json.meta.key, 'webhooks');
      assert.ok(page.json.meta.url.includes(`/Conversations/${c.sid}/Webhooks?`));
      const all = [];
      await convs(family)(c.sid).webhooks.each({ pageSize: 1 }, (x) => all.push(x.sid));
      assert.deepEqual(all, [w.sid, t.sid, s.sid]);

      // an update changes only what it names; a given array replaces the stored one
      await sleep(1100);
      const u = await hooks()(w.sid).update({ 'configuration.filters': ['onConversationRemoved'], 'configuration.method': 'get' });
      assert.deepEqual(u.configuration, { url: 'https://example.com/a', method: 'get', filters: ['onConversationRemoved'] });
      assert.equal(u.target, 'webhook');
      assert.ok(u.dateUpdated > u.dateCreated);
      const u2 = await hooks()(t.sid).update({ 'configuration.triggers': ['stop'] });
      assert.deepEqual(u2.configuration, { url: 'https://example.com/t', method: 'get', triggers: ['stop'] });
      const u3 = await hooks()(s.sid).update({ 'configuration.flowSid': 'FW' + 'b'.repeat(32) });
      assert.deepEqual(u3.configuration, { flow_sid: 'FW' + 'b'.repeat(32), replay_after: 7 });
      assert.deepEqual((await hooks()(w.sid).fetch()).configuration, u.configuration);

      assert.equal(await hooks()(w.sid).remove(), true);
      await rejectsRest(hooks()(w.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(hooks()(w.sid).remove(), { status: 404, code: 20404 });
      assert.deepEqual((await hooks().list()).map((x) => x.sid), [t.sid, s.sid]);
    });

    it(`${family} family: every rule of §5.2 answers its code and changes nothing`, async () => {
      const c = await convs(family).create({ uniqueName: uid('rules') });
      const hooks = () => convs(family)(c.sid).webhooks;
      const existing = await hooks().create(hookOf('https://example.com/keep'));
      const cases = [
        [{ target: 'Webhook', 'configuration.url': 'https://example.com/x' }, 400, 50364, 'Invalid conversation webhook type'],
        [{ target: 'flex' }, 400, 50364, 'Invalid conversation webhook type'],
        [{ target: 'webhook', 'configuration.filters': ['onMessageAdded'] }, 400, 50369, 'Conversation webhook URL not provided'],
        [{ target: 'trigger', 'configuration.triggers': ['hi'] }, 400, 50369, 'Conversation webhook URL not provided'],
        [hookOf('https://example.com/' + 'x'.repeat(493)), 400, 50372, 'Conversation webhook URL is too long'],
        [hookOf('example.com/no-scheme'), 400, 20001, 'Invalid value for Configuration.Url: an absolute http or https URL is required'],
        [{ target: 'webhook', 'configuration.url': 'https://example.com/x' }, 400, 50370, 'Conversation webhook filter not provided'],
        [hookOf('https://example.com/x', ['onMessageSent']), 400, 50365, 'Invalid conversation webhook filter'],
        [hookOf('https://example.com/x', ['onMessageAdd']), 400, 50365, 'Invalid conversation webhook filter'],
        [hookOf('https://example.com/x', ['onUserAdded']), 400, 50365, 'Invalid conversation webhook filter'],
        [hookOf('https://example.com/x', ['onConversationAdded']), 400, 50365, 'Invalid conversation webhook filter'],
        [{ target: 'trigger', 'configuration.url': 'https://example.com/x' }, 400, 50371, 'Conversation webhook trigger not provided'],
        [{ target: 'trigger', 'configuration.url': 'https://example.com/x', 'configuration.triggers': ['a', 'b', 'c', 'd', 'e', 'f'] }, 400, 50362, 'Too many conversation webhook triggers'],
        [{ target: 'trigger', 'configuration.url': 'https://example.com/x', 'configuration.triggers': ['k'.repeat(249)] }, 400, 50366, 'Invalid conversation webhook trigger'],
        [{ target: 'studio' }, 400, 50367, 'Invalid conversation webhook flow SID'],
        [{ target: 'studio', 'configuration.flowSid': 'FW123' }, 400, 50367, 'Invalid conversation webhook flow SID'],
        [{ ...hookOf('https://example.com/x'), 'configuration.method': 'put' }, 400, 50055, 'Invalid webhook method'],
        [{ ...hookOf('https://example.com/x'), 'configuration.replayAfter': 'soon' }, 400, 20001, 'Invalid value for Configuration.ReplayAfter'],
      ];
      const before1 = await snapshot(family, c.sid);
      for (const [params, status, code, message] of cases) {
        await rejectsRest(hooks().create(params), { status, code, message });
      }
      // what twilio-node cannot send: no Target, an empty one, an empty keyword
      for (const body of [{ 'Configuration.Url': 'https://example.com/x' }, { Target: '' }]) {
        const res = await ctx.h.raw('POST', `${base(family)}/Conversations/${c.sid}/Webhooks`, { body: form(body) });
        assertErrorBody(res, { status: 400, code: 20001, message: 'Missing required parameter Target in the post body' });
      }
      const empty = await ctx.h.raw('POST', `${base(family)}/Conversations/${c.sid}/Webhooks`, {
        body: form({ Target: 'trigger', 'Configuration.Url': 'https://example.com/x', 'Configuration.Triggers': '' }),
      });
      assertErrorBody(empty, { status: 400, code: 50366, message: 'Invalid conversation webhook trigger' });
      // a keyword of 248 characters, five keywords and a URL of 512 bytes are the limits, not beyond them
      const edge = await hooks().create({ target: 'trigger', 'configuration.url': 'https://example.com/' + 'x'.repeat(492), 'configuration.triggers': ['k'.repeat(248), 'b', 'c', 'd', 'e'] });
      await hooks()(edge.sid).remove();
      assert.equal(await snapshot(family, c.sid), before1, 'a refused create changed something');

      // updates: the same rules on the result; a missing webhook is 404 before any rule; nothing to update 20161
      const upd = [
        [{ 'configuration.url': '' }, 400, 50369, 'Conversation webhook URL not provided'],
        [{ 'configuration.filters': ['onMessageSent'] }, 400, 50365, 'Invalid conversation webhook filter'],
        [{ 'configuration.method': 'delete' }, 400, 50055, 'Invalid webhook method'],
        [{ 'configuration.url': 'https://example.com/' + 'x'.repeat(493) }, 400, 50372, 'Conversation webhook URL is too long'],
        [{ 'configuration.flowSid': 'bad' }, 400, 50367, 'Invalid conversation webhook flow SID'],
      ];
      for (const [params, status, code, message] of upd) await rejectsRest(hooks()(existing.sid).update(params), { status, code, message });
      const none = await ctx.h.raw('POST', `${base(family)}/Conversations/${c.sid}/Webhooks/${existing.sid}`, { body: '' });
      assertErrorBody(none, { status: 400, code: 20161, message: 'Parameters are not specified for update request' });
      const missing = 'WH' + randomHex(32);
      await rejectsRest(hooks()(missing).update({ 'configuration.method': 'delete' }), { status: 404, code: 20404 });
      await rejectsRest(hooks()(missing).fetch(), { status: 404, code: 20404 });
      await rejectsRest(hooks()(missing).remove(), { status: 404, code: 20404 });
      for (const bad of ['WH123', 'CH' + randomHex(32), 'not-a-sid']) {
        const res = await ctx.h.raw('GET', `${base(family)}/Conversations/${c.sid}/Webhooks/${bad}`);
        assertErrorBody(res, { status: 404, code: 20404, message: `The requested resource ${base(family).slice(3)}/Conversations/${c.sid}/Webhooks/${bad} was not found` });
      }
      // an unknown conversation: 404 on every operation, even with a bad body
      const ghost = 'CH' + randomHex(32);
      await rejectsRest(convs(family)(ghost).webhooks.create({ target: 'bogus' }), { status: 404, code: 20404 });
      await rejectsRest(convs(family)(ghost).webhooks.list(), { status: 404, code: 20404 });
      await rejectsRest(convs(family)('no-such-name').webhooks(existing.sid).fetch(), { status: 404, code: 20404 });
      assert.equal(await snapshot(family, c.sid), before1, 'a refused update changed something');
    });
  }

  it('at most five per conversation: the sixth is 400 / 50361 on both families; a delete makes room', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('five') });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await convs(i % 2 ? 'service' : 'short')(c.sid).webhooks.create(hookOf(`https://example.com/${i}`)));
    for (const family of FAMILIES) {
      const before1 = await snapshot(family, c.sid);
      await rejectsRest(convs(family)(c.sid).webhooks.create({ target: 'studio', 'configuration.flowSid': FLOW }), {
        status: 400, code: 50361, message: 'Too many conversation webhooks',
      });
      assert.equal(await snapshot(family, c.sid), before1);
    }
    // the limit is per conversation
    const other = await v1().conversations.create({});
    await v1().conversations(other.sid).webhooks.create(hookOf('https://example.com/other'));
    await v1().conversations(c.sid).webhooks(made[2].sid).remove();
    await v1().conversations(c.sid).webhooks.create(hookOf('https://example.com/again'));
    assert.equal((await v1().conversations(c.sid).webhooks.list()).length, 5);
  });

  it('five creates at once on one conversation with one free slot: exactly one 201', async () => {
    const c = await v1().conversations.create({});
    for (let i = 0; i < 4; i++) await v1().conversations(c.sid).webhooks.create(hookOf(`https://example.com/r${i}`));
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => v1().conversations(c.sid).webhooks.create(hookOf(`https://example.com/race${i}`))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results.filter((x) => x.status === 'rejected')) assert.equal(r.reason.code, 50361);
    assert.equal((await v1().conversations(c.sid).webhooks.list()).length, 5);
  });

  it('a closed conversation takes no write (400 / 50377) on either family; reads still work', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('closed') });
    const w = await v1().conversations(c.sid).webhooks.create(hookOf('https://example.com/c'));
    await v1().conversations(c.sid).update({ state: 'closed' });
    const closed = { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" };
    for (const family of FAMILIES) {
      const before1 = await snapshot(family, c.sid);
      await rejectsRest(convs(family)(c.sid).webhooks.create(hookOf('https://example.com/d')), closed);
      await rejectsRest(convs(family)(c.sid).webhooks(w.sid).update({ 'configuration.url': 'https://example.com/e' }), closed);
      await rejectsRest(convs(family)(c.sid).webhooks(w.sid).remove(), closed);
      assert.equal(await snapshot(family, c.sid), before1);
      assert.equal((await convs(family)(c.sid).webhooks(w.sid).fetch()).sid, w.sid);
      assert.equal((await convs(family)(c.sid).webhooks.list()).length, 1);
    }
  });

  it('another account reaches none of them (404 on both families), and they stay as they were', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('mine') });
    const w = await v1().conversations(c.sid).webhooks.create(hookOf('https://example.com/mine'));
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const other = ctx.h.newClient(f.account_sid, f.auth_token).conversations.v1;
    const IS2 = (await other.configuration().fetch()).defaultChatServiceSid;
    const nf = { status: 404, code: 20404 };
    for (const conv of [other.conversations(c.sid), other.conversations(c.uniqueName), other.services(IS).conversations(c.sid), other.services(IS2).conversations(c.sid)]) {
      await rejectsRest(conv.webhooks(w.sid).fetch(), nf);
      await rejectsRest(conv.webhooks.list(), nf);
      await rejectsRest(conv.webhooks.create(hookOf('https://example.com/theirs')), nf);
      await rejectsRest(conv.webhooks(w.sid).update({ 'configuration.url': 'https://example.com/theirs' }), nf);
      await rejectsRest(conv.webhooks(w.sid).remove(), nf);
    }
    // their own conversation does not reach mine through the SID either
    const theirs = await other.conversations.create({});
    await rejectsRest(other.conversations(theirs.sid).webhooks(w.sid).fetch(), nf);
    assert.deepEqual((await v1().conversations(c.sid).webhooks(w.sid).fetch()).configuration.url, 'https://example.com/mine');
  });

  it('delivery: the events a target takes, signed, with WebhookSid, to POST and GET targets; none without the header', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('deliver') });
    const post = await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-post'), ['onConversationUpdated', 'onConversationStateUpdated']));
    const get = await v1().services(IS).conversations(c.sid).webhooks.create({ ...hookOf(rx.url('/scoped-get?k=v'), ['onConversationUpdated']), 'configuration.method': 'GET' });
    await v1().conversations(c.sid).webhooks.create({ target: 'trigger', 'configuration.url': rx.url('/scoped-trigger'), 'configuration.triggers': ['help'] });
    await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-other'), ['onParticipantAdded']));
    // another conversation's target hears nothing of this one
    const other = await v1().conversations.create({});
    await v1().conversations(other.sid).webhooks.create(hookOf(rx.url('/scoped-elsewhere'), ['onConversationUpdated']));

    await v1().conversations(c.sid).update({ friendlyName: 'quiet' });
    await v1().conversations(c.sid).update({ friendlyName: 'quiet too', xTwilioWebhookEnabled: 'false' });
    await v1().conversations(c.sid).update({ friendlyName: 'Hello', state: 'inactive', ...on });
    const got = await rx.waitFor('/scoped-post', 2);
    const [g] = await rx.waitFor('/scoped-get', 1);
    await sleep(500);
    assert.deepEqual(got.map((r) => r.params.EventType), ['onConversationUpdated', 'onConversationStateUpdated']);
    for (const r of got) {
      signed(r);
      assert.equal(r.method, 'POST');
      assert.equal(r.params.WebhookSid, post.sid);
      assert.equal(r.params.WebhookType, 'webhook');
      assert.equal(r.params.ConversationSid, c.sid);
      assert.equal(r.params.AccountSid, ctx.h.accountSid);
      assert.equal(r.params.RetryCount, '0');
    }
    assert.equal(got[0].params.FriendlyName, 'Hello');
    assert.equal(got[0].params.Source, 'API');
    assert.equal(got[1].params.StateFrom, 'active');
    assert.equal(got[1].params.StateTo, 'inactive');
    assert.equal(got[1].params.Reason, 'API');
    signed(g);
    assert.equal(g.method, 'GET');
    assert.equal(g.raw, '');
    assert.equal(g.params.k, 'v');
    assert.equal(g.params.WebhookSid, get.sid);
    assert.equal(g.params.EventType, 'onConversationUpdated');
    assert.equal(rx.at('/scoped-get').length, 1, 'the GET target filters on onConversationUpdated only');
    assert.equal(rx.at('/scoped-trigger').length, 0, 'a trigger target takes message bodies only');
    assert.equal(rx.at('/scoped-other').length, 0);
    assert.equal(rx.at('/scoped-elsewhere').length, 0);

    // the delivery log shows them, delivered
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=50');
    const mine = log.json.deliveries.filter((d) => d.url === rx.url('/scoped-post'));
    assert.deepEqual(mine.map((d) => [d.event_type, d.outcome]).sort(), [['onConversationStateUpdated', 'delivered'], ['onConversationUpdated', 'delivered']]);
  });

  it('participant events reach the conversation\'s scoped targets (onParticipantAdded/Updated/Removed)', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('members') });
    const w = await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-members'), ['onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved']));
    const p = await v1().conversations(c.sid).participants.create({ identity: uid('member'), ...on });
    await v1().conversations(c.sid).participants(p.sid).update({ attributes: '{"a":1}', ...on });
    await v1().conversations(c.sid).participants.create({ identity: uid('quiet') }); // no header: nothing
    await v1().conversations(c.sid).participants(p.sid).remove({ ...on });
    const got = await rx.waitFor('/scoped-members', 3);
    await sleep(300);
    assert.deepEqual(got.map((r) => r.params.EventType), ['onParticipantAdded', 'onParticipantUpdated', 'onParticipantRemoved']);
    for (const r of got) {
      signed(r);
      assert.equal(r.params.WebhookSid, w.sid);
      assert.equal(r.params.ConversationSid, c.sid);
      assert.equal(r.params.ParticipantSid, p.sid);
    }
    assert.equal(rx.at('/scoped-members').length, 3);
  });

  it('message events reach the scoped targets: filters for webhook targets, keywords for trigger targets', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('talk') });
    const w = await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-messages'), ['onMessageAdded', 'onMessageRemoved']));
    const t = await v1().conversations(c.sid).webhooks.create({ target: 'trigger', 'configuration.url': rx.url('/scoped-keyword'), 'configuration.triggers': ['help'] });
    const m1 = await v1().conversations(c.sid).messages.create({ author: 'ann', body: 'Help me please', ...on });
    await v1().conversations(c.sid).messages.create({ author: 'ann', body: 'helpless', ...on }); // not the whole word
    await v1().conversations(c.sid).messages(m1.sid).remove({ ...on });
    const got = await rx.waitFor('/scoped-messages', 3);
    const [k] = await rx.waitFor('/scoped-keyword', 1);
    await sleep(300);
    assert.deepEqual(got.map((r) => r.params.EventType), ['onMessageAdded', 'onMessageAdded', 'onMessageRemoved']);
    for (const r of got) {
      signed(r);
      assert.equal(r.params.WebhookSid, w.sid);
      assert.equal(r.params.ConversationSid, c.sid);
    }
    signed(k);
    assert.equal(k.params.WebhookSid, t.sid);
    assert.equal(k.params.EventType, 'onMessageAdded');
    assert.equal(k.params.Body, 'Help me please');
    assert.equal(rx.at('/scoped-keyword').length, 1);
  });

  it('ReplayAfter: a new webhook is first sent onMessageAdded of the messages from that index on, in order', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('replay') });
    const sent = [];
    for (const body of ['zero', 'one', 'two', 'three']) sent.push(await v1().conversations(c.sid).messages.create({ author: 'ann', body }));
    await v1().conversations(c.sid).messages(sent[2].sid).remove();
    const w = await v1().conversations(c.sid).webhooks.create({ ...hookOf(rx.url('/scoped-replay'), ['onMessageAdded']), 'configuration.replayAfter': 1 });
    const got = await rx.waitFor('/scoped-replay', 2);
    await sleep(300);
    assert.deepEqual(got.map((r) => [r.params.EventType, r.params.Index, r.params.Body]), [['onMessageAdded', '1', 'one'], ['onMessageAdded', '3', 'three']]);
    for (const r of got) {
      signed(r);
      assert.equal(r.params.WebhookSid, w.sid);
      assert.equal(r.params.MessageSid, r.params.Index === '1' ? sent[1].sid : sent[3].sid);
    }
    assert.equal(rx.at('/scoped-replay').length, 2);
  });

  it('one conversation\'s events reach its target in order', async () => {
    const c = await v1().conversations.create({});
    await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-order')));
    for (let i = 0; i < 12; i++) await v1().conversations(c.sid).update({ friendlyName: `n${i}`, ...on });
    const got = await rx.waitFor('/scoped-order', 12);
    assert.deepEqual(got.map((r) => r.params.FriendlyName), Array.from({ length: 12 }, (_, i) => `n${i}`));
  });

  it('a failing receiver gets the event again, with RetryCount and the same idempotency token, until it answers', async () => {
    rx.rules['/scoped-flaky'] = { status: 503 };
    const c = await v1().conversations.create({});
    const w = await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-flaky')));
    await v1().conversations(c.sid).update({ friendlyName: 'retry me', ...on });
    await rx.waitFor('/scoped-flaky', 2);
    rx.rules['/scoped-flaky'] = { status: 200 };
    const got = await rx.waitFor('/scoped-flaky', 3, 60_000);
    await sleep(300);
    const tries = rx.at('/scoped-flaky');
    assert.ok(tries.length >= 3);
    assert.deepEqual(tries.map((r) => r.params.RetryCount), tries.map((_, i) => String(i)));
    assert.equal(new Set(tries.map((r) => r.headers['i-twilio-idempotency-token'])).size, 1);
    for (const r of got) {
      signed(r);
      assert.equal(r.params.WebhookSid, w.sid);
      assert.equal(r.params.FriendlyName, 'retry me');
    }
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=50');
    const entry = log.json.deliveries.find((d) => d.url === rx.url('/scoped-flaky'));
    assert.equal(entry.outcome, 'delivered');
    assert.equal(entry.attempts, tries.length);
    assert.equal(entry.status, 200);
  });

  it('the conversation\'s delete fires onConversationRemoved to its targets and takes them with it', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('gone') });
    const w = await v1().conversations(c.sid).webhooks.create(hookOf(rx.url('/scoped-removed'), ['onConversationRemoved']));
    await v1().conversations(c.sid).webhooks.create(hookOf('https://example.com/second'));
    await v1().conversations(c.sid).remove({ ...on });
    const [r] = await rx.waitFor('/scoped-removed', 1);
    signed(r);
    assert.equal(r.params.EventType, 'onConversationRemoved');
    assert.equal(r.params.WebhookSid, w.sid);
    assert.match(r.params.DateRemoved, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await rejectsRest(v1().conversations(c.sid).webhooks(w.sid).fetch(), { status: 404, code: 20404 });
    // a new conversation with the same unique name starts with none
    const again = await v1().conversations.create({ uniqueName: c.uniqueName });
    assert.equal((await v1().conversations(again.sid).webhooks.list()).length, 0);
    await rejectsRest(v1().conversations(again.sid).webhooks(w.sid).fetch(), { status: 404, code: 20404 });
    if (haveSqlite) {
      const sql = `SELECT count(*) FROM conversation_webhooks WHERE conversation_sid = '${c.sid}'`;
      const left = spawnSync('sqlite3', ['-cmd', '.timeout 5000', ctx.h.dataFile, sql], { encoding: 'utf8' });
      assert.equal(left.status, 0, left.stderr);
      assert.equal(left.stdout.trim(), '0');
    }
  });
});

// --scoped-trigger-key filters: a trigger webhook's keywords render under "filters", as the spec's example shows.
e2eSuite('conversation-scoped webhooks, --scoped-trigger-key filters', { args: ['--scoped-trigger-key', 'filters'] }, (ctx, it) => {
  it('a trigger target shows its keywords as filters; a webhook target is unchanged', async () => {
    const v1 = ctx.h.client.conversations.v1;
    const c = await v1.conversations.create({});
    const t = await v1.conversations(c.sid).webhooks.create({ target: 'trigger', 'configuration.url': 'https://example.com/t', 'configuration.triggers': ['keyword1', 'keyword2'] });
    assert.deepEqual(t.configuration, { url: 'https://example.com/t', method: 'post', filters: ['keyword1', 'keyword2'] });
    const w = await v1.conversations(c.sid).webhooks.create({ target: 'webhook', 'configuration.url': 'https://example.com/w', 'configuration.filters': ['onMessageAdded'] });
    assert.deepEqual(w.configuration, { url: 'https://example.com/w', method: 'post', filters: ['onMessageAdded'] });
    assert.deepEqual((await v1.conversations(c.sid).webhooks(t.sid).fetch()).configuration.filters, ['keyword1', 'keyword2']);
  });
});

// A timer's transition is no REST call: its onConversationStateUpdated reaches the conversation's targets whatever
// header the REST calls had (--test-clock moves the clock instead of sleeping a minute).
e2eSuite('conversation-scoped webhooks, timers', { args: ['--test-clock'] }, (ctx, it) => {
  let rx;
  before(async () => {
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  it('Timers.Inactive fires onConversationStateUpdated (Reason TIMER, no Source) to a scoped target', async () => {
    const v1 = ctx.h.client.conversations.v1;
    const clock = (body) => ctx.h.raw('POST', '/parley/clock', { body });
    assert.equal((await clock({ Freeze: 'true' })).status, 200);
    const c = await v1.conversations.create({ 'timers.inactive': 'PT1M' });
    const w = await v1.conversations(c.sid).webhooks.create({
      target: 'webhook', 'configuration.url': rx.url('/scoped-timer'), 'configuration.filters': ['onConversationStateUpdated'],
    });
    assert.equal((await clock({ AdvanceMs: String(61_000) })).status, 200);
    const [r] = await rx.waitFor('/scoped-timer', 1);
    assert.ok(twilio.validateRequest(ctx.h.authToken, r.headers['x-twilio-signature'], r.url, r.params));
    assert.equal(r.params.EventType, 'onConversationStateUpdated');
    assert.equal(r.params.WebhookSid, w.sid);
    assert.equal(r.params.Reason, 'TIMER');
    assert.equal(r.params.StateTo, 'inactive');
    assert.equal(r.params.Source, undefined);
    assert.equal((await v1.conversations(c.sid).fetch()).state, 'inactive');
  });
});

// Two servers on one PostgreSQL database: the limit of five holds across them (the closed guard's read locks the
// conversation's row, so the count a create makes sees the other server's committed insert).
describe('conversation-scoped webhooks, two servers on one PostgreSQL database', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  before(async () => {
    a = await start({});
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken });
  });
  after(async () => {
    if (b) await b.cleanup();
    if (a) await a.cleanup();
  });

  test('concurrent creates through both servers for one free slot: exactly one 201, five in all', { timeout: 120_000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const made = await a.raw('POST', '/v1/Conversations', { body: {} });
      assert.equal(made.status, 201, made.body);
      const path = `/v1/Conversations/${made.json.sid}/Webhooks`;
      const body = (i) => ({ Target: 'webhook', 'Configuration.Url': `https://example.com/${round}/${i}`, 'Configuration.Filters': 'onMessageAdded' });
      for (let i = 0; i < 4; i++) assert.equal((await b.raw('POST', path, { body: body(i) })).status, 201);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => [a, b][i % 2].raw('POST', path, { body: body(10 + i) })));
      assert.equal(answers.filter((r) => r.status === 201).length, 1, answers.map((r) => `${r.status} ${r.body}`).join('\n'));
      for (const r of answers.filter((x) => x.status !== 201)) assertErrorBody(r, { status: 400, code: 50361, message: 'Too many conversation webhooks' });
      for (const h of [a, b]) assert.equal((await h.raw('GET', path)).json.webhooks.length, 5);
    }
    await b.stop();
    await a.stop();
  });
});
