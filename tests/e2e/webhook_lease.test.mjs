// The outbox's delivery claims are leases of real time: a move of the test clock (--test-clock) while a
// delivery is in flight must not expire its claim, or the event goes out twice with the same idempotency
// token and RetryCount=0. Retries stay on the test clock: a failed delivery waits until the clock reaches
// its time. Runs on SQLite, and with PARLEY_TEST_PG on PostgreSQL, where the lease is stored in the row.

import assert from 'node:assert/strict';
import { e2eSuite, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const SLOW_MS = 1500; // the receiver's answer time: the clock moves while deliveries wait for it
const TEN_MINUTES = 600_000;

const move = async (h, body) => {
  const res = await h.raw('POST', '/parley/clock', { body });
  assert.equal(res.status, 200, res.body);
  return res.json;
};

/** The account's post-event log rows, once none is pending. */
async function settledLog(h, n, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await h.raw('GET', '/parley/webhooks/log?Limit=1000');
    assert.equal(res.status, 200, res.body);
    const post = res.json.deliveries.filter((e) => e.kind === 'post');
    if (post.length >= n && !post.some((e) => e.outcome === 'pending')) return post;
    if (Date.now() > deadline) throw new Error(`webhook log: ${JSON.stringify(post)}`);
    await sleep(50);
  }
}

/** Each idempotency token exactly once, with RetryCount 0. */
function oncePerToken(reqs, n) {
  const tokens = reqs.map((r) => r.headers['i-twilio-idempotency-token']);
  const counts = {};
  for (const t of tokens) counts[t] = (counts[t] ?? 0) + 1;
  const twice = Object.entries(counts).filter(([, c]) => c > 1);
  assert.deepEqual(twice, [], `tokens delivered more than once (${reqs.length} requests for ${n} events)`);
  assert.equal(reqs.length, n);
  assert.ok(reqs.every((r) => r.params.RetryCount === '0'), 'no attempt is a retry');
}

e2eSuite('webhook claims under the test clock', { args: ['--test-clock'] }, (ctx, it) => {
  let rx;
  const hooked = { xTwilioWebhookEnabled: 'true' };
  const v1 = () => ctx.h.client.conversations.v1;

  it('set up: a frozen clock, a receiver that answers slowly', async () => {
    rx = await new Receiver().listen();
    rx.rules['/slow'] = { delayMs: SLOW_MS };
    assert.equal((await move(ctx.h, { Freeze: 'true' })).frozen, true);
    await v1().configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/slow') });
  });

  it('one event: a 10-minute advance while it is in flight delivers it once', async () => {
    await v1().users.create({ identity: 'lease-one', ...hooked });
    const [first] = await rx.waitFor('/slow', 1, 10_000);
    assert.equal(first.answered, false, 'the delivery is still in flight');
    await move(ctx.h, { AdvanceMs: String(TEN_MINUTES) });
    await sleep(SLOW_MS + 500); // the first answer comes and is recorded; a second claim would have started
    const log = await settledLog(ctx.h, 1);
    oncePerToken(rx.at('/slow'), 1);
    assert.equal(log.filter((e) => e.outcome === 'delivered').length, 1, JSON.stringify(log));
  });

  it('15 events in flight at once, the clock advanced twice meanwhile: 15 deliveries', async () => {
    const before = rx.at('/slow').length;
    await Promise.all(Array.from({ length: 15 }, (_, i) => v1().users.create({ identity: `lease-many-${i}`, ...hooked })));
    await rx.waitFor('/slow', before + 15, 10_000);
    await move(ctx.h, { AdvanceMs: String(TEN_MINUTES) });
    await sleep(200);
    await move(ctx.h, { Advance: 'PT1H' });
    await sleep(SLOW_MS + 500);
    await settledLog(ctx.h, 16);
    oncePerToken(rx.at('/slow').slice(before), 15);
  });

  it('a retry still waits for the test clock to reach its time', async () => {
    rx.rules['/slow'] = { status: 500 };
    const before = rx.at('/slow').length;
    await v1().users.create({ identity: 'lease-retry', ...hooked });
    await rx.waitFor('/slow', before + 1, 10_000);
    rx.rules['/slow'] = {};
    await sleep(1500); // real time passes: the retry's time, and the target's backoff, are the clock's
    assert.equal(rx.at('/slow').length, before + 1);
    await move(ctx.h, { AdvanceMs: '60000' });
    const got = await rx.waitFor('/slow', before + 2, 10_000);
    assert.equal(got.at(-1).params.Identity, 'lease-retry');
    assert.equal(got.at(-1).params.RetryCount, '1');
    assert.equal(got.at(-1).headers['i-twilio-idempotency-token'], got.at(-2).headers['i-twilio-idempotency-token']);
    await rx.close();
  });
});
