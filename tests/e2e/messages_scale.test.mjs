// Messages at scale and across servers (BEHAVIOUR-conversations §3.1, §3.3): a page of messages is one range of
// the (conversation_id, idx) index in both orders, so a page 10,000 deep reads what the first page reads (shown by
// the query plan on SQLite and by EXPLAIN ANALYZE's row counts on PostgreSQL, on a conversation of 20,000 messages
// written straight into the store); the pages the API answers there are the right ones; and two servers on one
// PostgreSQL creating messages in one conversation at once hand out distinct indexes.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { e2eSuite, PG_BASE, sendOn, start } from './harness.mjs';
import http from 'node:http';

const N = 20_000;
const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;

/** SQL on the server's own database: sqlite3 on the file, or psql on the URL. */
function sql(h, text) {
  const r = PG_BASE
    ? spawnSync('psql', [h.dataFile, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', text], { encoding: 'utf8', timeout: 120_000 })
    : spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, text], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${text}: ${r.stderr}`);
  return r.stdout.trim();
}

// the list's statements as the store writes them (store/messages.c), with the page's bounds filled in
const COLS = 'id, sid, account_sid, service_sid, conversation_sid, conversation_id, idx, author, participant_sid, body, attributes, subject,' +
  ' content_sid, content_variables, media_sid, media_content_type, media_filename, media_size, source, d_sent, d_delivered,' +
  ' d_read, d_failed, d_undelivered, date_created, date_updated';
const ascAfter = (ch, after, limit) => `SELECT ${COLS} FROM messages WHERE conversation_id = (SELECT id FROM conversations WHERE sid = '${ch}') AND idx > ${after} ORDER BY idx LIMIT ${limit}`;
const descAfter = (ch, before, limit) => `SELECT ${COLS} FROM messages WHERE conversation_id = (SELECT id FROM conversations WHERE sid = '${ch}') AND idx < ${before} ORDER BY idx DESC LIMIT ${limit}`;

e2eSuite('messages at scale', {}, (ctx, it) => {
  let ch;
  before(async () => {
    const cv = await ctx.h.client.conversations.v1.conversations.create({ friendlyName: 'big' });
    ch = cv.sid;
    await ctx.h.client.conversations.v1.conversations(ch).messages.create({ body: 'through the API' });
  });

  it(`a conversation of ${N} messages written into the store; its counter moved on`, { skip: !PG_BASE && !haveSqlite && 'no sqlite3 shell' }, async () => {
    const { accountSid } = ctx.h;
    const is = sql(ctx.h, `SELECT service_sid FROM conversations WHERE sid = '${ch}'`);
    const gen = PG_BASE
      ? `INSERT INTO messages(sid, account_sid, service_sid, conversation_sid, conversation_id, idx, author, body, attributes, date_created, date_updated)
         SELECT 'IM' || lpad(to_hex(i), 32, '0'), '${accountSid}', '${is}', '${ch}', (SELECT id FROM conversations WHERE sid = '${ch}'), i, 'system', 'bulk ' || i, '{}', 1700000000000 + i, 1700000000000 + i
         FROM generate_series(1, ${N}) AS i;
         UPDATE conversations SET next_message_index = ${N + 1} WHERE sid = '${ch}'; ANALYZE messages;`
      : `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${N})
         INSERT INTO messages(sid, account_sid, service_sid, conversation_sid, conversation_id, idx, author, body, attributes, date_created, date_updated)
         SELECT 'IM' || printf('%032x', i), '${accountSid}', '${is}', '${ch}', (SELECT id FROM conversations WHERE sid = '${ch}'), i, 'system', 'bulk ' || i, '{}', 1700000000000 + i, 1700000000000 + i FROM s;
         UPDATE conversations SET next_message_index = ${N + 1} WHERE sid = '${ch}'; ANALYZE;`;
    sql(ctx.h, gen);
    const m = await ctx.h.client.conversations.v1.conversations(ch).messages.create({ body: 'after the bulk' });
    assert.equal(m.index, N + 1);
  });

  it('the first page and a page 10,000 deep are one index range, in both orders', { skip: !PG_BASE && !haveSqlite && 'no sqlite3 shell' }, async () => {
    const cases = [ascAfter(ch, -1, 51), ascAfter(ch, 10_000, 51), descAfter(ch, 1 << 30, 51), descAfter(ch, 10_000, 51)];
    for (const q of cases) {
      if (PG_BASE) {
        const plan = JSON.parse(sql(ctx.h, `EXPLAIN (ANALYZE, FORMAT JSON) ${q}`))[0].Plan;
        // the messages' scan, beside the InitPlan that looks up the conversation's id
        const find = (n) => n['Relation Name'] === 'messages' ? n : (n.Plans ?? []).map(find).find(Boolean);
        const scan = find(plan);
        assert.match(scan['Node Type'], /^Index Scan/, `${q}: ${JSON.stringify(plan)}`);
        assert.equal(scan['Index Name'], 'messages_conversation_id_idx_key', q);
        assert.ok(scan['Actual Rows'] <= 51, `${q}: ${scan['Actual Rows']} rows read`);
        assert.ok(!scan['Rows Removed by Filter'], `${q}: rows filtered out`);
      } else {
        const plan = sql(ctx.h, `EXPLAIN QUERY PLAN ${q}`);
        assert.match(plan, /SEARCH messages USING INDEX sqlite_autoindex_messages_\d \(conversation_id=\? AND idx[<>]\?\)/, `${q}:\n${plan}`);
        assert.doesNotMatch(plan, /TEMP B-TREE|SCAN/, `${q}:\n${plan}`);
      }
    }
  });

  it('the API answers the right pages at depth, in both orders', { skip: !PG_BASE && !haveSqlite && 'no sqlite3 shell' }, async () => {
    const path = `/v1/Conversations/${ch}/Messages`;
    // 4 pages of 100 from either end, followed by their next_page_url
    for (const order of ['asc', 'desc']) {
      let url = `${path}?Order=${order}&PageSize=100`;
      const seen = [];
      for (let i = 0; i < 4; i++) {
        const res = await ctx.h.raw('GET', url);
        assert.equal(res.status, 200, res.body);
        seen.push(...res.json.messages.map((m) => m.index));
        url = res.json.meta.next_page_url;
      }
      const want = order === 'asc' ? Array.from({ length: 400 }, (_, i) => i) : Array.from({ length: 400 }, (_, i) => N + 1 - i);
      assert.deepEqual(seen, want, order);
    }
    const first = await ctx.h.raw('GET', `${path}?Order=desc&PageSize=50`);
    assert.equal(first.json.messages[0].index, N + 1);
  });
});

describe('two servers on one PostgreSQL create messages in one conversation at once', { skip: !PG_BASE && 'PARLEY_TEST_PG is not set', concurrency: false }, () => {
  let a;
  let b;
  const agents = [];
  before(async () => {
    a = await start({});
    b = await start({ data: a.dataFile, accountSid: a.accountSid, authToken: a.authToken });
  });
  after(async () => {
    for (const ag of agents) ag.destroy();
    for (const h of [b, a]) if (h) await h.stop().catch(() => {});
    for (const h of [b, a]) if (h) await h.cleanup();
  });

  test('80 creates spread over both servers: 80 distinct indexes 0..79, listed alike by both', { timeout: 300_000 }, async () => {
    const cv = (await a.raw('POST', '/v1/Conversations', { body: { FriendlyName: 'shared' } })).json;
    const clients = Array.from({ length: 8 }, (_, i) => {
      const ag = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(ag);
      return { h: i % 2 ? b : a, ag };
    });
    const results = await Promise.all(
      clients.map(async ({ h, ag }, c) => {
        const out = [];
        for (let k = 0; k < 10; k++) out.push(await sendOn(h, ag, 'POST', `/v1/Conversations/${cv.sid}/Messages`, { Body: `c${c} m${k}` }));
        return out;
      }),
    );
    const all = results.flat();
    for (const r of all) assert.equal(r.status, 201, JSON.stringify(r));
    const indexes = all.map((r) => r.json.index).sort((x, y) => x - y);
    assert.deepEqual(indexes, Array.from({ length: 80 }, (_, i) => i));
    for (const h of [a, b]) {
      const listed = (await h.raw('GET', `/v1/Conversations/${cv.sid}/Messages?PageSize=100`)).json.messages;
      assert.deepEqual(listed.map((m) => m.index), indexes);
    }
  });
});
