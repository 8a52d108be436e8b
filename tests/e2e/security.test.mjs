// Security: every route in the router table refuses requests without valid credentials (cases generated from
// the operation table, tests/operations.gen.json, and the server's own answer to which it implements), secrets never reach the log, TLS on the listener, SIGHUP reopens the log file.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { before } from 'node:test';
import { e2eSuite, assertErrorBody, basic, freePort, newAccountSid, parleyBin, randomHex, sleep } from './harness.mjs';
import { fill, implementedOps, unknownSid } from './optable.mjs';

// Parley's own routes under /parley (not in the Twilio spec, so not in the operation table).
const ADMIN_CASES = [{ method: 'GET', path: '/parley/webhooks/log' }];

/** Every (method, path) the server implements, from the operation table and the probe, with unknown SIDs in the
 * path (credentials are checked before any resource), plus Parley's own admin routes. */
async function routeCases(h) {
  const cases = (await implementedOps(h)).map((e) => ({ method: e.op.method, path: fill(e.op.path, (n) => unknownSid(e, n)) }));
  for (const c of ADMIN_CASES) {
    const res = await h.raw(c.method, c.path);
    assert.equal(res.status, 200, `${c.method} ${c.path} is routed: ${res.body}`);
    cases.push(c);
  }
  return cases;
}

e2eSuite('security', { args: ['--log', path.join(os.tmpdir(), `parley-security-${process.pid}.log`)] }, (ctx, it) => {
  const logFile = path.join(os.tmpdir(), `parley-security-${process.pid}.log`);
  let cases = [];
  before(async () => {
    cases = await routeCases(ctx.h);
  });

  it('the route table was read', () => {
    assert.ok(cases.length >= 40, `${cases.length} route cases`);
    assert.ok(cases.some((c) => c.method === 'POST' && /^\/v1\/Users\/US[0-9a-f]{32}$/.test(c.path)));
    assert.ok(cases.some((c) => c.method === 'DELETE' && /^\/v1\/Services\/IS[0-9a-f]{32}\/Roles\/RL[0-9a-f]{32}$/.test(c.path)));
  });

  it('no route answers without credentials, with wrong ones, or with another scheme', async () => {
    const wrong = [
      { auth: false, message: 'Authentication Error - No credentials provided' },
      { auth: `Bearer ${ctx.h.authToken}`, message: 'Authentication Error - No credentials provided' },
      { auth: [ctx.h.accountSid, ctx.h.authToken + 'x'], message: 'Authenticate' },
      { auth: [ctx.h.accountSid, ''], message: 'Authenticate' },
      { auth: [newAccountSid(), ctx.h.authToken], message: 'Authenticate' },
      { auth: ['nobody', 'x'], message: 'Authenticate' },
    ];
    for (const c of cases) {
      for (const w of wrong) {
        const res = await ctx.h.raw(c.method, c.path, { auth: w.auth, body: c.method === 'POST' ? { FriendlyName: 'x' } : undefined });
        assertErrorBody(res, { status: 401, code: 20003, message: w.message });
        assert.equal(res.headers['www-authenticate'], 'Basic realm="Twilio API"', `${c.method} ${c.path}`);
      }
    }
    // and nothing was created by any of them
    const users = await ctx.h.raw('GET', '/v1/Users');
    assert.equal(users.json.users.length, 0);
  });

  it('OPTIONS preflight and /healthz answer without credentials; nothing else does', async () => {
    for (const c of cases.slice(0, 5)) {
      const res = await ctx.h.raw('OPTIONS', c.path, { auth: false });
      assert.equal(res.status, 204);
      assert.equal(res.headers['access-control-allow-origin'], '*');
    }
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });

  it('secrets never appear in the log', async () => {
    await ctx.h.raw('POST', '/v1/Users', { body: { Identity: 'logged' } });
    await ctx.h.raw('GET', '/v1/Users', { auth: [ctx.h.accountSid, 'wrong-token-xyz'] });
    // the server's own output: the harness's lines (starting "-----") quote the command line it ran
    const own = ctx.h.log.split('\n').filter((l) => !l.startsWith('-----')).join('\n');
    const text = own + fs.readFileSync(logFile, 'utf8');
    assert.ok(!text.includes(ctx.h.authToken), 'the auth token is in the log');
    assert.ok(!text.includes('wrong-token-xyz'), 'a presented secret is in the log');
  });

  it('SIGHUP reopens the log file', async () => {
    const moved = logFile + '.1';
    fs.renameSync(logFile, moved);
    ctx.h.proc.kill('SIGHUP');
    for (let i = 0; i < 50 && !fs.existsSync(logFile); i++) await sleep(50);
    assert.ok(fs.existsSync(logFile), 'a new log file was opened');
    assert.match(fs.readFileSync(logFile, 'utf8'), /log file reopened/);
    fs.rmSync(moved, { force: true });
  });

  it('--help documents loopback as the default listen address', () => {
    const help = execFileSync(parleyBin(), ['--help'], { encoding: 'utf8' });
    assert.match(help, /default 127\.0\.0\.1:8080/);
  });
});

e2eSuite('tls', { account: false }, (ctx, it) => {
  it('--tls-cert/--tls-key serve HTTPS with the same API', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    // a port known to be free: a random one could belong to a listener that never answers a TLS hello
    const port = await freePort();
    const sid = newAccountSid();
    const token = randomHex(32);
    const proc = spawn(parleyBin(), ['--listen', `127.0.0.1:${port}`, '--data', path.join(dir, 'p.db'), '--tls-cert', cert, '--tls-key', key, '--account-sid', sid, '--auth-token', token], { stdio: 'ignore' });
    const get = (p, auth) =>
      new Promise((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, timeout: 5000, headers: auth ? { authorization: basic(sid, token) } : {} }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        });
        req.on('error', (e) => resolve({ error: e }));
        req.on('timeout', () => req.destroy(new Error('timed out')));
      });
    try {
      let res;
      for (let i = 0; i < 100; i++) {
        res = await get('/healthz');
        if (res.status === 200) break;
        await sleep(50);
      }
      assert.equal(res.status, 200);
      const cfg = await get('/v1/Configuration', true);
      assert.equal(cfg.status, 200);
      assert.equal(JSON.parse(cfg.body).url, `https://127.0.0.1:${port}/v1/Configuration`);
      // over TLS, as conversations.twilio.com does (BEHAVIOUR §10.6)
      assert.equal(cfg.headers['strict-transport-security'], 'max-age=31536000');
      assert.equal(cfg.headers['x-api-domain'], `127.0.0.1:${port}`);
      assert.equal((await get('/v1/Configuration', false)).status, 401);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.on('close', r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
