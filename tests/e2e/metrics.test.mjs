// GET /metrics: the Prometheus text format, behind the account's credentials unless --metrics-public.

import assert from 'node:assert/strict';
import { e2eSuite } from './harness.mjs';

e2eSuite('metrics', {}, (ctx, it) => {
  it('needs credentials, and counts requests by route and status, commits and the outbox', async () => {
    assert.equal((await ctx.h.raw('GET', '/metrics', { auth: false })).status, 401);
    await ctx.h.client.conversations.v1.users.create({ identity: 'metered' });
    await ctx.h.raw('GET', '/v1/Users/metered');
    await ctx.h.raw('GET', '/v1/Users/nobody');
    const res = await ctx.h.raw('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users",method="POST",status="201"\} 1$/m);
    assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users\/\{\}",method="GET",status="200"\} 1$/m);
    assert.match(text, /^parley_http_requests_total\{route="\/v1\/Users\/\{\}",method="GET",status="404"\} 1$/m);
    assert.match(text, /^parley_http_request_duration_seconds_bucket\{route="\/v1\/Users\/\{\}",le="\+Inf"\} 2$/m);
    assert.match(text, /^parley_store_commit_batch_size_count [1-9]\d*$/m);
    assert.match(text, /^parley_store_commit_seconds_count\{\} [1-9]\d*$/m);
    assert.match(text, /^parley_webhook_outbox_depth \d+$/m);
    // every sample line is "name{labels} value" or "name value"
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      assert.match(line, /^[a-z_]+(\{.*\})? [0-9.e+-]+$/, line);
    }
  });
});

e2eSuite('metrics, public', { args: ['--metrics-public'] }, (ctx, it) => {
  it('--metrics-public serves /metrics without credentials, and nothing else', async () => {
    assert.equal((await ctx.h.raw('GET', '/metrics', { auth: false })).status, 200);
    assert.equal((await ctx.h.raw('GET', '/v1/Users', { auth: false })).status, 401);
  });
});
