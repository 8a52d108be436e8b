// Push credentials (/v1/Credentials) through twilio-node: create for each type, fetch, list (paged), update,
// delete; validation errors; the secret fields are write-only: never in a response, never in the server's output.

import assert from 'node:assert/strict';
import { assertErrorBody, DATE_RE, e2eSuite, listAllRaw, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const CREDENTIAL_KEYS = ['sid', 'account_sid', 'friendly_name', 'type', 'sandbox', 'date_created', 'date_updated', 'url'];
const MISSING_TYPE = { status: 400, code: 20001, message: 'Missing required parameter Type in the post body' };
const NAME_LONG = { status: 400, code: 50003, message: 'Friendly name too long' };
const NO_PARAMS = { status: 400, code: 20161, message: 'Parameters are not specified for update request' };
const badValue = (name) => ({ status: 400, code: 20001, message: new RegExp(`^Invalid value for ${name}`) });
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });

e2eSuite('credentials', {}, (ctx, it) => {
  const h = () => ctx.h;
  const creds = () => h().client.conversations.v1.credentials;
  // every secret value sent in this suite; none may ever come back or be logged
  const secrets = [];
  const secret = (label) => {
    const s = `${label}-${randomHex(24)}`;
    secrets.push(s);
    return s;
  };
  const assertNoSecret = (text, where) => {
    for (const s of secrets) assert.ok(!text.includes(s), `${where} contains a secret (${s.slice(0, 12)}…)`);
  };

  function checkCredential(c, exp) {
    assert.match(c.sid, SID_RE('CR'));
    assert.equal(c.accountSid, h().accountSid);
    assert.equal(c.friendlyName, exp.friendlyName ?? null);
    assert.equal(c.type, exp.type);
    assert.equal(c.sandbox, exp.sandbox ?? 'False');
    assert.ok(c.dateCreated instanceof Date && !Number.isNaN(c.dateCreated.getTime()));
    assert.ok(c.dateUpdated instanceof Date && !Number.isNaN(c.dateUpdated.getTime()));
    assert.equal(c.url, `${h().url}/v1/Credentials/${c.sid}`);
    assertNoSecret(JSON.stringify(c.toJSON()), 'a credential');
  }

  it('the account starts with no credentials', async () => {
    assert.deepEqual(await creds().list(), []);
    const raw = await h().raw('GET', '/v1/Credentials');
    assert.equal(raw.status, 200);
    assert.deepEqual(raw.json.credentials, []);
    assert.equal(raw.json.meta.key, 'credentials');
    assert.equal(raw.json.meta.url, `${h().url}/v1/Credentials?PageSize=50&Page=0`);
  });

  it('create apn (certificate, private key, sandbox), gcm (api key) and fcm (secret); sandbox renders "True"/"False"', async () => {
    const apn = await creds().create({
      type: 'apn',
      friendlyName: 'iOS',
      certificate: `-----BEGIN CERTIFICATE-----\n${secret('cert')}\n-----END CERTIFICATE-----`,
      privateKey: `-----BEGIN RSA PRIVATE KEY-----\n${secret('key')}\n-----END RSA PRIVATE KEY-----`,
      sandbox: true,
    });
    checkCredential(apn, { type: 'apn', friendlyName: 'iOS', sandbox: 'True' });
    assert.equal(apn.dateCreated.getTime(), apn.dateUpdated.getTime());
    const gcm = await creds().create({ type: 'gcm', friendlyName: 'Android (old)', apiKey: secret('gcm') });
    checkCredential(gcm, { type: 'gcm', friendlyName: 'Android (old)' });
    const fcm = await creds().create({ type: 'fcm', secret: secret('fcm') });
    checkCredential(fcm, { type: 'fcm' });
    const apnProd = await creds().create({ type: 'apn', friendlyName: 'iOS prod', sandbox: false });
    checkCredential(apnProd, { type: 'apn', friendlyName: 'iOS prod', sandbox: 'False' });

    for (const c of [apn, gcm, fcm, apnProd]) {
      assert.deepEqual((await creds()(c.sid).fetch()).toJSON(), c.toJSON());
      const raw = await h().raw('GET', `/v1/Credentials/${c.sid}`);
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json), CREDENTIAL_KEYS);
      assert.match(raw.json.date_created, DATE_RE);
      assert.equal(typeof raw.json.sandbox, 'string');
      assertNoSecret(raw.body, 'GET body');
    }
    const listed = await creds().list();
    assert.deepEqual(listed.map((c) => c.sid), [apn.sid, gcm.sid, fcm.sid, apnProd.sid]);
  });

  it('raw create -> 201 with the spec keys and no secret in the body', async () => {
    const res = await h().raw('POST', '/v1/Credentials', { body: { Type: 'fcm', FriendlyName: 'raw', Secret: secret('raw') } });
    assert.equal(res.status, 201, res.body);
    assert.deepEqual(Object.keys(res.json), CREDENTIAL_KEYS);
    assert.equal(res.json.sandbox, 'False');
    assertNoSecret(res.body, 'create body');
    await creds()(res.json.sid).remove();
  });

  it('update changes what is given, rotates secrets, and never returns them', async () => {
    const c = await creds().create({ type: 'gcm', friendlyName: 'before', apiKey: secret('old') });
    const u = await creds()(c.sid).update({ friendlyName: 'after', apiKey: secret('new') });
    checkCredential(u, { type: 'gcm', friendlyName: 'after' });
    assert.equal(u.dateCreated.getTime(), c.dateCreated.getTime());
    assert.ok(u.dateUpdated.getTime() >= c.dateUpdated.getTime(), 'date_updated never goes back');
    const t = await creds()(c.sid).update({ type: 'apn', sandbox: true, certificate: secret('cert2'), privateKey: secret('key2') });
    checkCredential(t, { type: 'apn', friendlyName: 'after', sandbox: 'True' });
    const raw = await h().raw('POST', `/v1/Credentials/${c.sid}`, { body: { Sandbox: 'false', Secret: secret('s3') } });
    assert.equal(raw.status, 200, raw.body);
    assert.deepEqual(Object.keys(raw.json), CREDENTIAL_KEYS);
    assert.equal(raw.json.sandbox, 'False');
    assert.equal(raw.json.friendly_name, 'after');
    assertNoSecret(raw.body, 'update body');
    // an empty FriendlyName is stored as given
    assert.equal((await creds()(c.sid).update({ friendlyName: '' })).friendlyName, '');
  });

  it('delete -> 204; the credential is gone', async () => {
    const c = await creds().create({ type: 'fcm', secret: secret('gone') });
    const res = await h().raw('DELETE', `/v1/Credentials/${c.sid}`);
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    await rejectsRest(() => creds()(c.sid).fetch(), notFound(`/Credentials/${c.sid}`));
    await rejectsRest(() => creds()(c.sid).remove(), notFound(`/Credentials/${c.sid}`));
    assert.ok(!(await creds().list()).some((x) => x.sid === c.sid));
  });

  it('validation: Type required and one of apn|gcm|fcm; FriendlyName <= 64; Sandbox boolean; nothing created', async () => {
    const before = JSON.stringify(await listAllRaw(h(), '/v1/Credentials', 'credentials'));
    assertErrorBody(await h().raw('POST', '/v1/Credentials', { body: {} }), MISSING_TYPE);
    assertErrorBody(await h().raw('POST', '/v1/Credentials', { body: { Type: '', Secret: secret('x') } }), MISSING_TYPE);
    for (const type of ['APN', 'voip', 'webpush', 'twilsock']) {
      await rejectsRest(() => creds().create({ type, secret: secret('x') }), badValue('Type'));
    }
    await rejectsRest(() => creds().create({ type: 'apn', friendlyName: 'n'.repeat(65) }), NAME_LONG);
    for (const v of ['yes', 'T', '1', '']) {
      assertErrorBody(await h().raw('POST', '/v1/Credentials', { body: { Type: 'apn', Sandbox: v } }), badValue('Sandbox'));
    }
    assert.equal(JSON.stringify(await listAllRaw(h(), '/v1/Credentials', 'credentials')), before);
    const ok = await creds().create({ type: 'apn', friendlyName: 'n'.repeat(64) });
    assert.equal(ok.friendlyName, 'n'.repeat(64));
    await creds()(ok.sid).remove();
  });

  it('update validation: empty update -> 20161, bad values -> 400, nothing changes; unknown SIDs -> 404 first', async () => {
    const c = await creds().create({ type: 'fcm', friendlyName: 'stable', secret: secret('stable') });
    const snap = JSON.stringify((await creds()(c.sid).fetch()).toJSON());
    assertErrorBody(await h().raw('POST', `/v1/Credentials/${c.sid}`, { body: {} }), NO_PARAMS);
    await rejectsRest(() => creds()(c.sid).update({}), NO_PARAMS);
    await rejectsRest(() => creds()(c.sid).update({ type: 'voip' }), badValue('Type'));
    await rejectsRest(() => creds()(c.sid).update({ friendlyName: 'x'.repeat(65) }), NAME_LONG);
    assertErrorBody(await h().raw('POST', `/v1/Credentials/${c.sid}`, { body: { Sandbox: 'maybe' } }), badValue('Sandbox'));
    assert.equal(JSON.stringify((await creds()(c.sid).fetch()).toJSON()), snap);
    for (const sid of ['CR' + randomHex(32), 'CRxyz', 'RL' + randomHex(32), 'nope']) {
      const err = notFound(`/Credentials/${sid}`);
      await rejectsRest(() => creds()(sid).fetch(), err);
      await rejectsRest(() => creds()(sid).update({ friendlyName: 'x' }), err);
      await rejectsRest(() => creds()(sid).remove(), err);
      assertErrorBody(await h().raw('POST', `/v1/Credentials/${sid}`, { body: {} }), err);
    }
  });

  it('list pages by PageSize (max 100) and follows next_page_url', async () => {
    for (let i = 0; i < 5; i++) await creds().create({ type: 'fcm', friendlyName: `paged ${i}`, secret: secret('p') });
    const all = await listAllRaw(h(), '/v1/Credentials', 'credentials');
    const seen = [];
    let url = '/v1/Credentials?PageSize=2';
    while (url) {
      const res = await h().raw('GET', url);
      assert.equal(res.status, 200, res.body);
      assert.ok(res.json.credentials.length <= 2);
      assertNoSecret(res.body, 'list body');
      for (const c of res.json.credentials) assert.deepEqual(Object.keys(c), CREDENTIAL_KEYS);
      seen.push(...res.json.credentials);
      url = res.json.meta.next_page_url;
    }
    assert.deepEqual(seen.map((c) => c.sid), all.map((c) => c.sid));
    assert.equal((await h().raw('GET', '/v1/Credentials?PageSize=500')).json.meta.page_size, 100);
    assert.deepEqual((await creds().list({ pageSize: 3 })).map((c) => c.sid), all.map((c) => c.sid));
  });

  it('credentials survive a restart; 405 on unsupported methods', async () => {
    const c = await creds().create({ type: 'apn', friendlyName: 'durable', sandbox: true, certificate: secret('d') });
    await h().restart();
    assert.deepEqual((await creds()(c.sid).fetch()).toJSON(), c.toJSON());
    const NOT_ALLOWED = { status: 405, code: 20004, message: 'Method not allowed' };
    assertErrorBody(await h().raw('DELETE', '/v1/Credentials'), NOT_ALLOWED);
    assertErrorBody(await h().raw('PUT', `/v1/Credentials/${c.sid}`, { body: { FriendlyName: 'x' } }), NOT_ALLOWED);
  });

  it('no secret ever reached the server output', async () => {
    assert.ok(secrets.length > 10);
    assertNoSecret(h().log, 'the server output');
  });
});
