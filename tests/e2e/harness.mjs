// End-to-end harness: runs the real Parley binary and hands tests a twilio-node client plus a raw HTTP helper.
//
//   PARLEY_BIN    server binary (default: build/parley under the repository root; a relative path is taken
//                 from the current directory first, then from the repository root)
//   ASAN_OPTIONS  and every other variable of the test process (except stray PARLEY_* settings) are passed
//                 through to the server, so an AddressSanitizer build reports into the captured log and fails
//                 the clean-exit check.
//   PARLEY_TEST_PG a base PostgreSQL URL (scripts/pg.sh start prints one): every server then gets a fresh database
//                 on that cluster as its --data (created with psql, dropped at cleanup) instead of a data file, and
//                 a `sqlite3` stand-in on PATH runs the suites' direct SQL checks there with psql. Suites that limit
//                 the server's file size (a `prlimit --fsize` wrap) test the SQLite file itself and are skipped.
//
// Every suite (e2eSuite) starts one server on a free loopback port with a fresh data file, ends with a test that
// stops it with SIGTERM and requires exit status 0, and prints the server's output when one of its tests fails.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RestException = twilio.RestException;

const HEALTH_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 20_000; // ASan builds run leak checks at exit
const LOG_LIMIT = 4 << 20;
const DEFAULT_TEST_TIMEOUT_MS = 120_000;

// ---- PostgreSQL mode (PARLEY_TEST_PG) ----
export const PG_BASE = process.env.PARLEY_TEST_PG || '';

