// The HTTP layer under attack by a client on loopback (issue 10): request smuggling shapes, connection
// exhaustion, authentication before the body, over-long URIs, log flooding, a stop with a suspended request.
// Raw sockets throughout: an HTTP library would refuse to send most of these shapes.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import { e2eSuite, assertErrorBody, basic, sleep, start } from './harness.mjs';

/**
 * Sends bytes on a fresh connection and collects everything until the server closes it or timeoutMs passes.
 * Returns {text, closed, statuses}: closed is true when the server ended the connection.
 */
function exchange(port, bytes, { timeoutMs = 3000, writes } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let closed = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
      resolve({ text, closed, statuses });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => {
      closed = true;
      finish();
    });
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('error', () => {
      closed = true;
      finish();
    });
    sock.on('connect', async () => {
      for (const part of writes ?? [bytes]) {
        if (typeof part === 'number') await sleep(part);
        else if (!sock.destroyed) sock.write(part);
      }
    });
  });
}

/** The JSON body of the first response in text. */
function firstBody(text) {
  const sep = text.indexOf('\r\n\r\n');
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, sep + 2));
  return JSON.parse(text.slice(sep + 4, sep + 4 + Number(m[1])));
}

const lines = (...l) => l.join('\r\n') + '\r\n';

e2eSuite('HTTP layer: request smuggling', {}, (ctx, it) => {
  const auth = () => basic(ctx.h.accountSid, ctx.h.authToken);
  let n = 0;

  /** A complete request that would create a user: the payload a smuggler hides behind the first request. */
  function smuggled(identity) {
    const body = `Identity=${identity}`;
    return lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`,
      'Content-Type: application/x-www-form-urlencoded', `Content-Length: ${body.length}`, '') + body;
  }

  /** Sends a request with the given framing headers; its body is an empty chunk followed by a smuggled
   * request. Requires a 400 with a Twilio body, a closed connection, and no trace of the smuggled request. */
  async function refused(name, framing, { withLength = true } = {}) {
    const identity = `smuggled-${++n}`;
    const tail = '0\r\n\r\n' + smuggled(identity);
    const head = ['POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`,
      'Content-Type: application/x-www-form-urlencoded', ...framing];
    if (withLength) head.push(`Content-Length: ${tail.length}`);
    const res = await exchange(ctx.h.port, lines(...head, '') + tail);
    assert.equal(res.statuses[0], 400, `${name}: ${JSON.stringify(res.text)}`);
    assert.equal(res.statuses.length, 1, `${name}: one answer only, got ${res.statuses}`);
    assert.equal(firstBody(res.text).code, 20001, name);
    assert.match(res.text, /\r\nConnection: close\r\n/i, `${name}: Connection: close`);
    assert.ok(res.closed, `${name}: the connection must be closed`);
    assert.equal((await ctx.h.raw('GET', `/v1/Users/${identity}`)).status, 404, `${name}: the smuggled request ran`);
  }

  it('Content-Length with Transfer-Encoding: 400, closed, the smuggled request never runs', async () => {
    await refused('CL+TE', ['Transfer-Encoding: chunked']);
    await refused('TE+CL order', ['Transfer-Encoding: chunked'], { withLength: true });
  });

  it('Transfer-Encoding folded onto a continuation line (obs-fold): refused', async () => {
    await refused('obs-fold SP', ['Transfer-Encoding:', ' chunked']);
    await refused('obs-fold HTAB', ['Transfer-Encoding:', '\tchunked']);
    await refused('obs-fold, no CL', ['Transfer-Encoding:', ' chunked'], { withLength: false });
    await refused('fold of another header', ['X-Note: a', ' b', 'Transfer-Encoding: chunked'], { withLength: false });
  });

  it('whitespace in or around a header name: refused', async () => {
    await refused('SP before colon', ['Transfer-Encoding : chunked']);
    await refused('HTAB before colon', ['Transfer-Encoding\t: chunked']);
    await refused('SP before colon, no CL', ['Transfer-Encoding : chunked'], { withLength: false });
    await refused('leading SP (a fold of the line before)', [' Transfer-Encoding: chunked']);
    await refused('SP inside the name', ['Transfer Encoding: chunked']);
    await refused('Content-Length with SP before colon', ['Content-Length : 5'], { withLength: false });
  });

  it('repeated Transfer-Encoding, and values other than chunked: refused', async () => {
    await refused('TE twice', ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], { withLength: false });
    await refused('TE chunked + identity', ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], { withLength: false });
    for (const v of ['gzip, chunked', 'chunked, identity', 'identity', 'xchunked', 'chunked;q=1', '"chunked"', '']) {
      await refused(`TE "${v}"`, [`Transfer-Encoding: ${v}`], { withLength: false });
      await refused(`TE "${v}" with CL`, [`Transfer-Encoding: ${v}`]);
    }
  });

  it('two Content-Lengths (equal or not): 400 and closed', async () => {
    const body = 'Identity=dup-cl';
    for (const second of [body.length, body.length + 5]) {
      const res = await exchange(ctx.h.port, lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`,
        'Content-Type: application/x-www-form-urlencoded', `Content-Length: ${body.length}`, `Content-Length: ${second}`, '') + body + 'xxxxx');
      assert.equal(res.statuses[0], 400);
      assert.ok(res.closed);
    }
    assert.equal((await ctx.h.raw('GET', '/v1/Users/dup-cl')).status, 404);
  });

  it('a plain chunked body and a keep-alive pair still work', async () => {
    const body = 'Identity=chunky';
    const res = await exchange(ctx.h.port, lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${auth()}`,
      'Content-Type: application/x-www-form-urlencoded', 'Transfer-Encoding: chunked', '') +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` +
      lines('GET /v1/Users/chunky HTTP/1.1', 'Host: x', `Authorization: ${auth()}`, ''), { timeoutMs: 1500 });
    assert.deepEqual(res.statuses, [201, 200], res.text);
    assert.ok(!res.closed, 'a good request keeps its connection');
  });
});

e2eSuite('HTTP layer: authentication before the body', { args: ['--max-body', '65536'] }, (ctx, it) => {
  const good = () => basic(ctx.h.accountSid, ctx.h.authToken);

  it('Expect: 100-continue with bad credentials: 401 at once, no 100, connection closed, body never read', async () => {
    for (const authz of [basic(ctx.h.accountSid, 'wrong-token'), null]) {
      const head = ['POST /v1/Users HTTP/1.1', 'Host: x', 'Content-Type: application/x-www-form-urlencoded',
        'Content-Length: 5000', 'Expect: 100-continue'];
      if (authz) head.push(`Authorization: ${authz}`);
      const t0 = Date.now();
      const res = await exchange(ctx.h.port, lines(...head, ''), { timeoutMs: 3000 });
      assert.deepEqual(res.statuses, [401], res.text);
      assert.ok(res.closed, 'closed after the 401');
      assert.ok(Date.now() - t0 < 2000, `answered without waiting for a body (${Date.now() - t0} ms)`);
      assert.match(res.text, /\r\nConnection: close\r\n/i);
      assert.equal(firstBody(res.text).code, 20003);
    }
  });

  it('Expect: 100-continue with good credentials: 100, then the request runs', async () => {
    const body = 'Identity=continued';
    const res = await exchange(ctx.h.port, null, {
      timeoutMs: 2000,
      writes: [lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${good()}`, 'Content-Type: application/x-www-form-urlencoded',
        `Content-Length: ${body.length}`, 'Expect: 100-continue', ''), 300, body],
    });
    assert.deepEqual(res.statuses, [100, 201], res.text);
  });

  it('a large body with bad credentials: 401 before the body is read, connection closed', async () => {
    // 10 MB announced, 64 KB sent: a server that reads the body would wait for the rest
    const res = await exchange(ctx.h.port, null, {
      timeoutMs: 3000,
      writes: [lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${basic(ctx.h.accountSid, 'nope-nope')}`,
        'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 10000000', ''), 'a'.repeat(65536)],
    });
    assert.equal(res.statuses[0], 401, res.text);
    assert.ok(res.closed);
  });

  it('an oversized body with good credentials: 413 at once, closed', async () => {
    const res = await exchange(ctx.h.port, lines('POST /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${good()}`,
      'Content-Type: application/x-www-form-urlencoded', 'Content-Length: 10000000', ''), { timeoutMs: 3000 });
    assert.equal(res.statuses[0], 413, res.text);
    assert.equal(firstBody(res.text).code, 20001);
    assert.ok(res.closed);
  });

  it('an oversized body up to 1 MiB with good credentials is read and dropped: the client always gets its 413', async () => {
    // answering before such a body is read makes the kernel reset the connection, and clients saw EPIPE
    const Attributes = 'a'.repeat(200_000);
    for (let i = 0; i < 50; i++) {
      const res = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: `big-${i}`, Attributes } });
      assert.equal(res.status, 413);
      assert.equal(res.json.code, 20001);
    }
    assert.equal((await ctx.h.raw('GET', '/v1/Users/big-0')).status, 404);
  });

  it('paths open without credentials answer at once when a body is announced, without reading it', async () => {
    for (const start of ['OPTIONS /v1/Users HTTP/1.1', 'GET /healthz HTTP/1.1']) {
      const t0 = Date.now();
      const res = await exchange(ctx.h.port, lines(start, 'Host: x', 'Content-Length: 10000000', ''), { timeoutMs: 3000 });
      assert.ok(res.statuses[0] === 204 || res.statuses[0] === 200, res.text);
      assert.ok(res.closed && Date.now() - t0 < 2000, `${start}: closed at once`);
    }
  });

  it('a bad-credential request without a body keeps its connection', async () => {
    const req = lines('GET /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${basic(ctx.h.accountSid, 'wrong-token')}`, '');
    const res = await exchange(ctx.h.port, req + lines('GET /v1/Users HTTP/1.1', 'Host: x', `Authorization: ${good()}`, ''), { timeoutMs: 1000 });
    assert.deepEqual(res.statuses, [401, 200], res.text);
  });
});

