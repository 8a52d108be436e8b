// ConversationWithParticipants through twilio-node on both path families (BEHAVIOUR-conversations §8): a
// conversation and up to 10 participants given as JSON strings (snake_case keys, the binding nested), all or
// nothing (50424, 50425, 50426 and every participant rule), 201 without participants and 202 with, one
// transaction, the events of both, account isolation.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const MG = 'MG' + 'c'.repeat(32);
const KEYS = ['account_sid', 'chat_service_sid', 'messaging_service_sid', 'sid', 'friendly_name', 'unique_name', 'attributes', 'state',
  'date_created', 'date_updated', 'timers', 'links', 'bindings', 'url'];

e2eSuite('conversation with participants', {}, (ctx, it) => {
  let IS;
  let roles;
  let rx;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(4)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  let phone = 3000000;
  const number = () => `+1310${++phone}`;

  before(async () => {
    ({ serviceSid: IS, roles } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => {
    await rx?.close();
  });

  const families = [
    { name: 'short family', v: () => v1(), base: () => `${ctx.h.url}/v1`, rel: () => '/v1' },
    { name: 'service family', v: () => v1().services(IS), base: () => `${ctx.h.url}/v1/Services/${IS}`, rel: () => `/v1/Services/${IS}` },
  ];

  for (const fam of families) {
    it(`${fam.name}: 201 without participants, 202 with; the participants are there in order`, async () => {
      const plain = await ctx.h.raw('POST', `${fam.rel()}/ConversationWithParticipants`, { body: { FriendlyName: 'alone' } });
      assert.equal(plain.status, 201, plain.body);
      assert.deepEqual(Object.keys(plain.json), KEYS);
      assert.equal(plain.json.url, `${fam.base()}/Conversations/${plain.json.sid}`);
      assert.deepEqual(Object.keys(plain.json.links), ['participants', 'messages', 'webhooks']);
      const identity = uid('cwp chat é+@');
      const address = number();
      const proxy = number();
      const projected = number();
      const cv = await fam.v().conversationWithParticipants.create({
        friendlyName: 'Support',
        uniqueName: uid('cwp'),
        messagingServiceSid: MG,
        participant: [
          JSON.stringify({ identity, attributes: '{"vip":true}' }),
          JSON.stringify({ messaging_binding: { address, proxy_address: proxy } }),
          JSON.stringify({ identity: uid('agent'), messaging_binding: { projected_address: projected } }),
        ],
      });
      assert.equal(cv.state, 'active');
      assert.equal(cv.friendlyName, 'Support');
      assert.equal(cv.messagingServiceSid, MG);
      const raw = await ctx.h.raw('POST', `${fam.rel()}/ConversationWithParticipants`, { body: [['Participant', JSON.stringify({ identity: uid('raw') })]] });
      assert.equal(raw.status, 202, raw.body);
      assert.deepEqual(Object.keys(raw.json), KEYS);
      const parts = await fam.v().conversations(cv.sid).participants.list();
      assert.equal(parts.length, 3);
      assert.equal(parts[0].identity, identity);
      assert.equal(parts[0].attributes, '{"vip":true}');
      assert.equal(parts[0].roleSid, roles['channel user'].sid);
      assert.deepEqual(parts[1].messagingBinding, { type: 'sms', address, proxy_address: proxy });
      assert.deepEqual(parts[2].messagingBinding, { type: 'sms', projected_address: projected });
      assert.equal((await fam.v().users(encodeURIComponent(identity)).fetch()).identity, identity, 'the user was created');
      const role = await v1().roles.create({ friendlyName: uid('cwp-role'), type: 'conversation', permission: ['sendMessage'] });
      const withRole = await fam.v().conversationWithParticipants.create({ participant: [JSON.stringify({ identity: uid('r'), role_sid: role.sid, unknown: 1 })] });
      assert.equal((await fam.v().conversations(withRole.sid).participants.list())[0].roleSid, role.sid);
    });
  }

  /** The conversations and users of the default service, to require that a refusal changed nothing. */
  const snapshot = async () =>
    JSON.stringify([(await ctx.h.raw('GET', '/v1/Conversations?PageSize=100')).json.conversations, (await ctx.h.raw('GET', '/v1/Users?PageSize=100')).json.users]);

  it('all or nothing: every refusal with its code, and no conversation, participant or user is left', async () => {
    const taken = { address: number(), proxy: number() };
    const holder = await v1().conversations.create({ messagingServiceSid: MG });
    await v1().conversations(holder.sid).participants.create({ 'messagingBinding.address': taken.address, 'messagingBinding.proxyAddress': taken.proxy });
    const named = await v1().conversations.create({ uniqueName: uid('taken-name') });
    const ok = () => JSON.stringify({ identity: uid('fine') });
    const cases = [
      [['not json'], 400, 50424, 'One of the JSON requests for participant creation is invalid'],
      [['[1, 2]'], 400, 50424],
      [['"alice"'], 400, 50424],
      [[JSON.stringify({ identity: 7 })], 400, 50424],
      [[JSON.stringify({ messaging_binding: 'x' })], 400, 50424],
      [[ok(), '{'], 400, 50424],
      [Array.from({ length: 11 }, ok), 400, 50426, 'Request contains too many participants'],
      [[ok(), JSON.stringify({ messaging_binding: { address: taken.address, proxy_address: taken.proxy } })], 409, 50425,
        'Participant and proxy address pairs for one or more participants already in use'],
      [[JSON.stringify({ identity: 'twice' }), JSON.stringify({ identity: 'twice' })], 409, 50433, 'Participant already exists'],
      [[JSON.stringify({ identity: 'x', messaging_binding: { address: number() } })], 400, 50211],
      [[ok(), JSON.stringify({})], 400, 50204, 'Identity not provided'],
      [[JSON.stringify({ identity: 'i'.repeat(257) })], 400, 50207],
      [[JSON.stringify({ messaging_binding: { address: 'nope', proxy_address: number() } })], 400, 50407],
      [[JSON.stringify({ identity: 'r', role_sid: roles['service user'].sid })], 400, 50109],
      [[JSON.stringify({ identity: 'a', attributes: '{' })], 400, 50304],
    ];
    const before = await snapshot();
    for (const [participant, status, code, message] of cases) {
      await rejectsRest(v1().conversationWithParticipants.create({ messagingServiceSid: MG, participant }), { status, code, message });
    }
    // a binding without a messaging service; a unique name already taken, with valid participants
    await rejectsRest(
      v1().conversationWithParticipants.create({ participant: [ok(), JSON.stringify({ messaging_binding: { address: number(), proxy_address: number() } })] }),
      { status: 400, code: 50373 },
    );
    await rejectsRest(v1().conversationWithParticipants.create({ uniqueName: named.uniqueName, participant: [ok()] }), { status: 409, code: 50353 });
    await rejectsRest(v1().conversationWithParticipants.create({ state: 'closed', participant: [ok()] }), { status: 400, code: 50384 });
    assert.equal(await snapshot(), before, 'a refused request left something behind');
  });

  it('events with the header: onConversationAdded, then onParticipantAdded for each, in order', async () => {
    const post = `http://127.0.0.1:${rx.port}/post`;
    await v1().configuration.webhooks().update({ method: 'POST', filters: ['onConversationAdded', 'onParticipantAdded'], postWebhookUrl: post, target: 'webhook' });
    rx.requests.length = 0;
    await v1().conversationWithParticipants.create({ participant: [JSON.stringify({ identity: uid('q') })] });
    const a = uid('ev-a');
    const b = uid('ev-b');
    const cv = await v1().conversationWithParticipants.create({ friendlyName: 'evented', participant: [JSON.stringify({ identity: a }), JSON.stringify({ identity: b })], xTwilioWebhookEnabled: 'true' });
    for (let i = 0; i < 100 && rx.requests.length < 3; i++) await sleep(50);
    await sleep(200);
    assert.deepEqual(rx.requests.map((r) => [r.params.EventType, r.params.Identity ?? r.params.FriendlyName]), [
      ['onConversationAdded', 'evented'],
      ['onParticipantAdded', a],
      ['onParticipantAdded', b],
    ]);
    for (const r of rx.requests) assert.equal(r.params.ConversationSid, cv.sid);
    await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '' });
  });

  it('another account cannot create in this account\'s service: 404', async () => {
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const ov1 = ctx.h.newClient(f.account_sid, f.auth_token).conversations.v1;
    const before = await snapshot();
    await rejectsRest(ov1.services(IS).conversationWithParticipants.create({ participant: [JSON.stringify({ identity: 'intruder' })] }), { status: 404, code: 20404 });
    assert.equal(await snapshot(), before);
    const own = await ov1.conversationWithParticipants.create({ participant: [JSON.stringify({ identity: 'theirs' })] });
    await rejectsRest(v1().conversations(own.sid).participants.list(), { status: 404, code: 20404 });
  });
});
