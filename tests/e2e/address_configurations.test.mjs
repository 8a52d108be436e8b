// Address Configurations (/v1/Configuration/Addresses) through twilio-node: every type with its address format,
// the auto_creation object of each AutoCreation.Type, fetch/update/delete by SID or by address (a `+` raw or
// escaped), one configuration per address (409), the Type filter, paging with each(), every validation error with
// nothing changed, and another account's configurations answering 404.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, DATE_RE, defaults, e2eSuite, listAllRaw, randomHex, rejectsRest, SID_RE } from './harness.mjs';

const KEYS = ['sid', 'account_sid', 'type', 'address', 'friendly_name', 'auto_creation', 'date_created', 'date_updated', 'url', 'address_country'];
const LIST = '/v1/Configuration/Addresses';
const badValue = (name) => ({ status: 400, code: 20001, message: new RegExp(`^Invalid value for ${name.replace(/\./g, '\\.')}`) });
const missing = (name) => ({ status: 400, code: 20001, message: `Missing required parameter ${name} in the post body` });
const notFound = (p) => ({ status: 404, code: 20404, message: `The requested resource ${p} was not found` });
const CONFLICT = { status: 409, code: 20409, message: 'Conflict' };
const NO_SERVICE = { status: 400, code: 50050, message: 'Service Instance not found' };
const NO_PARAMS = { status: 400, code: 20161, message: 'Parameters are not specified for update request' };

let serial = 0;
/** A fresh E.164 number (+1555 and seven digits). */
const number = () => `+1555${String(process.pid % 1000).padStart(3, '0')}${String(++serial).padStart(4, '0')}`;
const fields = (stdout) => Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ')));

