// GET /metrics: the Prometheus text format. Server-wide figures need the admin token (PARLEY_ADMIN_TOKEN,
// Basic admin:<token> or Bearer <token>) or --metrics-public; an account's own credentials (or its API keys) give
// that account's request counters only.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { basic, e2eSuite, parleyBin, randomHex } from './harness.mjs';

const ADMIN_TOKEN = randomHex(40);
const FILE_ADMIN_TOKEN = randomHex(24);
const tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-metrics-'));
const adminTokenFile = path.join(tokenDir, 'admin-token');
fs.writeFileSync(adminTokenFile, `${FILE_ADMIN_TOKEN}\n`, { mode: 0o600 });
after(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

/** The `name value` lines of an exposition, checked for shape. */
function samples(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    assert.match(line, /^[a-z_]+(\{.*\})? [0-9.e+-]+$/, line);
    out.push(line);
  }
  return out;
}

const accountLine = (sid, route, method, status, n) =>
  new RegExp(`^parley_account_http_requests_total\\{account_sid="${sid}",route="${route.replace(/[{}]/g, '\\$&')}",method="${method}",status="${status}"\\} ${n}$`, 'm');

e2eSuite('metrics', { env: { PARLEY_ADMIN_TOKEN: ADMIN_TOKEN } }, (ctx, it) => {
  const h = () => ctx.h;
  let B; // a second account, created with `parley account create`

  before(async () => {
    const r = h().cli(['account', 'create', '--friendly-name', 'other tenant']);
    assert.equal(r.status, 0, r.stderr);
    const f = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
    B = { sid: f.account_sid, token: f.auth_token };
  });

  it('needs credentials', async () => {
    assert.equal((await h().raw('GET', '/metrics', { auth: false })).status, 401);
    assert.equal((await h().raw('GET', '/metrics', { auth: [h().accountSid, 'wrong-token'] })).status, 401);
  });

  it('an account sees its own request counters, nothing server-wide and nothing of another account', async () => {
    await h().client.conversations.v1.users.create({ identity: 'metered' });
    await h().raw('GET', '/v1/Users/metered');
    await h().raw('GET', '/v1/Users/nobody');
    for (let i = 0; i < 3; i++) assert.equal((await h().raw('GET', '/v1/Roles', { auth: [B.sid, B.token] })).status, 200);

    const res = await h().raw('GET', '/metrics');
    assert.equal(res.status, 200, res.body);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    const A = h().accountSid;
    assert.match(text, accountLine(A, '/v1/Users', 'POST', '201', 1));
    assert.match(text, accountLine(A, '/v1/Users/{}', 'GET', '200', 1));
    assert.match(text, accountLine(A, '/v1/Users/{}', 'GET', '404', 1));
    for (const line of samples(text)) assert.ok(line.startsWith(`parley_account_http_requests_total{account_sid="${A}",`), line);
    assert.ok(!text.includes(B.sid), 'nothing of the other account');
    assert.doesNotMatch(text, /parley_store_|parley_webhook_|parley_http_request|in_flight/);

    const other = await h().raw('GET', '/metrics', { auth: [B.sid, B.token] });
    assert.equal(other.status, 200, other.body);
    assert.match(other.body, accountLine(B.sid, '/v1/Roles', 'GET', '200', 3));
    assert.ok(!other.body.includes(A), 'nothing of the first account');
  });

  it("an API key sees its account's counters", async () => {
    const r = h().cli(['key', 'create', '--account', h().accountSid]);
    assert.equal(r.status, 0, r.stderr);
    const k = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
    assert.equal((await h().raw('GET', '/v1/Services', { auth: [k.sid, k.secret] })).status, 200);
    const res = await h().raw('GET', '/metrics', { auth: [k.sid, k.secret] });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, accountLine(h().accountSid, '/v1/Services', 'GET', '200', 1));
    assert.ok(!res.body.includes(B.sid));
  });

  it('the admin token (Basic admin:<token> or Bearer) gives the server-wide figures and every account', async () => {
    for (const auth of [basic('admin', ADMIN_TOKEN), `Bearer ${ADMIN_TOKEN}`, `bearer ${ADMIN_TOKEN}`]) {
      const res = await h().raw('GET', '/metrics', { auth });
      assert.equal(res.status, 200, res.body);
      const text = res.body;
      samples(text);
      assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users",method="POST",status="201"\} 1$/m);
      assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users\/\{\}",method="GET",status="200"\} 1$/m);
      assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users\/\{\}",method="GET",status="404"\} 1$/m);
      assert.match(text, /^parley_http_request_duration_seconds_bucket\{route="\/v1\/Users\/\{\}",le="\+Inf"\} 2$/m);
      assert.match(text, /^parley_store_commit_batch_size_count [1-9]\d*$/m);
      assert.match(text, /^parley_store_commit_seconds_count\{\} [1-9]\d*$/m);
      assert.match(text, /^parley_webhook_outbox_depth \d+$/m);
      assert.match(text, accountLine(h().accountSid, '/v1/Users', 'POST', '201', 1));
      assert.match(text, accountLine(B.sid, '/v1/Roles', 'GET', '200', 3));
    }
  });

  it('a wrong admin token is refused; the admin token is no account credential', async () => {
    for (const auth of [basic('admin', ADMIN_TOKEN + 'x'), basic('admin', ''), `Bearer ${ADMIN_TOKEN.slice(1)}`, 'Bearer ']) {
      const res = await h().raw('GET', '/metrics', { auth });
      assert.equal(res.status, 401, `${auth}: ${res.body}`);
      assert.equal(res.json.code, 20003);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Twilio API"');
    }
    assert.equal((await h().raw('GET', '/v1/Users', { auth: basic('admin', ADMIN_TOKEN) })).status, 401);
    assert.equal((await h().raw('GET', '/v1/Users', { auth: `Bearer ${ADMIN_TOKEN}` })).status, 401);
  });
});

