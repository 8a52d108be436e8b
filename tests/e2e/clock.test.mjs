// The test clock (--test-clock): GET/POST /parley/clock freeze, advance and set the server's clock forward, never
// back; bad values are Twilio-style 400s that move nothing; row dates follow the clock. Without the flag the
// endpoint does not exist (404). The timer scheduler behind the clock is covered by tests/unit/test_timers.c.

import assert from 'node:assert/strict';
import { assertErrorBody, e2eSuite, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const HOUR = 3_600_000;
const TEN_YEARS = 10 * 365 * 86_400_000;
const notFound = { status: 404, code: 20404, message: 'The requested resource /parley/clock was not found' };

const clockOf = async (h) => {
  const res = await h.raw('GET', '/parley/clock');
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(Object.keys(res.json), ['now', 'now_ms', 'frozen']);
  assert.equal(res.json.now, new Date(res.json.now_ms).toISOString());
  return res.json;
};

const move = async (h, body) => {
  const res = await h.raw('POST', '/parley/clock', { body });
  assert.equal(res.status, 200, res.body);
  return res.json;
};

e2eSuite('test clock: off by default', {}, (ctx, it) => {
  it('GET and POST /parley/clock are 404 without --test-clock, and the clock stays real', async () => {
    assertErrorBody(await ctx.h.raw('GET', '/parley/clock'), notFound);
    assertErrorBody(await ctx.h.raw('POST', '/parley/clock', { body: { Freeze: 'true' } }), notFound);
    assertErrorBody(await ctx.h.raw('POST', '/parley/clock', { body: { AdvanceMs: String(HOUR) } }), notFound);
    const before = Date.now();
    const u = await ctx.h.client.conversations.v1.users.create({ identity: 'real-time' });
    assert.ok(Math.abs(u.dateCreated.getTime() - before) < 5000, `date_created ${u.dateCreated.toISOString()}`);
  });
});

e2eSuite('test clock', { args: ['--test-clock'] }, (ctx, it) => {
  const h = () => ctx.h;

  it('needs the account\'s credentials like every endpoint', async () => {
    const res = await h().raw('GET', '/parley/clock', { auth: false });
    assert.equal(res.status, 401);
    const post = await h().raw('POST', '/parley/clock', { auth: false, body: { Freeze: 'true' } });
    assert.equal(post.status, 401);
    assert.equal((await clockOf(h())).frozen, false);
  });

  it('runs in real time until frozen', async () => {
    const c = await clockOf(h());
    assert.equal(c.frozen, false);
    assert.ok(Math.abs(c.now_ms - Date.now()) < 5000);
  });

  it('freezes, advances by milliseconds and by an ISO 8601 duration, and sets forward', async () => {
    const f = await move(h(), { Freeze: 'true' });
    assert.equal(f.frozen, true);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await clockOf(h())).now_ms, f.now_ms, 'a frozen clock stands still');
    const a = await move(h(), { AdvanceMs: String(HOUR) });
    assert.equal(a.now_ms, f.now_ms + HOUR);
    assert.equal(a.frozen, true);
    const d = await move(h(), { Advance: 'PT1H30M' });
    assert.equal(d.now_ms, a.now_ms + 5_400_000);
    const w = await move(h(), { Advance: 'P1DT12H' });
    assert.equal(w.now_ms, d.now_ms + 36 * HOUR);
    const target = new Date(Math.ceil((w.now_ms + 86_400_000) / 1000) * 1000);
    const s = await move(h(), { Set: target.toISOString().replace('.000Z', 'Z') });
    assert.equal(s.now_ms, target.getTime());
    const same = await move(h(), { Set: target.toISOString() }); // with milliseconds; the same time is not back
    assert.equal(same.now_ms, target.getTime());
  });

  it('refuses bad values with a 400 and moves nothing', async () => {
    const before = await clockOf(h());
    const past = new Date(before.now_ms - 1000).toISOString();
    const far = new Date(before.now_ms + TEN_YEARS + 1000).toISOString();
    const cases = [
      [{ AdvanceMs: '0' }, 'Invalid value for AdvanceMs'],
      [{ AdvanceMs: '-5' }, 'Invalid value for AdvanceMs'],
      [{ AdvanceMs: '1.5' }, 'Invalid value for AdvanceMs'],
      [{ AdvanceMs: 'soon' }, 'Invalid value for AdvanceMs'],
      [{ AdvanceMs: String(TEN_YEARS + 1) }, 'Invalid value for AdvanceMs'],
      [{ Advance: 'PT0S' }, /^Invalid value for Advance: /],
      [{ Advance: '1H' }, /^Invalid value for Advance: /],
      [{ Advance: 'PT1h' }, /^Invalid value for Advance: /],
      [{ Advance: '-PT1H' }, /^Invalid value for Advance: /],
      [{ Advance: 'P11Y' }, /^Invalid value for Advance: /],
      [{ Advance: 'PT1.5S' }, /^Invalid value for Advance: /],
      [{ Set: 'tomorrow' }, /^Invalid value for Set: a UTC time/],
      [{ Set: '2040-02-30T00:00:00Z' }, /^Invalid value for Set: a UTC time/],
      [{ Set: '2040-01-01T00:00:00+01:00' }, /^Invalid value for Set: a UTC time/],
      [{ Set: past }, 'Invalid value for Set: the clock never goes back'],
      [{ Set: far }, 'Invalid value for Set: at most ten years ahead'],
      [{ Freeze: 'maybe' }, 'Invalid value for Freeze: expected true or false'],
      [{ AdvanceMs: '1000', Advance: 'PT1S' }, 'Give at most one of AdvanceMs, Advance and Set'],
      [{ Freeze: 'false', AdvanceMs: '1000', Set: far }, 'Give at most one of AdvanceMs, Advance and Set'],
      [{}, 'Missing parameter: one of Freeze, AdvanceMs, Advance or Set'],
    ];
    for (const [body, message] of cases) {
      const res = await h().raw('POST', '/parley/clock', { body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.deepEqual(Object.keys(res.json), ['code', 'message', 'more_info', 'status']);
      assert.equal(res.json.code, 20001);
      assert.equal(res.json.status, 400);
      assert.equal(res.json.more_info, 'https://www.twilio.com/docs/errors/20001');
      if (message instanceof RegExp) assert.match(res.json.message, message, JSON.stringify(body));
      else assert.equal(res.json.message, message, JSON.stringify(body));
    }
    assert.deepEqual(await clockOf(h()), before);
  });

  it('row dates follow the frozen clock', async () => {
    const c = await clockOf(h());
    assert.equal(c.frozen, true);
    const expected = new Date(Math.floor(c.now_ms / 1000) * 1000);
    const users = h().client.conversations.v1.users;
    const u = await users.create({ identity: 'frozen-in-time' });
    assert.equal(u.dateCreated.getTime(), expected.getTime());
    assert.equal(u.dateUpdated.getTime(), expected.getTime());
    await move(h(), { Advance: 'P1D' });
    const up = await users(u.sid).update({ friendlyName: 'a day later' });
    assert.equal(up.dateCreated.getTime(), expected.getTime());
    assert.equal(up.dateUpdated.getTime(), expected.getTime() + 86_400_000);
    const raw = await h().raw('GET', `/v1/Users/${u.sid}`);
    assert.equal(raw.json.date_created, expected.toISOString().replace('.000Z', 'Z'));
  });

  it('webhooks under a frozen clock: delivered, and a retry waits until the clock reaches its time', async () => {
    const rx = await new Receiver().listen();
    const hooked = { xTwilioWebhookEnabled: 'true' };
    try {
      assert.equal((await clockOf(h())).frozen, true);
      const v1 = h().client.conversations.v1;
      await v1.configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/added') });
      for (let i = 0; i < 3; i++) {
        // one after the other: the delivery loop paces itself on real time, not on the standing clock
        await v1.users.create({ identity: `hooked-${i}`, ...hooked });
        await rx.waitFor('/added', i + 1, 10_000);
      }
      rx.rules['/added'] = { status: 500 };
      await v1.users.create({ identity: 'hooked-retry', ...hooked });
      await rx.waitFor('/added', 4, 10_000);
      rx.rules['/added'] = {};
      await sleep(1500); // real time passes; the retry's time (the clock's) does not come
      assert.equal(rx.at('/added').length, 4);
      await move(h(), { AdvanceMs: '60000' });
      const got = await rx.waitFor('/added', 5, 10_000);
      assert.equal(got[4].params.Identity, 'hooked-retry');
      assert.equal(got[4].params.RetryCount, '1');
    } finally {
      await rx.close();
    }
  });

  it('resumes from where it stood, at real speed, and a running clock advances too', async () => {
    const f = await clockOf(h());
    const r = await move(h(), { Freeze: 'false' });
    assert.equal(r.frozen, false);
    assert.ok(r.now_ms >= f.now_ms && r.now_ms < f.now_ms + 5000);
    await new Promise((res) => setTimeout(res, 50));
    const later = await clockOf(h());
    assert.ok(later.now_ms > r.now_ms, 'running again');
    const a = await move(h(), { AdvanceMs: String(HOUR) });
    assert.equal(a.frozen, false);
    assert.ok(a.now_ms >= later.now_ms + HOUR);
    // freeze and move in one request: frozen first, so the move is exact
    const both = await move(h(), { Freeze: 'true', AdvanceMs: '1000' });
    assert.equal(both.frozen, true);
    assert.equal((await clockOf(h())).now_ms, both.now_ms);
  });
});
