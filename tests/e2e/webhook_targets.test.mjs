// The webhook target policy (issue 10, finding 5: SSRF). Tests send traffic to loopback only: refused
// addresses (169.254.169.254 and other link-local ones) must be refused before any socket is opened, which
// the first suite checks by running the server under strace and reading every connect() it made.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { before, after } from 'node:test';
import { e2eSuite, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const hdr = { xTwilioWebhookEnabled: 'true' };
const COARSE = /^(blocked|timeout|connect|dns|tls|connection|error|HTTP \d{3})$/;
const haveStrace = spawnSync('strace', ['-V']).status === 0;
const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-strace-')), 'connect.txt');

/** Waits until the log has a finished row for url; returns it. */
async function finished(h, kind, url, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await h.raw('GET', '/parley/webhooks/log?Limit=200');
    const row = log.json.deliveries.find((d) => d.kind === kind && d.url === url && d.outcome !== 'pending');
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no finished ${kind} row for ${url}: ${JSON.stringify(log.json.deliveries.slice(0, 5))}`);
    await sleep(50);
  }
}

/** A suite on one server; with trace, strace follows every thread of the server and logs its connect() calls. */
function suite(name, args, trace, body) {
  e2eSuite(name, { args: ['--pre-webhook-timeout', '2000', ...args] }, (ctx, it) => {
    let rx;
    const v1 = () => ctx.h.client.conversations.v1;
    const hooks = (o) => v1().configuration.webhooks().update({ filters: ['onUserAdded', 'onUserUpdate'], preWebhookUrl: '', postWebhookUrl: '', ...o });
    const tracer = { proc: null };
    before(async () => {
      rx = await new Receiver().listen();
      if (trace) {
        tracer.proc = spawn('strace', ['-f', '-qq', '-e', 'trace=connect', '-o', traceFile, '-p', String(ctx.h.proc.pid)], { stdio: 'ignore' });
        tracer.exited = new Promise((resolve) => tracer.proc.on('close', resolve));
        const deadline = Date.now() + 5000;
        while (!fs.existsSync(traceFile) && Date.now() < deadline) await sleep(20);
        await sleep(300);
      }
    });
    after(async () => {
      await rx?.close();
      if (tracer.proc && tracer.proc.exitCode === null) tracer.proc.kill('SIGKILL');
    });
    /** Detaches strace (the server keeps running) and returns what it logged. */
    const stopTrace = async () => {
      tracer.proc.kill('SIGINT');
      await tracer.exited;
      return fs.readFileSync(traceFile, 'utf8');
    };
    body(ctx, it, { rx: () => rx, v1, hooks, stopTrace });
  });
}

const REFUSED_UNDER_OPEN = [
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.1.1:8080/x',
  'http://[::ffff:169.254.169.254]/latest/meta-data/',
  'http://[fd00:ec2::254]/latest/meta-data/',
];

suite('webhook targets: open (the default)', [], haveStrace, (ctx, it, t) => {
  it('link-local and metadata targets are refused before connecting: failed, "blocked", not retried', async () => {
    let n = 0;
    for (const url of REFUSED_UNDER_OPEN) {
      await t.hooks({ postWebhookUrl: url });
      await t.v1().users.create({ identity: `meta-${++n}`, ...hdr });
      const row = await finished(ctx.h, 'post', url);
      assert.equal(row.outcome, 'failed', url);
      assert.equal(row.last_error, 'blocked', url);
      assert.equal(row.attempts, 1, url);
      assert.equal(row.latency_ms, 0, url);
      assert.equal(row.status, null, url);
    }
    await sleep(1200); // past the first retry delay: still one attempt each, nothing pending
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=200');
    for (const url of REFUSED_UNDER_OPEN) {
      const rows = log.json.deliveries.filter((d) => d.url === url);
      assert.deepEqual(rows.map((d) => [d.outcome, d.attempts]), [['failed', 1]], url);
    }
  });

  it('a refused pre-event target is a failed call: the update proceeds (the default) and the log says "blocked"', async () => {
    const url = 'http://169.254.169.254/pre';
    await t.hooks({ preWebhookUrl: url });
    await t.v1().users.create({ identity: 'pre-meta' });
    assert.equal((await t.v1().users('pre-meta').update({ friendlyName: 'went', ...hdr })).friendlyName, 'went');
    const row = await finished(ctx.h, 'pre', url);
    assert.equal(row.outcome, 'proceeded');
    assert.equal(row.last_error, 'blocked');
  });

  it('loopback receivers work under open, by address and by name', async () => {
    for (const url of [t.rx().url('/open-ok'), `http://localhost:${t.rx().port}/open-ok`]) {
      await t.hooks({ postWebhookUrl: url });
      await t.v1().users.create({ identity: `open-${url.length}-${url.includes('localhost')}`, ...hdr });
      const row = await finished(ctx.h, 'post', url);
      assert.equal(row.outcome, 'delivered', JSON.stringify(row));
    }
    assert.equal(t.rx().at('/open-ok').length, 2);
  });

  it('the log shows coarse error classes, not curl\'s text', async () => {
    const closed = `http://127.0.0.1:9/closed`; // discard port: nothing listens
    await t.hooks({ postWebhookUrl: closed });
    await t.v1().users.create({ identity: 'closed-port', ...hdr });
    const deadline = Date.now() + 10_000;
    let row;
    while (!(row = (await ctx.h.raw('GET', '/parley/webhooks/log?Limit=200')).json.deliveries.find((d) => d.url === closed && d.last_error))) {
      assert.ok(Date.now() < deadline, 'a failed attempt to the closed port is recorded');
      await sleep(50);
    }
    assert.equal(row.last_error, 'connect');
    await t.hooks({});
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=1000');
    for (const d of log.json.deliveries) if (d.last_error !== null) assert.match(d.last_error, COARSE, JSON.stringify(d));
  });

  it('no connect() to a refused address was ever made (strace of the server)', { skip: !haveStrace && 'needs strace' }, async () => {
    const trace = await t.stopTrace();
    assert.match(trace, /connect\(.*127\.0\.0\.1/, 'the trace records the loopback deliveries');
    for (const bad of ['169.254.', 'fd00:ec2', '::ffff:169.254']) assert.ok(!trace.includes(bad), `a connect() to ${bad}: ${trace}`);
  });
});

