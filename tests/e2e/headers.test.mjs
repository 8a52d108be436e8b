// Raw HTTP: the common response headers on every status, the exact user JSON (keys in spec order, formats),
// and keep-alive.

import assert from 'node:assert/strict';
import http from 'node:http';
import { before } from 'node:test';
import { DATE_RE, defaults, e2eSuite, SID_RE } from './harness.mjs';

const COMMON = {
  'content-type': 'application/json; charset=utf-8',
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Idempotency-Key',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'ETag',
  'x-powered-by': 'AT-5000',
  'x-shenanigans': 'none',
  'x-home-region': 'us1',
};

const USER_KEYS = [
  'sid',
  'account_sid',
  'chat_service_sid',
  'role_sid',
  'identity',
  'friendly_name',
  'attributes',
  'is_online',
  'is_notifiable',
  'date_created',
  'date_updated',
  'url',
  'links',
];

e2eSuite('headers', {}, (ctx, it) => {
  const h = () => ctx.h;
  let IS;
  let roles;
  const seenRequestIds = new Set();

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
  });

  function assertCommonHeaders(res, what) {
    for (const [k, v] of Object.entries(COMMON)) assert.equal(res.headers[k], v, `${what}: ${k}`);
    const rq = res.headers['twilio-request-id'];
    assert.match(rq ?? '', /^RQ[0-9a-f]{32}$/, `${what}: twilio-request-id`);
    assert.ok(!seenRequestIds.has(rq), `${what}: twilio-request-id ${rq} repeated`);
    seenRequestIds.add(rq);
    assert.match(res.headers['twilio-request-duration'] ?? '', /^\d+(\.\d+)?$/, `${what}: twilio-request-duration`);
    assert.match(res.headers['twilio-concurrent-requests'] ?? '', /^[1-9]\d*$/, `${what}: twilio-concurrent-requests`);
    assert.equal(res.headers['x-api-domain'], new URL(h().url).host, `${what}: x-api-domain`);
    assert.equal(res.headers['strict-transport-security'], undefined, `${what}: no HSTS over plain HTTP`);
  }

  function assertUserJson(u, { base, identity }) {
    assert.deepEqual(Object.keys(u), USER_KEYS, 'user keys in spec order');
    assert.match(u.sid, SID_RE('US'));
    assert.equal(u.account_sid, h().accountSid);
    assert.equal(u.chat_service_sid, IS);
    assert.match(u.role_sid, SID_RE('RL'));
    assert.equal(u.identity, identity);
    assert.ok(u.friendly_name === null || typeof u.friendly_name === 'string');
    assert.equal(typeof u.attributes, 'string');
    assert.equal(u.is_online, null);
    assert.equal(u.is_notifiable, null);
    assert.match(u.date_created, DATE_RE);
    assert.match(u.date_updated, DATE_RE);
    assert.equal(u.url, `${base}/${u.sid}`);
    assert.deepEqual(Object.keys(u.links), ['user_conversations']);
    assert.equal(u.links.user_conversations, `${base}/${u.sid}/Conversations`);
  }

  it('every status (200, 201, 204, 400, 401, 404, 405, 409, 413) carries the common headers', async () => {
    const cases = [
      [200, 'GET', '/v1/Users'],
      [200, 'GET', '/v1/Configuration'],
      [201, 'POST', '/v1/Users', { body: { Identity: 'hdr' } }],
      [200, 'GET', '/v1/Users/hdr'],
      [200, 'POST', '/v1/Users/hdr', { body: { FriendlyName: 'x' } }],
      [409, 'POST', '/v1/Users', { body: { Identity: 'hdr' } }],
      [204, 'DELETE', '/v1/Users/hdr'],
      [204, 'OPTIONS', '/v1/Users', { auth: false }],
      [400, 'POST', '/v1/Users', { body: { FriendlyName: 'no identity' } }],
      [400, 'GET', '/v1/Users?PageSize=0'],
      [401, 'GET', '/v1/Users', { auth: false }],
      [401, 'GET', '/v1/Users', { auth: [h().accountSid, 'wrong'] }],
      [404, 'GET', '/v1/Users/nobody'],
      [404, 'GET', '/v1/Nope'],
      [405, 'PUT', '/v1/Users', { body: { Identity: 'x' } }],
      [413, 'POST', '/v1/Users', { body: 'Identity=big&Pad=' + 'p'.repeat(70_000) }],
    ];
    for (const [status, m, p, opts] of cases) {
      const res = await h().raw(m, p, opts);
      const what = `${m} ${p} -> ${res.status}`;
      assert.equal(res.status, status, `${what}: ${res.body}`);
      assertCommonHeaders(res, what);
      if (status === 204) {
        assert.equal(res.body, '', `${what}: empty body`);
      } else {
        assert.ok(res.json !== undefined, `${what}: JSON body, got ${JSON.stringify(res.body)}`);
      }
    }
  });

  it('user JSON: exact keys in spec order, formats, on create, fetch, update and list (short family)', async () => {
    const base = `${h().url}/v1/Users`;
    const created = await h().raw('POST', '/v1/Users', { body: { Identity: 'shape-short' } });
    assert.equal(created.status, 201, created.body);
    assertUserJson(created.json, { base, identity: 'shape-short' });
    assert.equal(created.json.friendly_name, null);
    assert.equal(created.json.attributes, '{}');
    assert.equal(created.json.role_sid, roles['service user'].sid);
    assert.equal(created.json.date_updated, created.json.date_created);
    for (const key of [created.json.sid, 'shape-short']) {
      const f = await h().raw('GET', `/v1/Users/${key}`);
      assert.equal(f.status, 200);
      assertUserJson(f.json, { base, identity: 'shape-short' });
      assert.deepEqual(f.json, created.json);
    }
    const u = await h().raw('POST', '/v1/Users/shape-short', { body: { FriendlyName: 'Shape', Attributes: '{ "s" : 1 }' } });
    assert.equal(u.status, 200, u.body);
    assertUserJson(u.json, { base, identity: 'shape-short' });
    assert.equal(u.json.friendly_name, 'Shape');
    assert.equal(u.json.attributes, '{ "s" : 1 }');
    const list = await h().raw('GET', '/v1/Users');
    assert.equal(list.status, 200);
    for (const x of list.json.users) assertUserJson(x, { base, identity: x.identity });
  });

  it('user JSON on the service family: url and links under /v1/Services/{IS}/Users', async () => {
    const base = `${h().url}/v1/Services/${IS}/Users`;
    const created = await h().raw('POST', `/v1/Services/${IS}/Users`, { body: { Identity: 'shape-svc', FriendlyName: 'S' } });
    assert.equal(created.status, 201, created.body);
    assertUserJson(created.json, { base, identity: 'shape-svc' });
    const f = await h().raw('GET', `/v1/Services/${IS}/Users/shape-svc`);
    assertUserJson(f.json, { base, identity: 'shape-svc' });
    const u = await h().raw('POST', `/v1/Services/${IS}/Users/${created.json.sid}`, { body: { Attributes: '[]' } });
    assertUserJson(u.json, { base, identity: 'shape-svc' });
    const list = await h().raw('GET', `/v1/Services/${IS}/Users`);
    for (const x of list.json.users) assertUserJson(x, { base, identity: x.identity });
    // the same user through the short family
    const short = await h().raw('GET', `/v1/Users/${created.json.sid}`);
    assertUserJson(short.json, { base: `${h().url}/v1/Users`, identity: 'shape-svc' });
  });

  it('non-ASCII strings come back as the same characters (UTF-8 JSON)', async () => {
    const identity = 'zoë 名前 🎉';
    const res = await h().raw('POST', '/v1/Users', { body: { Identity: identity, FriendlyName: 'Zoë', Attributes: '{"k":"ü"}' } });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.identity, identity);
    assert.equal(res.json.friendly_name, 'Zoë');
    assert.equal(res.json.attributes, '{"k":"ü"}');
    const f = await h().raw('GET', `/v1/Users/${encodeURIComponent(identity)}`);
    assert.equal(f.status, 200, f.body);
    assert.equal(f.json.identity, identity);
  });

  it('DELETE answers 204 with an empty body and no content', async () => {
    const c = await h().raw('POST', '/v1/Users', { body: { Identity: 'to-delete' } });
    const d = await h().raw('DELETE', `/v1/Users/${c.json.sid}`);
    assert.equal(d.status, 204);
    assert.equal(d.buffer.length, 0);
    assertCommonHeaders(d, 'DELETE 204');
  });

  it('keep-alive: two requests on one socket', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set();
    agent.on('free', (s) => sockets.add(s));
    try {
      const a = await h().raw('GET', '/v1/Users', { agent });
      assert.equal(a.status, 200);
      assert.notEqual((a.headers.connection ?? '').toLowerCase(), 'close');
      const b = await h().raw('POST', '/v1/Users', { agent, body: { Identity: 'keepalive' } });
      assert.equal(b.status, 201, b.body);
      const c = await h().raw('GET', '/v1/Users/keepalive', { agent });
      assert.equal(c.status, 200);
      assert.equal(a.localPort, b.localPort, 'second request reused the connection');
      assert.equal(b.localPort, c.localPort, 'third request reused the connection');
      assert.equal(sockets.size, 1);
    } finally {
      agent.destroy();
    }
  });

  it('keep-alive survives an error response', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const a = await h().raw('GET', '/v1/Users/nobody', { agent });
      assert.equal(a.status, 404);
      const b = await h().raw('POST', '/v1/Users', { agent, body: { FriendlyName: 'no identity' } });
      assert.equal(b.status, 400);
      const c = await h().raw('GET', '/v1/Users', { agent });
      assert.equal(c.status, 200);
      assert.equal(a.localPort, b.localPort);
      assert.equal(b.localPort, c.localPort);
    } finally {
      agent.destroy();
    }
  });

  it('two pipelined requests on one raw socket both get answers', async () => {
    const auth = Buffer.from(`${h().accountSid}:${h().authToken}`).toString('base64');
    const one = `GET /v1/Users/keepalive HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\n\r\n`;
    const two = `GET /v1/Configuration HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nConnection: close\r\n\r\n`;
    const net = await import('node:net');
    const data = await new Promise((resolve, reject) => {
      const s = net.connect(h().port, '127.0.0.1');
      const chunks = [];
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      s.on('error', reject);
      s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
      s.write(one + two);
    });
    // Parse the responses one after the other by Content-Length.
    const responses = [];
    let rest = Buffer.from(data, 'utf8');
    while (rest.length) {
      const sep = rest.indexOf('\r\n\r\n');
      assert.ok(sep > 0, `incomplete response: ${rest.toString('utf8').slice(0, 500)}`);
      const head = rest.subarray(0, sep).toString('latin1');
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]);
      assert.ok(Number.isFinite(len), `no Content-Length in ${head}`);
      const body = rest.subarray(sep + 4, sep + 4 + len).toString('utf8');
      responses.push({ status: Number(head.split(' ')[1]), json: JSON.parse(body) });
      rest = rest.subarray(sep + 4 + len);
    }
    assert.deepEqual(responses.map((r) => r.status), [200, 200], data.slice(0, 2000));
    assert.equal(responses[0].json.identity, 'keepalive');
    assert.equal(typeof responses[1].json.default_chat_service_sid, 'string');
  });
});
