// The contract suite (issue 11, item 5): cases generated from the operation table (tests/operations.gen.json) for
// every operation the server implements (tests/e2e/optable.mjs asks the server which), through twilio-node's
// generated methods where the SDK can express the call and raw HTTP where it cannot (no credentials, a wrong
// method, a parameter left out, a malformed path SID). Every refusal must be the full Twilio error body and must
// change nothing (the resource's GET, and its collection's, read the same before and after). Successful answers
// must carry exactly the spec's fields in order, `url`, `links` and list `meta` URLs absolute on --public-url
// (set to a host that is not the listen address), a delete must leave nothing behind, and the two path families
// must answer alike.
//
// Expected codes are those of docs/DECISIONS.md ("Errors" and the per-resource sections); CODES below holds the
// few parameters that have a documented code of their own.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, moreInfo, randomHex, rejectsRest } from './harness.mjs';
import { body, fieldNames, fill, implementedOps, isFamily, listQuery, pathParams, shortTwin, TABLE, unknownSid } from './optable.mjs';

const PUBLIC = 'http://parley.test:1234';
const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH'];

// Documented codes for a malformed value where a resource has its own (docs/DECISIONS.md): operation id
// (or '*') → parameter → {code, message}.
const CODES = {
  '*': { DefaultMessagingServiceSid: { code: 50341, message: 'Invalid messaging service SID' } },
  CreateRole: { Type: { code: 50105, message: 'Invalid role type' } },
  CreateServiceRole: { Type: { code: 50105, message: 'Invalid role type' } },
};
for (const id of ['CreateConversation', 'UpdateConversation', 'CreateServiceConversation', 'UpdateServiceConversation',
  'CreateConversationWithParticipants', 'CreateServiceConversationWithParticipants']) {
  CODES[id] = {
    State: { code: 50378, message: "'State' parameter value is invalid" },
    MessagingServiceSid: { code: 50341, message: 'Invalid messaging service SID' },
  };
}
for (const id of ['UpdateConversationParticipant', 'UpdateServiceConversationParticipant', 'UpdateUserConversation', 'UpdateServiceUserConversation']) {
  CODES[id] = {
    LastReadMessageIndex: { code: 50421, message: 'Invalid last read message index format' },
    NotificationLevel: { code: 50210, message: 'Invalid notification level' },
  };
}
for (const id of ['CreateConversationScopedWebhook', 'CreateServiceConversationScopedWebhook']) {
  CODES[id] = { Target: { code: 50364, message: 'Invalid conversation webhook type' } };
}
for (const id of ['CreateConversationScopedWebhook', 'UpdateConversationScopedWebhook', 'CreateServiceConversationScopedWebhook', 'UpdateServiceConversationScopedWebhook']) {
  CODES[id] = {
    ...CODES[id],
    'Configuration.Method': { code: 50055, message: 'Invalid webhook method' },
    'Configuration.FlowSid': { code: 50367, message: 'Invalid conversation webhook flow SID' },
  };
}
for (const id of ['CreateConversationMessage', 'CreateServiceConversationMessage']) {
  CODES[id] = {
    MediaSid: { code: 50510, message: 'Invalid message media SID' },
    ContentSid: { code: 50526, message: 'Invalid content SID' },
  };
}
const ownCode = (entry, name) => CODES[entry.op.id]?.[name] ?? CODES['*'][name];

/** twilio-node's name for a form parameter: each dotted part with a lower-case first letter. */
const sdkName = (name) =>
  ({ Page: 'pageNumber' })[name] ??
  name
    .split('.')
    .map((s) => s[0].toLowerCase() + s.slice(1))
    .join('.');

/** Form pairs → twilio-node params (repeated keys become arrays). */
function sdkParams(pairs) {
  const out = {};
  for (const [k, v] of pairs) {
    const n = sdkName(k);
    if (n in out) out[n] = [].concat(out[n], v);
    else out[n] = v;
  }
  return out;
}

/**
 * The twilio-node call of an operation: walks the path's segments through client.conversations.v1 (a literal
 * segment is a property, one followed by a parameter is called with it, a singleton such as Configuration is
 * called without one) and ends in fetch/update/remove/create/page. Returns a function of the SDK params.
 */
