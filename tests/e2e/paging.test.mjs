// Paging of users: SDK list/each/limit, the raw meta envelope, next/previous URLs followed verbatim, clamping,
// both path families, keyset stability.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, listAllRaw, rejectsRest } from './harness.mjs';
import { fill, implementedOps, listQuery } from './optable.mjs';

const META_KEYS = ['first_page_url', 'key', 'next_page_url', 'page', 'page_size', 'previous_page_url', 'url'];
const N = 120;

e2eSuite('paging', {}, (ctx, it) => {
  const h = () => ctx.h;
  let IS;
  let sids = []; // creation order
  let identities = [];

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  const families = [
    { name: '/v1/Users', path: () => '/v1/Users', users: () => h().client.conversations.v1.users },
    { name: '/v1/Services/{IS}/Users', path: () => `/v1/Services/${IS}/Users`, users: () => h().client.conversations.v1.services(IS).users },
  ];

  function checkMeta(res, { fam, pageSize, page }) {
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(Object.keys(res.json).sort(), ['meta', 'users']);
    const m = res.json.meta;
    assert.deepEqual(Object.keys(m).sort(), META_KEYS);
    assert.equal(m.key, 'users');
    assert.equal(m.page, page);
    assert.equal(m.page_size, pageSize);
    const listUrl = `${h().url}${fam.path()}`;
    assert.equal(m.first_page_url, `${listUrl}?PageSize=${pageSize}&Page=0`);
    assert.ok(m.url.startsWith(`${listUrl}?PageSize=${pageSize}&Page=${page}`), `meta.url ${m.url}`);
    if (page === 0) assert.equal(m.previous_page_url, null, 'previous_page_url on page 0');
    else assert.match(m.previous_page_url ?? '', new RegExp(`^${escape(listUrl)}\\?PageSize=${pageSize}&Page=${page - 1}(&PageToken=PT[^&]+)?$`));
    if (m.next_page_url !== null) {
      assert.match(m.next_page_url, new RegExp(`^${escape(listUrl)}\\?PageSize=${pageSize}&Page=${page + 1}&PageToken=PT[^&]+$`));
    }
    assert.ok(res.json.users.length <= pageSize);
    return m;
  }
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('an empty list: no users, page 0, no next or previous page', async () => {
    for (const fam of families) {
      const res = await h().raw('GET', fam.path());
      const m = checkMeta(res, { fam, pageSize: 50, page: 0 });
      assert.deepEqual(res.json.users, []);
      assert.equal(m.next_page_url, null);
      assert.equal(m.url, `${h().url}${fam.path()}?PageSize=50&Page=0`);
      assert.deepEqual(await fam.users().list(), []);
    }
  });

  it(`create ${N} users in order`, async () => {
    for (let i = 0; i < N; i++) {
      const identity = `page-${String(i).padStart(3, '0')}`;
      const u = await h().client.conversations.v1.users.create({ identity, attributes: `{"i":${i}}` });
      sids.push(u.sid);
      identities.push(identity);
    }
    assert.equal(new Set(sids).size, N);
  });

  for (const fam of families) {
    it(`${fam.name}: list() returns all ${N} in creation order`, async () => {
      const all = await fam.users().list();
      assert.deepEqual(all.map((u) => u.sid), sids);
      assert.deepEqual(all.map((u) => u.identity), identities);
    });

    it(`${fam.name}: list({pageSize: 7}) and each({pageSize: 7}) visit all, no duplicates, in order`, async () => {
      const from = h().requests.length;
      const listed = await fam.users().list({ pageSize: 7 });
      assert.deepEqual(listed.map((u) => u.sid), sids);
      const reqs = h().requests.slice(from);
      assert.equal(reqs.length, Math.ceil(N / 7), 'one request per page');
      assert.equal(reqs[0].params?.PageSize, 7);
      const seen = [];
      await fam.users().each({ pageSize: 7 }, (u) => {
        seen.push(u.sid);
      });
      assert.deepEqual(seen, sids);
    });

    it(`${fam.name}: list({limit: 100}) sends PageSize=100, gets 100 users; the server clamps to 50`, async () => {
      const from = h().requests.length;
      const listed = await fam.users().list({ limit: 100 });
      assert.deepEqual(listed.map((u) => u.sid), sids.slice(0, 100));
      assert.equal(h().requests[from].params?.PageSize, 100);
      const page = await fam.users().page({ pageSize: 100 });
      assert.equal(page._payload.meta.page_size, 50);
      assert.equal(page.instances.length, 50);
      const res = await h().raw('GET', `${fam.path()}?PageSize=100`);
      const m = checkMeta(res, { fam, pageSize: 50, page: 0 });
      assert.equal(res.json.users.length, 50);
      assert.ok(m.next_page_url.includes('PageSize=50&Page=1&PageToken='));
    });

    it(`${fam.name}: raw PageSize=7 envelope, following next_page_url verbatim to the end`, async () => {
      let url = `${fam.path()}?PageSize=7`;
      const pages = [];
      for (let page = 0; url; page++) {
        assert.ok(page < 100, 'does not terminate');
        const res = await h().raw('GET', url);
        const m = checkMeta(res, { fam, pageSize: 7, page });
        if (page === 0) assert.equal(m.url, `${h().url}${fam.path()}?PageSize=7&Page=0`);
        else assert.equal(m.url, `${h().url}${url}`, 'meta.url is the URL that was requested');
        for (const u of res.json.users) assert.equal(u.url, `${h().url}${fam.path()}/${u.sid}`);
        pages.push({ m, sids: res.json.users.map((u) => u.sid) });
        url = m.next_page_url === null ? null : new URL(m.next_page_url).pathname + new URL(m.next_page_url).search;
        if (m.next_page_url !== null) assert.ok(m.next_page_url.startsWith(h().url + '/v1/'), 'absolute on the public URL');
      }
      assert.equal(pages.length, Math.ceil(N / 7));
      assert.deepEqual(pages.flatMap((p) => p.sids), sids);
      pages.slice(0, -1).forEach((p) => assert.equal(p.sids.length, 7));
      assert.equal(pages.at(-1).sids.length, N % 7 || 7);
      assert.equal(pages.at(-1).m.next_page_url, null);

      // previous_page_url on every page >= 1 leads back to the previous page's items
      for (let i = 1; i < pages.length; i++) {
        const prev = pages[i].m.previous_page_url;
        assert.ok(prev, `page ${i} has previous_page_url`);
        const res = await h().raw('GET', prev);
        checkMeta(res, { fam, pageSize: 7, page: i - 1 });
        assert.deepEqual(res.json.users.map((u) => u.sid), pages[i - 1].sids, `previous of page ${i}`);
      }
    });

    it(`${fam.name}: the SDK follows previous_page_url too (page.previousPage())`, async () => {
      const p0 = await fam.users().page({ pageSize: 11 });
      const p1 = await p0.nextPage();
      const p2 = await p1.nextPage();
      assert.deepEqual(p2.instances.map((u) => u.sid), sids.slice(22, 33));
      const back = await p2.previousPage();
      assert.deepEqual(back.instances.map((u) => u.sid), sids.slice(11, 22));
      const back2 = await back.previousPage();
      assert.deepEqual(back2.instances.map((u) => u.sid), sids.slice(0, 11));
    });
  }

  it('a page size that divides the total: the last full page has next_page_url null', async () => {
    for (const size of [10, 40]) {
      let url = `/v1/Users?PageSize=${size}`;
      const got = [];
      let count = 0;
      while (url) {
        const res = await h().raw('GET', url);
        checkMeta(res, { fam: families[0], pageSize: size, page: count });
        got.push(...res.json.users.map((u) => u.sid));
        count++;
        url = res.json.meta.next_page_url;
      }
      assert.equal(count, N / size, `PageSize=${size}: ${count} pages`);
      assert.deepEqual(got, sids);
    }
  });

  it('PageSize=1 walks every user one by one', async () => {
    const got = [];
    await h().client.conversations.v1.users.each({ pageSize: 1 }, (u) => {
      got.push(u.sid);
    });
    assert.deepEqual(got, sids);
  });

  it('default page size is 50', async () => {
    const res = await h().raw('GET', '/v1/Users');
    checkMeta(res, { fam: families[0], pageSize: 50, page: 0 });
    assert.deepEqual(res.json.users.map((u) => u.sid), sids.slice(0, 50));
  });

  it('Page echoes the client state in meta.page beside its PageToken; Page>0 without one is 400/70002, never page 0 relabelled', async () => {
    const p0 = await h().raw('GET', '/v1/Users?PageSize=5');
    const token = new URL(p0.json.meta.next_page_url).searchParams.get('PageToken');
    const res = await h().raw('GET', `/v1/Users?PageSize=5&Page=3&PageToken=${token}`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.meta.page, 3);
    assert.equal(res.json.meta.page_size, 5);
    assert.ok(res.json.meta.url.startsWith(`${h().url}/v1/Users?PageSize=5&Page=3&PageToken=`), res.json.meta.url);
    const NEED_TOKEN = { status: 400, code: 70002, message: 'Paged requests must include a PageToken' };
    for (const q of ['PageSize=5&Page=3', 'Page=1', 'Page=2&PageToken=']) {
      assertErrorBody(await h().raw('GET', `/v1/Users?${q}`), NEED_TOKEN);
    }
    await rejectsRest(() => h().client.conversations.v1.users.page({ pageNumber: 2, pageSize: 5 }), NEED_TOKEN);
    assert.equal((await h().raw('GET', '/v1/Users?PageSize=5&Page=0')).status, 200);
  });

  it('PageSize above 1000 is clamped like any size above the maximum: list({limit: 5000}) works through twilio-node', async () => {
    const res = await h().raw('GET', '/v1/Users?PageSize=5000');
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.meta.page_size, 50);
    const before = h().requests.length;
    const all = await h().client.conversations.v1.users.list({ limit: 5000 });
    assert.ok(h().requests.slice(before).some((q) => q.params?.PageSize === 5000), 'twilio-node sent PageSize=5000');
    assert.deepEqual(all.map((u) => u.sid), (await listAllRaw(h())).map((u) => u.sid));
  });

  it('keyset paging: deleting an already-seen user does not shift the next page; a new user appears at the end', async () => {
    const users = h().client.conversations.v1.users;
    const p0 = await h().raw('GET', '/v1/Users?PageSize=10');
    assert.deepEqual(p0.json.users.map((u) => u.sid), sids.slice(0, 10));
    await users(sids[3]).remove();
    const extra = await users.create({ identity: 'page-late' });
    const p1 = await h().raw('GET', p0.json.meta.next_page_url);
    assert.deepEqual(p1.json.users.map((u) => u.sid), sids.slice(10, 20), 'page 1 unchanged by the delete on page 0');
    let url = p1.json.meta.next_page_url;
    const rest = [];
    while (url) {
      const r = await h().raw('GET', url);
      assert.equal(r.status, 200, r.body);
      rest.push(...r.json.users.map((u) => u.sid));
      url = r.json.meta.next_page_url;
    }
    assert.deepEqual(rest, [...sids.slice(20), extra.sid]);
    const all = (await users.list()).map((u) => u.sid);
    assert.deepEqual(all, [...sids.slice(0, 3), ...sids.slice(4), extra.sid]);
  });
});

