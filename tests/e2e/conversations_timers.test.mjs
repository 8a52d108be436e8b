// Conversation state timers (BEHAVIOUR-conversations §1.2) through twilio-node, driven by the test clock
// (--test-clock, POST /parley/clock) instead of by sleeping minutes: Timers.Inactive and Timers.Closed count
// from the last activity, fire even while nobody calls the API and after a restart, change the state and fire
// onConversationStateUpdated with Reason=TIMER whatever header the REST calls had; PT0S clears a timer; the
// account's default timers apply to new conversations; each transition leaves a change record.

import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { e2eSuite, defaults, rejectsRest, sleep, randomHex } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const MS_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

e2eSuite('conversation timers', { args: ['--test-clock'] }, (ctx, it) => {
  let IS;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(6)}`;
  const v1 = () => ctx.h.client.conversations.v1;

  const clock = async (body) => {
    const res = await ctx.h.raw(body ? 'POST' : 'GET', '/parley/clock', body ? { body } : {});
    assert.equal(res.status, 200, res.body);
    return res.json;
  };
  const advance = (ms) => clock({ AdvanceMs: String(ms) });
  // Deliveries are at least once: a test clock jump outlives a delivery's claim lease, so one event may
  // arrive twice, with one idempotency token. Events are counted by their token, in arrival order.
  const events = (path) => {
    const seen = new Set();
    return rx.at(path).filter((r) => !seen.has(r.headers['i-twilio-idempotency-token']) && seen.add(r.headers['i-twilio-idempotency-token']));
  };
  const waitEvents = async (path, n) => {
    for (const deadline = Date.now() + 30_000; events(path).length < n; await sleep(20))
      assert.ok(Date.now() < deadline, `${events(path).length} of ${n} events at ${path}`);
    return events(path);
  };
  const stateEvents = (path, sid) => events(path).filter((r) => r.params.ConversationSid === sid);

  async function hooks(path) {
    await v1().configuration.webhooks().update({
      method: 'POST', filters: ['onConversationStateUpdated'], postWebhookUrl: rx.url(path), target: 'webhook',
    });
  }

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
    await clock({ Freeze: 'true' });
  });
  after(async () => {
    await rx?.close();
  });

  it('Timers.Inactive then Timers.Closed: active -> inactive -> closed at their times, with their events', async () => {
    await hooks('/t1');
    const c = await v1().conversations.create({ uniqueName: uid('timed'), 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    const created = c.dateCreated.getTime();
    assert.equal(new Date(c.timers.date_inactive).getTime(), created + MINUTE);
    assert.equal(new Date(c.timers.date_closed).getTime(), created + 10 * MINUTE);

    await advance(MINUTE - 2 * SECOND);
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'active', 'not before its time');
    await advance(2 * SECOND);
    const inactive = await v1().conversations(c.sid).fetch();
    assert.equal(inactive.state, 'inactive');
    assert.ok(inactive.dateUpdated.getTime() > c.dateUpdated.getTime(), 'the transition bumps date_updated');
    assert.deepEqual(Object.keys(inactive.timers), ['date_inactive', 'date_closed']);
    assert.equal(new Date(inactive.timers.date_inactive).getTime(), created + MINUTE, 'a fired timer keeps its time');
    const [e1] = await waitEvents('/t1', 1);
    assert.deepEqual(Object.keys(e1.params).sort(), [
      'AccountSid', 'ChatServiceSid', 'ConversationSid', 'EventType', 'Reason', 'RetryCount', 'StateFrom', 'StateTo', 'StateUpdated',
    ], 'a timer event carries no Source');
    assert.equal(e1.params.EventType, 'onConversationStateUpdated');
    assert.equal(e1.params.ConversationSid, c.sid);
    assert.equal(e1.params.ChatServiceSid, IS);
    assert.equal(e1.params.StateFrom, 'active');
    assert.equal(e1.params.StateTo, 'inactive');
    assert.equal(e1.params.Reason, 'TIMER');
    assert.match(e1.params.StateUpdated, MS_DATE);

    await advance(9 * MINUTE);
    const closed = await v1().conversations(c.sid).fetch();
    assert.equal(closed.state, 'closed');
    assert.equal(new Date(closed.timers.date_closed).getTime(), created + 10 * MINUTE);
    const fired = await waitEvents('/t1', 2);
    assert.equal(fired[1].params.StateFrom, 'inactive');
    assert.equal(fired[1].params.StateTo, 'closed');
    await rejectsRest(v1().conversations(c.sid).update({ friendlyName: 'late' }), { status: 400, code: 50377 });
    await advance(60 * MINUTE);
    await sleep(300);
    assert.equal(stateEvents('/t1', c.sid).length, 2, 'each timer fires once');
  });

  it('a closed timer alone closes an active conversation straight away', async () => {
    await hooks('/t2');
    const c = await v1().conversations.create({ 'timers.closed': 'PT10M' });
    assert.deepEqual(Object.keys(c.timers), ['date_closed']);
    await advance(10 * MINUTE);
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'closed');
    const [e] = await waitEvents('/t2', 1);
    assert.equal(e.params.StateFrom, 'active');
    assert.equal(e.params.StateTo, 'closed');
  });

  it('PT0S clears a timer; a deleted conversation\'s timers fire nothing', async () => {
    await hooks('/t3');
    const kept = await v1().conversations.create({ 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    const cleared = await v1().conversations(kept.sid).update({ 'timers.inactive': 'PT0S', 'timers.closed': 'PT0S' });
    assert.deepEqual(cleared.timers, {});
    const gone = await v1().conversations.create({ 'timers.inactive': 'PT1M' });
    await v1().conversations(gone.sid).remove();
    await advance(20 * MINUTE);
    await sleep(300);
    assert.equal((await v1().conversations(kept.sid).fetch()).state, 'active');
    assert.equal(rx.at('/t3').length, 0);
  });

  it('an update that moves the state or the timers restarts them from now', async () => {
    await hooks('/t4');
    const c = await v1().conversations.create({ 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    await advance(5 * MINUTE); // inactive by now
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'inactive');
    const now = (await clock()).now_ms;
    const back = await v1().conversations(c.sid).update({ state: 'active' });
    assert.equal(back.state, 'active');
    assert.equal(new Date(back.timers.date_inactive).getTime(), Math.floor((now + MINUTE) / 1000) * 1000);
    assert.equal(new Date(back.timers.date_closed).getTime(), Math.floor((now + 10 * MINUTE) / 1000) * 1000);
    await advance(6 * MINUTE); // past the first closed time: not closed, inactive again
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'inactive');
    await advance(5 * MINUTE);
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'closed');
    const fired = await waitEvents('/t4', 3);
    assert.deepEqual(fired.map((e) => `${e.params.StateFrom}>${e.params.StateTo}`), ['active>inactive', 'active>inactive', 'inactive>closed']);
  });

  it('a timer fires after a restart (the schedule is in the store)', async () => {
    await hooks('/t5');
    const c = await v1().conversations.create({ uniqueName: uid('durable'), 'timers.inactive': 'PT1M' });
    await ctx.h.restart(); // the new process's clock starts at the real time again, before the due time
    await clock({ Freeze: 'true' });
    const now = (await clock()).now_ms;
    const due = new Date(c.timers.date_inactive).getTime();
    if (due > now) await advance(due - now + SECOND);
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'inactive');
    const [e] = await waitEvents('/t5', 1);
    assert.equal(e.params.Reason, 'TIMER');
  });

  it('each transition leaves a change record after the create\'s', async () => {
    const start = await ctx.h.raw('GET', '/parley/changes?After=0&PageSize=1000');
    const after = start.json.changes.at(-1)?.seq ?? 0;
    const c = await v1().conversations.create({ 'timers.inactive': 'PT1M', 'timers.closed': 'PT10M' });
    await advance(10 * MINUTE);
    const res = await ctx.h.raw('GET', `/parley/changes?After=${after}&PageSize=1000`);
    const mine = res.json.changes.filter((ch) => ch.sid === c.sid);
    assert.deepEqual(mine.map((ch) => `${ch.resource}:${ch.kind}`), ['conversation:created', 'conversation:updated', 'conversation:updated']);
    assert.equal(mine[0].service_sid, IS);
  });

  it('the account\'s default timers apply to conversations created after they are set', async () => {
    const before = await v1().conversations.create();
    await v1().configuration().update({ defaultInactiveTimer: 'PT2M', defaultClosedTimer: 'PT20M' });
    const c = await v1().conversations.create();
    assert.equal(new Date(c.timers.date_inactive).getTime(), c.dateCreated.getTime() + 2 * MINUTE);
    assert.equal(new Date(c.timers.date_closed).getTime(), c.dateCreated.getTime() + 20 * MINUTE);
    const own = await v1().conversations.create({ 'timers.inactive': 'PT0S' });
    assert.deepEqual(Object.keys(own.timers), ['date_closed'], 'PT0S overrides the default');
    await advance(2 * MINUTE);
    assert.equal((await v1().conversations(c.sid).fetch()).state, 'inactive');
    assert.equal((await v1().conversations(before.sid).fetch()).state, 'active', 'not applied retroactively');
    await v1().configuration().update({ defaultInactiveTimer: '', defaultClosedTimer: '' });
  });
});

e2eSuite('conversation timers beside a State (--timers-need-state)', { args: ['--timers-need-state'] }, (ctx, it) => {
  it('Timers.* without State is 400/50382 on create and update; with a State it is taken', async () => {
    const convs = ctx.h.client.conversations.v1.conversations;
    const message = "Timer can't be set without state";
    await rejectsRest(convs.create({ 'timers.inactive': 'PT1M' }), { status: 400, code: 50382, message });
    const c = await convs.create({ 'timers.closed': 'PT10M', state: 'active' });
    assert.deepEqual(Object.keys(c.timers), ['date_closed']);
    await rejectsRest(convs(c.sid).update({ 'timers.closed': 'PT0S' }), { status: 400, code: 50382, message });
    assert.deepEqual(Object.keys((await convs(c.sid).fetch()).timers), ['date_closed'], 'a refused update changes nothing');
    assert.deepEqual((await convs(c.sid).update({ 'timers.closed': 'PT0S', state: 'inactive' })).timers, {});
  });
});
