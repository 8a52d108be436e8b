// Webhooks and tenants (issue 10, findings 4 and 10): one account's deliveries must neither trim another's
// delivery log nor hold up another's webhooks. Runs on SQLite and, with PARLEY_TEST_PG, on PostgreSQL.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, after } from 'node:test';
import { e2eSuite, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;
function sql(h, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => l.split('|'));
}

/** `parley account create` on the server's data: a second tenant with its own client. */
function createAccount(h, name) {
  const r = h.cli(['account', 'create', '--friendly-name', name]);
  assert.equal(r.status, 0, r.stderr);
  const f = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(' ')));
  return { sid: f.account_sid, token: f.auth_token, client: h.newClient(f.account_sid, f.auth_token) };
}

const hdr = { xTwilioWebhookEnabled: 'true' };

async function logOf(h, t, limit = 1000) {
  const res = await h.raw('GET', `/parley/webhooks/log?Limit=${limit}`, { auth: [t.sid, t.token] });
  assert.equal(res.status, 200);
  return res.json.deliveries;
}

e2eSuite('webhooks across tenants', {}, (ctx, it) => {
  let A;
  let B;
  let rx;
  before(async () => {
    A = { sid: ctx.h.accountSid, token: ctx.h.authToken, client: ctx.h.client };
    B = createAccount(ctx.h, 'Tenant B');
    rx = await new Receiver().listen();
  });
  after(async () => rx?.close());

  it('log pruning is per account: 10,000 rows of one tenant leave another tenant\'s log whole', { skip: !haveSqlite && 'needs sqlite3' }, async () => {
    await A.client.conversations.v1.configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/a-log') });
    for (let i = 0; i < 3; i++) await A.client.conversations.v1.users.create({ identity: `a-log-${i}`, ...hdr });
    await rx.waitFor('/a-log', 3);
    await sleep(300); // the outcomes are written lazily
    assert.equal((await logOf(ctx.h, A)).filter((d) => d.url.endsWith('/a-log')).length, 3);
    // 10,005 deliveries of tenant B (written straight into the log: the same rows its webhooks would leave)
    sql(ctx.h, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
      INSERT INTO webhook_log(account_sid, kind, event_type, url, method, outcome, status, attempts, latency_ms,
        last_error, idempotency_token, created_at, completed_at)
      SELECT '${B.sid}', 'post', 'onUserAdded', 'http://127.0.0.1:9/b', 'POST', 'delivered', 200, 1, 1, NULL, NULL, 1, 1 FROM n`);
    // one more delivery of A: its insert used to trim every row of A older than the last 10,000 ids
    await A.client.conversations.v1.users.create({ identity: 'a-log-3', ...hdr });
    await rx.waitFor('/a-log', 4);
    await sleep(300);
    const mine = (await logOf(ctx.h, A)).filter((d) => d.url.endsWith('/a-log'));
    assert.equal(mine.length, 4, 'tenant A keeps its whole log');
  });

  it('each tenant keeps its own last 10,000 rows', { skip: !haveSqlite && 'needs sqlite3' }, async () => {
    // B's counter as its 10,005 deliveries would have left it
    sql(ctx.h, `INSERT INTO webhook_log_counts(account_sid, n) VALUES ('${B.sid}', 10005)
      ON CONFLICT (account_sid) DO UPDATE SET n = excluded.n`);
    await B.client.conversations.v1.configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/b-log') });
    for (let i = 0; i < 2; i++) await B.client.conversations.v1.users.create({ identity: `b-log-${i}`, ...hdr });
    await rx.waitFor('/b-log', 2);
    await sleep(300);
    const [[nb]] = sql(ctx.h, `SELECT count(*) FROM webhook_log WHERE account_sid = '${B.sid}'`);
    assert.equal(Number(nb), 10000, 'B is trimmed to its last 10,000');
    const [[oldest]] = sql(ctx.h, `SELECT count(*) FROM webhook_log WHERE account_sid = '${B.sid}' AND url LIKE '%/b-log'`);
    assert.equal(Number(oldest), 2, 'the newest rows stay');
    const [[na]] = sql(ctx.h, `SELECT count(*) FROM webhook_log WHERE account_sid = '${A.sid}'`);
    assert.equal(Number(na), 4, 'A untouched');
  });

  it('300 events of one tenant to a black hole do not hold up another tenant: its event goes out within a second', async (t) => {
    const hole = await new Receiver().listen();
    hole.rules['/hole'] = { hang: true }; // accepts, reads the request, never answers
    try {
      await B.client.conversations.v1.configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: hole.url('/hole') });
      await A.client.conversations.v1.configuration.webhooks().update({ filters: ['onUserAdded'], postWebhookUrl: rx.url('/a-fast') });
      for (let i = 0; i < 300; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, k) => B.client.conversations.v1.users.create({ identity: `b-flood-${i + k}`, ...hdr })));
      }
      await hole.waitFor('/hole', 1, 5000);
      await sleep(500); // B's deliveries hang in their slots
      for (let round = 0; round < 3; round++) {
        const t0 = Date.now();
        await A.client.conversations.v1.users.create({ identity: `a-fast-${round}`, ...hdr });
        const got = await rx.waitFor('/a-fast', round + 1, 10_000);
        const ms = got[round].at - t0;
        t.diagnostic(`round ${round}: tenant A's webhook arrived ${ms} ms after its create was sent`);
        assert.ok(ms < 1000, `tenant A's webhook took ${ms} ms behind tenant B's black hole`);
        await sleep(round === 0 ? 5500 : 300); // the second round runs after B's first attempts timed out
      }
      // B holds at most its share of the slots at any time
      const inFlight = hole.at('/hole').length;
      assert.ok(inFlight >= 1 && inFlight <= 32, `${inFlight} requests reached the black hole`);
      const log = await logOf(ctx.h, B, 1000);
      assert.equal(log.filter((d) => d.outcome === 'pending').length, 300, 'B\'s events wait, none lost');
    } finally {
      await B.client.conversations.v1.configuration.webhooks().update({ filters: [''], postWebhookUrl: '' });
      await hole.close();
    }
  });

  it('a user with 300 events queued behind a retrying first one gets them all, in order', async () => {
    rx.rules['/queued'] = { status: 503 };
    await A.client.conversations.v1.configuration.webhooks().update({ filters: ['onUserUpdated'], postWebhookUrl: rx.url('/queued') });
    await A.client.conversations.v1.users.create({ identity: 'queued' });
    for (let i = 0; i < 300; i++) await A.client.conversations.v1.users('queued').update({ friendlyName: `q${i}`, ...hdr });
    await rx.waitFor('/queued', 1);
    await sleep(200);
    rx.rules['/queued'] = {}; // the receiver recovers while 299 events wait behind the first
    const deadline = Date.now() + 60_000;
    let names;
    for (;;) {
      names = [...new Set(rx.at('/queued').map((r) => r.params.FriendlyName))];
      if (names.length === 300 || Date.now() > deadline) break;
      await sleep(100);
    }
    assert.deepEqual(names, Array.from({ length: 300 }, (_, i) => `q${i}`));
    await A.client.conversations.v1.configuration.webhooks().update({ filters: [''], postWebhookUrl: '' });
  });
});
