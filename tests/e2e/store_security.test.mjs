// The store's secrets and files (issue 10): auth tokens sealed at rest with a key file kept beside (not in) the
// data, owner-only file modes, the auth token rotated at start and by `parley account rotate-token` on a running
// server (the old one fails at once), and one server per SQLite data file.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parleyBin, PG_BASE, randomHex, start } from './harness.mjs';

const SQLITE_ONLY = PG_BASE ? 'the SQLite data file itself' : false;
const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;

/** Run one server for fn; always clean up; require exit status 0 at the end. */
async function withServer(opts, fn) {
  const h = await start(opts);
  try {
    await fn(h);
    if (h.running) await h.stop();
  } catch (e) {
    process.stderr.write(`\n${h.tail()}\n`);
    throw e;
  } finally {
    await h.cleanup();
  }
}

function sql(h, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim();
}

/** Every byte of the data file and its WAL, as latin1 text (what `strings` would search). */
function fileBytes(h) {
  return ['', '-wal']
    .map((s) => h.dataFile + s)
    .filter((p) => fs.existsSync(p))
    .map((p) => fs.readFileSync(p).toString('latin1'))
    .join('\n');
}

const fields = (stdout) => Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ')));

/** Starts the binary on h's data file with extra flags and expects it to refuse to start. */
function refusedStart(h, extra) {
  const r = spawnSync(parleyBin(), ['--listen', '127.0.0.1:0', '--data', h.dataFile, ...extra], {
    encoding: 'utf8',
    timeout: 20_000,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_') || k === 'PARLEY_BIN')),
  });
  assert.notEqual(r.status, 0, `the server started:\n${r.stdout}${r.stderr}`);
  assert.notEqual(r.status, null, `the server did not exit: ${r.signal}\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

describe('store security', { concurrency: false }, () => {
  test('the data file, its -wal and -shm, the key file and the lock file are 0600', { skip: SQLITE_ONLY }, async () => {
    await withServer({}, async (h) => {
      assert.equal((await h.raw('POST', '/v1/Users', { body: { Identity: 'modes' } })).status, 201);
      for (const suffix of ['', '-wal', '-shm', '.key', '.lock']) {
        const st = fs.statSync(h.dataFile + suffix);
        assert.equal((st.mode & 0o777).toString(8), '600', `mode of ${path.basename(h.dataFile + suffix)}`);
      }
    });
  });

  test('a data file left 0644 by an older version is narrowed to 0600 on start', { skip: SQLITE_ONLY }, async () => {
    await withServer({}, async (h) => {
      await h.stop();
      for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(h.dataFile + suffix)) fs.chmodSync(h.dataFile + suffix, 0o644);
      await h.restart();
      assert.equal((await h.raw('POST', '/v1/Users', { body: { Identity: 'narrowed' } })).status, 201);
      for (const suffix of ['', '-wal', '-shm']) {
        assert.equal((fs.statSync(h.dataFile + suffix).mode & 0o777).toString(8), '600', `mode of ${suffix || 'the data file'}`);
      }
    });
  });

  test('no auth token nor credential secret is in the data file or its WAL; the token survives a restart', { skip: SQLITE_ONLY }, async () => {
    await withServer({}, async (h) => {
      const created = h.cli(['account', 'create', '--friendly-name', 'second']);
      assert.equal(created.status, 0, created.stderr);
      const second = fields(created.stdout);
      const privateKey = `-----BEGIN RSA PRIVATE KEY-----${randomHex(40)}`;
      const fcmSecret = `fcm-secret-${randomHex(24)}`;
      assert.equal((await h.raw('POST', '/v1/Credentials', { body: { Type: 'apn', PrivateKey: privateKey, Certificate: 'cert' } })).status, 201);
      assert.equal((await h.raw('POST', '/v1/Credentials', { body: { Type: 'fcm', Secret: fcmSecret } })).status, 201);
      const secrets = [h.authToken, second.auth_token, privateKey, fcmSecret];
      const check = (when) => {
        const bytes = fileBytes(h);
        for (const s of secrets) assert.ok(!bytes.includes(s), `${when}: ${s.slice(0, 12)}… is in the data file`);
      };
      check('while running');
      await h.restart();
      check('after a restart');
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the token survives the restart');
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [second.account_sid, second.auth_token] })).status, 200);
      if (haveSqlite) assert.match(sql(h, `SELECT auth_token FROM accounts WHERE sid = '${h.accountSid}'`), /^enc1:/);
    });
  });

  test('a wrong or malformed key file is a clear start-up error, and the right one still works', { skip: SQLITE_ONLY }, async () => {
    await withServer({}, async (h) => {
      await h.stop();
      const other = path.join(h.dir, 'other.key');
      fs.writeFileSync(other, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
      assert.match(refusedStart(h, ['--secret-key-file', other]), /secret key does not match this data file/);
      fs.writeFileSync(other, 'not a key\n', { mode: 0o600 });
      assert.match(refusedStart(h, ['--secret-key-file', other]), /must hold 64 hex digits/);
      // the default key file moved away: the server must not make a new key and lose the tokens
      fs.renameSync(h.dataFile + '.key', other);
      assert.match(refusedStart(h, []), /secret key does not match this data file/);
      fs.renameSync(other, h.dataFile + '.key');
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
    });
  });

  test('clear-text tokens written by an older version are sealed on start and keep working', { skip: (SQLITE_ONLY || (!haveSqlite && 'sqlite3 shell not installed')) }, async () => {
    await withServer({}, async (h) => {
      await h.stop();
      const clear = `clear-${randomHex(24)}`;
      sql(h, `UPDATE accounts SET auth_token = '${clear}' WHERE sid = '${h.accountSid}'`);
      h.authToken = clear; // the same token on the command line: nothing to replace
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
      assert.match(sql(h, `SELECT auth_token FROM accounts WHERE sid = '${h.accountSid}'`), /^enc1:/);
      await h.stop();
      assert.ok(!fileBytes(h).includes(clear), 'the clear token is gone from the file');
      await h.restart();
    });
  });

  test('--secret-key-file (both stores): tokens and credential secrets are sealed, a wrong key refuses to start', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-key-'));
    const keyFile = path.join(keyDir, 'shared.key');
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    try {
      await withServer({ args: ['--secret-key-file', keyFile] }, async (h) => {
        const secret = `fcm-${randomHex(24)}`;
        assert.equal((await h.raw('POST', '/v1/Credentials', { body: { Type: 'fcm', Secret: secret } })).status, 201);
        assert.match(sql(h, `SELECT auth_token FROM accounts WHERE sid = '${h.accountSid}'`), /^enc1:/);
        const stored = sql(h, "SELECT secret FROM credentials WHERE type = 'fcm'");
        assert.match(stored, /^enc1:/);
        assert.ok(!stored.includes(secret));
        const rotated = h.cli(['account', 'rotate-token', h.accountSid, '--secret-key-file', keyFile]);
        assert.equal(rotated.status, 0, rotated.stderr);
        h.authToken = fields(rotated.stdout).auth_token;
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
        await h.stop();
        const wrong = path.join(keyDir, 'wrong.key');
        fs.writeFileSync(wrong, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
        assert.match(refusedStart(h, ['--secret-key-file', wrong]), /secret key does not match/);
        const cli = h.cli(['account', 'list', '--secret-key-file', wrong]);
        assert.notEqual(cli.status, 0, 'a subcommand with the wrong key is refused too');
        await h.restart();
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the right key still opens the token');
      });
    } finally {
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL: clear-text secrets are sealed once a key is given, and then the key is required', { skip: !PG_BASE && 'PostgreSQL only (PARLEY_TEST_PG)' }, async () => {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-key-'));
    const keyFile = path.join(keyDir, 'shared.key');
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    try {
      await withServer({}, async (h) => {
        const secret = `apn-${randomHex(24)}`;
        assert.equal((await h.raw('POST', '/v1/Credentials', { body: { Type: 'apn', PrivateKey: secret } })).status, 201);
        assert.equal(sql(h, `SELECT auth_token FROM accounts WHERE sid = '${h.accountSid}'`), h.authToken, 'clear without a key');
        await h.stop();
        h.opts.args = ['--secret-key-file', keyFile];
        await h.restart();
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
        assert.match(sql(h, `SELECT auth_token FROM accounts WHERE sid = '${h.accountSid}'`), /^enc1:/);
        assert.match(sql(h, "SELECT private_key FROM credentials WHERE type = 'apn'"), /^enc1:/);
        await h.stop();
        assert.match(refusedStart(h, []), /holds sealed secrets/);
        await h.restart();
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
      });
    } finally {
      fs.rmSync(keyDir, { recursive: true, force: true });
    }
  });

  test('--auth-token replaces the stored token at start: the old one fails, the new one works', async () => {
    await withServer({}, async (h) => {
      const old = h.authToken;
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
      h.authToken = `rotated-${randomHex(24)}`;
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the new token');
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, old] })).status, 401, 'the old token');
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the new token is kept');
    });
  });

  test('parley account rotate-token on a running server: the old token fails at once on every thread', async () => {
    await withServer({ args: ['--threads', '4'] }, async (h) => {
      const old = h.authToken;
      // every HTTP thread caches the account after its first request
      await Promise.all(Array.from({ length: 32 }, () => h.raw('GET', '/v1/Users')));
      const r = h.cli(['account', 'rotate-token', h.accountSid]);
      assert.equal(r.status, 0, r.stderr);
      const f = fields(r.stdout);
      assert.equal(f.account_sid, h.accountSid);
      assert.match(f.auth_token, /^[0-9a-f]{32}$/);
      const oldAnswers = await Promise.all(Array.from({ length: 32 }, () => h.raw('GET', '/v1/Users', { auth: [h.accountSid, old] })));
      assert.deepEqual([...new Set(oldAnswers.map((x) => x.status))], [401], 'the old token is refused on every thread');
      const newAnswers = await Promise.all(Array.from({ length: 32 }, () => h.raw('GET', '/v1/Users', { auth: [h.accountSid, f.auth_token] })));
      assert.deepEqual([...new Set(newAnswers.map((x) => x.status))], [200]);

      // a token from a file (not on the command line), then the same restart-proofness
      const file = path.join(h.dir, 'token.txt');
      const given = `from-file-${randomHex(20)}`;
      fs.writeFileSync(file, given + '\n', { mode: 0o600 });
      const r2 = h.cli(['account', 'rotate-token', h.accountSid, '--auth-token-file', file]);
      assert.equal(r2.status, 0, r2.stderr);
      assert.equal(fields(r2.stdout).auth_token, given);
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, f.auth_token] })).status, 401);
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, given] })).status, 200);
      // the server's own --auth-token would put the first one back at the next start: keep the harness in step
      h.authToken = given;

      const bad = h.cli(['account', 'rotate-token', 'AC' + '0'.repeat(32)]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /no account/);
      assert.equal(h.cli(['account', 'rotate-token', 'nope']).status, 2);
    });
  });

  test('creates racing the delete of their service answer 201 or 404, never 500', async () => {
    await withServer({}, async (h) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      const seen = new Map();
      try {
        for (let round = 0; round < 8; round++) {
          const sv = await h.raw('POST', '/v1/Services', { body: { FriendlyName: `race-${round}` } });
          assert.equal(sv.status, 201, sv.body);
          const base = `/v1/Services/${sv.json.sid}`;
          const creates = [];
          for (let i = 0; i < 96; i++) {
            const kind = i % 3;
            const p =
              (kind === 0 ? h.raw('POST', `${base}/Users`, { body: { Identity: `u-${round}-${i}` }, agent })
              : kind === 1 ? h.raw('POST', `${base}/Roles`, { body: { FriendlyName: `r-${i}`, Type: 'conversation', Permission: 'sendMessage' }, agent })
              : h.raw('POST', `${base}/Configuration/Webhooks`, { body: { PostWebhookUrl: 'https://example.com/hook', Method: 'POST' }, agent })).then((x) => ({ ...x, kind }));
            creates.push(p);
            if (i === 24) creates.push(h.raw('DELETE', base, { agent }).then((d) => ({ ...d, isDelete: true })));
          }
          for (const res of await Promise.all(creates)) {
            if (res.isDelete) {
              assert.equal(res.status, 204, res.body);
              continue;
            }
            seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
            assert.ok([200, 201, 404].includes(res.status), `a create answered ${res.status}: ${res.body} (${res.kind})`);
            if (res.status === 404) assert.equal(res.json.code, 20404, res.body);
          }
          assert.equal((await h.raw('GET', base)).status, 404);
        }
      } finally {
        agent.destroy();
      }
      assert.ok(seen.get(404) > 0 && (seen.get(201) ?? 0) + (seen.get(200) ?? 0) > 0, `both outcomes occur: ${JSON.stringify([...seen])}`);
    });
  });

  test('deleting a service with 50,000 users answers at once and reaps its rows in bounded batches, also after a kill -9', { skip: SQLITE_ONLY || (!haveSqlite && 'sqlite3 shell not installed') }, async () => {
    await withServer({}, async (h) => {
      const N = 50000;
      const seed = async (name) => {
        const sv = await h.raw('POST', '/v1/Services', { body: { FriendlyName: name } });
        assert.equal(sv.status, 201, sv.body);
        const sid = sv.json.sid;
        sql(h, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N})
          INSERT INTO users(sid, account_sid, service_sid, role_sid, identity, attributes, date_created, date_updated)
          SELECT printf('US%032x', i + ${name.length * 1000000}), '${h.accountSid}', '${sid}',
                 (SELECT chat_service_role_sid FROM service_configs WHERE service_sid = '${sid}'), 'bulk-' || i, '{}', 0, 0 FROM n`);
        assert.equal((await h.raw('POST', `/v1/Services/${sid}/Roles`, { body: { FriendlyName: 'extra', Type: 'conversation', Permission: 'sendMessage' } })).status, 201);
        assert.equal(sql(h, `SELECT count(*) FROM users WHERE service_sid = '${sid}'`), String(N));
        return sid;
      };
      const left = (sid) => Number(sql(h, `SELECT (SELECT count(*) FROM users WHERE service_sid = '${sid}') + (SELECT count(*) FROM roles WHERE service_sid = '${sid}') + (SELECT count(*) FROM services WHERE sid = '${sid}')`));
      const waitReaped = async (sid) => {
        const deadline = Date.now() + 60_000;
        while (left(sid) > 0) {
          assert.ok(Date.now() < deadline, `rows of ${sid} left: ${left(sid)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };

      const sid = await seed('big');
      const t0 = process.hrtime.bigint();
      const del = await h.raw('DELETE', `/v1/Services/${sid}`);
      const deleteMs = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.equal(del.status, 204, del.body);
      // gone at once for every reader and writer, while its rows are still being reaped
      assert.equal((await h.raw('GET', `/v1/Services/${sid}`)).status, 404);
      assert.equal((await h.raw('GET', `/v1/Services/${sid}/Users/bulk-1`)).status, 404);
      assert.equal((await h.raw('POST', `/v1/Services/${sid}/Users`, { body: { Identity: 'late' } })).status, 404);
      assert.equal((await h.raw('DELETE', `/v1/Services/${sid}`)).status, 404);
      const listed = await h.raw('GET', '/v1/Services?PageSize=50');
      assert.ok(!listed.json.services.some((x) => x.sid === sid), 'not listed');
      // other writes keep flowing while it is reaped
      let worst = 0;
      for (let i = 0; left(sid) > 0 && i < 200; i++) {
        const w0 = process.hrtime.bigint();
        assert.equal((await h.raw('POST', '/v1/Users', { body: { Identity: `during-${i}` } })).status, 201);
        worst = Math.max(worst, Number(process.hrtime.bigint() - w0) / 1e6);
      }
      await waitReaped(sid);
      process.stdout.write(`# delete of ${N} users answered in ${deleteMs.toFixed(1)} ms; slowest create while reaping ${worst.toFixed(1)} ms\n`);
      assert.ok(deleteMs < 200, `the DELETE took ${deleteMs} ms (a delete of every row at once takes ~400 ms)`);

      // a kill -9 right after the 204: the next start finishes the job
      const sid2 = await seed('crash');
      assert.equal((await h.raw('DELETE', `/v1/Services/${sid2}`)).status, 204);
      await h.kill9();
      assert.ok(left(sid2) > 0, 'rows left to reap after the kill');
      assert.equal(sql(h, `SELECT deleted_at IS NOT NULL FROM services WHERE sid = '${sid2}'`), '1', 'the mark is durable');
      await h.restart();
      assert.equal((await h.raw('GET', `/v1/Services/${sid2}`)).status, 404);
      await waitReaped(sid2);
      assert.equal(sql(h, "SELECT count(*) FROM users WHERE identity LIKE 'bulk-%'"), '0');
    });
  });

  test('a second server on the same SQLite file is refused; the subcommands still work beside the first', { skip: SQLITE_ONLY }, async () => {
    await withServer({}, async (h) => {
      assert.match(refusedStart(h, []), /another parley server is running on/);
      assert.equal(h.cli(['account', 'list']).status, 0);
      assert.equal(h.cli(['key', 'create', '--account', h.accountSid]).status, 0);
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the first server is unharmed');
      // the lock goes with the process: after a kill -9 a new server starts
      await h.kill9();
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
    });
  });
});
