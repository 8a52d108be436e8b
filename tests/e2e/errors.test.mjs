// Every error of docs/DECISIONS.md that the user endpoints can produce, through twilio-node (RestException
// status/code/message/moreInfo) and raw HTTP (exact body keys and order). After each rejected write the stored
// users must be byte-identical.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import {
  assertErrorBody,
  defaults,
  e2eSuite,
  form,
  randomHex,
  rejectsRest,
  unchanged,
} from './harness.mjs';

const MISSING_IDENTITY = { status: 400, code: 20001, message: 'Missing required parameter Identity in the post body' };
const SID_LIKE = { status: 400, code: 50206, message: 'Identity should not match user SID pattern' };
const IDENTITY_LONG = { status: 400, code: 50207, message: 'Identity too long' };
const NAME_LONG = { status: 400, code: 50003, message: 'Friendly name too long' };
const BAD_JSON = { status: 400, code: 50304, message: 'Attributes not valid JSON' };
const ATTRS_LONG = { status: 400, code: 50303, message: 'Attributes too long' };
const DUPLICATE = { status: 409, code: 50201, message: 'User already exists' };
const INVALID_SID = { status: 400, code: 20423, message: /^Invalid SID.*RoleSid/ };
const ROLE_NOT_FOUND = { status: 400, code: 50100, message: 'Role not found' };
const NO_PARAMS = { status: 400, code: 20161, message: 'Parameters are not specified for update request' };
const NOT_ALLOWED = { status: 405, code: 20004, message: 'Method not allowed' };
const TOO_LARGE = { status: 413, code: 20001, message: 'Request body too large' };
const MALFORMED_BODY = { status: 400, code: 20001, message: 'Malformed request body' };
const MALFORMED_QUERY = { status: 400, code: 20001, message: 'Malformed query string' };
const BAD_PAGE_SIZE = { status: 400, code: 20001, message: 'Invalid value for PageSize' };
const BAD_PAGE = { status: 400, code: 20001, message: 'Invalid value for Page' };
const BAD_TOKEN = { status: 400, code: 20001, message: 'Invalid PageToken' };
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

const INVALID_JSON = ['{a:1}', '{"a":1', '{"a":1}x', "{'a':1}", '{"a":01}', '[1,]', '{"a":1}{"b":2}', ' ', 'NaN', '"open', 'undefined', '{"a":"\t"}'];