e2eSuite('address configurations', {}, (ctx, it) => {
  const h = () => ctx.h;
  const addrs = () => h().client.conversations.v1.addressConfigurations;
  let IS; // the default service
  let other; // a second service of the account
  let B; // a second account: {sid, token, client}
  const made = []; // [{sid, address}] still there, creation order

  const snapshot = async () => JSON.stringify(await listAllRaw(h(), LIST, 'address_configurations'));
  /** Runs fn (a refused request) and requires the whole collection to read the same before and after. */
  async function unchanged(fn) {
    const before = await snapshot();
    await fn();
    assert.equal(await snapshot(), before, 'a refused request changed the configurations');
  }

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    other = (await ctx.h.client.conversations.v1.services.create({ friendlyName: 'address configs' })).sid;
    const r = ctx.h.cli(['account', 'create', '--friendly-name', 'address configs B']);
    assert.equal(r.status, 0, r.stderr);
    const f = fields(r.stdout);
    B = { sid: f.account_sid, token: f.auth_token, client: ctx.h.newClient(f.account_sid, f.auth_token) };
  });

  it('an account starts with none: an empty page with the spec meta', async () => {
    assert.deepEqual(await addrs().list(), []);
    const res = await h().raw('GET', LIST);
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json), ['address_configurations', 'meta']);
    assert.deepEqual(res.json.address_configurations, []);
    assert.equal(res.json.meta.key, 'address_configurations');
    assert.equal(res.json.meta.url, `${h().url}${LIST}?PageSize=50&Page=0`);
  });

  it('every type with an address in its format; Type in any case, stored lower-case; the spec keys in order', async () => {
    const cases = [
      ['sms', number()],
      ['sms', `${40000 + (process.pid % 10000)}`], // a short code
      ['whatsapp', `whatsapp:${number()}`],
      ['messenger', `messenger:${Date.now()}`],
      ['gbm', `gbm:agent-${randomHex(8)}`],
      ['email', `support-${randomHex(6)}@example.com`],
      ['rcs', `rcs:brand_${randomHex(6)}_agent`],
      ['apple', `urn:mbid:${randomHex(20)}`],
      ['chat', `chat-${randomHex(8)}`],
      ['whAtsAPP', `whatsapp:${number()}`], // the spec's createWhatsappCaseInsensitive
    ];
    for (const [type, address] of cases) {
      const c = await addrs().create({ type, address, friendlyName: `cfg ${type}` });
      assert.match(c.sid, SID_RE('IG'));
      assert.equal(c.accountSid, h().accountSid);
      assert.equal(c.type, type.toLowerCase());
      assert.equal(c.address, address);
      assert.equal(c.friendlyName, `cfg ${type}`);
      assert.deepEqual(c.autoCreation, { enabled: false, type: 'default' });
      assert.equal(c.addressCountry, null);
      assert.equal(c.url, `${h().url}${LIST}/${c.sid}`);
      assert.equal(c.dateCreated.getTime(), c.dateUpdated.getTime());
      const raw = await h().raw('GET', `${LIST}/${c.sid}`);
      assert.equal(raw.status, 200);
      assert.deepEqual(Object.keys(raw.json), KEYS);
      assert.match(raw.json.date_created, DATE_RE);
      made.push({ sid: c.sid, address });
    }
    assert.deepEqual((await addrs().list()).map((c) => c.sid), made.map((m) => m.sid));
  });

  it('auto_creation by AutoCreation.Type: webhook, studio, default (with the service when set)', async () => {
    const webhook = await addrs().create({
      type: 'sms',
      address: number(),
      'autoCreation.enabled': true,
      'autoCreation.type': 'webhook',
      'autoCreation.conversationServiceSid': other,
      'autoCreation.webhookUrl': 'https://example.com/inbound',
      'autoCreation.webhookMethod': 'get',
      'autoCreation.webhookFilters': ['onParticipantAdded', 'onMessageAdded', 'onParticipantAdded'],
      addressCountry: 'CA',
    });
    assert.deepEqual(webhook.autoCreation, {
      enabled: true,
      type: 'webhook',
      conversation_service_sid: other,
      webhook_url: 'https://example.com/inbound',
      webhook_method: 'GET',
      webhook_filters: ['onParticipantAdded', 'onMessageAdded'],
    });
    assert.equal(webhook.addressCountry, 'CA');
    // the method defaults to POST, rendered upper-case; no filters is []
    const plain = await addrs().create({ type: 'sms', address: number(), 'autoCreation.type': 'WEBHOOK', 'autoCreation.webhookMethod': 'Post' });
    assert.deepEqual(plain.autoCreation, { enabled: false, type: 'webhook', webhook_url: null, webhook_method: 'POST', webhook_filters: [] });
    const studio = await addrs().create({
      type: 'whatsapp',
      address: `whatsapp:${number()}`,
      'autoCreation.enabled': false,
      'autoCreation.type': 'studio',
      'autoCreation.conversationServiceSid': IS,
      'autoCreation.studioFlowSid': 'FW' + 'a'.repeat(32),
      'autoCreation.studioRetryCount': 3,
    });
    assert.deepEqual(studio.autoCreation, {
      enabled: false,
      type: 'studio',
      conversation_service_sid: IS,
      studio_flow_sid: 'FW' + 'a'.repeat(32),
      studio_retry_count: 3,
    });
    const dflt = await addrs().create({ type: 'email', address: `d-${randomHex(6)}@example.com`, 'autoCreation.enabled': true, 'autoCreation.type': 'default' });
    assert.deepEqual(dflt.autoCreation, { enabled: true, type: 'default' });
    const withService = await addrs().create({ type: 'sms', address: number(), 'autoCreation.type': 'default', 'autoCreation.conversationServiceSid': other });
    assert.deepEqual(withService.autoCreation, { enabled: false, type: 'default', conversation_service_sid: other });
    for (const c of [webhook, plain, studio, dflt, withService]) {
      assert.deepEqual((await addrs()(c.sid).fetch()).toJSON(), c.toJSON());
      made.push({ sid: c.sid, address: c.address });
    }
  });

  it('fetch by SID or by address: a `+` raw or escaped, whatsapp:, email; url always by SID', async () => {
    for (const { sid, address } of made) {
      const bySdk = await addrs()(address).fetch(); // twilio-node puts the address in the path as it is
      assert.equal(bySdk.sid, sid);
      assert.equal(bySdk.url, `${h().url}${LIST}/${sid}`);
      const escaped = await h().raw('GET', `${LIST}/${encodeURIComponent(address)}`);
      assert.equal(escaped.status, 200, escaped.body);
      assert.equal(escaped.json.sid, sid);
    }
    const plus = made.find((m) => m.address.startsWith('+'));
    const raw = await h().raw('GET', `${LIST}/${plus.address}`);
    assert.equal(raw.json.sid, plus.sid);
    // a `+` in a path is a plus, never a space; an address is matched exactly
    assertErrorBody(await h().raw('GET', `${LIST}/${plus.address.replace('+', '%20')}`), notFound(`/Configuration/Addresses/${plus.address.replace('+', '%20')}`));
    const upper = made.find((m) => m.address.includes('@'));
    const p = `/Configuration/Addresses/${upper.address.toUpperCase()}`;
    await rejectsRest(addrs()(upper.address.toUpperCase()).fetch(), notFound(p));
  });

  it('one configuration per address: a second one is 409 / 20409 and nothing changes; another account may have it', async () => {
    const { address } = made[0];
    await unchanged(() => rejectsRest(addrs().create({ type: 'sms', address }), CONFLICT));
    await unchanged(async () => assertErrorBody(await h().raw('POST', LIST, { body: { Type: 'sms', Address: address, FriendlyName: 'again' } }), CONFLICT));
    const mine = await B.client.conversations.v1.addressConfigurations.create({ type: 'sms', address });
    assert.equal(mine.accountSid, B.sid);
    assert.notEqual(mine.sid, made[0].sid);
    await B.client.conversations.v1.addressConfigurations(mine.sid).remove();
  });

  it('the Type filter: list({type}), any case, echoed first in the meta URLs; a bad Type is 400', async () => {
    const all = await addrs().list();
    for (const type of ['sms', 'whatsapp', 'email', 'chat', 'gbm']) {
      const listed = await addrs().list({ type });
      assert.deepEqual(listed.map((c) => c.sid), all.filter((c) => c.type === type).map((c) => c.sid), type);
      assert.ok(listed.length > 0, type);
    }
    const res = await h().raw('GET', `${LIST}?Type=SMS`);
    assert.equal(res.status, 200);
    assert.ok(res.json.address_configurations.every((c) => c.type === 'sms'));
    assert.equal(res.json.meta.url, `${h().url}${LIST}?Type=sms&PageSize=50&Page=0`);
    assert.equal(res.json.meta.first_page_url, `${h().url}${LIST}?Type=sms&PageSize=50&Page=0`);
    // paging keeps the filter
    const page = await h().raw('GET', `${LIST}?Type=sms&PageSize=1`);
    assert.match(page.json.meta.next_page_url, /\?Type=sms&PageSize=1&Page=1&PageToken=PT/);
    const next = await h().raw('GET', page.json.meta.next_page_url);
    assert.equal(next.json.address_configurations[0].type, 'sms');
    for (const bad of ['fax', 'sms,whatsapp', '']) assertErrorBody(await h().raw('GET', `${LIST}?Type=${encodeURIComponent(bad)}`), badValue('Type'));
    await rejectsRest(addrs().list({ type: 'fax' }), badValue('Type'));
  });

  it('paging with each(): every configuration once, in creation order, over several pages', async () => {
    const seen = [];
    await addrs().each({ pageSize: 3 }, (c) => seen.push(c.sid));
    assert.deepEqual(seen, made.map((m) => m.sid));
    assert.ok(made.length > 9);
    const limited = await addrs().list({ pageSize: 4, limit: 6 });
    assert.deepEqual(limited.map((c) => c.sid), made.slice(0, 6).map((m) => m.sid));
    const sms = [];
    await addrs().each({ type: 'sms', pageSize: 2 }, (c) => sms.push(c.sid));
    assert.deepEqual(sms, (await addrs().list({ type: 'sms' })).map((c) => c.sid));
    assert.ok(sms.length >= 3);
  });

  it('update by SID or address: FriendlyName and AutoCreation.*; type, address and country stay; other types\' fields kept', async () => {
    const address = number();
    const c = await addrs().create({
      type: 'sms',
      address,
      addressCountry: 'US',
      'autoCreation.type': 'webhook',
      'autoCreation.webhookUrl': 'https://example.com/a',
      'autoCreation.webhookFilters': ['onMessageAdded'],
    });
    made.push({ sid: c.sid, address });
    // the spec's update example: webhook to studio
    const u = await addrs()(address).update({
      friendlyName: 'My Test Configuration Updated',
      'autoCreation.enabled': false,
      'autoCreation.type': 'studio',
      'autoCreation.studioFlowSid': 'FW' + 'b'.repeat(32),
      'autoCreation.studioRetryCount': 0,
    });
    assert.equal(u.sid, c.sid);
    assert.equal(u.friendlyName, 'My Test Configuration Updated');
    assert.deepEqual(u.autoCreation, { enabled: false, type: 'studio', studio_flow_sid: 'FW' + 'b'.repeat(32), studio_retry_count: 0 });
    assert.equal(u.type, 'sms');
    assert.equal(u.address, address);
    assert.equal(u.addressCountry, 'US');
    assert.ok(u.dateUpdated >= c.dateUpdated);
    assert.equal(u.dateCreated.getTime(), c.dateCreated.getTime());
    // back to webhook: the URL and filters given before are still there; a new list replaces the old one
    const back = await addrs()(c.sid).update({ 'autoCreation.type': 'webhook', 'autoCreation.enabled': true });
    assert.deepEqual(back.autoCreation, { enabled: true, type: 'webhook', webhook_url: 'https://example.com/a', webhook_method: 'POST', webhook_filters: ['onMessageAdded'] });
    const replaced = await addrs()(c.sid).update({ 'autoCreation.webhookFilters': ['onConversationStateUpdated', 'onDeliveryUpdated'], 'autoCreation.conversationServiceSid': other });
    assert.deepEqual(replaced.autoCreation.webhook_filters, ['onConversationStateUpdated', 'onDeliveryUpdated']);
    assert.equal(replaced.autoCreation.conversation_service_sid, other);
    // an empty WebhookUrl clears it; "AutoCreation.WebhookFilters=" alone clears the list
    const cleared = await h().raw('POST', `${LIST}/${encodeURIComponent(address)}`, { body: { 'AutoCreation.WebhookUrl': '', 'AutoCreation.WebhookFilters': '' } });
    assert.equal(cleared.status, 200, cleared.body);
    assert.equal(cleared.json.auto_creation.webhook_url, null);
    assert.deepEqual(cleared.json.auto_creation.webhook_filters, []);
    assert.deepEqual(Object.keys(cleared.json), KEYS);
    // Type, Address and AddressCountry are not update parameters: alone they are no update at all
    await unchanged(async () => assertErrorBody(await h().raw('POST', `${LIST}/${c.sid}`, { body: { Type: 'whatsapp', Address: 'x', AddressCountry: 'GB' } }), NO_PARAMS));
    await unchanged(() => rejectsRest(addrs()(c.sid).update({}), NO_PARAMS));
    const fetched = await addrs()(c.sid).fetch();
    assert.equal(fetched.type, 'sms');
    assert.equal(fetched.address, address);
    assert.equal(fetched.addressCountry, 'US');
  });

  it('create refusals: every parameter error has its code and nothing changes', async () => {
    const ok = () => ({ Type: 'sms', Address: number() });
    const cases = [
      [{ Address: number() }, missing('Type')],
      [{ Type: 'sms' }, missing('Address')],
      [{ Type: '', Address: number() }, missing('Type')],
      [{ Type: 'fax', Address: number() }, badValue('Type')],
      [{ ...ok(), 'AutoCreation.Type': 'flex' }, badValue('AutoCreation.Type')],
      [{ ...ok(), 'AutoCreation.WebhookMethod': 'PUT' }, badValue('AutoCreation.WebhookMethod')],
      [{ ...ok(), 'AutoCreation.Enabled': 'yes' }, badValue('AutoCreation.Enabled')],
      [{ ...ok(), 'AutoCreation.StudioRetryCount': '-1' }, badValue('AutoCreation.StudioRetryCount')],
      [{ ...ok(), 'AutoCreation.StudioRetryCount': '101' }, badValue('AutoCreation.StudioRetryCount')],
      [{ ...ok(), 'AutoCreation.StudioRetryCount': '1.5' }, badValue('AutoCreation.StudioRetryCount')],
      [{ ...ok(), 'AutoCreation.StudioFlowSid': 'FW123' }, { status: 400, code: 20423, message: /^Invalid SID.*AutoCreation\.StudioFlowSid/ }],
      [{ ...ok(), 'AutoCreation.ConversationServiceSid': 'CH' + randomHex(32) }, { status: 400, code: 20423, message: /^Invalid SID.*AutoCreation\.ConversationServiceSid/ }],
      [{ ...ok(), 'AutoCreation.ConversationServiceSid': 'IS' + randomHex(32) }, NO_SERVICE],
      [{ ...ok(), 'AutoCreation.WebhookUrl': 'example.com/hook' }, badValue('AutoCreation.WebhookUrl')],
      [{ ...ok(), 'AutoCreation.WebhookUrl': 'ftp://example.com/' }, badValue('AutoCreation.WebhookUrl')],
      [{ ...ok(), 'AutoCreation.WebhookUrl': `https://example.com/${'a'.repeat(493)}` }, { status: 400, code: 20001, message: 'AutoCreation.WebhookUrl must be at most 512 characters' }],
      [{ ...ok(), 'AutoCreation.WebhookFilters': ['onMessageAdded', 'onMessageAdd'] }, badValue('AutoCreation.WebhookFilters')],
      [{ ...ok(), 'AutoCreation.WebhookFilters': 'onUserAdded' }, badValue('AutoCreation.WebhookFilters')],
      [{ ...ok(), 'AutoCreation.WebhookFilters': ['onMessageAdded', ''] }, badValue('AutoCreation.WebhookFilters')],
      [{ ...ok(), AddressCountry: 'USA' }, badValue('AddressCountry')],
      [{ ...ok(), AddressCountry: '' }, badValue('AddressCountry')],
      [{ ...ok(), FriendlyName: 'n'.repeat(257) }, { status: 400, code: 50003, message: 'Friendly name too long' }],
      [{ Type: 'sms', Address: `+1${'2'.repeat(255)}` }, { status: 400, code: 20001, message: 'Address must be at most 256 characters' }],
    ];
    // addresses that do not fit their type
    const badAddresses = [
      ['sms', '13115552368'.padStart(12, '9')], // no +, too long for a short code
      ['sms', '+0123456789'],
      ['sms', '+131155'],
      ['sms', '+1311555236812345'],
      ['sms', '+1 311 555 2368'],
      ['sms', 'whatsapp:+13115552368'],
      ['sms', '12'],
      ['whatsapp', '+13115552368'],
      ['whatsapp', 'whatsapp:13115552368'],
      ['whatsapp', 'WhatsApp:+13115552368'],
      ['messenger', 'messenger:'],
      ['messenger', 'messenger:page-name'],
      ['messenger', '1234567890'],
      ['email', 'support.example.com'],
      ['email', '@example.com'],
      ['email', 'a@b@example.com'],
      ['email', 'a@example'],
      ['email', 'a b@example.com'],
      ['rcs', 'brand_agent'],
      ['rcs', 'rcs:'],
      ['chat', 'IG' + randomHex(32)], // would be read as a SID in the path
      ['gbm', 'two words'],
      ['apple', 'tab\there'],
    ];
    for (const [Type, Address] of badAddresses) cases.push([{ Type, Address }, badValue('Address')]);
    for (const [body, want] of cases) {
      await unchanged(async () => assertErrorBody(await h().raw('POST', LIST, { body }), want));
    }
    // and through twilio-node, as an SDK user meets them
    await unchanged(() => rejectsRest(addrs().create({ type: 'sms', address: '555-0100' }), badValue('Address')));
    await unchanged(() => rejectsRest(addrs().create({ type: 'sms', address: number(), 'autoCreation.conversationServiceSid': 'IS' + randomHex(32) }), NO_SERVICE));
    await unchanged(() => rejectsRest(addrs().create({ type: 'sms', address: number(), 'autoCreation.webhookFilters': ['onConversationAdded'] }), badValue('AutoCreation.WebhookFilters')));
  });

  it('update refusals: codes as on create, a missing configuration first, and nothing changes', async () => {
    const { sid, address } = made[0];
    const before = await addrs()(sid).fetch();
    const cases = [
      [{ 'AutoCreation.Type': 'flex' }, badValue('AutoCreation.Type')],
      [{ 'AutoCreation.WebhookMethod': 'DELETE' }, badValue('AutoCreation.WebhookMethod')],
      [{ 'AutoCreation.WebhookUrl': 'not a url' }, badValue('AutoCreation.WebhookUrl')],
      [{ 'AutoCreation.WebhookFilters': 'onMessageSent' }, badValue('AutoCreation.WebhookFilters')],
      [{ 'AutoCreation.ConversationServiceSid': 'IS' + randomHex(32) }, NO_SERVICE],
      [{ 'AutoCreation.ConversationServiceSid': 'IS12' }, { status: 400, code: 20423, message: /AutoCreation\.ConversationServiceSid/ }],
      [{ 'AutoCreation.StudioRetryCount': 'x' }, badValue('AutoCreation.StudioRetryCount')],
      [{ FriendlyName: 'n'.repeat(257) }, { status: 400, code: 50003, message: 'Friendly name too long' }],
      [{}, NO_PARAMS],
    ];
    for (const [body, want] of cases) {
      for (const key of [sid, encodeURIComponent(address)]) {
        await unchanged(async () => assertErrorBody(await h().raw('POST', `${LIST}/${key}`, { body }), want));
      }
    }
    assert.deepEqual((await addrs()(sid).fetch()).toJSON(), before.toJSON());
    // a configuration that does not exist is 404 whatever the parameters (path resources come first)
    for (const key of ['IG' + randomHex(32), '+15550000000']) {
      const p = `/Configuration/Addresses/${key}`;
      for (const [body] of cases) await unchanged(async () => assertErrorBody(await h().raw('POST', `/v1${p}`, { body }), notFound(p)));
      await rejectsRest(addrs()(key).update({ 'autoCreation.webhookUrl': 'nope' }), notFound(p));
    }
  });

  it('another account\'s configurations are 404 on every operation and absent from its lists', async () => {
    const theirs = B.client.conversations.v1.addressConfigurations;
    assert.deepEqual(await theirs.list(), []);
    for (const { sid, address } of made.slice(0, 3)) {
      for (const key of [sid, address]) {
        const p = `/Configuration/Addresses/${key}`;
        await rejectsRest(theirs(key).fetch(), notFound(p));
        await rejectsRest(theirs(key).update({ friendlyName: 'mine now' }), notFound(p));
        await rejectsRest(theirs(key).remove(), notFound(p));
      }
    }
    // nor can a configuration name another account's service
    const bDefault = (await B.client.conversations.v1.configuration().fetch()).defaultChatServiceSid;
    await unchanged(() => rejectsRest(addrs().create({ type: 'sms', address: number(), 'autoCreation.conversationServiceSid': bDefault }), NO_SERVICE));
    await unchanged(() => rejectsRest(addrs()(made[0].sid).update({ 'autoCreation.conversationServiceSid': bDefault }), NO_SERVICE));
    // and A's are all still there, unchanged by B's attempts
    assert.deepEqual((await addrs().list()).map((c) => c.sid), made.map((m) => m.sid));
    assert.ok((await addrs().list()).every((c) => c.friendlyName !== 'mine now'));
  });

  it('delete by SID and by address: 204, then 404 everywhere; the address can be configured again', async () => {
    const [first, second] = made.splice(0, 2);
    assert.equal(await addrs()(first.sid).remove(), true);
    const del = await h().raw('DELETE', `${LIST}/${encodeURIComponent(second.address)}`);
    assert.equal(del.status, 204);
    assert.equal(del.body, '');
    for (const { sid, address } of [first, second]) {
      for (const key of [sid, address]) {
        const p = `/Configuration/Addresses/${key}`;
        await rejectsRest(addrs()(key).fetch(), notFound(p));
        await rejectsRest(addrs()(key).remove(), notFound(p));
      }
    }
    assert.deepEqual((await addrs().list()).map((c) => c.sid), made.map((m) => m.sid));
    const again = await addrs().create({ type: 'sms', address: first.address });
    assert.notEqual(again.sid, first.sid);
    made.push({ sid: again.sid, address: first.address });
  });

  it('a deleted service is no longer named: its configurations fall back to the default service', async () => {
    const svc = await h().client.conversations.v1.services.create({ friendlyName: 'going away' });
    const address = number();
    const c = await addrs().create({ type: 'sms', address, 'autoCreation.type': 'default', 'autoCreation.conversationServiceSid': svc.sid });
    assert.equal(c.autoCreation.conversation_service_sid, svc.sid);
    await h().client.conversations.v1.services(svc.sid).remove();
    // the service's rows go in the background (docs/DECISIONS.md, "Deleting a large service")
    let got;
    for (let i = 0; i < 100; i++) {
      got = await addrs()(address).fetch();
      if (!('conversation_service_sid' in got.autoCreation)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(got.autoCreation, { enabled: false, type: 'default' });
    // and it cannot be named any more
    await unchanged(() => rejectsRest(addrs()(address).update({ 'autoCreation.conversationServiceSid': svc.sid }), NO_SERVICE));
    made.push({ sid: c.sid, address });
  });
});