e2eSuite('HTTP layer: one 401 message', {}, (ctx, it) => {
  it('unknown account and wrong token: the same 401 message', async () => {
    const a = await ctx.h.raw('GET', '/v1/Users', { auth: ['AC' + 'f'.repeat(32), 'some-token'] });
    const b = await ctx.h.raw('GET', '/v1/Users', { auth: [ctx.h.accountSid, 'some-token'] });
    const c = await ctx.h.raw('GET', '/v1/Users', { auth: ['SK' + 'f'.repeat(32), 'some-secret'] });
    for (const r of [a, b, c]) assertErrorBody(r, { status: 401, code: 20003, message: 'Authenticate' });
  });
});

e2eSuite('HTTP layer: over-long URIs', {}, (ctx, it) => {
  const auth = () => basic(ctx.h.accountSid, ctx.h.authToken);
  for (const kb of [9, 15, 16]) {
    it(`a ${kb} KB URI: 414 with a Twilio error body`, async () => {
      const uri = '/v1/Users/' + 'a'.repeat(kb * 1024 - 10);
      const res = await exchange(ctx.h.port, lines(`GET ${uri} HTTP/1.1`, 'Host: x', `Authorization: ${auth()}`, ''));
      assert.equal(res.statuses[0], 414, JSON.stringify(res.text.slice(0, 300)));
      const body = firstBody(res.text);
      assert.equal(body.status, 414);
      assert.equal(body.code, 20001);
      assert.equal(body.more_info, 'https://www.twilio.com/docs/errors/20001');
      assert.ok(body.message);
    });
  }
  it('every request head up to the 16 KiB limit with a long URI gets a Twilio answer', async () => {
    const missing = [];
    for (let total = 14_000; total <= 16_384; total += 97) {
      for (const uriLen of [8_200, 12_000, total - 200]) {
        const uri = '/v1/Users/' + 'a'.repeat(uriLen - 10);
        let head = lines(`GET ${uri} HTTP/1.1`, 'Host: x', `Authorization: ${auth()}`);
        head += `X-Pad: ${'p'.repeat(Math.max(0, total - head.length - 11))}\r\n\r\n`;
        if (head.length > 16_384) continue;
        const res = await exchange(ctx.h.port, head, { timeoutMs: 2000 });
        if (res.statuses[0] !== 414 || !res.text.includes('"code":20001')) missing.push(`${head.length}/${uriLen}: ${res.statuses}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('a URI just under the limit is served', async () => {
    const res = await ctx.h.raw('GET', '/v1/Users/' + 'a'.repeat(8000));
    assert.equal(res.status, 404);
  });
});

e2eSuite('HTTP layer: connection exhaustion', { args: ['--read-timeout', '2', '--idle-timeout', '30', '--max-connections', '300', '--max-per-ip', '0'] }, (ctx, it) => {
  it('half-sent requests are cut at the read deadline; normal clients keep getting answers', { timeout: 60_000 }, async () => {
    const socks = [];
    let closed = 0;
    for (let i = 0; i < 250; i++) {
      const s = net.connect(ctx.h.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closed++);
      // half a request, then a byte now and then so that the idle timeout never fires
      s.write(i % 2 ? 'GET /v1/Users HTTP/1.1\r\nHost: x\r\n' : 'POST /v1/Users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nIdent');
      socks.push(s);
    }
    const trickle = setInterval(() => {
      for (const s of socks) if (!s.destroyed) s.write(s.remotePort % 2 ? 'X-a: b\r\n' : 'i');
    }, 300);
    try {
      await sleep(300);
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) assert.equal((await ctx.h.raw('GET', '/v1/Users?PageSize=1')).status, 200);
      // every slot comes back within the deadline (2 s) plus the watchdog's period
      while (closed < socks.length && Date.now() - t0 < 8000) await sleep(100);
      assert.equal(closed, socks.length, `${closed} of ${socks.length} trickling connections closed by the server`);
      // and the freed slots serve again: 250 more connections fit under --max-connections 300
      const again = await Promise.all(Array.from({ length: 250 }, () => exchange(ctx.h.port,
        lines('GET /healthz HTTP/1.1', 'Host: x', 'Connection: close', ''), { timeoutMs: 5000 })));
      assert.ok(again.every((r) => r.statuses[0] === 200), 'all 250 answered');
    } finally {
      clearInterval(trickle);
      for (const s of socks) s.destroy();
    }
  });

  it('a connection that never sends a request is cut at the read deadline', async () => {
    const t0 = Date.now();
    const res = await exchange(ctx.h.port, '', { timeoutMs: 8000 });
    assert.ok(res.closed);
    const took = Date.now() - t0;
    assert.ok(took >= 1500 && took < 5000, `closed after ${took} ms`);
  });

  it('a keep-alive connection may idle between requests beyond the read deadline', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal((await ctx.h.raw('GET', '/v1/Users', { agent })).status, 200);
      await sleep(3000);
      let reused = false;
      agent.once('free', () => {});
      const res = await new Promise((resolve, reject) => {
        const r = http.get({ host: '127.0.0.1', port: ctx.h.port, path: '/healthz', agent }, (m) => {
          reused = r.reusedSocket;
          m.resume();
          m.on('end', () => resolve(m.statusCode));
        });
        r.on('error', reject);
      });
      assert.equal(res, 200);
      assert.ok(reused, 'the idle connection was kept');
    } finally {
      agent.destroy();
    }
  });

  it('a client that aborts mid-request frees its slot at once', async () => {
    const before = ctx.h.log.length;
    for (let i = 0; i < 50; i++) {
      const s = net.connect(ctx.h.port, '127.0.0.1');
      s.on('error', () => {});
      await new Promise((resolve) => s.on('connect', resolve));
      s.write('POST /v1/Users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab');
      s.destroy();
    }
    // 300 connections fit right away: the 50 aborted ones hold nothing
    const socks = [];
    try {
      await sleep(200);
      for (let i = 0; i < 290; i++) {
        const s = net.connect(ctx.h.port, '127.0.0.1');
        s.on('error', () => {});
        socks.push(s);
      }
      await sleep(300);
      socks.at(-1).destroy();
      socks.pop();
      assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
    } finally {
      for (const s of socks) s.destroy();
    }
    assert.ok(ctx.h.log.length >= before);
  });
});

e2eSuite('HTTP layer: per-address limit by default', {}, (ctx, it) => {
  it('one address cannot take every slot: beyond the default per-address limit connections are refused', async () => {
    const socks = [];
    try {
      for (let i = 0; i < 300; i++) {
        const s = net.connect(ctx.h.port, '127.0.0.1');
        s.on('error', () => {});
        socks.push(s);
        if (i % 100 === 99) await sleep(20);
      }
      await sleep(500);
      const res = await exchange(ctx.h.port, lines('GET /healthz HTTP/1.1', 'Host: x', ''), { timeoutMs: 2000 });
      assert.ok(res.closed && res.statuses.length === 0, `refused beyond the limit, got ${JSON.stringify(res.text)}`);
    } finally {
      for (const s of socks) s.destroy();
    }
    await sleep(300);
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });
});

e2eSuite('HTTP layer: log flooding', {}, (ctx, it) => {
  it('thousands of broken requests write a bounded number of log lines, with a suppressed count', async () => {
    const before = ctx.h.log.length;
    const bad = lines('GET /v1/Users HTTP/1.1', 'Host: x', 'Content-Length: 1', 'Content-Length: 2', '');
    for (let round = 0; round < 20; round++)
      await Promise.all(Array.from({ length: 100 }, () => exchange(ctx.h.port, bad + 'ab', { timeoutMs: 2000 })));
    await sleep(1200);
    await exchange(ctx.h.port, bad + 'ab', { timeoutMs: 2000 });
    await sleep(200);
    const logged = ctx.h.log.slice(before).split('\n').filter((l) => / (warn|info|error) /.test(l));
    assert.ok(logged.some((l) => /refused a request/.test(l)), 'refusals are logged');
    // a burst of 20, then 5 a second, plus the summaries: far fewer than one line per refusal
    assert.ok(logged.length < 200, `${logged.length} log lines for 2,000 refusals`);
    const suppressed = logged.map((l) => /(\d+) lines suppressed/.exec(l)).filter(Boolean).reduce((a, m) => a + Number(m[1]), 0);
    assert.ok(suppressed >= 1500, `the summaries count ${suppressed} suppressed lines`);
  });
});

e2eSuite('HTTP layer: core dumps', {}, (ctx, it) => {
  it('the server runs with core dumps off and is not dumpable', async () => {
    const limits = fs.readFileSync(`/proc/${ctx.h.proc.pid}/limits`, 'utf8');
    assert.match(limits, /Max core file size\s+0\s+0\s/);
    // a non-dumpable process cannot be attached to by its own user: its /proc files belong to root
    const st = fs.statSync(`/proc/${ctx.h.proc.pid}/environ`);
    if (process.getuid() !== 0) assert.equal(st.uid, 0);
  });
});

describe('HTTP layer: stop with a suspended request', () => {
  test('SIGTERM while a request waits on a silent pre-event webhook beyond the grace: the request is answered, exit 0', { timeout: 60_000 }, async () => {
    const held = [];
    const rx = http.createServer((req) => held.push(req)); // never answers
    await new Promise((resolve) => rx.listen(0, '127.0.0.1', resolve));
    const h = await start({ args: ['--pre-webhook-timeout', '60000'] });
    try {
      const hook = await h.raw('POST', '/v1/Configuration/Webhooks', {
        body: { Method: 'POST', Filters: 'onUserUpdate', PreWebhookUrl: `http://127.0.0.1:${rx.address().port}/pre`, Target: 'webhook' },
      });
      assert.equal(hook.status, 200, hook.body);
      assert.equal((await h.raw('POST', '/v1/Users', { body: { Identity: 'waiting' } })).status, 201);
      const update = h.raw('POST', '/v1/Users/waiting', { body: { FriendlyName: 'after' }, headers: { 'X-Twilio-Webhook-Enabled': 'true' } });
      const t0 = Date.now();
      while (held.length === 0 && Date.now() - t0 < 5000) await sleep(20);
      assert.equal(held.length, 1, 'the pre-event webhook was called');
      await h.stop(); // throws unless the exit status is 0
      const res = await update;
      assert.ok(res.status === 200 || res.status === 400, `the suspended request got an answer: ${res.status} ${res.body}`);
    } finally {
      await h.cleanup();
      rx.closeAllConnections?.();
      rx.close();
    }
  });
});