// Page tokens carry an unkeyed check (docs/DECISIONS.md), so anyone can mint one for any position: the extremes
// in both directions must give a clean page, never a crash, on every list route of the route table.
function mintToken(dir, key) {
  const body = Buffer.alloc(10);
  body[0] = 1;
  body[1] = dir.charCodeAt(0);
  body.writeBigUInt64BE(key, 2);
  const check = crypto.createHash('sha256').update('parley pagetoken v1').update(body).digest().subarray(0, 6);
  return 'PT' + Buffer.concat([body, check]).toString('base64url');
}

/** Every list operation the server implements (operation table + probe), both path families; {ChatServiceSid} is
 * IS, {UserSid} the user, {ConversationSid} the conversation (one is made when none is given) and
 * {MessageSid} a message in it (nested lists). */
async function listRoutes(h, IS, user, conversation) {
  const lists = (await implementedOps(h)).filter((e) => e.op.kind === 'list');
  const nested = { ConversationSid: conversation };
  if (!nested.ConversationSid && lists.some((e) => e.op.path.includes('{ConversationSid}')))
    nested.ConversationSid = (await h.raw('POST', '/v1/Conversations', { body: {} })).json.sid;
  if (lists.some((e) => e.op.path.includes('{MessageSid}')))
    nested.MessageSid = (await h.raw('POST', `/v1/Conversations/${nested.ConversationSid}/Messages`, { body: { Body: 'x' } })).json.sid;
  const values = { ChatServiceSid: IS, UserSid: user, ...nested };
  return lists.map((e) => {
    const path = fill(e.op.path, (name) => {
      assert.ok(values[name], `${e.op.id}: no value for {${name}}`);
      return values[name];
    });
    const query = listQuery(e, user);
    return query.length ? `${path}?${new URLSearchParams(query)}&` : `${path}?`;
  });
}

