// Users through twilio-node on both path families: create, fetch, list, update (the centre), delete,
// special identities, verbatim attributes, roles, timestamps, persistence, concurrency, crash safety.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { e2eSuite, defaults, listAllRaw, rejectsRest, sleep, SID_RE } from './harness.mjs';

e2eSuite('users', {}, (ctx, it) => {
  let IS;
  let roles;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}`;

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    assert.match(IS ?? '', SID_RE('IS'), 'default_chat_service_sid from /v1/Configuration');
    assert.ok(roles['service user'] && roles['service admin'] && roles['channel user'], 'default roles present');
  });

  const families = [
    {
      name: 'short family /v1/Users',
      users: () => ctx.h.client.conversations.v1.users,
      base: () => `${ctx.h.url}/v1/Users`,
    },
    {
      name: 'service family /v1/Services/{IS}/Users',
      users: () => ctx.h.client.conversations.v1.services(IS).users,
      base: () => `${ctx.h.url}/v1/Services/${IS}/Users`,
    },
  ];

  /** Check every field of a twilio-node UserInstance. */
  function checkUser(u, fam, exp) {
    assert.match(u.sid, SID_RE('US'));
    assert.equal(u.accountSid, ctx.h.accountSid);
    assert.equal(u.chatServiceSid, IS);
    assert.equal(u.roleSid, exp.roleSid ?? roles['service user'].sid);
    assert.equal(u.identity, exp.identity);
    assert.equal(u.friendlyName, exp.friendlyName === undefined ? null : exp.friendlyName);
    assert.equal(u.attributes, exp.attributes ?? '{}');
    assert.equal(u.isOnline, null);
    assert.equal(u.isNotifiable, null);
    assert.ok(u.dateCreated instanceof Date && !Number.isNaN(u.dateCreated.getTime()), `date_created ${u.dateCreated}`);
    assert.ok(u.dateUpdated instanceof Date && !Number.isNaN(u.dateUpdated.getTime()), `date_updated ${u.dateUpdated}`);
    assert.equal(u.url, `${fam.base()}/${u.sid}`);
    assert.deepEqual(u.links, { user_conversations: `${fam.base()}/${u.sid}/Conversations` });
  }

  const plain = (u) => ({
    sid: u.sid,
    accountSid: u.accountSid,
    chatServiceSid: u.chatServiceSid,
    roleSid: u.roleSid,
    identity: u.identity,
    friendlyName: u.friendlyName,
    attributes: u.attributes,
    isOnline: u.isOnline,
    isNotifiable: u.isNotifiable,
    dateCreated: u.dateCreated?.toISOString?.() ?? u.dateCreated,
    dateUpdated: u.dateUpdated?.toISOString?.() ?? u.dateUpdated,
    url: u.url,
    links: u.links,
  });

  const lastRequest = () => ctx.h.requests[ctx.h.requests.length - 1];

  for (const fam of families) {
    it(`${fam.name}: create with Identity only gives defaults`, async () => {
      const identity = uid('minimal');
      const u = await fam.users().create({ identity });
      checkUser(u, fam, { identity });
      assert.equal(u.dateUpdated.getTime(), u.dateCreated.getTime(), 'date_updated equals date_created right after create');
    });

    it(`${fam.name}: create with FriendlyName, Attributes and RoleSid`, async () => {
      const identity = uid('full');
      const attributes = '{ "duty": "tech", "team": "internals" }';
      const u = await fam.users().create({
        identity,
        friendlyName: 'Full Name',
        attributes,
        roleSid: roles['service admin'].sid,
      });
      checkUser(u, fam, { identity, friendlyName: 'Full Name', attributes, roleSid: roles['service admin'].sid });
    });

    it(`${fam.name}: empty FriendlyName is stored as ""`, async () => {
      const identity = uid('emptyname');
      const u = await fam.users().create({ identity, friendlyName: '' });
      checkUser(u, fam, { identity, friendlyName: '' });
      const f = await fam.users()(u.sid).fetch();
      assert.equal(f.friendlyName, '');
    });

    it(`${fam.name}: fetch by SID and by identity return the same record, url uses the SID`, async () => {
      const identity = uid('fetchme');
      const c = await fam.users().create({ identity, friendlyName: 'F', attributes: '{"x":1}' });
      const bySid = await fam.users()(c.sid).fetch();
      const byIdentity = await fam.users()(identity).fetch();
      assert.deepEqual(plain(bySid), plain(c));
      assert.deepEqual(plain(byIdentity), plain(c));
      checkUser(byIdentity, fam, { identity, friendlyName: 'F', attributes: '{"x":1}' });
    });

    it(`${fam.name}: list contains created users, in creation order, with is_online/is_notifiable null`, async () => {
      const ids = [uid('listed'), uid('listed'), uid('listed')];
      const created = [];
      for (const identity of ids) created.push(await fam.users().create({ identity }));
      const all = await fam.users().list();
      const mine = all.filter((u) => ids.includes(u.identity));
      assert.deepEqual(mine.map((u) => u.sid), created.map((u) => u.sid));
      for (const u of all) {
        assert.equal(u.isOnline, null);
        assert.equal(u.isNotifiable, null);
        assert.equal(u.url, `${fam.base()}/${u.sid}`);
      }
      const order = all.map((u) => u.dateCreated.getTime());
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'ascending date_created');
    });

    for (const addressing of ['SID', 'identity']) {
      it(`${fam.name}: update by ${addressing} changes FriendlyName, Attributes, RoleSid; date_updated moves`, async () => {
        const identity = uid(`upd-${addressing}`);
        const c = await fam.users().create({ identity, friendlyName: 'before', attributes: '{"v":0}' });
        await sleep(1100);
        const key = addressing === 'SID' ? c.sid : identity;
        const attributes = '{ "v" : 1,\n  "tags": ["a", "b"] }';
        const u = await fam.users()(key).update({
          friendlyName: 'after',
          attributes,
          roleSid: roles['service admin'].sid,
        });
        checkUser(u, fam, { identity, friendlyName: 'after', attributes, roleSid: roles['service admin'].sid });
        assert.equal(u.sid, c.sid);
        assert.equal(u.dateCreated.getTime(), c.dateCreated.getTime(), 'date_created unchanged');
        assert.ok(u.dateUpdated.getTime() > c.dateUpdated.getTime(), `date_updated moved: ${c.dateUpdated.toISOString()} -> ${u.dateUpdated.toISOString()}`);
        const f = await fam.users()(c.sid).fetch();
        assert.deepEqual(plain(f), plain(u));
      });
    }

    it(`${fam.name}: update of one field leaves the others unchanged`, async () => {
      const identity = uid('partial');
      const c = await fam.users().create({ identity, friendlyName: 'keep', attributes: '{"keep":true}', roleSid: roles['service admin'].sid });
      let u = await fam.users()(c.sid).update({ friendlyName: 'changed' });
      checkUser(u, fam, { identity, friendlyName: 'changed', attributes: '{"keep":true}', roleSid: roles['service admin'].sid });
      u = await fam.users()(identity).update({ attributes: '[1,2]' });
      checkUser(u, fam, { identity, friendlyName: 'changed', attributes: '[1,2]', roleSid: roles['service admin'].sid });
      u = await fam.users()(c.sid).update({ roleSid: roles['service user'].sid });
      checkUser(u, fam, { identity, friendlyName: 'changed', attributes: '[1,2]', roleSid: roles['service user'].sid });
      u = await fam.users()(c.sid).update({ friendlyName: '' });
      checkUser(u, fam, { identity, friendlyName: '', attributes: '[1,2]', roleSid: roles['service user'].sid });
    });

    for (const flag of ['true', 'false']) {
      it(`${fam.name}: X-Twilio-Webhook-Enabled: ${flag} on create, update and delete`, async () => {
        const identity = uid(`hook-${flag}`);
        const c = await fam.users().create({ identity, xTwilioWebhookEnabled: flag });
        assert.equal(lastRequest().headers['X-Twilio-Webhook-Enabled'], flag, 'the SDK sent the header');
        checkUser(c, fam, { identity });
        const u = await fam.users()(identity).update({ friendlyName: `hook ${flag}`, attributes: '{"hook":1}', xTwilioWebhookEnabled: flag });
        assert.equal(lastRequest().headers['X-Twilio-Webhook-Enabled'], flag);
        checkUser(u, fam, { identity, friendlyName: `hook ${flag}`, attributes: '{"hook":1}' });
        assert.equal(await fam.users()(c.sid).remove({ xTwilioWebhookEnabled: flag }), true);
        await rejectsRest(fam.users()(c.sid).fetch(), { status: 404, code: 20404 });
      });
    }

    it(`${fam.name}: delete by SID, then fetch is 404 and the identity is reusable`, async () => {
      const identity = uid('del-sid');
      const c = await fam.users().create({ identity, friendlyName: 'gone' });
      assert.equal(await fam.users()(c.sid).remove(), true);
      await rejectsRest(fam.users()(c.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.users()(identity).fetch(), { status: 404, code: 20404 });
      assert.ok(!(await fam.users().list()).some((u) => u.sid === c.sid), 'deleted user not listed');
      const again = await fam.users().create({ identity });
      assert.notEqual(again.sid, c.sid, 'a new SID for the re-created identity');
      checkUser(again, fam, { identity });
    });

    it(`${fam.name}: delete by identity`, async () => {
      const identity = uid('del-identity');
      const c = await fam.users().create({ identity });
      assert.equal(await fam.users()(identity).remove(), true);
      await rejectsRest(fam.users()(c.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.users()(identity).remove(), { status: 404, code: 20404 });
    });
  }

  it('X-Twilio-Webhook-Enabled values other than true are accepted and mean false', async () => {
    for (const value of ['yes', 'TRUE', '1', '']) {
      const identity = uid('hookval');
      const c = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: identity }, headers: { 'x-twilio-webhook-enabled': value } });
      assert.equal(c.status, 201, `create with ${JSON.stringify(value)}: ${c.body}`);
      const u = await ctx.h.raw('POST', `/v1/Users/${identity}`, { body: { FriendlyName: value || 'empty' }, headers: { 'x-twilio-webhook-enabled': value } });
      assert.equal(u.status, 200, `update with ${JSON.stringify(value)}: ${u.body}`);
      assert.equal(u.json.friendly_name, value || 'empty');
      const d = await ctx.h.raw('DELETE', `/v1/Users/${identity}`, { headers: { 'x-twilio-webhook-enabled': value } });
      assert.equal(d.status, 204, `delete with ${JSON.stringify(value)}: ${d.body}`);
    }
  });

  it('form decoding: the SDK round-trips "+", "&", "=", "%" and non-ASCII; a raw "+" in the body is a space', async () => {
    const users = families[0].users;
    const identity = uid('formchars');
    const friendlyName = 'a+b & c=d %20 ü/?#';
    const c = await users().create({ identity, friendlyName, attributes: '{"q":"x=1&y=2+3"}' });
    assert.equal(c.friendlyName, friendlyName);
    assert.equal(c.attributes, '{"q":"x=1&y=2+3"}');
    const u = await users()(identity).update({ friendlyName: `${friendlyName}!` });
    assert.equal(u.friendlyName, `${friendlyName}!`);
    const raw = await ctx.h.raw('POST', `/v1/Users/${c.sid}`, { body: 'FriendlyName=plus+means+space&Attributes=%7B%22a%22%3A+1%7D' });
    assert.equal(raw.status, 200, raw.body);
    assert.equal(raw.json.friendly_name, 'plus means space');
    assert.equal(raw.json.attributes, '{"a": 1}');
  });

  it('both families address the same default-service users; url/links follow the family of the request', async () => {
    const [short, svc] = families;
    const identity = uid('cross');
    const c = await short.users().create({ identity });
    const viaSvc = await svc.users()(identity).fetch();
    checkUser(viaSvc, svc, { identity });
    assert.equal(viaSvc.sid, c.sid);
    const upd = await svc.users()(c.sid).update({ friendlyName: 'via service' });
    checkUser(upd, svc, { identity, friendlyName: 'via service' });
    const viaShort = await short.users()(identity).fetch();
    checkUser(viaShort, short, { identity, friendlyName: 'via service' });
    assert.ok((await svc.users().list()).some((u) => u.sid === c.sid && u.url === `${svc.base()}/${c.sid}`));
    await rejectsRest(svc.users().create({ identity }), { status: 409, code: 50201 });
  });

  const specialIdentities = [
    'zoë+1@example.com',
    '名前 テスト',
    'a b  c',
    'x+y',
    'Ωmega_ünïcödé-ß',
    'emoji 🎉 user',
    "o'brien;(x)=$1,2*!",
    'US' + '0123456789abcdef0123456789abcde', // 33 characters: not a user SID
  ];
  for (const fam of families) {
    for (const identity of specialIdentities) {
      it(`${fam.name}: identity ${JSON.stringify(identity)}: create, fetch, update, delete by identity`, async () => {
        const c = await fam.users().create({ identity, friendlyName: identity });
        checkUser(c, fam, { identity, friendlyName: identity });
        const f = await fam.users()(identity).fetch();
        assert.equal(f.sid, c.sid);
        assert.equal(f.identity, identity);
        const u = await fam.users()(identity).update({ friendlyName: 'renamed', attributes: `{"id":${JSON.stringify(identity)}}` });
        checkUser(u, fam, { identity, friendlyName: 'renamed', attributes: `{"id":${JSON.stringify(identity)}}` });
        assert.equal(await fam.users()(identity).remove(), true);
        await rejectsRest(fam.users()(c.sid).fetch(), { status: 404, code: 20404 });
      });
    }
  }

  it('identity addressed percent-encoded: %2B decodes to "+", a literal "+" stays "+"', async () => {
    const users = families[0].users;
    const plus = await users().create({ identity: 'p+q@example.com' });
    const space = await users().create({ identity: 'p q' });
    const pct = await users().create({ identity: '50% off' });
    assert.equal((await users()(encodeURIComponent('p+q@example.com')).fetch()).sid, plus.sid);
    assert.equal((await users()('p+q@example.com').fetch()).sid, plus.sid);
    assert.equal((await users()(encodeURIComponent('p q')).fetch()).sid, space.sid);
    assert.equal((await users()(encodeURIComponent('50% off')).fetch()).sid, pct.sid);
    // "+" in a path is a literal plus, never a space.
    await rejectsRest(users()('p+q').fetch(), { status: 404, code: 20404 });
  });

  it('identities are case-sensitive', async () => {
    const users = families[0].users;
    const base = uid('Casey');
    const upper = await users().create({ identity: base });
    const lower = await users().create({ identity: base.toLowerCase() });
    assert.notEqual(upper.sid, lower.sid);
    assert.equal((await users()(base).fetch()).sid, upper.sid);
    assert.equal((await users()(base.toLowerCase()).fetch()).sid, lower.sid);
    await rejectsRest(users()(base.toUpperCase()).fetch(), {
      status: 404,
      code: 20404,
      message: `The requested resource /Users/${base.toUpperCase()} was not found`,
    });
  });

  const verbatimAttributes = [
    '{ "a" : 1 }',
    '{\n\t"k":   "v" ,\r\n "n" : [ 1 , 2 ]\n}',
    '  {"padded": true}  ',
    '{"name":"zoë 名前 🎉"}',
    '{"esc":"\\u00e9\\/\\n\\"q\\""}',
    '{"n":1.50e+3,"z":-0,"e":1E-7}',
    '{"big":12345678901234567890123}',
    '{"a":{"b":{"c":[null,true,false]}}}',
    '{"dup":1,"dup":2}',
    '{"nul":"a\\u0000b"}',
    '[1,2]',
    '"just a string"',
    '5',
    'null',
    'true',
    '{}',
  ];
  for (const attributes of verbatimAttributes) {
    it(`attributes ${JSON.stringify(attributes)} are stored and returned byte for byte on both families`, async () => {
      for (const fam of families) {
        const identity = uid('attrs');
        const c = await fam.users().create({ identity, attributes });
        assert.equal(c.attributes, attributes, `${fam.name}: create echo`);
        assert.equal((await fam.users()(c.sid).fetch()).attributes, attributes, `${fam.name}: fetch`);
        const other = attributes === '{}' ? '{ }' : '{}';
        assert.equal((await fam.users()(identity).update({ attributes: other })).attributes, other);
        const u = await fam.users()(identity).update({ attributes });
        assert.equal(u.attributes, attributes, `${fam.name}: update echo`);
        const listed = (await fam.users().list()).find((x) => x.sid === c.sid);
        assert.equal(listed.attributes, attributes, `${fam.name}: list`);
      }
    });
  }

  it('raw: attributes bytes in the JSON body survive unchanged (escaped only as JSON requires)', async () => {
    const attributes = '{ "a" : 1 ,\t"s": "zoë\\u0041" }';
    const res = await ctx.h.raw('POST', '/v1/Users', { body: { Identity: uid('rawattrs'), Attributes: attributes } });
    assert.equal(res.status, 201, res.body);
    assert.equal(res.json.attributes, attributes);
    const f = await ctx.h.raw('GET', `/v1/Users/${res.json.sid}`);
    assert.equal(f.json.attributes, attributes);
  });

  it('default role is the "service user" role; RoleSid can move to "service admin" and back', async () => {
    assert.equal(roles['service user'].type, 'service');
    assert.equal(roles['service admin'].type, 'service');
    const users = families[1].users;
    const identity = uid('roles');
    const c = await users().create({ identity });
    assert.equal(c.roleSid, roles['service user'].sid);
    const admin = await users()(identity).update({ roleSid: roles['service admin'].sid });
    assert.equal(admin.roleSid, roles['service admin'].sid);
    assert.equal((await users()(c.sid).fetch()).roleSid, roles['service admin'].sid);
    const back = await users()(c.sid).update({ roleSid: roles['service user'].sid });
    assert.equal(back.roleSid, roles['service user'].sid);
  });

  it('data survives a clean restart (create, update, delete all kept)', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const a = await users().create({ identity: uid('persist-a'), friendlyName: 'A', attributes: '{ "p" : "A" }' });
    const b = await users().create({ identity: uid('persist-b'), roleSid: roles['service admin'].sid });
    const d = await users().create({ identity: uid('persist-d') });
    await users()(b.sid).update({ friendlyName: 'B2', attributes: '[ "b" ]' });
    await users()(d.identity).remove();
    const beforeList = JSON.stringify(await listAllRaw(ctx.h));
    const cfgBefore = await ctx.h.client.conversations.v1.configuration().fetch();
    await ctx.h.restart();
    const afterList = JSON.stringify(await listAllRaw(ctx.h));
    assert.equal(afterList, beforeList, 'same users, same bytes after restart');
    const cfgAfter = await ctx.h.client.conversations.v1.configuration().fetch();
    assert.equal(cfgAfter.defaultChatServiceSid, cfgBefore.defaultChatServiceSid);
    assert.equal((await users()(a.identity).fetch()).attributes, '{ "p" : "A" }');
    const b2 = await users()(b.sid).fetch();
    assert.equal(b2.friendlyName, 'B2');
    assert.equal(b2.roleSid, roles['service admin'].sid);
    await rejectsRest(users()(d.sid).fetch(), { status: 404, code: 20404 });
    const again = await users().create({ identity: d.identity });
    assert.notEqual(again.sid, d.sid);
    assert.equal((await ctx.h.client.conversations.v1.roles(roles['service user'].sid).fetch()).friendlyName, 'service user');
  });

  it('50 parallel creates of distinct identities all succeed and are all listed', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const ids = Array.from({ length: 50 }, (_, i) => `parallel-${seq}-${i}`);
    seq++;
    const created = await Promise.all(ids.map((identity, i) => users().create({ identity, attributes: `{"i":${i}}` })));
    assert.equal(new Set(created.map((u) => u.sid)).size, 50, 'distinct SIDs');
    created.forEach((u, i) => {
      assert.equal(u.identity, ids[i]);
      assert.equal(u.attributes, `{"i":${i}}`);
    });
    const listed = (await users().list()).filter((u) => ids.includes(u.identity));
    assert.equal(listed.length, 50);
    assert.deepEqual(new Set(listed.map((u) => u.sid)), new Set(created.map((u) => u.sid)));
  });

  it('parallel creates of the same identity: exactly one wins, the rest get 409 50201', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const identity = uid('race');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => users().create({ identity })));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 1, `one success, got ${ok.length}`);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      assert.equal(r.reason.status, 409, String(r.reason));
      assert.equal(r.reason.code, 50201);
    }
    assert.equal((await users().list()).filter((u) => u.identity === identity).length, 1);
  });

  it('20 parallel updates of one user: every answer and the final record is one consistent pair', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const identity = uid('contended');
    const c = await users().create({ identity });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        users()(n % 2 ? c.sid : identity).update({ friendlyName: `n${n}`, attributes: `{"n":${n}}` }),
      ),
    );
    for (const u of results) {
      const n = Number(u.friendlyName.slice(1));
      assert.equal(u.attributes, `{"n":${n}}`, `answer ${u.friendlyName} is torn: ${u.attributes}`);
    }
    const f = await users()(c.sid).fetch();
    assert.match(f.friendlyName, /^n(1?[0-9])$/);
    const n = Number(f.friendlyName.slice(1));
    assert.ok(n >= 0 && n < 20);
    assert.equal(f.attributes, `{"n":${n}}`, `final record is torn: ${f.friendlyName} / ${f.attributes}`);
    assert.equal(f.identity, identity);
    assert.equal(f.dateCreated.getTime(), c.dateCreated.getTime());
  });

  it('kill -9 right after a 2xx create: the user is there after restart', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const identity = uid('crash-create');
    const c = await users().create({ identity, friendlyName: 'durable', attributes: '{"d":1}' });
    await ctx.h.kill9();
    await ctx.h.restart();
    const f = await users()(identity).fetch();
    assert.deepEqual(plain(f), plain(c));
  });

  it('kill -9 right after a 2xx update: the change is there after restart', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const identity = uid('crash-update');
    const c = await users().create({ identity });
    const u = await users()(c.sid).update({ friendlyName: 'updated', attributes: '{ "u" : 2 }', roleSid: roles['service admin'].sid });
    await ctx.h.kill9();
    await ctx.h.restart();
    const f = await users()(c.sid).fetch();
    assert.deepEqual(plain(f), plain(u));
  });

  it('kill -9 right after a 2xx delete: the user stays deleted after restart', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const identity = uid('crash-delete');
    const c = await users().create({ identity });
    assert.equal(await users()(identity).remove(), true);
    await ctx.h.kill9();
    await ctx.h.restart();
    await rejectsRest(users()(c.sid).fetch(), { status: 404, code: 20404 });
  });

  it('kill -9 right after a burst of parallel creates: every acknowledged user is there', async () => {
    const users = () => ctx.h.client.conversations.v1.users;
    const ids = Array.from({ length: 20 }, (_, i) => `burst-${seq}-${i}`);
    seq++;
    const created = await Promise.all(ids.map((identity) => users().create({ identity })));
    await ctx.h.kill9();
    await ctx.h.restart();
    const listed = new Set((await users().list()).map((u) => u.sid));
    for (const u of created) assert.ok(listed.has(u.sid), `${u.identity} lost after kill -9`);
  });
});
