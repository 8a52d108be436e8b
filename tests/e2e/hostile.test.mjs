// Hostile clients on loopback: slow and idle connections, oversized headers and bodies, request smuggling
// shapes, bad bytes, deep JSON, an HTTP/2 preface. Each gets a clean error or a closed connection; the server
// stays up and keeps answering normal requests quickly throughout; its memory stays bounded.
//
// HOSTILE_SCALE=full (make check-hard) raises the counts to the figures (10,000 idle connections).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { e2eSuite, assertErrorBody, basic, sleep } from './harness.mjs';

const FULL = process.env.HOSTILE_SCALE === 'full';
const IDLE = FULL ? 10_000 : 1_000;
const SLOW = FULL ? 500 : 100;

function peakRssKiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Opens n TCP connections to the server and keeps them open (optionally sending a first chunk). */
async function openMany(port, n, first) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    socks.push(s);
    if (first) s.write(first);
    if (i % 200 === 199) await sleep(20); // do not overflow the listen backlog
  }
  await sleep(200);
  return socks;
}

/** Normal requests while something else goes on: returns latencies (ms) and failures. */
async function probe(h, n) {
  const lat = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    try {
      const res = await h.raw('GET', '/v1/Users?PageSize=5');
      if (res.status !== 200) failures++;
    } catch {
      failures++;
    }
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lat.sort((a, b) => a - b);
  return { p99: lat[Math.floor(lat.length * 0.99) - 1] ?? lat.at(-1), failures };
}

// All of them come from one address: the per-address limit (default 256) is lifted so that the idle and
// slowloris connections reach the server.
e2eSuite('hostile clients', { args: ['--max-connections', String(IDLE + 500), '--max-per-ip', '0', '--idle-timeout', '60'] }, (ctx, it) => {
  const auth = () => basic(ctx.h.accountSid, ctx.h.authToken);
  const req = (lines, body = '') => Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');

  it('request headers of 100 KB: 431 (or a closed connection), server fine', async () => {
    const big = 'x'.repeat(100 * 1024);
    const res = await ctx.h.rawSocket(req(['GET /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`, `X-Big: ${big}`])).catch(() => null);
    if (res) assert.ok(res.status === 431 || res.status === 413 || res.status === 400, `status ${res.status}`);
    assert.equal((await ctx.h.raw('GET', '/v1/Users')).status, 200);
  });

  it('a body beyond the cap: 413 with Twilio JSON, nothing created', async () => {
    const body = 'Identity=big&Attributes=' + encodeURIComponent(JSON.stringify({ a: 'y'.repeat(70_000) }));
    const res = await ctx.h.raw('POST', '/v1/Users', { body });
    assertErrorBody(res, { status: 413, code: 20001 });
    assert.equal((await ctx.h.raw('GET', '/v1/Users/big')).status, 404);
  });

  it('Content-Length with Transfer-Encoding, and two Content-Lengths: 400, nothing created', async () => {
    const body = 'Identity=smuggle1';
    const a = await ctx.h.rawSocket(
      req(['POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`, 'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`),
    );
    assert.equal(a.status, 400);
    const body2 = 'Identity=smuggle2';
    const b = await ctx.h.rawSocket(
      req(['POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`, 'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${body2.length}`, `Content-Length: ${body2.length + 5}`], body2 + 'xxxxx'),
    );
    assert.equal(b.status, 400);
    for (const id of ['smuggle1', 'smuggle2']) assert.equal((await ctx.h.raw('GET', `/v1/Users/${id}`)).status, 404);
  });

  it('invalid UTF-8 and NUL bytes in identities and attributes: 400, nothing created', async () => {
    for (const body of [
      Buffer.from('Identity=bad%FF%FE', 'latin1'),
      Buffer.from('Identity=a%00b', 'latin1'),
      Buffer.concat([Buffer.from('Identity=raw'), Buffer.from([0xc3, 0x28])]),
      Buffer.from('Identity=ok1&Attributes=%7B%22a%22%3A%22%FF%22%7D', 'latin1'),
      Buffer.from('Identity=ok2&Attributes=%7B%7D%00', 'latin1'),
    ]) {
      const res = await ctx.h.raw('POST', '/v1/Users', { body });
      assert.equal(res.status, 400, `${body.toString('latin1')}: ${res.body}`);
    }
    const list = await ctx.h.raw('GET', '/v1/Users');
    assert.equal(list.json.users.length, 0);
  });

  it('deeply nested JSON attributes are refused without harm', async () => {
    const deep = '['.repeat(8000) + ']'.repeat(8000);
    const res = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: 'deep', Attributes: deep } });
    assert.equal(res.status, 400);
    assert.ok([50303, 50304].includes(res.json.code));
    const huge = '['.repeat(100_000) + ']'.repeat(100_000);
    const res2 = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: 'deep2', Attributes: huge } });
    assert.equal(res2.status, 413);
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });

  it('an HTTP/2 preface and a garbage request line get an error or a close', async () => {
    const pri = await ctx.h.rawSocket(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), 3000).catch(() => null);
    if (pri) assert.ok(pri.status >= 400, `status ${pri.status}`);
    const junk = await ctx.h.rawSocket(Buffer.from('\x16\x03\x01\x00\xff garbage\r\n\r\n', 'latin1'), 3000).catch(() => null);
    if (junk) assert.ok(junk.status >= 400, `status ${junk.status}`);
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });

  it(`slowloris: ${SLOW} connections dribbling headers do not stop normal requests`, async () => {
    const socks = await openMany(ctx.h.port, SLOW, 'GET /v1/Users HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => {
      for (const s of socks) if (!s.destroyed) s.write('X-a: b\r\n');
    }, 200);
    try {
      const { p99, failures } = await probe(ctx.h, 200);
      assert.equal(failures, 0);
      assert.ok(p99 < 50, `p99 ${p99.toFixed(1)} ms`);
    } finally {
      clearInterval(timer);
      for (const s of socks) s.destroy();
    }
  });

  it(`${IDLE} idle connections: normal requests still answer, memory stays bounded`, { timeout: 300_000 }, async () => {
    const before = peakRssKiB(ctx.h.proc.pid);
    const socks = await openMany(ctx.h.port, IDLE);
    try {
      const { p99, failures } = await probe(ctx.h, 200);
      assert.equal(failures, 0);
      assert.ok(p99 < 50, `p99 ${p99.toFixed(1)} ms with ${IDLE} idle connections`);
      const peak = peakRssKiB(ctx.h.proc.pid);
      process.stderr.write(`# hostile: peak RSS ${before} KiB before, ${peak} KiB with ${IDLE} idle connections; p99 ${p99.toFixed(2)} ms\n`);
      assert.ok(peak < 256 * 1024, `peak RSS ${peak} KiB`);
    } finally {
      for (const s of socks) s.destroy();
    }
    await sleep(300);
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });
});