suite('webhook targets: public', ['--webhook-targets', 'public'], false, (ctx, it, t) => {
  it('loopback targets are refused: by address, by name, IPv6 and v4-mapped; post and pre', async () => {
    const port = t.rx().port;
    const urls = [`http://127.0.0.1:${port}/pub`, `http://localhost:${port}/pub`, `http://[::1]:${port}/pub`,
      `http://[::ffff:127.0.0.1]:${port}/pub`, `http://0.0.0.0:${port}/pub`, 'http://169.254.169.254/pub'];
    let n = 0;
    for (const url of urls) {
      await t.hooks({ postWebhookUrl: url, preWebhookUrl: url });
      const id = `pub-${++n}`;
      await t.v1().users.create({ identity: id, ...hdr });
      assert.equal((await t.v1().users(id).update({ friendlyName: 'x', ...hdr })).friendlyName, 'x');
      const post = await finished(ctx.h, 'post', url);
      assert.deepEqual([post.outcome, post.last_error, post.attempts, post.latency_ms], ['failed', 'blocked', 1, 0], url);
      const pre = await finished(ctx.h, 'pre', url);
      assert.deepEqual([pre.outcome, pre.last_error], ['proceeded', 'blocked'], url);
    }
    await sleep(300);
    assert.equal(t.rx().requests.length, 0, 'nothing reached the loopback receiver');
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=1000');
    for (const d of log.json.deliveries) if (d.last_error !== null) assert.match(d.last_error, COARSE, JSON.stringify(d));
  });

  it('a bad --webhook-targets value is refused at start', () => {
    const r = spawnSync(ctx.h.bin, ['serve', '--webhook-targets', 'closed'], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--webhook-targets takes open or public/);
  });
});