e2eSuite('errors', {}, (ctx, it) => {
  let IS;
  let roles;
  let existing; // a user every update case targets; must never change
  const h = () => ctx.h;

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    existing = await ctx.h.client.conversations.v1.users.create({
      identity: 'existing@example.com',
      friendlyName: 'Existing',
      attributes: '{ "keep" : "me" }',
    });
  });

  const fams = [
    { name: '/v1/Users', users: () => h().client.conversations.v1.users, path: () => '/v1/Users', msg: () => '/Users' },
    {
      name: '/v1/Services/{IS}/Users',
      users: () => h().client.conversations.v1.services(IS).users,
      path: () => `/v1/Services/${IS}/Users`,
      msg: () => `/Services/${IS}/Users`,
    },
  ];

  // ---- create ----------------------------------------------------------------------------------------------

  const long = (n, ch = 'a') => ch.repeat(n);
  const attrsOfBytes = (n) => `{"a":"${'x'.repeat(n - 8)}"}`; // exactly n bytes of ASCII JSON
  const createCases = [
    { name: 'empty Identity', sdk: { identity: '' }, raw: { Identity: '' }, err: MISSING_IDENTITY },
    { name: 'identity like a user SID', sdk: { identity: 'US' + randomHex(32) }, err: SID_LIKE },
    { name: 'identity like a user SID with upper-case hex', sdk: { identity: 'US' + randomHex(32).toUpperCase() }, err: SID_LIKE },
    { name: 'identity of 257 characters', sdk: { identity: long(257) }, err: IDENTITY_LONG },
    { name: 'identity of 257 non-ASCII characters', sdk: { identity: long(257, 'é') }, err: IDENTITY_LONG },
    { name: 'FriendlyName of 257 characters', sdk: { identity: 'fn-long', friendlyName: long(257) }, err: NAME_LONG },
    { name: 'empty Attributes', sdk: { identity: 'attrs-empty', attributes: '' }, err: BAD_JSON },
    { name: 'Attributes of 16385 bytes', sdk: { identity: 'attrs-long', attributes: attrsOfBytes(16385) }, err: ATTRS_LONG },
    {
      name: 'Attributes of 8202 characters but 16402 bytes',
      sdk: { identity: 'attrs-long-utf8', attributes: `"${'é'.repeat(8200)}"` },
      err: ATTRS_LONG,
    },
    { name: 'duplicate identity', sdk: { identity: 'existing@example.com' }, err: DUPLICATE },
    { name: 'RoleSid "foo"', sdk: { identity: 'role-foo', roleSid: 'foo' }, err: INVALID_SID },
    { name: 'RoleSid with a US prefix', sdk: { identity: 'role-us', roleSid: 'US' + randomHex(32) }, err: INVALID_SID },
    { name: 'RoleSid one hex digit short', sdk: { identity: 'role-short', roleSid: 'RL' + randomHex(31) }, err: INVALID_SID },
    { name: 'RoleSid well-formed but unknown', sdk: { identity: 'role-unknown', roleSid: 'RL' + randomHex(32) }, err: ROLE_NOT_FOUND },
    { name: "RoleSid of the conversation role 'channel user'", sdk: () => ({ identity: 'role-cu', roleSid: roles['channel user'].sid }), err: ROLE_NOT_FOUND },
    { name: "RoleSid of the conversation role 'channel admin'", sdk: () => ({ identity: 'role-ca', roleSid: roles['channel admin'].sid }), err: ROLE_NOT_FOUND },
    // Validation order: required -> formats -> referenced resources -> uniqueness.
    { name: 'order: missing Identity beats invalid Attributes', raw: { FriendlyName: 'x', Attributes: '{bad' }, err: MISSING_IDENTITY },
    { name: 'order: invalid Attributes beats unknown RoleSid', sdk: { identity: 'order-1', attributes: '{bad', roleSid: 'RL' + randomHex(32) }, err: BAD_JSON },
    { name: 'order: malformed RoleSid beats duplicate identity', sdk: { identity: 'existing@example.com', roleSid: 'nope' }, err: INVALID_SID },
    { name: 'order: unknown RoleSid beats duplicate identity', sdk: { identity: 'existing@example.com', roleSid: 'RL' + randomHex(32) }, err: ROLE_NOT_FOUND },
    ...INVALID_JSON.map((a, i) => ({ name: `Attributes ${JSON.stringify(a)}`, sdk: { identity: `bad-json-${i}`, attributes: a }, err: BAD_JSON })),
  ];

  const toRaw = (p) => {
    const out = {};
    if (p.identity !== undefined) out.Identity = p.identity;
    if (p.friendlyName !== undefined) out.FriendlyName = p.friendlyName;
    if (p.attributes !== undefined) out.Attributes = p.attributes;
    if (p.roleSid !== undefined) out.RoleSid = p.roleSid;
    return out;
  };

  for (const fam of fams) {
    it(`${fam.name} create: missing Identity (raw; also with no body at all)`, async () => {
      await unchanged(h(), async () => {
        assertErrorBody(await h().raw('POST', fam.path(), { body: { FriendlyName: 'no identity' } }), MISSING_IDENTITY);
        assertErrorBody(await h().raw('POST', fam.path(), { body: '' }), MISSING_IDENTITY);
        assertErrorBody(await h().raw('POST', fam.path()), MISSING_IDENTITY);
      });
    });

    for (const c of createCases) {
      it(`${fam.name} create: ${c.name}`, async () => {
        const params = typeof c.sdk === 'function' ? c.sdk() : c.sdk;
        await unchanged(h(), async () => {
          if (params) await rejectsRest(() => fam.users().create(params), c.err);
          assertErrorBody(await h().raw('POST', fam.path(), { body: c.raw ?? toRaw(params) }), c.err);
        });
      });
    }
  }

  it('boundaries are accepted: identity of 256 characters (ASCII and non-ASCII), FriendlyName of 256, Attributes of 16384 bytes', async () => {
    const users = fams[0].users;
    const a = await users().create({ identity: long(256, 'b') });
    assert.equal(a.identity, long(256, 'b'));
    const b = await users().create({ identity: long(256, 'ü') });
    assert.equal(b.identity, long(256, 'ü'));
    const c = await users().create({ identity: 'fn-256', friendlyName: long(256, 'ñ') });
    assert.equal(c.friendlyName, long(256, 'ñ'));
    const d = await users().create({ identity: 'attrs-16384', attributes: attrsOfBytes(16384) });
    assert.equal(d.attributes, attrsOfBytes(16384));
    const e = await users().create({ identity: 'US' + randomHex(31) }); // 33 characters: not a SID
    assert.equal(e.identity.length, 33);
    for (const u of [a, b, c, d, e]) await users()(u.sid).remove();
  });

  it('unknown form parameters are ignored', async () => {
    const res = await h().raw('POST', '/v1/Users', { body: { Identity: 'with-extra', Foo: 'bar', 'X.Y': 'z' } });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.friendly_name, null);
    assert.equal((await h().raw('DELETE', `/v1/Users/${res.json.sid}`)).status, 204);
  });

  // ---- update ----------------------------------------------------------------------------------------------

  const updateCases = [
    { name: 'no parameters', sdk: {}, raw: '', err: NO_PARAMS },
    { name: 'only unknown parameters', raw: 'Foo=bar&Identity=renamed', err: NO_PARAMS },
    { name: 'FriendlyName of 257 characters', sdk: { friendlyName: long(257) }, err: NAME_LONG },
    { name: 'empty Attributes', sdk: { attributes: '' }, err: BAD_JSON },
    { name: 'Attributes of 16385 bytes', sdk: { attributes: attrsOfBytes(16385) }, err: ATTRS_LONG },
    { name: 'RoleSid "foo"', sdk: { roleSid: 'foo' }, err: INVALID_SID },
    { name: 'RoleSid well-formed but unknown', sdk: { roleSid: 'RL' + randomHex(32) }, err: ROLE_NOT_FOUND },
    { name: "RoleSid of 'channel user'", sdk: () => ({ roleSid: roles['channel user'].sid }), err: ROLE_NOT_FOUND },
    { name: 'valid FriendlyName with invalid Attributes changes nothing', sdk: { friendlyName: 'half', attributes: '{nope' }, err: BAD_JSON },
    { name: 'valid Attributes with unknown RoleSid changes nothing', sdk: { attributes: '{"half":1}', roleSid: 'RL' + randomHex(32) }, err: ROLE_NOT_FOUND },
    ...INVALID_JSON.map((a) => ({ name: `Attributes ${JSON.stringify(a)}`, sdk: { attributes: a }, err: BAD_JSON })),
  ];

  for (const fam of fams) {
    for (const c of updateCases) {
      it(`${fam.name} update by SID and by identity: ${c.name}`, async () => {
        const params = typeof c.sdk === 'function' ? c.sdk() : c.sdk;
        await unchanged(h(), async () => {
          for (const key of [existing.sid, existing.identity]) {
            if (params) await rejectsRest(() => fam.users()(key).update(params), c.err);
            const body = c.raw ?? toRaw(params);
            assertErrorBody(await h().raw('POST', `${fam.path()}/${encodeURIComponent(key)}`, { body }), c.err);
          }
        });
      });
    }
  }

  // ---- unknown resources -----------------------------------------------------------------------------------

  for (const fam of fams) {
    it(`${fam.name}: unknown user on fetch, update, delete, user conversations -> 404 20404 naming the path`, async () => {
      const unknownSid = 'US' + randomHex(32);
      await unchanged(h(), async () => {
        for (const key of ['nobody', unknownSid]) {
          const err = notFound(`${fam.msg()}/${key}`);
          await rejectsRest(() => fam.users()(key).fetch(), err);
          await rejectsRest(() => fam.users()(key).update({ friendlyName: 'x' }), err);
          await rejectsRest(() => fam.users()(key).remove(), err);
          assertErrorBody(await h().raw('GET', `${fam.path()}/${key}`), err);
          assertErrorBody(await h().raw('POST', `${fam.path()}/${key}`, { body: { FriendlyName: 'x' } }), err);
          assertErrorBody(await h().raw('DELETE', `${fam.path()}/${key}`), err);
          assertErrorBody(await h().raw('GET', `${fam.path()}/${key}/Conversations`), notFound(`${fam.msg()}/${key}/Conversations`));
        }
      });
    });

    it(`${fam.name}: order: an unknown user in the path beats every parameter error on update (404 first)`, async () => {
      await unchanged(h(), async () => {
        const bodies = [
          ['empty body', ''],
          ['only unknown parameters', 'Foo=bar'],
          ['invalid Attributes', form({ Attributes: '{bad' })],
          ['empty Attributes', 'Attributes='],
          ['FriendlyName too long', form({ FriendlyName: long(257) })],
          ['malformed RoleSid', 'RoleSid=foo'],
          ['unknown RoleSid', form({ RoleSid: 'RL' + randomHex(32) })],
        ];
        for (const key of ['nobody', 'US' + randomHex(32)]) {
          for (const [what, body] of bodies) {
            const res = await h().raw('POST', `${fam.path()}/${key}`, { body });
            assert.equal(res.status, 404, `${what} on ${key}: got ${res.status} ${res.body}`);
            assertErrorBody(res, notFound(`${fam.msg()}/${key}`));
          }
        }
      });
    });
  }

  it('unknown service SID in the path -> 404 20404 (list, create, fetch)', async () => {
    const other = 'IS' + randomHex(32);
    await unchanged(h(), async () => {
      const svc = h().client.conversations.v1.services(other).users;
      await rejectsRest(() => svc.list(), notFound(`/Services/${other}/Users`));
      await rejectsRest(() => svc.create({ identity: 'lost' }), notFound(`/Services/${other}/Users`));
      await rejectsRest(() => svc(existing.sid).fetch(), notFound(`/Services/${other}/Users/${existing.sid}`));
      assertErrorBody(await h().raw('GET', `/v1/Services/${other}/Users`), notFound(`/Services/${other}/Users`));
      assertErrorBody(await h().raw('POST', `/v1/Services/${other}/Users`, { body: { Identity: 'lost' } }), notFound(`/Services/${other}/Users`));
      assertErrorBody(await h().raw('POST', `/v1/Services/${other}/Users`, { body: {} }), notFound(`/Services/${other}/Users`));
      assertErrorBody(await h().raw('GET', `/v1/Services/${other}/Users/${existing.identity}`), notFound(`/Services/${other}/Users/${existing.identity}`));
      assertErrorBody(await h().raw('GET', `/v1/Services/${other}/Roles`), notFound(`/Services/${other}/Roles`));
    });
  });

  it('malformed service SID in the path -> 404 20404', async () => {
    await unchanged(h(), async () => {
      for (const bad of ['foo', 'IS123', IS.toUpperCase().replace(/^IS/, 'is'), `${IS}0`]) {
        await rejectsRest(() => h().client.conversations.v1.services(bad).users.list(), notFound(`/Services/${bad}/Users`));
        assertErrorBody(await h().raw('GET', `/v1/Services/${bad}/Users`), notFound(`/Services/${bad}/Users`));
        assertErrorBody(await h().raw('POST', `/v1/Services/${bad}/Users`, { body: { Identity: 'lost' } }), notFound(`/Services/${bad}/Users`));
      }
    });
  });

  it('unknown paths -> 404 20404', async () => {
    for (const p of ['/v1/Nope', '/v1/Userz', `/v1/Users/${existing.sid}/Nope`, `/v1/Services/${IS}/Nope`]) {
      assertErrorBody(await h().raw('GET', p), notFound(p.slice(3)));
    }
    for (const p of ['/', '/v2/Users', '/nope', '/v1']) {
      assertErrorBody(await h().raw('GET', p), { status: 404, code: 20404 });
    }
  });

  it('bad % escape in the path -> 404 20404', async () => {
    for (const p of ['/v1/Users/%zz', '/v1/Users/%', '/v1/Users/ab%4']) {
      assertErrorBody(await h().raw('GET', p), { status: 404, code: 20404, message: /^The requested resource .* was not found$/ });
    }
  });

  // ---- methods ---------------------------------------------------------------------------------------------

  it('unsupported methods on known paths -> 405 20004', async () => {
    await unchanged(h(), async () => {
      const cases = [
        ['PUT', '/v1/Users'],
        ['DELETE', '/v1/Users'],
        ['PATCH', '/v1/Users'],
        ['PUT', `/v1/Users/${existing.sid}`],
        ['PATCH', `/v1/Users/${existing.sid}`],
        ['PUT', '/v1/Users/nobody'],
        ['DELETE', `/v1/Services/${IS}/Users`],
        ['PUT', `/v1/Services/${IS}/Users/${existing.sid}`],
        ['DELETE', '/v1/Configuration'],
        ['DELETE', '/v1/Roles'],
      ];
      for (const [m, p] of cases) {
        const res = await h().raw(m, p, m === 'DELETE' ? {} : { body: { FriendlyName: 'put' } });
        assertErrorBody(res, NOT_ALLOWED);
      }
    });
  });

  // ---- body size and form decoding -------------------------------------------------------------------------

  it('request body over 64 KiB -> 413 20001; exactly 64 KiB is accepted', async () => {
    const head = 'Identity=big-body&Pad=';
    await unchanged(h(), async () => {
      const over = head + 'p'.repeat(65537 - head.length);
      assert.equal(over.length, 65537);
      assertErrorBody(await h().raw('POST', '/v1/Users', { body: over }), TOO_LARGE);
      const huge = head + 'p'.repeat(300_000);
      assertErrorBody(await h().raw('POST', '/v1/Users', { body: huge }), TOO_LARGE);
      assertErrorBody(await h().raw('POST', `/v1/Users/${existing.sid}`, { body: 'FriendlyName=x&Pad=' + 'p'.repeat(70_000) }), TOO_LARGE);
    });
    const exact = head + 'p'.repeat(65536 - head.length);
    assert.equal(exact.length, 65536);
    const res = await h().raw('POST', '/v1/Users', { body: exact });
    assert.equal(res.status, 201, res.body);
    assert.equal((await h().raw('DELETE', '/v1/Users/big-body')).status, 204);
  });

  const malformedBodies = [
    ['bad % escape', 'Identity=a%zzb'],
    ['% at the end', 'Identity=abc%'],
    ['truncated % escape', 'Identity=abc%4'],
    ['bad % escape in a name', 'Iden%zztity=abc'],
    ['%00 in a value', 'Identity=a%00b'],
    ['%00 in Attributes', 'Identity=nul-attrs&Attributes=%7B%7D%00'],
    ['invalid UTF-8 %FF', 'Identity=%FF'],
    ['invalid UTF-8 %C3%28', 'Identity=a%C3%28'],
    ['overlong UTF-8 %C0%AF', 'Identity=%C0%AF'],
    ['UTF-16 surrogate %ED%A0%80', 'Identity=%ED%A0%80'],
    ['truncated UTF-8 %E5%90', 'Identity=x%E5%90'],
    ['invalid UTF-8 in FriendlyName', 'Identity=bad-name&FriendlyName=%FE'],
    ['129 pairs', 'Identity=many&' + Array.from({ length: 128 }, (_, i) => `P${i}=v`).join('&')],
  ];
  for (const [name, body] of malformedBodies) {
    it(`malformed form body on create: ${name} -> 400 20001`, async () => {
      await unchanged(h(), async () => {
        assertErrorBody(await h().raw('POST', '/v1/Users', { body }), MALFORMED_BODY);
        assertErrorBody(await h().raw('POST', `/v1/Services/${IS}/Users`, { body }), MALFORMED_BODY);
      });
    });
  }

  it('malformed form body on update -> 400 20001 and nothing changes', async () => {
    await unchanged(h(), async () => {
      for (const body of ['FriendlyName=%zz', 'FriendlyName=a%00', 'FriendlyName=%C3%28', 'Attributes=%FF', 'FriendlyName=ok&Attributes=%7B%7D%00']) {
        assertErrorBody(await h().raw('POST', `/v1/Users/${existing.sid}`, { body }), MALFORMED_BODY);
      }
    });
  });

  it('raw (not percent-encoded) invalid UTF-8 bytes in Identity -> 400 20001', async () => {
    await unchanged(h(), async () => {
      for (const bytes of [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
        const body = Buffer.concat([Buffer.from('Identity=raw'), Buffer.from(bytes)]);
        assertErrorBody(await h().raw('POST', '/v1/Users', { body }), MALFORMED_BODY);
      }
    });
  });

  it('128 pairs are accepted', async () => {
    const body = 'Identity=pairs-128&' + Array.from({ length: 127 }, (_, i) => `P${i}=v`).join('&');
    const res = await h().raw('POST', '/v1/Users', { body });
    assert.equal(res.status, 201, res.body);
    assert.equal((await h().raw('DELETE', `/v1/Users/${res.json.sid}`)).status, 204);
  });

  it('malformed query string -> 400 20001 "Malformed query string"', async () => {
    for (const q of ['PageSize=%zz', 'PageSize=5%', 'Foo=%00', 'Foo=%FF']) {
      assertErrorBody(await h().raw('GET', `/v1/Users?${q}`), MALFORMED_QUERY);
    }
  });

  for (const [first, second] of [
    [17, 17],
    [17, 5],
    [5, 17],
  ]) {
    it(`two Content-Length headers (${first}, ${second}) -> 400 20001 and nothing is created`, async () => {
      await unchanged(h(), async () => {
        const body = 'Identity=smuggled' + 'X'.repeat(Math.max(first, second) - 17);
        const req =
          `POST /v1/Users HTTP/1.1\r\nHost: 127.0.0.1:${h().port}\r\n` +
          `Authorization: Basic ${Buffer.from(`${h().accountSid}:${h().authToken}`).toString('base64')}\r\n` +
          'Content-Type: application/x-www-form-urlencoded\r\n' +
          `Content-Length: ${first}\r\nContent-Length: ${second}\r\nConnection: close\r\n\r\n${body}`;
        const res = await h().rawSocket(req);
        assert.equal(res.status, 400, `${res.status} ${res.body}`);
        assert.equal(res.json?.code, 20001, res.body);
        assert.equal(res.json?.status, 400, res.body);
      });
    });
  }

  // ---- paging parameters -----------------------------------------------------------------------------------

  for (const fam of fams) {
    it(`${fam.name}: PageSize 0, -1, abc, 1.5 -> 400 20001 "Invalid value for PageSize"`, async () => {
      for (const v of [0, -1]) await rejectsRest(() => fam.users().page({ pageSize: v }), BAD_PAGE_SIZE);
      for (const v of ['0', '-1', 'abc', '1.5', '10x', '', '%205']) {
        assertErrorBody(await h().raw('GET', `${fam.path()}?PageSize=${v}`), BAD_PAGE_SIZE);
      }
    });

    it(`${fam.name}: Page -1 or abc -> 400 20001 "Invalid value for Page"`, async () => {
      await rejectsRest(() => fam.users().page({ pageNumber: -1 }), BAD_PAGE);
      for (const v of ['-1', 'abc']) assertErrorBody(await h().raw('GET', `${fam.path()}?Page=${v}`), BAD_PAGE);
    });

    it(`${fam.name}: forged PageToken -> 400 20001 "Invalid PageToken"`, async () => {
      const forged = ['bogus', 'PT', 'PT!!!!', 'PTbm90IGpzb24', 'PAUS' + randomHex(32), 'PT' + Buffer.from('{"x":1}').toString('base64url')];
      for (const t of forged) {
        await rejectsRest(() => fam.users().page({ pageToken: t }), BAD_TOKEN);
        assertErrorBody(await h().raw('GET', `${fam.path()}?PageSize=5&Page=1&PageToken=${encodeURIComponent(t)}`), BAD_TOKEN);
      }
    });
  }

  it('the existing user is untouched after all of the above', async () => {
    const f = await h().client.conversations.v1.users(existing.sid).fetch();
    assert.equal(f.friendlyName, 'Existing');
    assert.equal(f.attributes, '{ "keep" : "me" }');
    assert.equal(f.roleSid, roles['service user'].sid);
    assert.equal(f.dateUpdated.getTime(), existing.dateUpdated.getTime());
  });
});
