// Webhooks through twilio-node: the two configuration resources, which REST calls fire which events, the exact
// request Parley sends (parameters, headers, a signature twilio-node's own validateRequest accepts), pre-event
// vetoes and timeouts, and post-event delivery that survives a receiver outage and a kill -9.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import twilio from 'twilio';
import { before, after } from 'node:test';
import { e2eSuite, defaults, freePort, parleyBin, rejectsRest, sleep, SID_RE } from './harness.mjs';
import { Receiver } from './receiver.mjs';

/** twilio-python's RequestValidator (Debian's python3-twilio) on the same request: true when it accepts. */
function pythonValidates(token, url, params, signature) {
  const script = [
    'import json, sys',
    'from twilio.request_validator import RequestValidator',
    'd = json.load(sys.stdin)',
    'print("yes" if RequestValidator(d["token"]).validate(d["url"], d["params"], d["sig"]) else "no")',
  ].join('\n');
  const out = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify({ token, url, params, sig: signature }), encoding: 'utf8' });
  return out.trim() === 'yes';
}

const MS_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

e2eSuite('webhooks', { args: ['--pre-webhook-timeout', '700'] }, (ctx, it) => {
  let IS;
  let roles;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}`;
  const v1 = () => ctx.h.client.conversations.v1;
  const accountHooks = () => v1().configuration.webhooks();
  const serviceHooks = () => v1().services(IS).configuration.webhooks();

  /** Checks a request against what Twilio sends: headers, and a signature the official validator accepts. */
  function checkSigned(req) {
    assert.equal(req.headers['user-agent'], 'TwilioProxy/1.1');
    assert.equal(req.headers.accept, '*/*');
    assert.match(req.headers['i-twilio-idempotency-token'], UUID);
    const sig = req.headers['x-twilio-signature'];
    assert.ok(sig, 'X-Twilio-Signature present');
    if (req.method === 'POST') {
      assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
      assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, req.params), `signature of ${req.url} ${req.raw}`);
      assert.ok(!twilio.validateRequest('wrong-token-123', sig, req.url, req.params), 'a wrong token must not validate');
      assert.ok(pythonValidates(ctx.h.authToken, req.url, req.params, sig), `twilio-python: ${req.url} ${req.raw}`);
      assert.ok(!pythonValidates('wrong-token-123', req.url, req.params, sig), 'twilio-python with a wrong token');
    } else {
      assert.ok(twilio.validateRequest(ctx.h.authToken, sig, req.url, {}), `signature of ${req.url}`);
      assert.ok(pythonValidates(ctx.h.authToken, req.url, {}, sig), `twilio-python: ${req.url}`);
    }
  }

  async function configure(opts) {
    const base = { method: 'POST', filters: [], preWebhookUrl: '', postWebhookUrl: '', target: 'webhook' };
    await accountHooks().update({ ...base, ...opts });
  }

  const webhookHeader = { xTwilioWebhookEnabled: 'true' };

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  it('account webhook configuration: defaults, update, fetch', async () => {
    const empty = await accountHooks().fetch();
    assert.equal(empty.accountSid, ctx.h.accountSid);
    assert.equal(empty.method, 'POST');
    assert.deepEqual(empty.filters, []);
    assert.equal(empty.preWebhookUrl, null);
    assert.equal(empty.postWebhookUrl, null);
    assert.equal(empty.target, 'webhook');
    assert.equal(empty.url, `${ctx.h.url}/v1/Configuration/Webhooks`);

    const u = await accountHooks().update({
      method: 'GET',
      filters: ['onUserAdded', 'onUserUpdated', 'onUserAdded'],
      preWebhookUrl: 'https://example.com/pre',
      postWebhookUrl: 'https://example.com/post',
      target: 'webhook',
    });
    assert.equal(u.method, 'GET');
    assert.deepEqual(u.filters, ['onUserAdded', 'onUserUpdated']);
    assert.equal(u.preWebhookUrl, 'https://example.com/pre');
    assert.equal(u.postWebhookUrl, 'https://example.com/post');
    const again = await accountHooks().fetch();
    assert.deepEqual(again.toJSON(), u.toJSON());

    const raw = await ctx.h.raw('GET', '/v1/Configuration/Webhooks');
    assert.deepEqual(Object.keys(raw.json), ['account_sid', 'method', 'filters', 'pre_webhook_url', 'post_webhook_url', 'target', 'url']);
    await configure({});
    const cleared = await accountHooks().fetch();
    assert.equal(cleared.preWebhookUrl, null);
    assert.equal(cleared.postWebhookUrl, null);
  });

  it('service webhook configuration: empty until set, then stored', async () => {
    const empty = await serviceHooks().fetch();
    assert.equal(empty.accountSid, ctx.h.accountSid);
    assert.equal(empty.chatServiceSid, IS);
    assert.equal(empty.preWebhookUrl, null);
    assert.equal(empty.postWebhookUrl, null);
    assert.equal(empty.filters, null);
    assert.equal(empty.method, null);
    assert.equal(empty.url, `${ctx.h.url}/v1/Services/${IS}/Configuration/Webhooks`);
    const raw = await ctx.h.raw('GET', `/v1/Services/${IS}/Configuration/Webhooks`);
    assert.deepEqual(Object.keys(raw.json), ['account_sid', 'chat_service_sid', 'pre_webhook_url', 'post_webhook_url', 'filters', 'method', 'url']);
    const set = await serviceHooks().update({ method: 'post', filters: ['onMessageAdded'], postWebhookUrl: 'http://example.com/p' });
    assert.equal(set.method, 'POST');
    assert.deepEqual(set.filters, ['onMessageAdded']);
    assert.equal(set.postWebhookUrl, 'http://example.com/p');
    await serviceHooks().update({ filters: [''], postWebhookUrl: '' });
    const cleared = await serviceHooks().fetch();
    assert.equal(cleared.filters, null);
    assert.equal(cleared.postWebhookUrl, null);
    await rejectsRest(v1().services('IS' + '0'.repeat(32)).configuration.webhooks().fetch(), { status: 404, code: 20404 });
  });

  it('invalid webhook configuration is refused and changes nothing', async () => {
    const before = (await accountHooks().fetch()).toJSON();
    await rejectsRest(accountHooks().update({ filters: ['onUserAdded', 'on-something-else'] }), {
      status: 400,
      code: 50054,
      message: /on-something-else/,
    });
    await rejectsRest(accountHooks().update({ postWebhookUrl: 'ftp://example.com/x' }), { status: 400, code: 20001 });
    await rejectsRest(accountHooks().update({ preWebhookUrl: '/relative' }), { status: 400, code: 20001 });
    await rejectsRest(accountHooks().update({ method: 'PUT' }), { status: 400, code: 50055, message: 'Invalid webhook method' });
    await rejectsRest(accountHooks().update({ target: 'studio' }), { status: 400, code: 20001 });
    await rejectsRest(serviceHooks().update({ postWebhookUrl: 'not a url' }), { status: 400, code: 20001 });
    assert.deepEqual((await accountHooks().fetch()).toJSON(), before);
  });

  it('onUserAdded: exact parameters, headers and a valid signature; only with the header', async () => {
    await configure({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/added') });
    const id = uid('added');
    const u = await v1().users.create({ identity: id, friendlyName: 'Added One', attributes: '{"k": "v"}', ...webhookHeader });
    const [req] = await rx.waitFor('/added', 1);
    checkSigned(req);
    assert.equal(req.method, 'POST');
    assert.deepEqual(Object.keys(req.params).sort(), [
      'AccountSid', 'Attributes', 'ChatServiceSid', 'DateCreated', 'EventType', 'FriendlyName', 'Identity', 'RetryCount', 'RoleSid', 'Source', 'UserSid',
    ]);
    assert.equal(req.params.AccountSid, ctx.h.accountSid);
    assert.equal(req.params.EventType, 'onUserAdded');
    assert.equal(req.params.Source, 'API');
    assert.equal(req.params.ChatServiceSid, IS);
    assert.equal(req.params.UserSid, u.sid);
    assert.equal(req.params.Identity, id);
    assert.equal(req.params.FriendlyName, 'Added One');
    assert.equal(req.params.Attributes, '{"k": "v"}');
    assert.equal(req.params.RoleSid, roles['service user'].sid);
    assert.equal(req.params.RetryCount, '0');
    assert.match(req.params.DateCreated, MS_DATE);
    assert.equal(req.params.DateCreated.slice(0, 19) + 'Z', u.dateCreated.toISOString().slice(0, 19) + 'Z');

    // no header, or false: nothing fires
    await v1().users.create({ identity: uid('quiet') });
    await v1().users.create({ identity: uid('quiet'), xTwilioWebhookEnabled: 'false' });
    await ctx.h.raw('POST', '/v1/Users', { body: { Identity: uid('quiet') }, headers: { 'x-twilio-webhook-enabled': 'yes' } });
    // a later event proves the quiet ones were not merely slow
    await v1().users.create({ identity: uid('loud'), ...webhookHeader });
    const all = await rx.waitFor('/added', 2);
    await sleep(300);
    assert.equal(rx.at('/added').length, 2, 'only the two creates with the header fired');
    assert.match(all[1].params.Identity, /^loud-/);
  });

  it('update by identity: onUserUpdate (pre) then onUserUpdated (post), exact parameters', async () => {
    const id = uid('upd zoë+1@example.com');
    const u = await v1().users.create({ identity: id, friendlyName: 'Before' });
    await configure({ filters: ['onUserUpdate', 'onUserUpdated'], preWebhookUrl: rx.url('/pre1'), postWebhookUrl: rx.url('/post1') });
    await sleep(1100);
    const upd = await v1().users(id).update({ friendlyName: 'After', attributes: '[1, 2]', roleSid: roles['service admin'].sid, ...webhookHeader });
    assert.equal(upd.friendlyName, 'After');
    const [pre] = await rx.waitFor('/pre1', 1);
    const [post] = await rx.waitFor('/post1', 1);
    for (const req of [pre, post]) checkSigned(req);
    assert.deepEqual(Object.keys(pre.params).sort(), [
      'AccountSid', 'Attributes', 'ChatServiceSid', 'DateUpdated', 'EventType', 'FriendlyName', 'Identity', 'RetryCount', 'RoleSid', 'Source', 'UserSid',
    ]);
    assert.equal(pre.params.EventType, 'onUserUpdate');
    assert.equal(pre.params.FriendlyName, 'After', 'the pre-event carries the proposed values');
    assert.equal(pre.params.Attributes, '[1, 2]');
    assert.equal(pre.params.RoleSid, roles['service admin'].sid);
    assert.equal(pre.params.Identity, id);
    assert.equal(pre.params.UserSid, u.sid);
    assert.deepEqual(Object.keys(post.params).sort(), [
      'AccountSid', 'Attributes', 'ChatServiceSid', 'DateCreated', 'DateUpdated', 'EventType', 'FriendlyName', 'Identity', 'RetryCount', 'RoleSid', 'Source', 'UserSid',
    ]);
    assert.equal(post.params.EventType, 'onUserUpdated');
    assert.equal(post.params.FriendlyName, 'After');
    assert.match(post.params.DateCreated, MS_DATE);
    assert.match(post.params.DateUpdated, MS_DATE);
    assert.ok(post.params.DateUpdated > post.params.DateCreated);
    assert.ok(rx.requests.indexOf(pre) < rx.requests.indexOf(post), 'pre-event first');
  });

  it('filters select events: an update fires nothing when only onUserAdded is configured', async () => {
    await configure({ filters: ['onUserAdded'], preWebhookUrl: rx.url('/f-pre'), postWebhookUrl: rx.url('/f-post') });
    const id = uid('filtered');
    await v1().users.create({ identity: id, ...webhookHeader });
    await v1().users(id).update({ friendlyName: 'x', ...webhookHeader });
    await v1().users.create({ identity: uid('filtered'), ...webhookHeader });
    await rx.waitFor('/f-post', 2);
    await sleep(300);
    assert.equal(rx.at('/f-pre').length, 0);
    assert.deepEqual(rx.at('/f-post').map((r) => r.params.EventType), ['onUserAdded', 'onUserAdded']);
  });

  it('a pre-event veto (non-200) refuses the update: 400/50056, nothing changes, no post-event', async () => {
    const id = uid('veto');
    await v1().users.create({ identity: id, friendlyName: 'Kept' });
    for (const status of [403, 500, 204]) {
      rx.rules['/veto'] = { status };
      await configure({ filters: ['onUserUpdate', 'onUserUpdated'], preWebhookUrl: rx.url('/veto'), postWebhookUrl: rx.url('/veto-post') });
      await rejectsRest(v1().users(id).update({ friendlyName: 'Changed', ...webhookHeader }), {
        status: 400,
        code: 50056,
        message: 'Webhook disabled processing of command',
      });
      assert.equal((await v1().users(id).fetch()).friendlyName, 'Kept');
    }
    assert.equal(rx.at('/veto').length, 3);
    // without the header the hook is not asked and the update goes through
    await v1().users(id).update({ friendlyName: 'Changed' });
    assert.equal((await v1().users(id).fetch()).friendlyName, 'Changed');
    await sleep(300);
    assert.equal(rx.at('/veto-post').length, 0);
    assert.equal(rx.at('/veto').length, 3);
  });

  it('a 200 with a JSON body changes nothing a user event may not change', async () => {
    rx.rules['/modify'] = { status: 200, body: JSON.stringify({ friendly_name: 'Hijacked', attributes: '{"x":1}', identity: 'other' }) };
    await configure({ filters: ['onUserUpdate'], preWebhookUrl: rx.url('/modify') });
    const id = uid('modify');
    await v1().users.create({ identity: id });
    const upd = await v1().users(id).update({ friendlyName: 'Proposed', attributes: '{"y":2}', ...webhookHeader });
    assert.equal(upd.friendlyName, 'Proposed');
    assert.equal(upd.attributes, '{"y":2}');
    assert.equal(upd.identity, id);
    await rx.waitFor('/modify', 1);
    // and a 200 with "{}" or an empty body proceeds too
    rx.rules['/modify'] = { status: 200, body: '{}' };
    assert.equal((await v1().users(id).update({ friendlyName: 'Two', ...webhookHeader })).friendlyName, 'Two');
  });

  it('a silent pre-event hook times out and the update proceeds unmodified', async () => {
    rx.rules['/slow'] = { status: 403, delayMs: 4000 };
    await configure({ filters: ['onUserUpdate'], preWebhookUrl: rx.url('/slow') });
    const id = uid('slow');
    await v1().users.create({ identity: id });
    const upd = await v1().users(id).update({ friendlyName: 'Went through', ...webhookHeader });
    assert.equal(upd.friendlyName, 'Went through');
    const [req] = rx.at('/slow');
    assert.ok(req, 'the hook was called');
    assert.equal(req.answered, false, 'the update finished before the slow hook answered (its 403 came too late)');
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=20');
    assert.ok(log.json.deliveries.some((d) => d.kind === 'pre' && d.url.endsWith('/slow') && d.outcome === 'proceeded'));
  });

  it('GET targets carry the parameters in the query and sign the URL', async () => {
    await configure({ method: 'GET', filters: ['onUserAdded'], postWebhookUrl: rx.url('/get?fixed=1') });
    const id = uid('get me');
    await v1().users.create({ identity: id, ...webhookHeader });
    const [req] = await rx.waitFor('/get', 1);
    assert.equal(req.method, 'GET');
    assert.equal(req.raw, '');
    assert.equal(req.params.fixed, '1');
    assert.equal(req.params.Identity, id);
    assert.equal(req.params.EventType, 'onUserAdded');
    checkSigned(req);
  });

  it('service-level targets receive user events too', async () => {
    await configure({});
    await serviceHooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/svc'), method: 'POST' });
    const id = uid('svc');
    await v1().services(IS).users.create({ identity: id, ...webhookHeader });
    const [req] = await rx.waitFor('/svc', 1);
    checkSigned(req);
    assert.equal(req.params.Identity, id);
    await serviceHooks().update({ filters: [''], postWebhookUrl: '' });
  });

  it('post-events for one user arrive in order', async () => {
    await configure({ filters: ['onUserUpdated'], postWebhookUrl: rx.url('/order') });
    const id = uid('order');
    await v1().users.create({ identity: id });
    for (let i = 0; i < 15; i++) await v1().users(id).update({ friendlyName: `n${i}`, ...webhookHeader });
    const got = await rx.waitFor('/order', 15);
    assert.deepEqual(got.map((r) => r.params.FriendlyName), Array.from({ length: 15 }, (_, i) => `n${i}`));
  });

  it('a receiver that is down gets every event after it comes back, in order, with RetryCount', async () => {
    const port = await freePort();
    const late = new Receiver();
    await configure({ filters: ['onUserAdded', 'onUserUpdated'], postWebhookUrl: `http://127.0.0.1:${port}/late` });
    const id = uid('late');
    await v1().users.create({ identity: id, ...webhookHeader });
    await v1().users(id).update({ friendlyName: 'one', ...webhookHeader });
    await v1().users(id).update({ friendlyName: 'two', ...webhookHeader });
    await sleep(1500);
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=10');
    const pending = log.json.deliveries.filter((d) => d.outcome === 'pending' && d.url.endsWith('/late'));
    assert.equal(pending.length, 3, JSON.stringify(log.json));
    assert.ok(pending.some((d) => d.attempts >= 1 && d.last_error), 'a failed attempt is recorded');
    await late.listen(port);
    try {
      const got = await late.waitFor('/late', 3, 60_000);
      assert.deepEqual(got.map((r) => [r.params.EventType, r.params.FriendlyName]), [
        ['onUserAdded', undefined],
        ['onUserUpdated', 'one'],
        ['onUserUpdated', 'two'],
      ]);
      assert.ok(Number(got[0].params.RetryCount) >= 1, `RetryCount ${got[0].params.RetryCount}`);
      for (const r of got) checkSigned(r);
    } finally {
      await late.close();
    }
  });

  it('kill -9 with events queued: every accepted event is delivered after the restart', async () => {
    const port = await freePort();
    await configure({ filters: ['onUserAdded'], postWebhookUrl: `http://127.0.0.1:${port}/crash` });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const id = uid('crash');
      await v1().users.create({ identity: id, ...webhookHeader });
      ids.push(id);
    }
    await ctx.h.kill9();
    await ctx.h.restart();
    const late = await new Receiver().listen(port);
    try {
      const got = await late.waitFor('/crash', 5, 60_000);
      assert.deepEqual([...new Set(got.map((r) => r.params.Identity))].sort(), [...ids].sort());
      // a duplicate is allowed only as the same event, with the same idempotency token
      const tokens = new Map();
      for (const r of got) {
        const t = r.headers['i-twilio-idempotency-token'];
        if (tokens.has(r.params.Identity)) assert.equal(tokens.get(r.params.Identity), t);
        tokens.set(r.params.Identity, t);
      }
    } finally {
      await late.close();
    }
  });

  it('the delivery log needs credentials and shows outcomes', async () => {
    const anon = await ctx.h.raw('GET', '/parley/webhooks/log', { auth: false });
    assert.equal(anon.status, 401);
    const res = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=5');
    assert.equal(res.status, 200);
    assert.equal(res.json.account_sid, ctx.h.accountSid);
    assert.ok(res.json.deliveries.length > 0 && res.json.deliveries.length <= 5);
    for (const d of res.json.deliveries) {
      assert.deepEqual(Object.keys(d), [
        'kind', 'event_type', 'url', 'method', 'outcome', 'status', 'attempts', 'latency_ms', 'last_error', 'idempotency_token', 'date_created', 'date_completed',
      ]);
    }
    assert.match(res.json.deliveries[0].event_type, /^onUser/);
    const bad = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=0');
    assert.equal(bad.status, 400);
    // the same log from the command line, on the data file
    const out = execFileSync(parleyBin(), ['webhooks', 'log', '--data', ctx.h.dataFile, '--account', ctx.h.accountSid, '--limit', '500'], { encoding: 'utf8' });
    assert.match(out, /post onUserAdded\s+delivered\s+200/);
    assert.match(out, /pre\s+onUserUpdate\s+vetoed\s+403/);
    assert.ok(!out.includes(ctx.h.authToken));
  });
});

e2eSuite('webhooks: reject on pre-event failure', { args: ['--pre-webhook-timeout', '300', '--pre-webhook-failure', 'reject'] }, (ctx, it) => {
  it('a pre-event hook that cannot be reached rejects the update when so configured', async () => {
    const port = await freePort();
    const v1 = ctx.h.client.conversations.v1;
    await v1.configuration.webhooks().update({ filters: ['onUserUpdate'], preWebhookUrl: `http://127.0.0.1:${port}/nobody` });
    await v1.users.create({ identity: 'stay' });
    await rejectsRest(v1.users('stay').update({ friendlyName: 'no', xTwilioWebhookEnabled: 'true' }), { status: 400, code: 50056 });
    assert.equal((await v1.users('stay').fetch()).friendlyName, null);
    assert.match((await v1.users('stay').fetch()).sid, SID_RE('US'));
  });
});
