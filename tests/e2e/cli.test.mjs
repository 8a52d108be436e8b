// Command line and environment: --help, --version, the PARLEY_* twins of the flags, --public-url in every
// absolute URL, and the account generated (and then kept) when none is given.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { newAccountSid, parleyBin, randomHex, start } from './harness.mjs';

/** Run one server for fn; always clean up; require exit status 0 at the end. */
async function withServer(opts, fn) {
  const h = await start(opts);
  try {
    await fn(h);
    await h.stop();
  } catch (e) {
    process.stderr.write(`\n${h.tail()}\n`);
    throw e;
  } finally {
    await h.cleanup();
  }
}

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_')));

describe('cli', { concurrency: false }, () => {
  test('--version prints a version and exits 0', () => {
    const r = spawnSync(parleyBin(), ['--version'], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /\d+\.\d+\.\d+/);
  });

  test('--help lists the options and exits 0', () => {
    const r = spawnSync(parleyBin(), ['--help'], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout + r.stderr;
    for (const opt of ['--listen', '--data', '--public-url', '--account-sid', '--auth-token', '--help', '--version']) {
      assert.ok(out.includes(opt), `--help mentions ${opt}`);
    }
    for (const env of ['PARLEY_LISTEN', 'PARLEY_DATA', 'PARLEY_PUBLIC_URL', 'PARLEY_ACCOUNT_SID', 'PARLEY_AUTH_TOKEN']) {
      assert.ok(out.includes(env), `--help mentions ${env}`);
    }
  });

  test('PARLEY_* environment variables stand in for the flags', async () => {
    await withServer({ viaEnv: true }, async (h) => {
      const cfg = await h.client.conversations.v1.configuration().fetch();
      assert.equal(cfg.accountSid, h.accountSid);
      assert.equal(cfg.url, `${h.url}/v1/Configuration`);
      const u = await h.client.conversations.v1.users.create({ identity: 'env' });
      assert.equal(u.url, `${h.url}/v1/Users/${u.sid}`);
      await h.restart();
      assert.equal((await h.client.conversations.v1.users('env').fetch()).sid, u.sid, 'same data file after restart');
    });
  });

  test('--public-url (not the Host header) is the base of every absolute URL', async () => {
    const pub = 'https://parley.example.test:8443';
    await withServer({ publicUrl: pub }, async (h) => {
      const c = await h.raw('POST', '/v1/Users', { body: { Identity: 'pub' } });
      assert.equal(c.status, 201, c.body);
      assert.equal(c.json.url, `${pub}/v1/Users/${c.json.sid}`);
      assert.equal(c.json.links.user_conversations, `${pub}/v1/Users/${c.json.sid}/Conversations`);
      const cfg = await h.raw('GET', '/v1/Configuration');
      assert.equal(cfg.json.url, `${pub}/v1/Configuration`);
      assert.equal(cfg.json.links.webhooks, `${pub}/v1/Configuration/Webhooks`);
      await h.raw('POST', '/v1/Users', { body: { Identity: 'pub2' } });
      const list = await h.raw('GET', '/v1/Users?PageSize=1', { headers: { host: 'evil.example.com' } });
      assert.equal(list.json.meta.url, `${pub}/v1/Users?PageSize=1&Page=0`);
      assert.equal(list.json.meta.first_page_url, `${pub}/v1/Users?PageSize=1&Page=0`);
      assert.ok(list.json.meta.next_page_url.startsWith(`${pub}/v1/Users?PageSize=1&Page=1&PageToken=`), list.json.meta.next_page_url);
      const roles = await h.raw('GET', '/v1/Roles');
      for (const r of roles.json.roles) assert.ok(r.url.startsWith(`${pub}/v1/Roles/RL`), r.url);
    });
  });

  test('no account given and none stored: one is generated, printed, and kept across restarts', async () => {
    await withServer({ account: false }, async (h) => {
      const sids = [...new Set(h.log.match(/AC[0-9a-f]{32}/g) ?? [])];
      assert.equal(sids.length, 1, `exactly one account SID in the banner:\n${h.log}`);
      const [sid] = sids;
      // The token is printed too: one word of the output authenticates.
      const words = [...new Set(h.log.split(/[\s,;:()"'=]+/).filter((w) => /^[0-9A-Za-z_-]{16,}$/.test(w) && w !== sid))];
      let token = null;
      for (const w of words) {
        if ((await h.raw('GET', '/v1/Users', { auth: [sid, w] })).status === 200) {
          token = w;
          break;
        }
      }
      assert.ok(token, `no printed word authenticates as ${sid}:\n${h.log}`);
      h.accountSid = sid;
      h.authToken = token;
      h.makeClient();
      const u = await h.client.conversations.v1.users.create({ identity: 'generated' });
      assert.equal(u.accountSid, sid);

      const logBefore = h.log.length;
      await h.restart();
      const secondRun = h.log.slice(logBefore);
      const newSids = [...new Set(secondRun.match(/AC[0-9a-f]{32}/g) ?? [])].filter((s) => s !== sid);
      assert.deepEqual(newSids, [], 'no new account generated on the second start');
      assert.ok(!secondRun.includes(token), 'the stored token is not printed again');
      assert.equal((await h.client.conversations.v1.users('generated').fetch()).sid, u.sid);
    });
  });

  test('an explicit account is created on first start and its token checked afterwards', async () => {
    await withServer({}, async (h) => {
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, 'not-the-token'] })).status, 401);
      await h.restart();
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
    });
  });

  test('an --auth-token of 65 to 128 characters is kept whole; a longer one is refused', async () => {
    const token = randomHex(100);
    await withServer({ authToken: token }, async (h) => {
      assert.equal((await h.raw('GET', '/v1/Users')).status, 200, 'the whole 100-character token authenticates');
      assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, token.slice(0, 64)] })).status, 401);
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-cli-'));
    try {
      const r = spawnSync(parleyBin(), ['--listen', '127.0.0.1:0', '--data', path.join(dir, 'p.db'), '--account-sid', newAccountSid(),
        '--auth-token', randomHex(129)], { encoding: 'utf8', env: cleanEnv(), timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--auth-token must be 8 to 128 characters/);
      assert.ok(!fs.existsSync(path.join(dir, 'p.db')), 'nothing created');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('secrets from files and the environment', () => {
    let dir;
    const secretFile = (name, text, mode = 0o600) => {
      dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'parley-secrets-'));
      const f = path.join(dir, name);
      fs.writeFileSync(f, text, { mode });
      fs.chmodSync(f, mode);
      return f;
    };
    const run = (args, env = {}) =>
      spawnSync(parleyBin(), ['--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout: 20_000 });
    const CMDLINE_WARNING = /--auth-token on the command line is visible to other users/;

    test('--auth-token on the command line is warned about in the log, without the token', async () => {
      await withServer({}, async (h) => {
        assert.match(h.log, CMDLINE_WARNING);
        const warning = h.log.split('\n').find((l) => CMDLINE_WARNING.test(l));
        assert.ok(!warning.includes(h.authToken));
      });
    });

    test('--auth-token-file: the token (a 128-character one, newline at the end) authenticates; no warning', async () => {
      const token = randomHex(128);
      const f = secretFile('token', `${token}\r\n`);
      await withServer({ viaEnv: true, authToken: token, args: ['--auth-token-file', f], env: { PARLEY_AUTH_TOKEN: '' } }, async (h) => {
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
        assert.doesNotMatch(h.log, CMDLINE_WARNING);
        assert.doesNotMatch(h.log, /readable by other users/);
        assert.ok(!h.log.includes(token), 'the token is not in the output');
      });
    });

    test('PARLEY_AUTH_TOKEN_FILE and PARLEY_DATA_FILE', async () => {
      const token = randomHex(40);
      const tf = secretFile('token-env', `${token}\n`);
      await withServer({ viaEnv: true, authToken: token, env: { PARLEY_AUTH_TOKEN: '', PARLEY_AUTH_TOKEN_FILE: tf } }, async (h) => {
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
        assert.equal((await h.raw('GET', '/v1/Users', { auth: [h.accountSid, 'x' + token] })).status, 401);
      });
      // the data target from a file: the server uses it (its account is found there on a second start)
      const h1 = await start({});
      const dataFile = h1.dataFile;
      await h1.stop();
      const df = secretFile('data', `${dataFile}\n`);
      try {
        await withServer({ viaEnv: true, accountSid: h1.accountSid, authToken: h1.authToken, env: { PARLEY_DATA: '', PARLEY_DATA_FILE: df } }, async (h) => {
          assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
          assert.ok(h.log.includes(`account ${h1.accountSid}`), h.log);
        });
      } finally {
        await h1.cleanup();
      }
    });

    test('a secret file readable by others is warned about; both forms at once, a missing or empty file are refused', async () => {
      const token = randomHex(32);
      const loose = secretFile('loose', token, 0o644);
      await withServer({ viaEnv: true, authToken: token, args: ['--auth-token-file', loose], env: { PARLEY_AUTH_TOKEN: '' } }, async (h) => {
        assert.match(h.log, /--auth-token-file: .* is readable by other users/);
        assert.equal((await h.raw('GET', '/v1/Users')).status, 200);
      });
      const db = path.join(dir, 'refused.db');
      const cases = [
        [['--data', db, '--auth-token', token, '--auth-token-file', loose], {}, /give --auth-token or --auth-token-file, not both/],
        [['--data', db], { PARLEY_AUTH_TOKEN: token, PARLEY_AUTH_TOKEN_FILE: loose }, /set PARLEY_AUTH_TOKEN or PARLEY_AUTH_TOKEN_FILE, not both/],
        [['--data', db, '--auth-token-file', path.join(dir, 'missing')], {}, /cannot open/],
        [['--data', db, '--auth-token-file', secretFile('empty', '\n')], {}, /must hold one line/],
        [['--data', db, '--auth-token-file', secretFile('two-lines', `${token}\nmore\n`)], {}, /control character/],
        [['--data', db, '--auth-token-file', secretFile('long', randomHex(129))], {}, /must hold one line of 1 to 128/],
        [['--data-file', path.join(dir, 'missing')], {}, /--data-file: cannot open/],
      ];
      for (const [args, env, re] of cases) {
        const r = run(args, env);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, re);
        assert.ok(!r.stderr.includes(token), 'the secret is not echoed');
      }
      assert.ok(!fs.existsSync(db), 'nothing was created');
    });

    test('a PostgreSQL password in --data on the command line is warned about, never shown', () => {
      const r = run(['--data', 'postgres://parley:hunter2-secret@127.0.0.1:1/parley?connect_timeout=1']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /--data on the command line holds a password/);
      assert.ok(!(r.stdout + r.stderr).includes('hunter2-secret'));
      const ok = run(['--data', 'postgres://parley@127.0.0.1:1/parley?connect_timeout=1']);
      assert.doesNotMatch(ok.stderr, /holds a password/);
    });

    test('cleanup', () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
  });
});
