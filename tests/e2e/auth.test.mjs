// Authentication: the three 401 messages, WWW-Authenticate, non-Basic schemes, preflight and /healthz without
// credentials, and that nothing is done for an unauthenticated request.

import assert from 'node:assert/strict';
import { assertErrorBody, basic, e2eSuite, newAccountSid, randomHex, rejectsRest, unchanged } from './harness.mjs';

const NO_CREDENTIALS = { status: 401, code: 20003, message: 'Authentication Error - No credentials provided' };
// one message for an unknown username and a wrong secret: a 401 must not tell which SIDs exist (DECISIONS.md)
const INVALID_USERNAME = { status: 401, code: 20003, message: 'Authenticate' };
const AUTHENTICATE = { status: 401, code: 20003, message: 'Authenticate' };

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Idempotency-Key',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'ETag',
};

function assert401(res, err) {
  assertErrorBody(res, err);
  assert.equal(res.headers['www-authenticate'], 'Basic realm="Twilio API"');
}

e2eSuite('auth', {}, (ctx, it) => {
  const h = () => ctx.h;
  // Auth is checked first: known, unknown and method-less paths all answer 401 alike.
  const targets = () => [
    ['GET', '/v1/Users'],
    ['POST', '/v1/Users', { Identity: 'intruder' }],
    ['GET', '/v1/Users/nobody'],
    ['DELETE', '/v1/Users/nobody'],
    ['GET', '/v1/Configuration'],
    ['GET', '/v1/Roles'],
    ['GET', '/v1/Nope'],
    ['PUT', '/v1/Users', { Identity: 'intruder' }],
  ];

  it('no Authorization header -> 401 20003 "No credentials provided" with WWW-Authenticate, nothing done', async () => {
    await unchanged(h(), async () => {
      for (const [m, p, body] of targets()) {
        const res = await h().raw(m, p, { auth: false, body });
        assert401(res, NO_CREDENTIALS);
      }
    });
  });

  it('non-Basic schemes count as no credentials', async () => {
    await unchanged(h(), async () => {
      const token = Buffer.from(`${h().accountSid}:${h().authToken}`).toString('base64');
      for (const auth of [`Bearer ${token}`, `Bearer ${h().authToken}`, `Digest username="${h().accountSid}"`, `Token ${token}`]) {
        for (const [m, p, body] of targets()) assert401(await h().raw(m, p, { auth, body }), NO_CREDENTIALS);
      }
    });
  });

  it('unknown username -> 401 20003 "Authenticate", as a wrong token', async () => {
    await unchanged(h(), async () => {
      for (const user of [newAccountSid(), 'SK' + randomHex(32), 'not-a-sid', h().accountSid.toUpperCase().replace(/^AC/, 'AD')]) {
        for (const [m, p, body] of targets()) {
          assert401(await h().raw(m, p, { auth: [user, h().authToken], body }), INVALID_USERNAME);
        }
      }
    });
  });

  it('known account SID with a wrong token -> 401 20003 "Authenticate"', async () => {
    await unchanged(h(), async () => {
      const wrong = [randomHex(32), '', h().authToken.slice(0, -1), h().authToken + 'x', h().authToken.toUpperCase()];
      for (const token of wrong) {
        if (token === h().authToken) continue;
        for (const [m, p, body] of targets()) {
          assert401(await h().raw(m, p, { auth: [h().accountSid, token], body }), AUTHENTICATE);
        }
      }
    });
  });

  it('twilio-node surfaces the 401s as RestException', async () => {
    await unchanged(h(), async () => {
      const wrongToken = h().newClient(h().accountSid, randomHex(32));
      await rejectsRest(() => wrongToken.conversations.v1.users.list(), AUTHENTICATE);
      await rejectsRest(() => wrongToken.conversations.v1.users.create({ identity: 'intruder' }), AUTHENTICATE);
      await rejectsRest(() => wrongToken.conversations.v1.configuration().fetch(), AUTHENTICATE);
      const otherAccount = h().newClient(newAccountSid(), h().authToken);
      await rejectsRest(() => otherAccount.conversations.v1.users('anyone').fetch(), INVALID_USERNAME);
      await rejectsRest(() => otherAccount.conversations.v1.users('anyone').update({ friendlyName: 'x' }), INVALID_USERNAME);
    });
  });

  it('correct credentials work (sanity check for the cases above)', async () => {
    const res = await h().raw('GET', '/v1/Users', { auth: basic(h().accountSid, h().authToken) });
    assert.equal(res.status, 200, res.body);
    const u = await h().client.conversations.v1.users.create({ identity: 'legit' });
    assert.equal(u.identity, 'legit');
    await h().client.conversations.v1.users(u.sid).remove();
  });

  it('OPTIONS preflight without credentials -> 204 with CORS headers on any path', async () => {
    for (const p of ['/v1/Users', '/v1/Users/nobody', `/v1/Services/IS${randomHex(32)}/Users`, '/v1/Configuration', '/v1/Nope']) {
      const res = await h().raw('OPTIONS', p, {
        auth: false,
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      assert.equal(res.status, 204, `OPTIONS ${p}: ${res.status} ${res.body}`);
      assert.equal(res.body, '');
      for (const [k, v] of Object.entries(CORS)) assert.equal(res.headers[k], v, `OPTIONS ${p}: ${k}`);
    }
  });

  it('GET /healthz answers 200 without credentials', async () => {
    const res = await h().raw('GET', '/healthz', { auth: false });
    assert.equal(res.status, 200, res.body);
  });

  it('401 responses carry the common headers too', async () => {
    const res = await h().raw('GET', '/v1/Users', { auth: false });
    assert.equal(res.status, 401);
    assert.match(res.headers['twilio-request-id'] ?? '', /^RQ[0-9a-f]{32}$/);
    for (const [k, v] of Object.entries(CORS)) assert.equal(res.headers[k], v, k);
  });
});
