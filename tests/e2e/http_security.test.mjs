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