/** Runs SQL on the base database of PARLEY_TEST_PG with psql; throws on failure. */
export function pgAdmin(sql) {
  const r = spawnSync('psql', [PG_BASE, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`psql: ${sql}: ${r.stderr || r.error}`);
}

/** A new empty database on the PARLEY_TEST_PG cluster: {name, url}. */
export function pgCreateDatabase() {
  const name = `parley_e2e_${randomHex(16)}`;
  pgAdmin(`CREATE DATABASE ${name}`);
  const u = new URL(PG_BASE);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

/** Drops a database of pgCreateDatabase; a failure (an autovacuum worker in the way) only warns: the cluster is
 * a throwaway one. */
export function pgDropDatabase(name) {
  for (let attempt = 1; ; attempt++) {
    try {
      pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return;
    } catch (e) {
      if (attempt >= 3) {
        process.stderr.write(`# warning: database ${name} left behind: ${e.message}\n`);
        return;
      }
      spawnSync('sleep', ['0.5']);
    }
  }
}

// The suites check stored rows with the sqlite3 shell on h.dataFile. With PostgreSQL the "file" is a URL: a
// stand-in first on PATH hands such SQL to psql (same output: rows of '|'-separated columns, no headers) and
// anything else to the real sqlite3.
if (PG_BASE) {
  const real = spawnSync('sh', ['-c', 'command -v sqlite3'], { encoding: 'utf8' }).stdout.trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-pgshim-'));
  const script = `#!/usr/bin/env bash
# sqlite3 stand-in of tests/e2e/harness.mjs under PARLEY_TEST_PG
args=("$@") db= sql=
while [ $# -gt 0 ]; do
  case "$1" in
  -version) echo "3 (psql stand-in)"; exit 0 ;;
  -cmd) shift ;;
  -*) ;;
  *) if [ -z "$db" ]; then db=$1; elif [ -z "$sql" ]; then sql=$1; fi ;;
  esac
  shift
done
case "$db" in
postgres://* | postgresql://*) ;;
*) ${real ? `exec ${JSON.stringify(real)} "\${args[@]}"` : 'echo "sqlite3: not installed" >&2; exit 127'} ;;
esac
if [ "$sql" = .dump ]; then exec pg_dump --no-owner "$db"; fi
# SQLite's integrity checks: PostgreSQL checks pages and constraints itself
sql=$(printf '%s' "$sql" | sed -E "s/PRAGMA integrity_check;?/SELECT 'ok';/I; s/PRAGMA foreign_key_check;?//I")
exec psql "$db" -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -c "$sql"
`;
  fs.writeFileSync(path.join(dir, 'sqlite3'), script, { mode: 0o755 });
  process.env.PATH = `${dir}:${process.env.PATH}`;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

export function parleyBin() {
  const env = process.env.PARLEY_BIN;
  if (!env) return path.join(REPO_ROOT, 'build', 'parley');
  if (path.isAbsolute(env)) return env;
  const fromCwd = path.resolve(process.cwd(), env);
  return fs.existsSync(fromCwd) ? fromCwd : path.resolve(REPO_ROOT, env);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const randomHex = (n = 32) => crypto.randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
export const newAccountSid = () => 'AC' + randomHex(32);
export const basic = (user, pass) => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
export const moreInfo = (code) => `https://www.twilio.com/docs/errors/${code}`;

export const SID_RE = (prefix) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
export const DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** application/x-www-form-urlencoded body from an object (arrays become repeated keys) or a list of pairs. */
export function form(data) {
  const pairs = Array.isArray(data) ? data : Object.entries(data);
  const out = [];
  for (const [k, v] of pairs) {
    for (const one of Array.isArray(v) ? v : [v]) out.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(one))}`);
  }
  return out.join('&');
}

export async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

function httpGetStatus(port, p, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

export class Server {
  constructor(opts = {}) {
    this.opts = opts;
    this.bin = opts.bin ?? parleyBin();
    this.withAccount = opts.account !== false;
    this.accountSid = opts.accountSid ?? newAccountSid();
    this.authToken = opts.authToken ?? randomHex(32);
    this.log = '';
    this.requests = []; // every request the twilio client sent: {method, url, params, headers, data}
    this.proc = null;
    this.unexpectedExit = null;
    this.stopped = false;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the server is told to put in absolute URLs (opts.publicUrl, default: its own address). */
  get publicUrl() {
    return this.opts.publicUrl ?? this.url;
  }

  get running() {
    return this.proc !== null && this.proc.exitInfo === undefined;
  }

  /** Command line: flags by default; with opts.viaEnv the same settings go in PARLEY_* variables instead. */
  args() {
    if (this.opts.viaEnv) return this.opts.args ?? [];
    const a = ['--listen', `127.0.0.1:${this.port}`, '--data', this.dataFile, '--public-url', this.publicUrl];
    if (this.withAccount) a.push('--account-sid', this.accountSid, '--auth-token', this.authToken);
    return a.concat(this.opts.args ?? []);
  }

  env() {
    // The server sees the test process's environment (ASAN_OPTIONS, ...) minus stray PARLEY_* settings.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_') || k === 'PARLEY_BIN'));
    if (this.opts.viaEnv) {
      Object.assign(env, { PARLEY_LISTEN: `127.0.0.1:${this.port}`, PARLEY_DATA: this.dataFile, PARLEY_PUBLIC_URL: this.publicUrl });
      if (this.withAccount) Object.assign(env, { PARLEY_ACCOUNT_SID: this.accountSid, PARLEY_AUTH_TOKEN: this.authToken });
    }
    return { ...env, ...(this.opts.env ?? {}) };
  }

  appendLog(s) {
    this.log += s;
    if (this.log.length > LOG_LIMIT) this.log = this.log.slice(this.log.length - LOG_LIMIT);
  }

  async start() {
    if (!fs.existsSync(this.bin)) throw new Error(`server binary not found: ${this.bin} (run make, or set PARLEY_BIN)`);
    this.dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'parley-e2e-'));
    // opts.data: share another server's store (several servers on one PostgreSQL database)
    if (this.opts.data) this.dataFile = this.opts.data;
    else if (PG_BASE) ({ name: this.pgDatabase, url: this.dataFile } = pgCreateDatabase());
    else this.dataFile = path.join(this.dir, 'parley.db');
    for (let attempt = 1; ; attempt++) {
      this.port = this.opts.port ?? (await freePort());
      try {
        await this.spawn();
        return this;
      } catch (e) {
        // The free port can be taken between probing and binding (or the binary is being relinked):
        // retry only when the server exited early or could not be executed.
        if (attempt >= 3 || this.opts.port || !this.proc || this.proc.exitInfo === undefined) throw e;
        await sleep(300 * attempt);
      }
    }
  }

  async spawn() {
    this.appendLog(`\n----- ${this.bin} ${this.args().join(' ')}\n`);
    // opts.wrap: a command the server runs under (e.g. ['prlimit', '--fsize=4000000', '--'])
    const wrap = this.opts.wrap ?? [];
    const proc = spawn(wrap.length ? wrap[0] : this.bin, wrap.length ? [...wrap.slice(1), this.bin, ...this.args()] : this.args(), {
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.unexpectedExit = null;
    proc.expectedExit = false;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => this.appendLog(d));
    proc.stderr.on('data', (d) => this.appendLog(d));
    proc.exited = new Promise((resolve) => {
      const done = (code, signal, error) => {
        if (proc.exitInfo !== undefined) return;
        proc.exitInfo = { code, signal, error };
        this.appendLog(`----- server exited: code=${code} signal=${signal}${error ? ' error=' + error.message : ''}\n`);
        if (!proc.expectedExit) this.unexpectedExit = proc.exitInfo;
        resolve(proc.exitInfo);
      };
      proc.on('error', (e) => done(null, null, e));
      proc.on('close', (code, signal) => done(code, signal));
    });
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (proc.exitInfo !== undefined) {
        throw new Error(`server exited before /healthz answered 200 (${JSON.stringify(proc.exitInfo)})\n${this.tail()}`);
      }
      if ((await httpGetStatus(this.port, '/healthz', 1000)) === 200) break;
      if (Date.now() > deadline) {
        proc.expectedExit = true;
        proc.kill('SIGKILL');
        await proc.exited;
        throw new Error(`GET /healthz did not answer 200 within ${HEALTH_TIMEOUT_MS} ms\n${this.tail()}`);
      }
      await sleep(50);
    }
    this.makeClient();
  }

  /** A twilio-node client pointed at this server; its own keep-alive agent, every request recorded. */
  newClient(accountSid = this.accountSid, authToken = this.authToken, twilioOpts = undefined) {
    const agent = new http.Agent({ keepAlive: true });
    const client = twilio(accountSid, authToken, twilioOpts);
    client.conversations.baseUrl = this.url;
    const ax = client.httpClient.axios;
    ax.defaults.httpAgent = agent;
    ax.interceptors.request.use((cfg) => {
      const headers = typeof cfg.headers?.toJSON === 'function' ? cfg.headers.toJSON() : { ...cfg.headers };
      this.requests.push({ method: String(cfg.method).toUpperCase(), url: cfg.url, params: cfg.params, headers, data: cfg.data });
      return cfg;
    });
    (this.agents ??= []).push(agent);
    return client;
  }

  makeClient() {
    for (const a of this.agents ?? []) a.destroy();
    this.agents = [];
    this.client = this.newClient();
  }

  /**
   * Raw HTTP request. path is sent verbatim (may also be an absolute URL on this server).
   * opts.body: string | Buffer | object (form-encoded); opts.auth: true (default, account credentials) | false |
   * [user, pass] | a literal Authorization value; opts.headers override (null removes); opts.agent (default: none).
   */
  raw(method, p, opts = {}) {
    if (/^https?:\/\//.test(p)) {
      const u = new URL(p);
      assert.equal(u.origin, this.url, `absolute URL ${p} does not point at the server`);
      p = u.pathname + u.search;
    }
    const headers = {};
    const auth = opts.auth ?? true;
    if (auth === true) headers.authorization = basic(this.accountSid, this.authToken);
    else if (Array.isArray(auth)) headers.authorization = basic(auth[0], auth[1]);
    else if (typeof auth === 'string') headers.authorization = auth;
    let body = opts.body;
    if (body !== undefined && body !== null) {
      if (typeof body === 'object' && !Buffer.isBuffer(body)) body = form(body);
      body = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(body.length);
    } else {
      body = null;
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === null) delete headers[k.toLowerCase()];
      else headers[k.toLowerCase()] = v;
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method, path: p, headers, agent: opts.agent ?? false },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('error', (e) => {
            if (!settled) (settled = true), reject(e);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const buffer = Buffer.concat(chunks);
            const text = buffer.toString('utf8');
            let json;
            try {
              json = text.length ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode, headers: res.headers, body: text, buffer, json, localPort: res.socket?.localPort });
          });
        },
      );
      // A server may answer (413, 400) before the whole body is written and then close: keep the answer.
      req.on('error', (e) => {
        if (!settled) setTimeout(() => !settled && ((settled = true), reject(e)), 200);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`raw ${method} ${p}: no answer within 30 s`)));
      if (body) req.end(body);
      else req.end();
    });
  }

  /** Send bytes on a fresh TCP connection and parse the single response (status, headers, body). */
  rawSocket(bytes, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.port, '127.0.0.1');
      const chunks = [];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        const buf = Buffer.concat(chunks);
        const sep = buf.indexOf('\r\n\r\n');
        if (sep < 0) return reject(new Error(`no complete HTTP response: ${JSON.stringify(buf.toString('latin1'))}`));
        const lines = buf.subarray(0, sep).toString('latin1').split('\r\n');
        const status = Number(lines[0].split(' ')[1]);
        const headers = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        let body = buf.subarray(sep + 4);
        if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
        const text = body.toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status, headers, body: text, json });
      };
      const timer = setTimeout(finish, timeoutMs);
      sock.on('data', (d) => {
        chunks.push(d);
        // Stop as soon as one complete response with a Content-Length is in.
        const buf = Buffer.concat(chunks);
        const sep = buf.indexOf('\r\n\r\n');
        if (sep >= 0) {
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, sep + 2).toString('latin1'));
          if (m && buf.length >= sep + 4 + Number(m[1])) finish();
        }
      });
      sock.on('end', finish);
      sock.on('close', finish);
      sock.on('error', () => finish());
      sock.write(bytes);
    });
  }

  async signalAndWait(signal) {
    const proc = this.proc;
    if (!proc || proc.exitInfo !== undefined) return proc?.exitInfo;
    proc.expectedExit = true;
    proc.kill(signal);
    let timer;
    const info = await Promise.race([proc.exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS, null)))]);
    clearTimeout(timer);
    if (info) return info;
    proc.kill('SIGKILL');
    await proc.exited;
    throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of ${signal}\n${this.tail()}`);
  }

  /** SIGTERM and wait; throws unless the server exits with status 0. */
  async stop() {
    for (const a of this.agents ?? []) a.destroy();
    if (this.unexpectedExit) {
      throw new Error(`server had already exited unexpectedly: ${JSON.stringify(this.unexpectedExit)}\n${this.tail()}`);
    }
    const info = await this.signalAndWait('SIGTERM');
    this.stopped = true;
    if (!info || info.code !== 0 || info.signal) {
      throw new Error(`server exited with ${JSON.stringify(info)} on SIGTERM (want status 0)\n${this.tail()}`);
    }
  }

  /** SIGKILL and wait. */
  async kill9() {
    for (const a of this.agents ?? []) a.destroy();
    await this.signalAndWait('SIGKILL');
  }

  /** Clean stop (if running), then start again on the same port and data file. */
  async restart() {
    if (this.running) await this.stop();
    this.stopped = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.spawn();
        return this;
      } catch (e) {
        // The port may linger for a moment after a kill; retry if the server gave up early.
        if (attempt >= 5 || !this.proc || this.proc.exitInfo === undefined) throw e;
        await sleep(300);
      }
    }
  }

  /**
   * Run a subcommand of the server binary (`parley account …`, `parley key …`) against this server's data
   * file. Only the command line and status go into the server log (stdout may hold a new secret).
   * Returns {status, stdout, stderr}.
   */
  cli(args) {
    const r = spawnSync(this.bin, [...args, '--data', this.dataFile], {
      encoding: 'utf8',
      env: { ...process.env, ...(this.opts.env ?? {}) },
      timeout: 30_000,
    });
    this.appendLog(`----- cli: ${args.join(' ')} (status ${r.status})\n`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Last part of the server output, for failure messages. */
  tail(from = 0, maxLines = 200) {
    const lines = this.log.slice(from).split('\n');
    const shown = lines.slice(-maxLines).join('\n');
    return `----- server output${lines.length > maxLines ? ` (last ${maxLines} lines)` : ''} -----\n${shown}\n----- end of server output -----`;
  }

  async cleanup() {
    for (const a of this.agents ?? []) a.destroy();
    if (this.running) await this.signalAndWait('SIGKILL').catch(() => {});
    if (this.dir) await fsp.rm(this.dir, { recursive: true, force: true });
    if (this.pgDatabase) pgDropDatabase(this.pgDatabase);
    this.pgDatabase = null;
  }
}

export async function start(opts = {}) {
  const s = new Server(opts);
  try {
    await s.start();
  } catch (e) {
    await s.cleanup();
    throw e;
  }
  return s;
}

/**
 * describe() with one server for the whole suite. body(ctx, it) registers tests with it(name, [opts], fn);
 * ctx.h is the Server. Each test fails if the server died during it and prints the server output on failure.
 * The suite ends with a test that stops the server with SIGTERM and requires exit status 0.
 */
export function e2eSuite(name, serverOpts, body) {
  const fsizeLimit = Boolean(PG_BASE) && (serverOpts?.wrap ?? []).some((a) => String(a).startsWith('--fsize'));
  describe(name, { concurrency: false, skip: fsizeLimit ? 'a file size limit on the server tests SQLite (PARLEY_TEST_PG)' : false }, () => {
    const ctx = { h: null };
    before(async () => {
      ctx.h = await start(serverOpts);
    });
    const it = (tname, topts, fn) => {
      if (typeof topts === 'function') (fn = topts), (topts = {});
      test(tname, { timeout: DEFAULT_TEST_TIMEOUT_MS, ...topts }, async (t) => {
        assert.ok(ctx.h, 'server did not start');
        const from = ctx.h.log.length;
        try {
          if (ctx.h.unexpectedExit) throw new Error(`server is not running: ${JSON.stringify(ctx.h.unexpectedExit)}`);
          await fn(t);
          if (ctx.h.unexpectedExit) throw new Error(`server exited during the test: ${JSON.stringify(ctx.h.unexpectedExit)}`);
        } catch (e) {
          process.stderr.write(`\n[${name} > ${tname}] failed; ${ctx.h.tail(from)}\n`);
          throw e;
        }
      });
    };
    body(ctx, it);
    test('server exits with status 0 on SIGTERM', { timeout: DEFAULT_TEST_TIMEOUT_MS }, async () => {
      assert.ok(ctx.h, 'server did not start');
      await ctx.h.stop();
    });
    after(async () => {
      if (ctx.h) await ctx.h.cleanup();
    });
  });
}

// ----------------------------------------------------------------------------------------------------------------
// Assertions shared by the suites.

/** Await p (or p()); require a twilio RestException with the given status, code, message and moreInfo. */
export async function rejectsRest(p, { status, code, message }) {
  let err;
  let value;
  try {
    value = await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected RestException ${status}/${code}, but the call succeeded: ${JSON.stringify(value)}`);
  assert.ok(err instanceof RestException, `expected RestException, got ${err?.stack ?? err}`);
  assert.equal(err.status, status, `status (message: ${err.message})`);
  assert.equal(err.code, code, `code (message: ${err.message})`);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
  assert.equal(err.moreInfo, moreInfo(code));
  return err;
}

/** Raw error response: status, JSON content type, exactly the keys code, message, more_info, status in that order. */
export function assertErrorBody(res, { status, code, message }) {
  assert.equal(res.status, status, `HTTP status; body: ${res.body}`);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `body is not a JSON object: ${res.body}`);
  assert.deepEqual(Object.keys(res.json), ['code', 'message', 'more_info', 'status'], `error body keys: ${res.body}`);
  assert.equal(res.json.code, code, `code; body: ${res.body}`);
  if (message instanceof RegExp) assert.match(res.json.message, message);
  else if (message !== undefined) assert.equal(res.json.message, message);
  assert.equal(res.json.more_info, moreInfo(code));
  assert.equal(res.json.status, status);
}

/** Every user of a list path (raw, following next_page_url), as parsed JSON. */
export async function listAllRaw(h, listPath = '/v1/Users', key = 'users') {
  const out = [];
  let url = `${listPath}?PageSize=50`;
  for (let guard = 0; url; guard++) {
    assert.ok(guard < 1000, 'paging does not terminate');
    const res = await h.raw('GET', url);
    assert.equal(res.status, 200, `GET ${url}: ${res.body}`);
    out.push(...res.json[key]);
    url = res.json.meta.next_page_url;
  }
  return out;
}

/** Serialised state of every user of the default service: used to check that a rejected request changed nothing. */
export async function userSnapshot(h) {
  return JSON.stringify(await listAllRaw(h));
}

/** Run fn and require the user list to be byte-identical before and after. */
export async function unchanged(h, fn) {
  const before = await userSnapshot(h);
  const result = await fn();
  const afterSnap = await userSnapshot(h);
  assert.equal(afterSnap, before, 'a rejected request changed stored users');
  return result;
}

/** Default service SID and its roles keyed by friendly name. */
export async function defaults(h) {
  const cfg = await h.client.conversations.v1.configuration().fetch();
  const roles = {};
  for (const r of await h.client.conversations.v1.roles.list()) roles[r.friendlyName] = r;
  return { serviceSid: cfg.defaultChatServiceSid, roles };
}

/**
 * One request with the account's credentials on a caller's keep-alive agent, for load loops. Never throws:
 * resolves {status, json} or {error} (a connection cut by a kill is an outcome, not a failure).
 */
export function sendOn(h, agent, method, path, body, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const data = body ? Buffer.from(form(body)) : null;
    const req = http.request(
      {
        host: '127.0.0.1',
        port: h.port,
        method,
        path,
        agent,
        headers: {
          authorization: basic(h.accountSid, h.authToken),
          ...(data ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': data.length } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let json;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {}
          resolve({ status: res.statusCode, json });
        });
        res.on('error', (error) => resolve({ error }));
      },
    );
    req.on('error', (error) => resolve({ error }));
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.end(data ?? undefined);
  });
}
