// Conversation webhook events through twilio-node (BEHAVIOUR-conversations §10.4): with
// X-Twilio-Webhook-Enabled: true the pre-events onConversationAdd/Update/Remove (a veto changes nothing,
// friendly_name may be replaced) and the post-events onConversationAdded/Updated/Removed/StateUpdated with
// exactly the catalogue's parameters, signed, in order per conversation; without the header none fires.

import assert from 'node:assert/strict';
import twilio from 'twilio';
import { before, after } from 'node:test';
import { e2eSuite, defaults, rejectsRest, sleep, randomHex } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MS_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ALL = [
  'onConversationAdd', 'onConversationAdded', 'onConversationUpdate', 'onConversationUpdated',
  'onConversationRemove', 'onConversationRemoved', 'onConversationStateUpdated',
];

e2eSuite('conversation events', { args: ['--pre-webhook-timeout', '700'] }, (ctx, it) => {
  let IS;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(6)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const on = { xTwilioWebhookEnabled: 'true' };

  async function configure(opts) {
    const base = { method: 'POST', filters: ALL, preWebhookUrl: '', postWebhookUrl: '', target: 'webhook' };
    await v1().configuration.webhooks().update({ ...base, ...opts });
  }

  function signed(req) {
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, req.params), `signature of ${req.url} ${req.raw}`);
    assert.equal(req.params.RetryCount, '0');
  }

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  it('without the header no event fires for create, update or delete', async () => {
    await configure({ preWebhookUrl: rx.url('/quiet-pre'), postWebhookUrl: rx.url('/quiet-post') });
    const c = await v1().conversations.create({ uniqueName: uid('quiet') });
    await v1().conversations(c.sid).update({ friendlyName: 'x', state: 'inactive' });
    await v1().conversations(c.sid).update({ friendlyName: 'y', xTwilioWebhookEnabled: 'false' });
    await v1().conversations(c.sid).remove();
    await sleep(500);
    assert.equal(rx.at('/quiet-pre').length, 0);
    assert.equal(rx.at('/quiet-post').length, 0);
  });

  for (const family of ['short', 'service']) {
    const convs = () => (family === 'short' ? v1().conversations : v1().services(IS).conversations);

    it(`${family} family: create fires onConversationAdd then onConversationAdded with the catalogue's parameters`, async () => {
      const pre = `/add-pre-${family}`;
      const post = `/add-post-${family}`;
      await configure({ preWebhookUrl: rx.url(pre), postWebhookUrl: rx.url(post) });
      const uniqueName = uid('added');
      const c = await convs().create({ uniqueName, friendlyName: 'Hello', attributes: '{"a": 1}', messagingServiceSid: 'MG' + 'c'.repeat(32), ...on });
      const [p] = await rx.waitFor(pre, 1);
      const [q] = await rx.waitFor(post, 1);
      signed(p);
      signed(q);
      assert.deepEqual(Object.keys(p.params).sort(), [
        'AccountSid', 'Attributes', 'ChatServiceSid', 'EventType', 'FriendlyName', 'MessagingServiceSid', 'RetryCount', 'Source', 'State', 'UniqueName',
      ]);
      assert.equal(p.params.EventType, 'onConversationAdd');
      assert.equal(p.params.Source, 'API');
      assert.equal(p.params.ChatServiceSid, IS);
      assert.equal(p.params.UniqueName, uniqueName);
      assert.equal(p.params.State, 'active');
      assert.deepEqual(Object.keys(q.params).sort(), [
        'AccountSid', 'Attributes', 'ChatServiceSid', 'ConversationSid', 'DateCreated', 'DateUpdated', 'EventType', 'FriendlyName',
        'MessagingServiceSid', 'RetryCount', 'Source', 'State', 'UniqueName',
      ]);
      assert.equal(q.params.EventType, 'onConversationAdded');
      assert.equal(q.params.ConversationSid, c.sid);
      assert.equal(q.params.Attributes, '{"a": 1}');
      assert.equal(q.params.MessagingServiceSid, 'MG' + 'c'.repeat(32));
      assert.match(q.params.DateCreated, MS_DATE);
      assert.ok(rx.requests.indexOf(p) < rx.requests.indexOf(q), 'pre-event first');
    });
  }

  it('a create without friendly name omits FriendlyName; the pre-event answer may set it', async () => {
    rx.rules['/name-pre'] = { status: 200, body: JSON.stringify({ friendly_name: 'From the hook', unique_name: 'not-allowed' }) };
    await configure({ preWebhookUrl: rx.url('/name-pre'), postWebhookUrl: rx.url('/name-post') });
    const uniqueName = uid('named');
    const c = await v1().conversations.create({ uniqueName, ...on });
    assert.equal(c.friendlyName, 'From the hook');
    assert.equal(c.uniqueName, uniqueName, 'only friendly_name is modifiable');
    const [p] = await rx.waitFor('/name-pre', 1);
    assert.equal(p.params.FriendlyName, undefined, 'a null value is omitted');
    const [q] = await rx.waitFor('/name-post', 1);
    assert.equal(q.params.FriendlyName, 'From the hook');
    const u = await v1().conversations(c.sid).update({ attributes: '{"b":2}', ...on });
    assert.equal(u.friendlyName, 'From the hook');
    assert.equal(u.attributes, '{"b":2}');
  });

  it('a friendly_name from the hook longer than 256 characters answers 50003 and changes nothing', async () => {
    const c = await v1().conversations.create({ friendlyName: 'Kept' });
    const before = (await v1().conversations.list()).length;
    rx.rules['/long-pre'] = { status: 200, body: JSON.stringify({ friendly_name: 'é'.repeat(257) }) };
    await configure({ preWebhookUrl: rx.url('/long-pre'), postWebhookUrl: rx.url('/long-post') });
    await rejectsRest(v1().conversations.create({ ...on }), { status: 400, code: 50003 });
    await rejectsRest(v1().conversations(c.sid).update({ attributes: '{"x":1}', ...on }), { status: 400, code: 50003 });
    assert.equal((await v1().conversations.list()).length, before);
    const kept = await v1().conversations(c.sid).fetch();
    assert.equal(kept.friendlyName, 'Kept');
    assert.equal(kept.attributes, '{}');
    rx.rules['/long-pre'] = { status: 200, body: JSON.stringify({ friendly_name: 'é'.repeat(256) }) };
    const ok = await v1().conversations.create({ ...on });
    assert.equal(ok.friendlyName, 'é'.repeat(256), '256 characters (512 bytes) are allowed');
    const [post] = await rx.waitFor('/long-post', 1);
    assert.equal(post.params.ConversationSid, ok.sid, 'the refused writes fired no post-event');
  });

  it('a vetoed create, update and delete change nothing and fire no post-event', async () => {
    const c = await v1().conversations.create({ uniqueName: uid('veto'), friendlyName: 'Kept' });
    const before = (await v1().conversations.list()).length;
    rx.rules['/veto'] = { status: 403 };
    await configure({ preWebhookUrl: rx.url('/veto'), postWebhookUrl: rx.url('/veto-post') });
    const name = uid('never');
    await rejectsRest(v1().conversations.create({ uniqueName: name, ...on }), {
      status: 400, code: 50056, message: 'Webhook disabled processing of command',
    });
    await rejectsRest(v1().conversations(c.sid).update({ friendlyName: 'Changed', state: 'closed', ...on }), { status: 400, code: 50056 });
    await rejectsRest(v1().conversations(c.sid).remove(on), { status: 400, code: 50056 });
    assert.equal(rx.at('/veto').length, 3);
    assert.deepEqual(rx.at('/veto').map((r) => r.params.EventType), ['onConversationAdd', 'onConversationUpdate', 'onConversationRemove']);
    assert.equal((await v1().conversations.list()).length, before);
    await rejectsRest(v1().conversations(name).fetch(), { status: 404, code: 20404 });
    const kept = await v1().conversations(c.sid).fetch();
    assert.equal(kept.friendlyName, 'Kept');
    assert.equal(kept.state, 'active');
    await sleep(300);
    assert.equal(rx.at('/veto-post').length, 0);
  });

  it('the checks come before the hook: a duplicate name (409) and a closed conversation (50377) never reach it', async () => {
    rx.rules['/order'] = { status: 200 };
    await configure({ preWebhookUrl: rx.url('/order') });
    const name = uid('taken');
    const c = await v1().conversations.create({ uniqueName: name, state: 'inactive' });
    await rejectsRest(v1().conversations.create({ uniqueName: name, ...on }), { status: 409, code: 50353 });
    const other = await v1().conversations.create();
    await rejectsRest(v1().conversations(other.sid).update({ uniqueName: name, ...on }), { status: 409, code: 50353 });
    await v1().conversations(c.sid).update({ state: 'closed' });
    await rejectsRest(v1().conversations(c.sid).update({ friendlyName: 'x', ...on }), { status: 400, code: 50377 });
    await rejectsRest(v1().conversations('no-such-conversation').remove(on), { status: 404, code: 20404 });
    assert.equal(rx.at('/order').length, 0);
  });

  it('update fires onConversationUpdate with the proposed values, onConversationUpdated and, for a state change, onConversationStateUpdated (Reason=API)', async () => {
    await configure({ preWebhookUrl: rx.url('/upd-pre'), postWebhookUrl: rx.url('/upd-post') });
    const c = await v1().conversations.create({ uniqueName: uid('upd'), friendlyName: 'Before' });
    await v1().conversations(c.sid).update({ friendlyName: 'After', state: 'inactive', ...on });
    const [p] = await rx.waitFor('/upd-pre', 1);
    assert.equal(p.params.EventType, 'onConversationUpdate');
    assert.equal(p.params.FriendlyName, 'After');
    assert.equal(p.params.State, 'inactive');
    assert.equal(p.params.ConversationSid, c.sid);
    assert.deepEqual(Object.keys(p.params).sort(), [
      'AccountSid', 'Attributes', 'ChatServiceSid', 'ConversationSid', 'DateCreated', 'DateUpdated', 'EventType', 'FriendlyName',
      'RetryCount', 'Source', 'State', 'UniqueName',
    ]);
    const posts = await rx.waitFor('/upd-post', 2);
    assert.deepEqual(posts.map((r) => r.params.EventType), ['onConversationUpdated', 'onConversationStateUpdated']);
    const s = posts[1];
    signed(s);
    assert.deepEqual(Object.keys(s.params).sort(), [
      'AccountSid', 'ChatServiceSid', 'ConversationSid', 'EventType', 'Reason', 'RetryCount', 'Source', 'StateFrom', 'StateTo', 'StateUpdated',
    ]);
    assert.equal(s.params.StateFrom, 'active');
    assert.equal(s.params.StateTo, 'inactive');
    assert.equal(s.params.Reason, 'API');
    assert.match(s.params.StateUpdated, MS_DATE);
    // an update that keeps the state fires no state event
    await v1().conversations(c.sid).update({ friendlyName: 'Again', state: 'inactive', ...on });
    await rx.waitFor('/upd-post', 3);
    await sleep(300);
    assert.equal(rx.at('/upd-post').length, 3);
    // StateUpdated is when the state changed, not an imported DateUpdated
    const t0 = Date.now();
    await v1().conversations(c.sid).update({ state: 'active', dateUpdated: new Date('2020-01-01T00:00:00Z'), ...on });
    const all = await rx.waitFor('/upd-post', 5);
    assert.equal(all[3].params.DateUpdated, '2020-01-01T00:00:00.000Z');
    assert.ok(Math.abs(new Date(all[4].params.StateUpdated).getTime() - t0) < 10_000, all[4].params.StateUpdated);
  });

  it('delete fires onConversationRemove then onConversationRemoved with DateRemoved; events of one conversation arrive in order', async () => {
    await configure({ preWebhookUrl: rx.url('/rm-pre'), postWebhookUrl: rx.url('/rm-post') });
    const c = await v1().conversations.create({ uniqueName: uid('rm'), ...on });
    for (let i = 0; i < 5; i++) await v1().conversations(c.sid).update({ attributes: JSON.stringify({ i }), ...on });
    await v1().conversations(c.uniqueName).remove(on);
    const posts = await rx.waitFor('/rm-post', 7);
    assert.deepEqual(posts.map((r) => r.params.EventType), [
      'onConversationAdded', ...Array(5).fill('onConversationUpdated'), 'onConversationRemoved',
    ]);
    assert.deepEqual(posts.slice(1, 6).map((r) => r.params.Attributes), [0, 1, 2, 3, 4].map((i) => JSON.stringify({ i })));
    const removed = posts[6];
    assert.match(removed.params.DateRemoved, MS_DATE);
    assert.equal(removed.params.ConversationSid, c.sid);
    const pres = rx.at('/rm-pre');
    assert.equal(pres.at(-1).params.EventType, 'onConversationRemove');
    assert.equal(pres.at(-1).params.DateRemoved, undefined);
    await rejectsRest(v1().conversations(c.sid).fetch(), { status: 404, code: 20404 });
  });

  it('a service-level target receives the events of its service only', async () => {
    await configure({});
    const other = await v1().services.create({ friendlyName: 'events' });
    await v1().services(other.sid).configuration.webhooks().update({ filters: ['onConversationAdded'], postWebhookUrl: rx.url('/svc') });
    await v1().conversations.create(on);
    const mine = await v1().services(other.sid).conversations.create(on);
    const [q] = await rx.waitFor('/svc', 1);
    await sleep(300);
    assert.equal(rx.at('/svc').length, 1);
    assert.equal(q.params.ConversationSid, mine.sid);
    assert.equal(q.params.ChatServiceSid, other.sid);
  });
});
