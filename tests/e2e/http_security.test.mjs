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

e2eSuite('HTTP layer: one 401 message', {}, (ctx, it) => {
  it('unknown account and wrong token: the same 401 message', async () => {
    const a = await ctx.h.raw('GET', '/v1/Users', { auth: ['AC' + 'f'.repeat(32), 'some-token'] });
    const b = await ctx.h.raw('GET', '/v1/Users', { auth: [ctx.h.accountSid, 'some-token'] });
    const c = await ctx.h.raw('GET', '/v1/Users', { auth: ['SK' + 'f'.repeat(32), 'some-secret'] });
    for (const r of [a, b, c]) assertErrorBody(r, { status: 401, code: 20003, message: 'Authenticate' });
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