function sdkCall(v1, entry, sidOf) {
  const segs = entry.op.path.split('/').slice(2); // after "/v1"
  let obj = v1;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg.startsWith('{')) continue;
    // Users/{UserSid}/Conversations is userConversations in the SDK
    let name = seg === 'Conversations' && segs[i - 2] === 'Users' ? 'userConversations' : seg[0].toLowerCase() + seg.slice(1);
    // Configuration/Addresses is one mount in the SDK, addressConfigurations (the spec's mountName)
    if (seg === 'Configuration' && segs[i + 1] === 'Addresses') (name = 'addressConfigurations'), i++;
    assert.ok(obj[name] !== undefined, `${entry.op.id}: twilio-node has no ${name} at segment ${i}`);
    const next = segs[i + 1];
    if (next?.startsWith('{')) obj = obj[name](sidOf(next.slice(1, -1)));
    else if (next === undefined && (entry.op.kind === 'fetch' || entry.op.kind === 'update' || entry.op.kind === 'delete')) obj = obj[name]();
    else obj = obj[name];
  }
  const verb = { fetch: 'fetch', update: 'update', delete: 'remove', create: 'create', list: 'page' }[entry.op.kind];
  assert.equal(typeof obj[verb], 'function', `${entry.op.id}: twilio-node has no ${verb}()`);
  return (params) => (verb === 'fetch' || verb === 'remove' ? obj[verb]() : obj[verb](params ?? {}));
}

/** Every string under `url`, `links` (and list `meta` URLs) of a response body. */
function urlsOf(json, out = []) {
  if (Array.isArray(json)) {
    for (const x of json) urlsOf(x, out);
  } else if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if ((k === 'url' || k.endsWith('_page_url')) && typeof v === 'string') out.push([k, v]);
      else if (k === 'links' && v && typeof v === 'object') for (const [lk, lv] of Object.entries(v)) out.push([`links.${lk}`, lv]);
      // a scoped webhook's configuration.url is where it delivers, not a link of the API
      else if (k === 'configuration') continue;
      else if (typeof v === 'object') urlsOf(v, out);
    }
  }
  return out;
}

/** The spec's operation on path p: its GET when it has one, else any (ConversationWithParticipants is POST only). */
function specOp(p) {
  const re = (pattern) => new RegExp(`^${pattern.replace(/\{[A-Za-z]+\}/g, '[^/]+')}$`);
  const all = TABLE.filter((e) => re(e.op.path).test(p));
  return all.find((e) => e.op.method === 'GET') ?? all[0];
}

