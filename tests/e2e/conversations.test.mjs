// Conversations through twilio-node on both path families: create, fetch (by SID and by unique name),
// list with its filters and paging, update, delete; every error code of BEHAVIOUR-conversations §1.5
// with its status; the closed guard; account isolation.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { e2eSuite, assertErrorBody, defaults, listAllRaw, rejectsRest, SID_RE, DATE_RE, randomHex } from './harness.mjs';

e2eSuite('conversations', {}, (ctx, it) => {
  let IS;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(6)}`;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    assert.match(IS ?? '', SID_RE('IS'));
  });

  const families = [
    {
      name: 'short family /v1/Conversations',
      convs: () => ctx.h.client.conversations.v1.conversations,
      base: () => `${ctx.h.url}/v1/Conversations`,
      rel: () => '/v1/Conversations',
    },
    {
      name: 'service family /v1/Services/{IS}/Conversations',
      convs: () => ctx.h.client.conversations.v1.services(IS).conversations,
      base: () => `${ctx.h.url}/v1/Services/${IS}/Conversations`,
      rel: () => `/v1/Services/${IS}/Conversations`,
    },
  ];

  function checkConv(c, fam, exp = {}) {
    assert.match(c.sid, SID_RE('CH'));
    assert.equal(c.accountSid, ctx.h.accountSid);
    assert.equal(c.chatServiceSid, IS);
    assert.equal(c.messagingServiceSid, exp.messagingServiceSid ?? null);
    assert.equal(c.friendlyName, exp.friendlyName ?? null);
    assert.equal(c.uniqueName, exp.uniqueName ?? null);
    assert.equal(c.attributes, exp.attributes ?? '{}');
    assert.equal(c.state, exp.state ?? 'active');
    assert.ok(c.dateCreated instanceof Date && !Number.isNaN(c.dateCreated.getTime()));
    assert.ok(c.dateUpdated instanceof Date && !Number.isNaN(c.dateUpdated.getTime()));
    assert.deepEqual(c.timers, exp.timers ?? {});
    assert.deepEqual(c.bindings, exp.bindings ?? {});
    const url = `${fam.base()}/${c.sid}`;
    assert.equal(c.url, url);
    assert.deepEqual(c.links, {
      participants: `${url}/Participants`,
      messages: `${url}/Messages`,
      webhooks: `${url}/Webhooks`,
    });
  }

  for (const fam of families) {
    it(`${fam.name}: an empty create gives the defaults`, async () => {
      const c = await fam.convs().create();
      checkConv(c, fam);
      assert.equal(c.dateUpdated.getTime(), c.dateCreated.getTime());
      const raw = await ctx.h.raw('GET', `${fam.rel()}/${c.sid}`);
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json), [
        'account_sid', 'chat_service_sid', 'messaging_service_sid', 'sid', 'friendly_name', 'unique_name',
        'attributes', 'state', 'date_created', 'date_updated', 'timers', 'url', 'links', 'bindings',
      ]);
      assert.match(raw.json.date_created, DATE_RE);
    });

    it(`${fam.name}: create with every field, fetch by SID and by unique name`, async () => {
      const uniqueName = uid('full');
      const attributes = '{ "topic" : "feedback",  "n": [1, 2] }';
      const c = await fam.convs().create({
        friendlyName: 'Friendly', uniqueName, attributes, state: 'inactive',
        messagingServiceSid: 'MG' + 'a'.repeat(32),
        'bindings.email.address': 'a@example.com', 'bindings.email.name': 'Alice',
      });
      const exp = {
        friendlyName: 'Friendly', uniqueName, attributes, state: 'inactive', messagingServiceSid: 'MG' + 'a'.repeat(32),
        bindings: { email: { projected_address: 'a@example.com', name: 'Alice' } },
      };
      checkConv(c, fam, exp);
      checkConv(await fam.convs()(c.sid).fetch(), fam, exp);
      checkConv(await fam.convs()(uniqueName).fetch(), fam, exp);
    });

    it(`${fam.name}: unique names with + @ spaces and non-ASCII letters are path keys`, async () => {
      for (const base of ['a+b', 'x@example.com', 'with space', 'Ünïcødé-日本']) {
        const uniqueName = uid(base);
        const c = await fam.convs().create({ uniqueName });
        const f = await fam.convs()(uniqueName).fetch();
        assert.equal(f.sid, c.sid);
        assert.equal(f.uniqueName, uniqueName);
        const u = await fam.convs()(uniqueName).update({ friendlyName: 'renamed' });
        assert.equal(u.friendlyName, 'renamed');
        assert.equal(u.url, `${fam.base()}/${c.sid}`, 'url carries the SID, not the unique name');
        assert.equal(await fam.convs()(uniqueName).remove(), true);
        await rejectsRest(fam.convs()(c.sid).fetch(), { status: 404, code: 20404 });
      }
    });

    it(`${fam.name}: update changes only what it names; UniqueName= clears it`, async () => {
      const uniqueName = uid('upd');
      const c = await fam.convs().create({ uniqueName, friendlyName: 'one', attributes: '{"a":1}' });
      const u = await fam.convs()(c.sid).update({ friendlyName: 'two' });
      checkConv(u, fam, { uniqueName, friendlyName: 'two', attributes: '{"a":1}' });
      assert.ok(u.dateUpdated.getTime() >= c.dateUpdated.getTime());
      const cleared = await fam.convs()(c.sid).update({ uniqueName: '' });
      assert.equal(cleared.uniqueName, null);
      await rejectsRest(fam.convs()(uniqueName).fetch(), { status: 404, code: 20404 });
      // the freed name can be taken again
      const again = await fam.convs().create({ uniqueName });
      assert.notEqual(again.sid, c.sid);
    });

    it(`${fam.name}: DateCreated and DateUpdated overrides`, async () => {
      const c = await fam.convs().create({ dateCreated: new Date('2020-01-02T03:04:05Z') });
      assert.equal(c.dateCreated.toISOString(), '2020-01-02T03:04:05.000Z');
      assert.equal(c.dateUpdated.toISOString(), '2020-01-02T03:04:05.000Z');
      const d = await fam.convs().create({
        dateCreated: new Date('2020-01-02T03:04:05Z'), dateUpdated: new Date('2021-05-06T07:08:09Z'),
      });
      assert.equal(d.dateUpdated.toISOString(), '2021-05-06T07:08:09.000Z');
      const u = await fam.convs()(d.sid).update({ dateUpdated: new Date('2022-01-01T00:00:00Z') });
      assert.equal(u.dateUpdated.toISOString(), '2022-01-01T00:00:00.000Z');
      assert.equal(u.dateCreated.toISOString(), '2020-01-02T03:04:05.000Z');
    });

    it(`${fam.name}: duplicate unique name is 409/50353, also on update; SID-shaped is 50390`, async () => {
      const uniqueName = uid('dup');
      await fam.convs().create({ uniqueName });
      await rejectsRest(fam.convs().create({ uniqueName }), {
        status: 409, code: 50353, message: 'Conversation with provided unique name already exists',
      });
      const other = await fam.convs().create();
      await rejectsRest(fam.convs()(other.sid).update({ uniqueName }), { status: 409, code: 50353 });
      assert.equal((await fam.convs()(other.sid).fetch()).uniqueName, null, 'a refused update changes nothing');
      await rejectsRest(fam.convs().create({ uniqueName: 'CH' + 'b'.repeat(32) }), {
        status: 400, code: 50390, message: 'Unique name should not match conversation sid pattern',
      });
    });

    it(`${fam.name}: parameter errors with their codes`, async () => {
      const cases = [
        [{ friendlyName: 'x'.repeat(257) }, 400, 50003],
        [{ uniqueName: 'x'.repeat(257) }, 400, 50004],
        [{ attributes: '{bad' }, 400, 50304],
        [{ attributes: JSON.stringify({ a: 'x'.repeat(16 * 1024) }) }, 400, 50303],
        [{ dateCreated: 'yesterday' }, 400, 50308],
        [{ dateUpdated: 'tomorrow' }, 400, 50309],
        [{ messagingServiceSid: 'MGnope' }, 400, 50341],
        [{ state: 'closed' }, 400, 50384],
        [{ state: 'initializing' }, 400, 50378],
        [{ state: 'open' }, 400, 50378],
        [{ 'timers.inactive': 'PT30S' }, 400, 50375],
        [{ 'timers.closed': 'PT5M30S' }, 400, 50376],
        [{ 'timers.inactive': '1 minute' }, 400, 50379],
        [{ 'timers.closed': 'P' }, 400, 50380],
        [{ 'timers.inactive': 'P999999999Y' }, 400, 50379],
        [{ 'timers.closed': 'P101Y' }, 400, 50380],
      ];
      const before = (await listAllRaw(ctx.h, fam.rel(), 'conversations')).length;
      for (const [params, status, code] of cases) {
        const body = new URLSearchParams();
        for (const [k, v] of Object.entries(params)) {
          const name = k.includes('.') ? k.split('.').map((p) => p[0].toUpperCase() + p.slice(1)).join('.') : k[0].toUpperCase() + k.slice(1);
          body.append(name, v);
        }
        const res = await ctx.h.raw('POST', fam.rel(), { body: body.toString() });
        assert.equal(res.status, status, `${JSON.stringify(params)}: ${res.body}`);
        assert.equal(res.json.code, code, `${JSON.stringify(params)}: ${res.body}`);
      }
      assert.equal((await listAllRaw(ctx.h, fam.rel(), 'conversations')).length, before, 'refused creates changed nothing');
    });

    it(`${fam.name}: attributes of exactly 16 KB are kept verbatim`, async () => {
      const pad = 16 * 1024 - '{"a":""}'.length;
      const attributes = `{"a":"${'é'.repeat(pad / 2)}"}`; // é is two UTF-8 bytes
      assert.equal(Buffer.byteLength(attributes), 16 * 1024);
      const c = await fam.convs().create({ attributes });
      assert.equal((await fam.convs()(c.sid).fetch()).attributes, attributes);
      await rejectsRest(fam.convs().create({ attributes: attributes.replace('"a"', '"ab"') }), { status: 400, code: 50303 });
    });

    it(`${fam.name}: an empty update is 400/50347; an unknown one is 404`, async () => {
      const c = await fam.convs().create();
      const res = await ctx.h.raw('POST', `${fam.rel()}/${c.sid}`, { body: '' });
      assert.equal(res.status, 400);
      assert.equal(res.json.code, 50347);
      assert.equal(res.json.message, 'Parameters are missing for channel update request');
      await rejectsRest(fam.convs()('CH' + '0'.repeat(32)).update({ friendlyName: 'x' }), { status: 404, code: 20404 });
      await rejectsRest(fam.convs()('no-such-name').fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.convs()('no-such-name').remove(), { status: 404, code: 20404 });
    });

    it(`${fam.name}: state moves between active and inactive; closed is final`, async () => {
      const c = await fam.convs().create({ uniqueName: uid('closing') });
      assert.equal((await fam.convs()(c.sid).update({ state: 'inactive' })).state, 'inactive');
      assert.equal((await fam.convs()(c.sid).update({ state: 'active' })).state, 'active');
      await rejectsRest(fam.convs()(c.sid).update({ state: '' }), { status: 400, code: 50374 });
      const closed = await fam.convs()(c.sid).update({ state: 'closed' });
      assert.equal(closed.state, 'closed');
      for (const params of [{ friendlyName: 'x' }, { state: 'active' }, { state: 'closed' }, { attributes: '{}' }]) {
        await rejectsRest(fam.convs()(c.sid).update(params), {
          status: 400, code: 50377, message: "Can't update conversation as it's in final closed state",
        });
      }
      const again = await fam.convs()(c.sid).fetch();
      assert.equal(again.state, 'closed');
      assert.equal(again.friendlyName, null, 'a refused write changed nothing');
      assert.equal(await fam.convs()(c.sid).remove(), true, 'a closed conversation can be deleted');
      await rejectsRest(fam.convs()(c.sid).fetch(), { status: 404, code: 20404 });
    });

    it(`${fam.name}: a timer of a century is taken`, async () => {
      const c = await fam.convs().create({ 'timers.closed': 'P100Y' });
      assert.ok(new Date(c.timers.date_closed).getUTCFullYear() >= c.dateCreated.getUTCFullYear() + 99);
    });

    it(`${fam.name}: timers render the keys of configured timers only; PT0S clears`, async () => {
      const c = await fam.convs().create({ 'timers.closed': 'PT10M' });
      assert.deepEqual(Object.keys(c.timers), ['date_closed']);
      assert.equal(new Date(c.timers.date_closed).getTime() - Math.floor(c.dateCreated.getTime() / 1000) * 1000 >= 599_000, true);
      const both = await fam.convs()(c.sid).update({ 'timers.inactive': 'PT1M' });
      assert.deepEqual(Object.keys(both.timers), ['date_inactive', 'date_closed']);
      const none = await fam.convs()(c.sid).update({ 'timers.inactive': 'PT0S', 'timers.closed': 'PT0S' });
      assert.deepEqual(none.timers, {});
    });

    it(`${fam.name}: list filters State, StartDate, EndDate and pages across pages with each()`, async () => {
      const tag = uid('list');
      const made = [];
      for (let i = 0; i < 7; i++) {
        made.push(await fam.convs().create({
          friendlyName: tag, dateCreated: new Date(Date.UTC(2019, 0, 1 + i, 12)), state: i % 2 ? 'inactive' : 'active',
        }));
      }
      const seen = [];
      await fam.convs().each({ pageSize: 2 }, (c) => {
        if (c.friendlyName === tag) seen.push(c.sid);
      });
      assert.deepEqual(seen, made.map((c) => c.sid), 'each() across pages returns every row once, in order');
      const inactive = (await fam.convs().list({ state: 'inactive', pageSize: 3 })).filter((c) => c.friendlyName === tag);
      assert.deepEqual(inactive.map((c) => c.sid), made.filter((_, i) => i % 2).map((c) => c.sid));
      const window = (await fam.convs().list({ startDate: '2019-01-02T00:00:00Z', endDate: '2019-01-04', pageSize: 1 }))
        .filter((c) => c.friendlyName === tag);
      assert.deepEqual(window.map((c) => c.sid), made.slice(1, 4).map((c) => c.sid));
      const page = await ctx.h.raw('GET', `${fam.rel()}?State=inactive&StartDate=2019-01-01&PageSize=1`);
      assert.equal(page.status, 200);
      assert.match(page.json.meta.next_page_url, /State=inactive/);
      assert.match(page.json.meta.next_page_url, /StartDate=2019-01-01/);
      for (const [k, v] of [['StartDate', 'someday'], ['EndDate', '2019-13-01'], ['StartDate', '2019-01-01T25:00:00Z']]) {
        const bad = await ctx.h.raw('GET', `${fam.rel()}?${k}=${v}`);
        assertErrorBody(bad, { status: 400, code: 20001, message: new RegExp(`^Invalid value for ${k}: `) });
      }
    });
  }

  it('a conversation of the default service is the same on both families; another service is 404', async () => {
    const c = await ctx.h.client.conversations.v1.conversations.create({ uniqueName: uid('twin') });
    assert.equal((await ctx.h.client.conversations.v1.services(IS).conversations(c.sid).fetch()).sid, c.sid);
    const other = await ctx.h.client.conversations.v1.services.create({ friendlyName: 'other' });
    const o = await ctx.h.client.conversations.v1.services(other.sid).conversations.create({ uniqueName: 'shared-name' });
    // unique names are per service: the same name in the default service is fine
    await ctx.h.client.conversations.v1.conversations.create({ uniqueName: 'shared-name' });
    await rejectsRest(ctx.h.client.conversations.v1.conversations(o.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(ctx.h.client.conversations.v1.services(IS).conversations(o.sid).remove(), { status: 404, code: 20404 });
    assert.equal((await ctx.h.client.conversations.v1.services(other.sid).conversations('shared-name').fetch()).sid, o.sid);
  });

  it('20 parallel creates with one unique name: exactly one 201, the others 409/50353', async () => {
    const uniqueName = uid('parallel');
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ctx.h.raw('POST', '/v1/Conversations', { body: { UniqueName: uniqueName } })),
    );
    assert.equal(results.filter((r) => r.status === 201).length, 1, results.map((r) => r.status).join(','));
    for (const r of results.filter((x) => x.status !== 201)) assert.equal(r.json.code, 50353, r.body);
  });

  it('kill -9 right after the answers: every acknowledged create, update and delete is there', async () => {
    const made = await Promise.all(Array.from({ length: 30 }, (_, i) => ctx.h.client.conversations.v1.conversations.create({ uniqueName: uid(`durable-${i}`) })));
    const updated = await ctx.h.client.conversations.v1.conversations(made[0].sid).update({ friendlyName: 'kept', state: 'inactive' });
    await ctx.h.client.conversations.v1.conversations(made[1].sid).remove();
    await ctx.h.kill9();
    await ctx.h.restart();
    for (const c of made.slice(2)) assert.equal((await ctx.h.client.conversations.v1.conversations(c.uniqueName).fetch()).sid, c.sid);
    const f = await ctx.h.client.conversations.v1.conversations(made[0].sid).fetch();
    assert.equal(f.friendlyName, 'kept');
    assert.equal(f.state, 'inactive');
    assert.equal(f.dateUpdated.getTime(), updated.dateUpdated.getTime());
    await rejectsRest(ctx.h.client.conversations.v1.conversations(made[1].sid).fetch(), { status: 404, code: 20404 });
  });

  it('another account sees none of them (404 on both families)', async () => {
    const c = await ctx.h.client.conversations.v1.conversations.create({ uniqueName: uid('mine') });
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const other = ctx.h.newClient(f.account_sid, f.auth_token);
    const IS2 = (await other.conversations.v1.configuration().fetch()).defaultChatServiceSid;
    await rejectsRest(other.conversations.v1.conversations(c.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(other.conversations.v1.conversations(c.uniqueName).update({ friendlyName: 'x' }), { status: 404, code: 20404 });
    await rejectsRest(other.conversations.v1.services(IS).conversations(c.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(other.conversations.v1.services(IS).conversations.create(), { status: 404, code: 20404 });
    await rejectsRest(other.conversations.v1.services(IS2).conversations(c.sid).remove(), { status: 404, code: 20404 });
    assert.equal((await other.conversations.v1.conversations.list()).length, 0);
    assert.equal((await ctx.h.client.conversations.v1.conversations(c.sid).fetch()).friendlyName, null);
  });
});
