// ParticipantConversations through twilio-node on both path families (BEHAVIOUR-conversations §6): the
// conversations of a participant found by Identity or by Address, exactly one of them (50451 for both, 20001
// for neither), every state, the binding with all six keys, links on the request's family, paging with each()
// and the filter carried in the meta URLs ("+" as %2B), account isolation.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest } from './harness.mjs';

const MG = 'MG' + 'b'.repeat(32);
const KEYS = ['account_sid', 'chat_service_sid', 'participant_sid', 'participant_user_sid', 'participant_identity', 'participant_messaging_binding',
  'conversation_sid', 'conversation_unique_name', 'conversation_friendly_name', 'conversation_attributes', 'conversation_date_created',
  'conversation_date_updated', 'conversation_created_by', 'conversation_state', 'conversation_timers', 'links'];

e2eSuite('participant conversations', {}, (ctx, it) => {
  let IS;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(4)}`;
  const v1 = () => ctx.h.client.conversations.v1;
  let phone = 7000000;
  const number = () => `+1212${++phone}`;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  const families = [
    { name: 'short family', v: () => v1(), base: () => `${ctx.h.url}/v1`, rel: () => '/v1' },
    { name: 'service family', v: () => v1().services(IS), base: () => `${ctx.h.url}/v1/Services/${IS}`, rel: () => `/v1/Services/${IS}` },
  ];

  for (const fam of families) {
    it(`${fam.name}: by identity: every conversation of the participant, any state, with links`, async () => {
      const identity = `Ωmega ${uid('pc')}+a@b`;
      const convs = [];
      for (let i = 0; i < 3; i++) {
        const cv = await fam.v().conversations.create({ friendlyName: `pc${i}`, uniqueName: uid('pcu'), attributes: `{"i":${i}}` });
        const p = await fam.v().conversations(cv.sid).participants.create({ identity });
        convs.push([cv, p]);
      }
      await fam.v().conversations(convs[1][0].sid).update({ state: 'closed' });
      const user = await fam.v().users(encodeURIComponent(identity)).fetch();
      const got = await fam.v().participantConversations.list({ identity });
      assert.deepEqual(got.map((x) => x.conversationSid), convs.map(([cv]) => cv.sid));
      const [cv0, p0] = convs[0];
      const one = got[0];
      assert.equal(one.accountSid, ctx.h.accountSid);
      assert.equal(one.chatServiceSid, IS);
      assert.equal(one.participantSid, p0.sid);
      assert.equal(one.participantUserSid, user.sid);
      assert.equal(one.participantIdentity, identity);
      assert.equal(one.participantMessagingBinding, null);
      assert.equal(one.conversationUniqueName, cv0.uniqueName);
      assert.equal(one.conversationFriendlyName, 'pc0');
      assert.equal(one.conversationAttributes, '{"i":0}');
      assert.equal(one.conversationDateCreated.getTime(), cv0.dateCreated.getTime());
      assert.equal(one.conversationCreatedBy, 'system');
      assert.equal(one.conversationState, 'active');
      assert.deepEqual(one.conversationTimers, {});
      assert.deepEqual(one.links, {
        participant: `${fam.base()}/Conversations/${cv0.sid}/Participants/${p0.sid}`,
        conversation: `${fam.base()}/Conversations/${cv0.sid}`,
      });
      assert.equal(got[1].conversationState, 'closed');
      const raw = await ctx.h.raw('GET', `${fam.rel()}/ParticipantConversations?Identity=${encodeURIComponent(identity)}`);
      assert.deepEqual(Object.keys(raw.json.conversations[0]), KEYS);
    });

    it(`${fam.name}: by address: the binding with all six keys; "+" travels as %2B in the meta URLs`, async () => {
      const address = number();
      const seen = [];
      for (let i = 0; i < 5; i++) {
        const cv = await fam.v().conversations.create({ messagingServiceSid: MG });
        const p = await fam.v().conversations(cv.sid).participants.create({ 'messagingBinding.address': address, 'messagingBinding.proxyAddress': number() });
        seen.push([cv.sid, p]);
      }
      const paged = [];
      await fam.v().participantConversations.each({ address, pageSize: 2 }, (x) => paged.push(x.conversationSid));
      assert.deepEqual(paged, seen.map(([s]) => s));
      const page = await ctx.h.raw('GET', `${fam.rel()}/ParticipantConversations?Address=${encodeURIComponent(address)}&PageSize=2`);
      assert.equal(page.status, 200, page.body);
      const first = page.json.conversations[0];
      assert.deepEqual(first.participant_messaging_binding, {
        address, proxy_address: seen[0][1].messagingBinding.proxy_address, type: 'sms', level: null, name: null, projected_address: null,
      });
      assert.equal(first.participant_identity, null);
      assert.equal(first.participant_user_sid, null);
      const enc = encodeURIComponent(address);
      assert.equal(page.json.meta.url, `${fam.base()}/ParticipantConversations?Address=${enc}&PageSize=2&Page=0`);
      assert.ok(page.json.meta.next_page_url.startsWith(`${fam.base()}/ParticipantConversations?Address=${enc}&PageSize=2&Page=1&PageToken=`));
      const next = await ctx.h.raw('GET', page.json.meta.next_page_url.slice(ctx.h.url.length));
      assert.equal(next.json.conversations[0].conversation_sid, seen[2][0]);
    });

    it(`${fam.name}: unknown identity or address: an empty list`, async () => {
      assert.deepEqual(await fam.v().participantConversations.list({ identity: uid('nobody') }), []);
      assert.deepEqual(await fam.v().participantConversations.list({ address: '+19999999999' }), []);
    });
  }

  it('exactly one of Identity or Address: 50451 for both, 20001 for neither', async () => {
    await rejectsRest(v1().participantConversations.list({ identity: 'a', address: '+15550001111' }), {
      status: 400, code: 50451, message: 'One user identifier parameter for lookup at a time is allowed. Please, use either Identity or Address',
    });
    await rejectsRest(v1().participantConversations.list(), { status: 400, code: 20001, message: 'Missing required parameter Identity or Address' });
    await rejectsRest(v1().services(IS).participantConversations.list(), { status: 400, code: 20001 });
  });

  it('another account sees none of it; an unknown service is 404', async () => {
    const identity = uid('mine');
    const cv = await v1().conversations.create({});
    await v1().conversations(cv.sid).participants.create({ identity });
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const ov1 = ctx.h.newClient(f.account_sid, f.auth_token).conversations.v1;
    assert.deepEqual(await ov1.participantConversations.list({ identity }), []);
    await rejectsRest(ov1.services(IS).participantConversations.list({ identity }), { status: 404, code: 20404 });
    await rejectsRest(v1().services('IS' + randomHex(32)).participantConversations.list({ identity }), { status: 404, code: 20404 });
    assert.equal((await v1().participantConversations.list({ identity })).length, 1);
  });
});