e2eSuite('contract', { publicUrl: PUBLIC }, (ctx, it) => {
  const h = () => ctx.h;
  const v1 = () => h().client.conversations.v1;
  let ops = [];
  let IS; // the account's default service: the service family's {ChatServiceSid}
  const made = {}; // SID prefix → a resource created through the short family (IS: a second service)

  /** The seeded SID for a path parameter of entry, or undefined when none could be made. */
  function seeded(entry, name) {
    if (name === 'ChatServiceSid') return IS;
    if (name === 'UserSid') return made.US;
    if (name === 'ConversationSid') return made.CH;
    if (name === 'Sid') return made[entry.op.prefix];
    return undefined;
  }
  const canSeed = (entry) => pathParams(entry.op.path).every((n) => seeded(entry, n) !== undefined);
  const pathOf = (entry, f = (n) => seeded(entry, n)) => fill(entry.op.path, f);
  // a path without a GET of its own (ConversationWithParticipants) changes the collection it creates in
  const READ_AS = { ConversationWithParticipants: 'Conversations' };
  const readPath = (pattern) => pattern.replace(/\/(\w+)$/, (m, last) => `/${READ_AS[last] ?? last}`);
  const getOn = (pattern) => ops.find((e) => e.op.path === readPath(pattern) && e.op.method === 'GET');

  /** What a refused request must not change: the GET on its path and the list of its collection. */
  async function state(entry, f) {
    const out = [];
    const own = getOn(entry.op.path);
    if (own) out.push(await h().raw('GET', pathOf(own, f)));
    const parent = getOn(entry.op.path.replace(/\/\{[A-Za-z]+\}$/, ''));
    if (parent && parent !== own && canSeed(parent)) out.push(await h().raw('GET', `${pathOf(parent)}?PageSize=1000`));
    return out.map((r) => `${r.status} ${r.body}`).join('\n');
  }

  /** Runs send() (a refused request) and requires state() to read the same before and after. */
  async function refused(entry, f, send) {
    const writes = entry.op.method !== 'GET';
    const before = writes ? await state(entry, f) : '';
    const res = await send();
    if (writes) assert.equal(await state(entry, f), before, `${entry.op.id}: a refused request changed something`);
    return res;
  }

  before(async () => {
    ops = await implementedOps(ctx.h);
    ({ serviceSid: IS } = await defaults(ctx.h));
    // one resource of every short-family collection, parents first (credentials before nothing, users after roles)
    // parents first: a conversation before its participants
    const creates = ops.filter((e) => e.op.kind === 'create' && !isFamily(e.op));
    creates.sort((a, b) => a.op.path.split('/').length - b.op.path.split('/').length);
    for (const entry of creates) {
      const res = await ctx.h.raw('POST', pathOf(entry), { body: body(entry) });
      assert.equal(res.status, entry.op.status, `seeding ${entry.op.id}: ${res.body}`);
      made[entry.op.prefix] = res.json.sid;
      if (entry.op.prefix === 'US') made.identity = res.json.identity;
      // the seeded user joins the seeded conversation too: the user's view of it (UserConversation)
      if (entry.op.prefix === 'MB') {
        const joined = await ctx.h.raw('POST', pathOf(entry), { body: [['Identity', made.identity]] });
        assert.equal(joined.status, 201, `seeding the user's participant: ${joined.body}`);
      }
    }
    if (haveSqlite && ops.some((e) => e.op.prefix === 'BS')) {
      const sid = 'BS' + randomHex(32);
      const sql =
        `INSERT INTO bindings(sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types, date_created, date_updated)` +
        ` VALUES ('${sid}', '${ctx.h.accountSid}', '${IS}', '${made.CR}', 'contract', 'contract', 'apn', '["new_message"]', 1476968223000, 1476968224000)`;
      const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', ctx.h.dataFile, sql], { encoding: 'utf8' });
      assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
      made.BS = sid;
    }
  });

  it('the table was read and the probe found both path families', (t) => {
    assert.ok(ops.length >= 40, `${ops.length} implemented operations`);
    assert.ok(ops.some((e) => e.op.id === 'FetchUser') && ops.some((e) => e.op.id === 'FetchServiceUser'));
    for (const p of ['US', 'RL', 'CR', 'IS']) assert.ok(made[p], `seeded ${p}`);
    // every write can be checked for "nothing changed": its path has a GET
    for (const e of ops.filter((x) => x.op.method !== 'GET')) assert.ok(getOn(e.op.path), `${e.op.id}: no GET on ${e.op.path}`);
    t.diagnostic(`${ops.length} operations`);
  });

  it('no credentials: 401 / 20003 with WWW-Authenticate on every operation, and nothing changes', async () => {
    let checked = 0;
    for (const entry of ops.filter(canSeed)) {
      const p = pathOf(entry);
      const opts = { auth: false, body: entry.op.method === 'POST' ? body(entry) : undefined };
      const res = await refused(entry, undefined, () => h().raw(entry.op.method, p, opts));
      assertErrorBody(res, { status: 401, code: 20003, message: 'Authentication Error - No credentials provided' });
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Twilio API"', `${entry.op.id}`);
      // and a wrong secret through twilio-node
      const wrong = h().newClient(h().accountSid, 'x' + h().authToken.slice(1)).conversations.v1;
      const call = sdkCall(wrong, entry, (n) => seeded(entry, n));
      await refused(entry, undefined, () => rejectsRest(call(sdkParams(body(entry))), { status: 401, code: 20003, message: 'Authenticate' }));
      checked++;
    }
    assert.ok(checked >= 40, `${checked} operations`);
  });

  it('a method the path does not serve: 405 / 20004, and nothing changes', async () => {
    let checked = 0;
    const byPath = new Map();
    for (const e of ops) byPath.set(e.op.path, [...(byPath.get(e.op.path) ?? []), e]);
    for (const [pattern, entries] of byPath) {
      const served = new Set(entries.map((e) => e.op.method));
      const entry = entries[0];
      if (!canSeed(entry)) continue;
      for (const m of METHODS.filter((x) => !served.has(x))) {
        const res = await refused({ ...entry, op: { ...entry.op, method: m } }, undefined, () =>
          h().raw(m, pathOf(entry), { body: m === 'GET' ? undefined : { FriendlyName: 'contract-405' } }),
        );
        assertErrorBody(res, { status: 405, code: 20004, message: 'Method not allowed' });
        checked++;
      }
      assert.ok(served.size > 0, pattern);
    }
    assert.ok(checked >= ops.length / 2, `${checked} method cases`);
  });

  it('an unknown SID in any path parameter: 404 / 20404 (twilio-node and raw), and nothing changes', async () => {
    let checked = 0;
    for (const entry of ops.filter(canSeed)) {
      for (const name of pathParams(entry.op.path)) {
        const unknown = unknownSid(entry, name);
        const f = (n) => (n === name ? unknown : seeded(entry, n));
        const p = pathOf(entry, f);
        const message = `The requested resource ${p.slice(3)} was not found`;
        const pairs = entry.op.method === 'POST' ? body(entry) : undefined;
        const res = await refused(entry, f, () => h().raw(entry.op.method, p, { body: pairs }));
        assertErrorBody(res, { status: 404, code: 20404, message });
        await refused(entry, f, () => rejectsRest(sdkCall(v1(), entry, f)(sdkParams(pairs ?? [])), { status: 404, code: 20404, message }));
        checked++;
      }
    }
    assert.ok(checked >= 40, `${checked} path parameters`);
  });

  it('a malformed SID in a path parameter (wrong prefix, not a SID, a bad escape): 404 / 20404', async () => {
    for (const entry of ops.filter(canSeed)) {
      for (const name of pathParams(entry.op.path)) {
        for (const bad of ['ZZ' + randomHex(32), 'not-a-sid', (seeded(entry, name) ?? '').slice(0, 33)]) {
          const f = (n) => (n === name ? bad : seeded(entry, n));
          const p = pathOf(entry, f);
          const res = await refused(entry, f, () => h().raw(entry.op.method, p, { body: entry.op.method === 'POST' ? body(entry) : undefined }));
          assertErrorBody(res, { status: 404, code: 20404, message: `The requested resource ${p.slice(3)} was not found` });
        }
        const raw = entry.op.path.replace(`{${name}}`, '%zz').replace(/\{([A-Za-z]+)\}/g, (_, n) => seeded(entry, n));
        assertErrorBody(await h().raw(entry.op.method, raw), { status: 404, code: 20404 });
      }
    }
  });

  it('each required body parameter missing (raw) or empty (twilio-node): 400 / 20001, and nothing changes', async () => {
    let checked = 0;
    for (const entry of ops.filter((e) => canSeed(e) && (e.op.kind === 'create' || e.op.kind === 'update'))) {
      for (const p of entry.params.filter((q) => q.in === 'body' && q.required)) {
        const message = `Missing required parameter ${p.name} in the post body`;
        const without = body(entry).filter(([k]) => k !== p.name);
        const res = await refused(entry, undefined, () => h().raw('POST', pathOf(entry), { body: without }));
        assertErrorBody(res, { status: 400, code: 20001, message });
        const empty = sdkParams([...without, [p.name, p.kind === 'array' ? [''] : '']]);
        await refused(entry, undefined, () =>
          rejectsRest(sdkCall(v1(), entry, (n) => seeded(entry, n))(empty), { status: 400, code: 20001, message }),
        );
        checked++;
      }
    }
    assert.ok(checked >= 8, `${checked} required parameters`);
  });

  it('each enum, boolean and integer parameter with a value outside its kind: 400 / 20001 (or its own code)', async () => {
    let checked = 0;
    for (const entry of ops.filter(canSeed)) {
      for (const p of entry.params.filter((q) => (q.in === 'body' || q.in === 'query') && ['enum', 'enum-array', 'bool', 'int'].includes(q.kind))) {
        for (const bad of ['not-a-value', p.kind === 'int' ? '1.5' : 'TRUEISH']) {
          const want = ownCode(entry, p.name) ?? { code: 20001, message: new RegExp(`^Invalid value for ${p.name.replace(/\./g, '\\.')}`) };
          const pairs = [...body(entry).filter(([k]) => k !== p.name), [p.name, bad]];
          const res = await refused(entry, undefined, () =>
            p.in === 'query'
              ? h().raw('GET', `${pathOf(entry)}?${new URLSearchParams([...listQuery(entry), [p.name, bad]])}`)
              : h().raw(entry.op.method, pathOf(entry), { body: pairs }),
          );
          assertErrorBody(res, { status: 400, ...want });
          const sdkValue = p.kind === 'enum-array' ? [bad] : bad;
          const params = p.in === 'query' ? { ...sdkParams(listQuery(entry)), [sdkName(p.name)]: sdkValue } : { ...sdkParams(pairs.slice(0, -1)), [sdkName(p.name)]: sdkValue };
          await refused(entry, undefined, () => rejectsRest(sdkCall(v1(), entry, (n) => seeded(entry, n))(params), { status: 400, ...want }));
          checked++;
        }
      }
    }
    assert.ok(checked >= 10, `${checked} value cases`);
  });

  it('each SID body parameter malformed: 400 / 20423 naming the parameter (or its own code), and nothing changes', async () => {
    let checked = 0;
    for (const entry of ops.filter((e) => canSeed(e) && e.op.method === 'POST')) {
      for (const p of entry.params.filter((q) => q.in === 'body' && q.kind === 'sid')) {
        for (const bad of ['foo', `${p.prefix === 'ZZ' ? 'YY' : 'ZZ'}${randomHex(32)}`, `${p.prefix}${randomHex(31)}`]) {
          const own = ownCode(entry, p.name);
          const want = own ?? { code: 20423, message: new RegExp(`^Invalid SID.*\\b${p.name}\\b`) };
          const pairs = [...body(entry).filter(([k]) => k !== p.name), [p.name, bad]];
          const res = await refused(entry, undefined, () => h().raw('POST', pathOf(entry), { body: pairs }));
          assertErrorBody(res, { status: 400, ...want });
          await refused(entry, undefined, () =>
            rejectsRest(sdkCall(v1(), entry, (n) => seeded(entry, n))(sdkParams(pairs)), { status: 400, ...want }),
          );
          checked++;
        }
      }
    }
    assert.ok(checked >= 6, `${checked} SID cases`);
  });

  /** Checks one successful answer: table status, spec keys in order, absolute URLs that lead somewhere. */
  async function answer(entry, res, followed) {
    const { op } = entry;
    assert.ok(res.status === op.status || (op.status_alt && res.status === op.status_alt), `${op.id}: ${res.status} ${res.body}`);
    if (op.kind === 'delete') return assert.equal(res.body, '');
    const items = op.kind === 'list' ? res.json[op.list_key] : [res.json];
    if (op.kind === 'list') {
      assert.deepEqual(Object.keys(res.json), [op.list_key, 'meta'], `${op.id}: page keys`);
      const meta = res.json.meta;
      // the order of the spec's examples and of Twilio's answers (the schema lists the keys alphabetically)
      assert.deepEqual(Object.keys(meta), ['page', 'page_size', 'first_page_url', 'previous_page_url', 'url', 'next_page_url', 'key']);
      assert.equal(meta.key, op.list_key);
      assert.equal(meta.page, 0);
      assert.equal(meta.page_size, Math.min(50, op.page_max));
      assert.equal(meta.previous_page_url, null);
      const query = listQuery(entry, made.identity);
      const self = `${PUBLIC}${pathOf(entry)}?${query.length ? `${new URLSearchParams(query)}&` : ''}PageSize=${meta.page_size}&Page=0`;
      assert.equal(meta.url, self, `${op.id}: meta.url`);
      assert.equal(meta.first_page_url, self, `${op.id}: meta.first_page_url`);
    }
    for (const item of items) assert.deepEqual(Object.keys(item), fieldNames(entry), `${op.id}: keys`);
    const urls = urlsOf(res.json);
    if (entry.fields.some((f) => f.name === 'url') && items.length > 0) assert.ok(urls.length > 0, `${op.id}: no url`);
    for (const [k, u] of urls) {
      if (u === null) continue;
      assert.ok(u.startsWith(`${PUBLIC}/v1/`), `${op.id}: ${k} ${u} is not on the public URL`);
      if (followed.has(u)) continue;
      followed.add(u);
      // a link names a path of the spec; when the server implements a GET there, it answers 200
      const local = u.slice(PUBLIC.length);
      const target = specOp(local.split('?')[0]);
      // a message's links.channel_metadata is in every example of the spec, its path in none: rendered, and
      // answered 404 (BEHAVIOUR-conversations §3.4)
      if (!target && k.endsWith('channel_metadata') && local.endsWith('/ChannelMetadata')) {
        assert.equal((await h().raw('GET', local)).status, 404, `${op.id}: ${k} ${u}`);
        continue;
      }
      assert.ok(target, `${op.id}: ${k} ${u} is no path of the spec`);
      // (a lookup such as ParticipantConversations answers only with its Identity or Address)
      if (target.op.method !== 'GET' || !ops.includes(target) || listQuery(target).length) continue;
      const r = await h().raw('GET', local);
      assert.equal(r.status, 200, `${op.id}: ${k} ${u} (${target.op.id}): ${r.body}`);
    }
  }

  it('successful answers: the table status, exactly the spec fields in order, url/links/meta on the public URL', async (t) => {
    const followed = new Set();
    let checked = 0;
    for (const entry of ops.filter((e) => canSeed(e) && e.op.kind !== 'delete')) {
      const query = listQuery(entry, made.identity);
      const at = pathOf(entry) + (query.length ? `?${new URLSearchParams(query)}` : '');
      const res = await h().raw(entry.op.method, at, { body: entry.op.method === 'POST' ? body(entry) : undefined });
      await answer(entry, res, followed);
      // and twilio-node reads the same resource (a page of the same list)
      if (entry.op.kind === 'fetch' || entry.op.kind === 'list') {
        const got = await sdkCall(v1(), entry, (n) => seeded(entry, n))(sdkParams(query));
        if (entry.op.kind === 'list') {
          assert.deepEqual(got.instances.map((x) => x.sid ?? x.conversationSid), res.json[entry.op.list_key].map((x) => x.sid ?? x.conversation_sid), entry.op.id);
        } else {
          assert.equal(got.url, res.json.url, `${entry.op.id}: twilio-node's url`);
          if ('sid' in res.json) assert.equal(got.sid, res.json.sid, entry.op.id);
        }
      }
      checked++;
    }
    assert.ok(checked >= 30, `${checked} operations`);
    t.diagnostic(`${checked} operations, ${followed.size} URLs followed`);
  });

  it('deletes: 204 with no body, then 404 on a fetch (twilio-node) and on a second delete, gone from the list', async () => {
    let checked = 0;
    for (const entry of ops.filter((e) => e.op.kind === 'delete' && canSeed(e))) {
      const collection = entry.op.path.replace(/\/\{Sid\}$/, '');
      const create = ops.find((e) => e.op.kind === 'create' && e.op.path === collection);
      if (!create) continue; // bindings: REST cannot create them (optable.test.mjs deletes seeded ones)
      const made1 = await h().raw('POST', pathOf(create), { body: body(create) });
      assert.equal(made1.status, create.op.status, `${create.op.id}: ${made1.body}`);
      const sid = made1.json.sid;
      const f = (n) => (n === 'Sid' ? sid : seeded(entry, n));
      const p = pathOf(entry, f);
      const del = await h().raw('DELETE', p);
      assert.equal(del.status, entry.op.status, `${entry.op.id} ${p}: ${del.body}`);
      assert.equal(del.body, '');
      const message = `The requested resource ${p.slice(3)} was not found`;
      const fetch = ops.find((e) => e.op.kind === 'fetch' && e.op.path === entry.op.path);
      if (fetch) await rejectsRest(sdkCall(v1(), fetch, f)(), { status: 404, code: 20404, message });
      assertErrorBody(await h().raw('DELETE', p), { status: 404, code: 20404, message });
      const list = ops.find((e) => e.op.kind === 'list' && e.op.path === collection);
      if (list) {
        const res = await h().raw('GET', `${pathOf(list)}?PageSize=1000`);
        assert.ok(!res.json[list.op.list_key].some((x) => x.sid === sid), `${entry.op.id}: ${sid} still listed`);
      }
      checked++;
    }
    assert.ok(checked >= 6, `${checked} deletes`);
  });

  /** A body with the service family's URLs and paths written as the short family's. */
  const short = (text) => text.split(`/v1/Services/${IS}/`).join('/v1/').split(`/Services/${IS}/`).join('/');

  it('both path families answer alike (modulo URLs): reads, updates, creates and their errors', async (t) => {
    let pairs = 0;
    for (const entry of ops.filter((e) => isFamily(e.op) && canSeed(e))) {
      const twin = shortTwin(entry, ops);
      if (!twin) continue;
      const f = (n) => seeded(entry, n);
      // reads and updates on the same resource; a create of each refused the same way (its required
      // parameter missing, or an invalid value when nothing is required)
      const cases = [];
      if (entry.op.kind === 'fetch' || entry.op.kind === 'list') cases.push(undefined);
      if (entry.op.kind === 'update') cases.push(body(entry));
      if (entry.op.kind === 'create' || entry.op.kind === 'update') cases.push(body(entry).slice(1));
      if (entry.params.some((p) => p.name === 'RoleSid')) cases.push([['RoleSid', 'foo'], ...body(entry)]);
      cases.push('unknown');
      for (const c of cases) {
        let a, b;
        if (c === 'unknown') {
          const last = pathParams(twin.op.path).at(-1);
          const unknown = unknownSid(twin, last ?? 'Sid');
          const g = (n) => (n === last ? unknown : f(n));
          if (!last) continue;
          a = await h().raw(entry.op.method, fill(entry.op.path, g));
          b = await h().raw(twin.op.method, fill(twin.op.path, g));
        } else {
          a = await h().raw(entry.op.method, fill(entry.op.path, f), { body: c });
          b = await h().raw(twin.op.method, fill(twin.op.path, f), { body: c });
        }
        assert.equal(a.status, b.status, `${entry.op.id} / ${twin.op.id}: ${a.body} / ${b.body}`);
        // a create that needs no parameter succeeds on both: its own SID and creation time differ, and so
        // do the times counted from it (a conversation's timers: the two creates may straddle a second)
        const norm = (r) => {
          let j = JSON.parse(short(r.body || 'null'));
          if (j && typeof j === 'object' && entry.op.kind === 'create' && r.status < 300 && typeof j.sid === 'string') {
            j = JSON.parse(JSON.stringify(j).split(j.sid).join('<sid>'));
            delete j.date_created;
            if (j.timers && typeof j.timers === 'object') for (const k of Object.keys(j.timers)) j.timers[k] = '<time>';
          }
          if (j && typeof j === 'object' && 'date_updated' in j) delete j.date_updated;
          return j;
        };
        assert.deepEqual(norm(a), norm(b), `${entry.op.id} / ${twin.op.id} ${JSON.stringify(c)}`);
        if (a.status >= 400) assert.equal(a.json.more_info, moreInfo(a.json.code));
        pairs++;
      }
    }
    assert.ok(pairs >= 15, `${pairs} family pairs`);
    t.diagnostic(`${pairs} pairs compared`);
  });
});
