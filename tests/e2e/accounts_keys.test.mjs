// Several accounts and API keys: `parley account …` / `parley key …` on the server's data file while it runs,
// HTTP Basic with SK…:secret through twilio-node (responses carry the owning account), revocation, and account
// isolation for every resource type, checked in both directions with auth tokens and with API keys.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before } from 'node:test';
import { assertErrorBody, e2eSuite, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const AUTHENTICATE = { status: 401, code: 20003, message: 'Authenticate' };
// one message for an unknown username and a wrong secret: a 401 must not tell which SIDs exist (DECISIONS.md)
const INVALID_USERNAME = { status: 401, code: 20003, message: 'Authenticate' };
const SERVICE_NOT_FOUND = { status: 400, code: 50050, message: 'Service Instance not found' };
const ROLE_NOT_FOUND = { status: 400, code: 50100, message: 'Role not found' };
const CONV_ROLE_NOT_FOUND = { status: 400, code: 50109, message: 'Conversation role not found' };
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

const haveSqlite = spawnSync('sqlite3', ['-version']).status === 0;
function sql(h, query) {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 5000', h.dataFile, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => l.split('|'));
}

/** `name value` lines of a subcommand's stdout as an object. */
function fields(stdout) {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ')));
}

e2eSuite('accounts and API keys', {}, (ctx, it) => {
  const h = () => ctx.h;
  const secrets = []; // tokens and key secrets printed by the subcommands
  let A; // the harness account
  let B; // created with `parley account create`

  function createAccount(name) {
    const r = h().cli(['account', 'create', '--friendly-name', name]);
    assert.equal(r.status, 0, r.stderr);
    const f = fields(r.stdout);
    assert.match(f.account_sid, SID_RE('AC'));
    assert.match(f.auth_token, /^[0-9a-f]{32}$/);
    secrets.push(f.auth_token);
    return { sid: f.account_sid, token: f.auth_token };
  }

  function createKey(accountSid, name) {
    const r = h().cli(['key', 'create', '--account', accountSid, ...(name ? ['--friendly-name', name] : [])]);
    assert.equal(r.status, 0, r.stderr);
    const f = fields(r.stdout);
    assert.match(f.sid, SID_RE('SK'));
    assert.match(f.secret, /^[0-9A-Za-z]{32}$/);
    assert.equal(f.account_sid, accountSid);
    secrets.push(f.secret);
    return { sid: f.sid, secret: f.secret };
  }

  before(async () => {
    A = { sid: ctx.h.accountSid, token: ctx.h.authToken };
  });

  // ---- subcommands ---------------------------------------------------------------------------------------

  it('account create / list on the running server\'s data file', async () => {
    B = createAccount('Second account');
    const list = h().cli(['account', 'list']);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.ok(lines[0].startsWith(`${A.sid} `), lines[0]);
    assert.match(lines[1], new RegExp(`^${B.sid} \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ IS[0-9a-f]{32} Second account$`));
    assert.ok(!list.stdout.includes(A.token) && !list.stdout.includes(B.token), 'tokens are not listed');
    // the new account works at once, with its own default service
    B.client = h().newClient(B.sid, B.token);
    const cfg = await B.client.conversations.v1.configuration().fetch();
    assert.equal(cfg.accountSid, B.sid);
    B.IS = cfg.defaultChatServiceSid;
    A.IS = (await h().client.conversations.v1.configuration().fetch()).defaultChatServiceSid;
    assert.notEqual(B.IS, A.IS);
    assert.equal((await B.client.conversations.v1.roles.list()).length, 4);
    A.client = h().client;
  });

  it('key create / list / revoke: usage errors and unknown SIDs', async () => {
    const k = createKey(B.sid, 'ci');
    const all = h().cli(['key', 'list']);
    assert.equal(all.status, 0);
    assert.match(all.stdout, new RegExp(`^${k.sid} ${B.sid} active \\S+ ci$`, 'm'));
    assert.ok(!all.stdout.includes(k.secret), 'secrets are not listed');
    const mine = h().cli(['key', 'list', '--account', A.sid]);
    assert.equal(mine.status, 0);
    assert.ok(!mine.stdout.includes(k.sid));

    const bad = [
      [['key', 'create'], 2],
      [['key', 'create', '--account', 'nope'], 2],
      [['key', 'create', '--account', 'AC' + randomHex(32)], 1],
      [['key', 'revoke'], 2],
      [['key', 'revoke', 'nope'], 2],
      [['key', 'revoke', 'SK' + randomHex(32)], 1],
      [['key', 'frobnicate'], 2],
      [['account', 'create', '--auth-token', 'short'], 2],
      [['account', 'create', '--friendly-name', 'x'.repeat(65)], 2],
      [['account', 'delete'], 2],
    ];
    for (const [args, status] of bad) {
      const r = h().cli(args);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', `${args.join(' ')} prints nothing on stdout`);
    }
    const help = h().cli(['key', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /parley key create --account/);
    assert.equal(h().cli(['account', 'list']).stdout.trim().split('\n').length, 2, 'no account was created by the failures');
  });

  it('an API key secret is stored only as a salted SHA-256 hash', { skip: !haveSqlite && 'sqlite3 shell not installed' }, async () => {
    const k1 = createKey(A.sid);
    const k2 = createKey(A.sid);
    const rows = sql(h(), `SELECT sid, salt, secret_hash FROM api_keys WHERE sid IN ('${k1.sid}', '${k2.sid}') ORDER BY sid`);
    assert.equal(rows.length, 2);
    for (const [, salt, hash] of rows) {
      assert.match(salt, /^[0-9a-f]{32}$/);
      assert.match(hash, /^[0-9a-f]{64}$/);
    }
    assert.notEqual(rows[0][1], rows[1][1], 'a salt per key');
    const dump = spawnSync('sqlite3', [h().dataFile, '.dump'], { encoding: 'utf8' }).stdout;
    for (const k of [k1, k2]) assert.ok(!dump.includes(k.secret), 'the secret is not in the data file');
  });

  // ---- HTTP Basic with SK…:secret ------------------------------------------------------------------------

  it('twilio-node with an API key acts for the owning account; responses carry its AC SID', async () => {
    const k = createKey(B.sid, 'sdk');
    const kc = h().newClient(k.sid, k.secret, { accountSid: B.sid });
    const cfg = await kc.conversations.v1.configuration().fetch();
    assert.equal(cfg.accountSid, B.sid);
    assert.equal(cfg.defaultChatServiceSid, B.IS);
    const u = await kc.conversations.v1.users.create({ identity: 'made-with-a-key' });
    assert.equal(u.accountSid, B.sid);
    assert.equal(u.chatServiceSid, B.IS);
    const s = await kc.conversations.v1.services.create({ friendlyName: 'key service' });
    assert.equal(s.accountSid, B.sid);
    const r = await kc.conversations.v1.services(s.sid).roles.create({ friendlyName: 'k', type: 'service', permission: ['joinConversation'] });
    assert.equal(r.accountSid, B.sid);
    const c = await kc.conversations.v1.credentials.create({ type: 'fcm', secret: 'k' });
    assert.equal(c.accountSid, B.sid);
    for (const body of [JSON.stringify(u.toJSON()), JSON.stringify(s.toJSON()), JSON.stringify(cfg.toJSON())]) {
      assert.ok(!body.includes(k.sid), 'the SK SID never appears in a resource');
    }
    // the same resources through the account's own token
    assert.equal((await B.client.conversations.v1.users('made-with-a-key').fetch()).sid, u.sid);
    assert.equal((await B.client.conversations.v1.services(s.sid).fetch()).sid, s.sid);
    await B.client.conversations.v1.services(s.sid).remove();
    await B.client.conversations.v1.credentials(c.sid).remove();
  });

  it('wrong secrets, other keys\' secrets and unknown keys -> 401 with the documented messages', async () => {
    const k1 = createKey(A.sid);
    const k2 = createKey(A.sid);
    const p = '/v1/Configuration';
    assert.equal((await h().raw('GET', p, { auth: [k1.sid, k1.secret] })).status, 200);
    for (const pass of [k2.secret, A.token, '', k1.secret.slice(0, -1), k1.secret + 'x', k1.secret.toLowerCase()]) {
      if (pass === k1.secret) continue;
      const res = await h().raw('GET', p, { auth: [k1.sid, pass] });
      assertErrorBody(res, AUTHENTICATE);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Twilio API"');
    }
    assertErrorBody(await h().raw('GET', p, { auth: ['SK' + randomHex(32), k1.secret] }), INVALID_USERNAME);
    assertErrorBody(await h().raw('GET', p, { auth: [A.sid, k1.secret] }), AUTHENTICATE);
    const kc = h().newClient(k1.sid, 'wrong-secret', { accountSid: A.sid });
    await rejectsRest(() => kc.conversations.v1.users.list(), AUTHENTICATE);
  });

  it('a revoked key fails at once with 401 "Authenticate"; other keys and the token keep working', async () => {
    const k1 = createKey(B.sid, 'to revoke');
    const k2 = createKey(B.sid, 'to keep');
    const c1 = h().newClient(k1.sid, k1.secret, { accountSid: B.sid });
    const c2 = h().newClient(k2.sid, k2.secret, { accountSid: B.sid });
    assert.equal((await c1.conversations.v1.users.list()).length >= 0, true);
    const r = h().cli(['key', 'revoke', k1.sid]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `revoked ${k1.sid}`);
    await rejectsRest(() => c1.conversations.v1.users.list(), AUTHENTICATE);
    assertErrorBody(await h().raw('POST', '/v1/Users', { auth: [k1.sid, k1.secret], body: { Identity: 'revoked-writer' } }), AUTHENTICATE);
    await rejectsRest(() => B.client.conversations.v1.users('revoked-writer').fetch(), notFound('/Users/revoked-writer'));
    assert.equal((await c2.conversations.v1.configuration().fetch()).accountSid, B.sid);
    assert.equal((await B.client.conversations.v1.configuration().fetch()).accountSid, B.sid);
    assert.match(h().cli(['key', 'list', '--account', B.sid]).stdout, new RegExp(`^${k1.sid} ${B.sid} revoked `, 'm'));
    // revoking again is harmless; the key stays revoked across a restart
    assert.equal(h().cli(['key', 'revoke', k1.sid]).status, 0);
    await h().restart();
    A.client = h().client;
    B.client = h().newClient(B.sid, B.token);
    assertErrorBody(await h().raw('GET', '/v1/Configuration', { auth: [k1.sid, k1.secret] }), AUTHENTICATE);
    assert.equal((await h().raw('GET', '/v1/Configuration', { auth: [k2.sid, k2.secret] })).status, 200);
  });

  // ---- isolation -------------------------------------------------------------------------------------------

  /** Resources of one account, created through its own client. */
  async function populate(owner, tag) {
    const v1 = owner.client.conversations.v1;
    const res = { tag };
    res.service = await v1.services.create({ friendlyName: `${tag} service` });
    res.role = await v1.roles.create({ friendlyName: `${tag} role`, type: 'service', permission: ['joinConversation'] });
    res.convRole = await v1.roles.create({ friendlyName: `${tag} conv role`, type: 'conversation', permission: ['sendMessage'] });
    res.user = await v1.users.create({ identity: `${tag}-only-user`, roleSid: res.role.sid });
    res.svcUser = await v1.services(res.service.sid).users.create({ identity: `${tag}-svc-user` });
    res.credential = await v1.credentials.create({ type: 'apn', friendlyName: `${tag} credential`, certificate: `${tag}-cert` });
    await v1.configuration().update({ defaultInactiveTimer: tag === 'a' ? 'PT2M' : 'PT3M' });
    await v1.services(res.service.sid).configuration.notifications().update({ logEnabled: true });
    if (haveSqlite) {
      res.binding = 'BS' + randomHex(32);
      sql(
        h(),
        `INSERT INTO bindings(sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types, date_created, date_updated)` +
          ` VALUES ('${res.binding}', '${owner.sid}', '${owner.IS}', '${res.credential.sid}', 'ep', '${tag}-only-user', 'apn', '[]', 1, 1)`,
      );
    }
    return res;
  }

  /** Everything the owner can read about its resources, to prove an intruder changed nothing. */
  async function ownerView(owner, res) {
    const get = async (p) => {
      const r = await h().raw('GET', p, { auth: [owner.sid, owner.token] });
      assert.equal(r.status, 200, `${p}: ${r.body}`);
      return r.json;
    };
    return JSON.stringify([
      await get('/v1/Configuration'),
      await get('/v1/Services'),
      await get(`/v1/Services/${res.service.sid}`),
      await get(`/v1/Services/${res.service.sid}/Users`),
      await get(`/v1/Services/${res.service.sid}/Configuration`),
      await get(`/v1/Services/${res.service.sid}/Configuration/Notifications`),
      await get('/v1/Users'),
      await get('/v1/Roles'),
      await get('/v1/Credentials'),
      await get(`/v1/Services/${owner.IS}/Bindings`),
    ]);
  }

  /** Every way the intruder (token or key) could reach the owner's resources: always 404 or a refusal. */
  async function intrude(intruder, owner, res) {
    const auth = intruder.auth;
    const raw = (m, p, body) => h().raw(m, p, { auth, body });
    const expect404 = async (m, p, body) => assertErrorBody(await raw(m, p, body), notFound(p.slice(3)));
    const S = res.service.sid;
    const OIS = owner.IS;

    // services, and everything under them, by the explicit family
    for (const svc of [S, OIS]) {
      await expect404('GET', `/v1/Services/${svc}`);
      await expect404('DELETE', `/v1/Services/${svc}`);
      for (const sub of ['Users', 'Roles', 'Configuration', 'Configuration/Notifications', 'Configuration/Webhooks', 'Bindings']) {
        await expect404('GET', `/v1/Services/${svc}/${sub}`);
      }
      await expect404('POST', `/v1/Services/${svc}/Users`, { Identity: 'intruder' });
      await expect404('POST', `/v1/Services/${svc}/Roles`, { FriendlyName: 'x', Type: 'service', Permission: 'joinConversation' });
      await expect404('POST', `/v1/Services/${svc}/Configuration`, { ReachabilityEnabled: 'true' });
      await expect404('POST', `/v1/Services/${svc}/Configuration/Notifications`, { LogEnabled: 'false' });
      await expect404('POST', `/v1/Services/${svc}/Configuration/Webhooks`, { PostWebhookUrl: 'https://example.com/x' });
    }
    await expect404('GET', `/v1/Services/${S}/Users/${res.svcUser.sid}`);
    await expect404('GET', `/v1/Services/${S}/Users/${res.svcUser.identity}`);
    await expect404('DELETE', `/v1/Services/${S}/Users/${res.svcUser.sid}`);
    await expect404('GET', `/v1/Services/${OIS}/Roles/${res.role.sid}`);
    await expect404('POST', `/v1/Services/${OIS}/Roles/${res.role.sid}`, { Permission: 'joinConversation' });
    await expect404('DELETE', `/v1/Services/${OIS}/Roles/${res.role.sid}`);
    if (res.binding) {
      await expect404('GET', `/v1/Services/${OIS}/Bindings/${res.binding}`);
      await expect404('DELETE', `/v1/Services/${OIS}/Bindings/${res.binding}`);
      await expect404('GET', `/v1/Services/${intruder.IS}/Bindings/${res.binding}`);
    }
    // short paths go to the intruder's own default service: the owner's users and roles are not there
    for (const key of [res.user.sid, res.user.identity]) {
      await expect404('GET', `/v1/Users/${key}`);
      await expect404('POST', `/v1/Users/${key}`, { FriendlyName: 'hijacked' });
      await expect404('DELETE', `/v1/Users/${key}`);
      await expect404('GET', `/v1/Users/${key}/Conversations`);
    }
    await expect404('GET', `/v1/Roles/${res.role.sid}`);
    await expect404('POST', `/v1/Roles/${res.role.sid}`, { Permission: 'joinConversation' });
    await expect404('DELETE', `/v1/Roles/${res.role.sid}`);
    // credentials
    await expect404('GET', `/v1/Credentials/${res.credential.sid}`);
    await expect404('POST', `/v1/Credentials/${res.credential.sid}`, { FriendlyName: 'hijacked' });
    await expect404('DELETE', `/v1/Credentials/${res.credential.sid}`);
    // lists never show the owner's resources
    const lists = [
      ['/v1/Services', 'services'],
      ['/v1/Credentials', 'credentials'],
      ['/v1/Users', 'users'],
      ['/v1/Roles', 'roles'],
      [`/v1/Services/${intruder.IS}/Bindings`, 'bindings'],
    ];
    const ownerSids = [S, OIS, res.credential.sid, res.user.sid, res.svcUser.sid, res.role.sid, res.convRole.sid, res.binding].filter(Boolean);
    for (const [p, key] of lists) {
      const r = await raw('GET', p);
      assert.equal(r.status, 200, r.body);
      for (const item of r.json[key]) {
        assert.equal(item.account_sid, intruder.sid, `${p} lists only the intruder's own`);
        assert.ok(!ownerSids.includes(item.sid), `${p} shows ${item.sid}`);
      }
    }
    // references to the owner's resources from the intruder's own ones are refused
    assertErrorBody(await raw('POST', '/v1/Configuration', { DefaultChatServiceSid: S }), SERVICE_NOT_FOUND);
    assertErrorBody(await raw('POST', '/v1/Configuration', { DefaultChatServiceSid: OIS }), SERVICE_NOT_FOUND);
    assertErrorBody(await raw('POST', `/v1/Services/${intruder.IS}/Configuration`, { DefaultChatServiceRoleSid: res.role.sid }), ROLE_NOT_FOUND);
    assertErrorBody(await raw('POST', `/v1/Services/${intruder.IS}/Configuration`, { DefaultConversationRoleSid: res.convRole.sid }), CONV_ROLE_NOT_FOUND);
    assertErrorBody(await raw('POST', '/v1/Users', { Identity: `x-${randomHex(4)}`, RoleSid: res.role.sid }), ROLE_NOT_FOUND);
    // the intruder's configuration is its own
    const cfg = await raw('GET', '/v1/Configuration');
    assert.equal(cfg.json.account_sid, intruder.sid);
    assert.equal(cfg.json.default_chat_service_sid, intruder.IS);
  }

  it('isolation in both directions for every resource type, with auth tokens and with API keys', async () => {
    const ka = createKey(A.sid, 'a key');
    const kb = createKey(B.sid, 'b key');
    const resA = await populate(A, 'a');
    const resB = await populate(B, 'b');
    const viewA = await ownerView(A, resA);
    const viewB = await ownerView(B, resB);
    const intruders = [
      [{ sid: B.sid, IS: B.IS, auth: [B.sid, B.token] }, A, resA],
      [{ sid: B.sid, IS: B.IS, auth: [kb.sid, kb.secret] }, A, resA],
      [{ sid: A.sid, IS: A.IS, auth: [A.sid, A.token] }, B, resB],
      [{ sid: A.sid, IS: A.IS, auth: [ka.sid, ka.secret] }, B, resB],
    ];
    for (const [intruder, owner, res] of intruders) await intrude(intruder, owner, res);
    assert.equal(await ownerView(A, resA), viewA, 'A is unchanged');
    assert.equal(await ownerView(B, resB), viewB, 'B is unchanged');
    // each account still reaches its own through the SDK, with token and key alike
    const kbClient = h().newClient(kb.sid, kb.secret, { accountSid: B.sid });
    assert.equal((await kbClient.conversations.v1.services(resB.service.sid).fetch()).accountSid, B.sid);
    assert.equal((await kbClient.conversations.v1.users(resB.user.identity).fetch()).roleSid, resB.role.sid);
    await rejectsRest(() => kbClient.conversations.v1.services(resA.service.sid).fetch(), notFound(`/Services/${resA.service.sid}`));
    await rejectsRest(() => B.client.conversations.v1.credentials(resA.credential.sid).fetch(), notFound(`/Credentials/${resA.credential.sid}`));
    await rejectsRest(() => A.client.conversations.v1.roles(resB.role.sid).fetch(), notFound(`/Roles/${resB.role.sid}`));
  });

  it('the same identity lives independently in two accounts', async () => {
    const a = await A.client.conversations.v1.users.create({ identity: 'shared@example.com', friendlyName: 'A' });
    const b = await B.client.conversations.v1.users.create({ identity: 'shared@example.com', friendlyName: 'B' });
    assert.notEqual(a.sid, b.sid);
    assert.equal((await A.client.conversations.v1.users('shared@example.com').fetch()).friendlyName, 'A');
    assert.equal((await B.client.conversations.v1.users('shared@example.com').fetch()).friendlyName, 'B');
    await B.client.conversations.v1.users('shared@example.com').remove();
    assert.equal((await A.client.conversations.v1.users('shared@example.com').fetch()).sid, a.sid);
  });

  it('a new user scripts the whole model with the SDK alone: second service, custom roles, users, default switch, API key', async () => {
    const k = createKey(B.sid, 'script');
    const c = h().newClient(k.sid, k.secret, { accountSid: B.sid }).conversations.v1;
    const svc = await c.services.create({ friendlyName: 'Scripted' });
    const mod = await c.services(svc.sid).roles.create({ friendlyName: 'moderator', type: 'service', permission: ['createConversation', 'joinConversation', 'editAnyUserInfo'] });
    const member = await c.services(svc.sid).roles.create({ friendlyName: 'member', type: 'service', permission: ['joinConversation'] });
    await c.services(svc.sid).configuration().update({ defaultChatServiceRoleSid: member.sid });
    const alice = await c.services(svc.sid).users.create({ identity: 'alice', roleSid: mod.sid });
    const bob = await c.services(svc.sid).users.create({ identity: 'bob' });
    assert.equal(alice.roleSid, mod.sid);
    assert.equal(bob.roleSid, member.sid);
    const oldDefault = (await c.configuration().fetch()).defaultChatServiceSid;
    await c.configuration().update({ defaultChatServiceSid: svc.sid });
    assert.deepEqual((await c.users.list()).map((u) => u.identity), ['alice', 'bob']);
    assert.equal((await c.users('bob').fetch()).url, `${h().url}/v1/Users/${bob.sid}`);
    await rejectsRest(() => c.roles(member.sid).remove(), { status: 409, code: 20409 });
    await c.configuration().update({ defaultChatServiceSid: oldDefault });
    await c.services(svc.sid).remove();
    await rejectsRest(() => c.services(svc.sid).fetch(), notFound(`/Services/${svc.sid}`));
  });

  it('no auth token or key secret ever reached the server output', async () => {
    assert.ok(secrets.length >= 10);
    for (const s of secrets) assert.ok(!h().log.includes(s), `the server output contains a secret (${s.slice(0, 6)}…)`);
  });
});