e2eSuite('metrics, no admin token', {}, (ctx, it) => {
  it('without an admin token nothing gives the server-wide figures', async () => {
    for (const auth of [basic('admin', ''), basic('admin', 'anything-at-all'), 'Bearer ', 'Bearer anything-at-all']) {
      assert.equal((await ctx.h.raw('GET', '/metrics', { auth })).status, 401, auth);
    }
    const own = await ctx.h.raw('GET', '/metrics');
    assert.equal(own.status, 200);
    assert.doesNotMatch(own.body, /parley_http_requests_total|parley_store_/);
  });
});

e2eSuite('metrics, public', { args: ['--metrics-public'] }, (ctx, it) => {
  it('--metrics-public serves the server-wide /metrics without credentials, and nothing else', async () => {
    const res = await ctx.h.raw('GET', '/metrics', { auth: false });
    assert.equal(res.status, 200);
    assert.match(res.body, /^parley_store_commit_seconds_count\{\} \d+$/m);
    assert.equal((await ctx.h.raw('GET', '/v1/Users', { auth: false })).status, 401);
  });
});

e2eSuite('metrics, --admin-token-file', { args: ['--admin-token-file', adminTokenFile] }, (ctx, it) => {
  it('the token from the file is the admin credential', async () => {
    const res = await ctx.h.raw('GET', '/metrics', { auth: `Bearer ${FILE_ADMIN_TOKEN}` });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /^parley_store_commit_seconds_count\{\} \d+$/m);
    assert.ok(!ctx.h.log.includes(FILE_ADMIN_TOKEN), 'the token is not in the output');
  });
});

test('an admin token shorter than 16 characters is refused at start', () => {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_'))), PARLEY_ADMIN_TOKEN: 'short-admin' };
  const r = spawnSync(parleyBin(), ['--listen', '127.0.0.1:0', '--data', path.join(tokenDir, 'p.db')], { encoding: 'utf8', env, timeout: 20_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /the admin token must be 16 to 128 characters/);
  assert.ok(!r.stderr.includes('short-admin'));
});
