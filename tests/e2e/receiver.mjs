// A webhook receiver on loopback for the webhook suites: records every request and answers per path from
// `rules` ({status, body, delayMs, hang}); `hang` never answers (a black hole that accepted the connection).

import http from 'node:http';
import net from 'node:net';
import { sleep } from './harness.mjs';

export class Receiver {
  constructor() {
    this.requests = [];
    this.rules = {}; // path -> {status, body, delayMs, hang}
    this.server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const u = new URL(req.url, 'http://receiver');
        const raw = Buffer.concat(chunks).toString('utf8');
        const rec = { method: req.method, path: u.pathname, rawUrl: req.url, url: `http://${req.headers.host}${req.url}`,
          headers: req.headers, raw, at: Date.now(), answered: false,
          params: Object.fromEntries(new URLSearchParams(req.method === 'GET' ? u.search : raw)) };
        this.requests.push(rec);
        const rule = this.rules[u.pathname] ?? {};
        if (rule.hang) return;
        if (rule.delayMs) await sleep(rule.delayMs);
        rec.answered = true;
        const body = rule.body ?? '';
        res.writeHead(rule.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
  }

  async listen(port = 0) {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(resolve));
  }

  url(path) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path) {
    return this.requests.filter((r) => r.path === path);
  }

  async waitFor(path, n, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    while (this.at(path).length < n) {
      if (Date.now() > deadline) throw new Error(`receiver: ${this.at(path).length} of ${n} requests at ${path}`);
      await sleep(20);
    }
    return this.at(path);
  }
}

/** A URL on the receiver of exactly `bytes` UTF-8 bytes: the path, then `?pad=` and `ch` repeated. */
export function urlOfBytes(rx, path, bytes, ch = 'a') {
  const base = rx.url(path) + '?pad=';
  const room = bytes - Buffer.byteLength(base);
  const unit = Buffer.byteLength(ch);
  let s = base + ch.repeat(Math.floor(room / unit));
  s += 'a'.repeat(bytes - Buffer.byteLength(s));
  return s;
}

/**
 * A bare TCP receiver that answers 200 to any request line, for URLs with raw UTF-8 bytes (Node's HTTP parser
 * refuses them). Records the request line of each request.
 */
export async function rawReceiver() {
  const lines = [];
  const server = net.createServer((sock) => {
    let got = Buffer.alloc(0);
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      lines.push(got.subarray(0, got.indexOf('\r\n')).toString('utf8'));
      got = Buffer.alloc(0);
      sock.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    sock.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    lines,
    port,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