e2eSuite('paging, forged tokens', {}, (ctx, it) => {
  const MAX = (1n << 63n) - 1n;
  it('the issue\'s token is what mintToken writes for "after 2^63-1"', () => {
    assert.equal(mintToken('a', MAX), 'PTAWF__________8tGa6QTRg');
  });

  it('tokens at both ends, in both directions, give a page with followable meta URLs on every list route', async () => {
    const { serviceSid: IS } = await defaults(ctx.h);
    await ctx.h.client.conversations.v1.users.create({ identity: 'forger' });
    const conversation = await ctx.h.client.conversations.v1.conversations.create({ uniqueName: 'forged' });
    const routes = await listRoutes(ctx.h, IS, 'forger', conversation.sid);
    assert.ok(routes.length >= 9, `list routes: ${routes}`);
    const tokens = [['a', MAX], ['b', MAX], ['a', 0n], ['b', 0n], ['a', MAX - 1n], ['b', 1n]].map(([d, k]) => mintToken(d, k));
    for (const route of routes) {
      for (const tok of tokens) {
        const res = await ctx.h.raw('GET', `${route}PageSize=2&Page=3&PageToken=${tok}`);
        assert.equal(res.status, 200, `${route} ${tok}: ${res.body}`);
        const meta = res.json.meta;
        assert.ok(meta.url.endsWith(`&PageToken=${tok}`), meta.url);
        for (const next of [meta.next_page_url, meta.previous_page_url]) {
          if (next === null) continue;
          const n = await ctx.h.raw('GET', next);
          assert.equal(n.status, 200, `${next}: ${n.body}`);
        }
      }
      // and a token with a wrong check is refused, not acted on
      const bad = await ctx.h.raw('GET', `${route}PageToken=PTAWF__________8tGa6QTRh`);
      assert.equal(bad.status, 400, bad.body);
      assert.equal(bad.json.message, 'Invalid PageToken');
    }
    assert.equal((await ctx.h.raw('GET', '/healthz', { auth: false })).status, 200);
  });
});
