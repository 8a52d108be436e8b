// Rows' URLs are built from a prefix a page shares, copied unescaped when it needs no escape: a public
// URL whose bytes JSON must escape still gives valid JSON with the exact URL, on every row of a page and
// in single answers, for users, conversations and messages.

import assert from 'node:assert/strict';
import { e2eSuite } from './harness.mjs';

const PUBLIC = 'http://parley.test/odd"path\\x';

e2eSuite('urls escaped', { publicUrl: PUBLIC }, (ctx, it) => {
  const h = () => ctx.h;
  const ok = (res, status = 200) => {
    assert.equal(res.status, status, res.body);
    return JSON.parse(res.body); // the body must be valid JSON
  };

  it('a page of messages and each message carry the escaped public URL', async () => {
    const ch = ok(await h().raw('POST', '/v1/Conversations', { body: { FriendlyName: 'u' } }), 201);
    assert.equal(ch.url, `${PUBLIC}/v1/Conversations/${ch.sid}`);
    assert.equal(ch.links.messages, `${PUBLIC}/v1/Conversations/${ch.sid}/Messages`);
    const posted = [];
    for (let i = 0; i < 3; i++) {
      const m = ok(await h().raw('POST', `/v1/Conversations/${ch.sid}/Messages`, { body: { Body: `m${i}` } }), 201);
      assert.equal(m.url, `${PUBLIC}/v1/Conversations/${ch.sid}/Messages/${m.sid}`);
      posted.push(m.sid);
    }
    const page = ok(await h().raw('GET', `/v1/Conversations/${ch.sid}/Messages?PageSize=2`));
    assert.deepEqual(page.messages.map((m) => m.sid), posted.slice(0, 2));
    for (const m of page.messages) {
      const own = `${PUBLIC}/v1/Conversations/${ch.sid}/Messages/${m.sid}`;
      assert.equal(m.url, own);
      assert.equal(m.links.delivery_receipts, `${own}/Receipts`);
      assert.equal(m.links.channel_metadata, `${own}/ChannelMetadata`);
    }
    assert.ok(page.meta.next_page_url.startsWith(`${PUBLIC}/v1/Conversations/${ch.sid}/Messages?`));
  });

  it('users on both path families', async () => {
    const u = ok(await h().raw('POST', '/v1/Users', { body: { Identity: 'escaped-url' } }), 201);
    assert.equal(u.url, `${PUBLIC}/v1/Users/${u.sid}`);
    assert.equal(u.links.user_conversations, `${PUBLIC}/v1/Users/${u.sid}/Conversations`);
    const svc = ok(await h().raw('GET', `/v1/Services/${u.chat_service_sid}/Users?PageSize=50`));
    const row = svc.users.find((x) => x.sid === u.sid);
    assert.equal(row.url, `${PUBLIC}/v1/Services/${u.chat_service_sid}/Users/${u.sid}`);
  });
});
