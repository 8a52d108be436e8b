// UserConversations through twilio-node on both path families (BEHAVIOUR-conversations §7): a user's view of
// each conversation it participates in (any state), fetched by user SID or identity and by conversation SID or
// unique name; notification_level, the read horizon written through to the participant, unread_messages_count
// computed from the data; delete = the user leaves (no webhook); paging with each(); account isolation.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { defaults, e2eSuite, randomHex, rejectsRest, sleep } from './harness.mjs';
import { Receiver } from './receiver.mjs';

const KEYS = ['account_sid', 'chat_service_sid', 'conversation_sid', 'unread_messages_count', 'last_read_message_index', 'participant_sid',
  'user_sid', 'friendly_name', 'conversation_state', 'timers', 'attributes', 'date_created', 'date_updated', 'created_by', 'notification_level',
  'unique_name', 'url', 'links'];

e2eSuite('user conversations', {}, (ctx, it) => {
  let IS;
  let seq = 0;
  const uid = (base) => `${base}-${++seq}-${randomHex(4)}`;
  const v1 = () => ctx.h.client.conversations.v1;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  const families = [
    { name: 'short family', v: () => v1(), base: () => `${ctx.h.url}/v1`, rel: () => '/v1' },
    { name: 'service family', v: () => v1().services(IS), base: () => `${ctx.h.url}/v1/Services/${IS}`, rel: () => `/v1/Services/${IS}` },
  ];

  for (const fam of families) {
    it(`${fam.name}: a user's view of a conversation, by SID or identity and by SID or unique name`, async () => {
      const identity = `ü ${uid('view')}+x@y`;
      const unique = `uc room ${uid('r')} é`;
      const cv = await fam.v().conversations.create({ friendlyName: 'The Room', uniqueName: unique, attributes: '{"topic":"x"}' });
      const p = await fam.v().conversations(cv.sid).participants.create({ identity });
      const user = await fam.v().users(encodeURIComponent(identity)).fetch();
      const bySid = await fam.v().users(user.sid).userConversations(cv.sid).fetch();
      const byNames = await fam.v().users(encodeURIComponent(identity)).userConversations(encodeURIComponent(unique)).fetch();
      assert.deepEqual(byNames.toJSON(), bySid.toJSON());
      assert.equal(bySid.accountSid, ctx.h.accountSid);
      assert.equal(bySid.chatServiceSid, IS);
      assert.equal(bySid.conversationSid, cv.sid);
      assert.equal(bySid.participantSid, p.sid);
      assert.equal(bySid.userSid, user.sid);
      assert.equal(bySid.friendlyName, 'The Room');
      assert.equal(bySid.uniqueName, unique);
      assert.equal(bySid.attributes, '{"topic":"x"}');
      assert.equal(bySid.conversationState, 'active');
      assert.deepEqual(bySid.timers, {});
      assert.equal(bySid.dateCreated.getTime(), cv.dateCreated.getTime(), "the conversation's date_created");
      assert.equal(bySid.createdBy, 'system');
      assert.equal(bySid.notificationLevel, 'default');
      assert.equal(bySid.unreadMessagesCount, null, 'no read horizon: null');
      assert.equal(bySid.lastReadMessageIndex, null);
      assert.equal(bySid.url, `${fam.base()}/Users/${user.sid}/Conversations/${cv.sid}`, 'url with SIDs');
      assert.deepEqual(bySid.links, {
        participant: `${fam.base()}/Conversations/${cv.sid}/Participants/${p.sid}`,
        conversation: `${fam.base()}/Conversations/${cv.sid}`,
      });
      const raw = await ctx.h.raw('GET', `${fam.rel()}/Users/${user.sid}/Conversations/${cv.sid}`);
      assert.deepEqual(Object.keys(raw.json), KEYS);
    });

    it(`${fam.name}: update notification level and read horizon; they write through to the participant`, async () => {
      const identity = uid('reader');
      const cv = await fam.v().conversations.create({});
      const p = await fam.v().conversations(cv.sid).participants.create({ identity });
      const uc = fam.v().users(identity).userConversations(cv.sid);
      const muted = await uc.update({ notificationLevel: 'muted', lastReadMessageIndex: 5, lastReadTimestamp: new Date('2024-03-04T05:06:07Z') });
      assert.equal(muted.notificationLevel, 'muted');
      assert.equal(muted.lastReadMessageIndex, 5);
      assert.equal(muted.unreadMessagesCount, 0, 'a read horizon and no messages: 0');
      const part = await fam.v().conversations(cv.sid).participants(p.sid).fetch();
      assert.equal(part.lastReadMessageIndex, 5);
      assert.equal(part.lastReadTimestamp, '2024-03-04T05:06:07Z');
      // the participant's own update is seen by the view, and notification_level stays
      await fam.v().conversations(cv.sid).participants(p.sid).update({ lastReadMessageIndex: 9 });
      const again = await uc.fetch();
      assert.equal(again.lastReadMessageIndex, 9);
      assert.equal(again.notificationLevel, 'muted');
      assert.equal((await uc.update({ notificationLevel: 'default' })).notificationLevel, 'default');
    });

    it(`${fam.name}: list every conversation of the user, any state, paged with each()`, async () => {
      const identity = uid('member');
      const made = [];
      for (let i = 0; i < 7; i++) {
        const cv = await fam.v().conversations.create({ friendlyName: `c${i}` });
        await fam.v().conversations(cv.sid).participants.create({ identity });
        made.push(cv.sid);
      }
      await fam.v().conversations(made[2]).update({ state: 'closed' });
      await fam.v().conversations(made[3]).update({ state: 'inactive' });
      await fam.v().conversations.create({}); // not a member
      const seen = [];
      await fam.v().users(identity).userConversations.each({ pageSize: 3 }, (uc) => seen.push([uc.conversationSid, uc.conversationState]));
      assert.deepEqual(seen.map(([s]) => s), made);
      assert.equal(seen[2][1], 'closed');
      assert.equal(seen[3][1], 'inactive');
      const page = await ctx.h.raw('GET', `${fam.rel()}/Users/${identity}/Conversations?PageSize=3`);
      const user = await fam.v().users(identity).fetch();
      assert.equal(page.json.meta.key, 'conversations');
      assert.equal(page.json.meta.url, `${fam.base()}/Users/${user.sid}/Conversations?PageSize=3&Page=0`);
      assert.ok(page.json.meta.next_page_url.startsWith(`${fam.base()}/Users/${user.sid}/Conversations?PageSize=3&Page=1&PageToken=`));
      // a user in no conversation has an empty list
      const lonely = await fam.v().users.create({ identity: uid('lonely') });
      assert.equal((await fam.v().users(lonely.sid).userConversations.list()).length, 0);
    });

    it(`${fam.name}: delete = the user leaves the conversation`, async () => {
      const identity = uid('leaver');
      const cv = await fam.v().conversations.create({});
      const p = await fam.v().conversations(cv.sid).participants.create({ identity });
      await fam.v().users(identity).userConversations(cv.sid).remove();
      await rejectsRest(fam.v().users(identity).userConversations(cv.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.v().conversations(cv.sid).participants(p.sid).fetch(), { status: 404, code: 20404 });
      await rejectsRest(fam.v().users(identity).userConversations(cv.sid).remove(), { status: 404, code: 20404 });
      assert.equal((await fam.v().users(identity).fetch()).identity, identity, 'the user stays');
    });
  }

  it('unread counts through a realistic flow: two users, messages, horizons moved, a message deleted', async () => {
    const cv = await v1().conversations.create({ friendlyName: 'unread' });
    const [a, b] = [uid('ann'), uid('bob')];
    await v1().conversations(cv.sid).participants.create({ identity: a });
    await v1().conversations(cv.sid).participants.create({ identity: b });
    const view = async (who) => v1().users(encodeURIComponent(who)).userConversations(cv.sid).fetch();
    const post = async (author, body) => v1().conversations(cv.sid).messages.create({ author, body });
    // no read horizon yet: null, as Twilio answers
    assert.equal((await view(a)).unreadMessagesCount, null);
    const m0 = await post(a, 'hi bob');
    const m1 = await post(b, 'hi ann');
    const m2 = await post(a, 'how are you?');
    assert.deepEqual([m0.index, m1.index, m2.index], [0, 1, 2]);
    await v1().users(encodeURIComponent(a)).userConversations(cv.sid).update({ lastReadMessageIndex: 2 });
    await v1().users(encodeURIComponent(b)).userConversations(cv.sid).update({ lastReadMessageIndex: 0 });
    assert.equal((await view(a)).unreadMessagesCount, 0);
    assert.equal((await view(b)).unreadMessagesCount, 2);
    assert.equal((await view(b)).lastReadMessageIndex, 0);
    // a deleted message is no longer unread; indexes are never reused
    await v1().conversations(cv.sid).messages(m1.sid).remove();
    assert.equal((await view(b)).unreadMessagesCount, 1);
    const m3 = await post(b, 'fine');
    assert.equal(m3.index, 3);
    assert.equal((await view(a)).unreadMessagesCount, 1);
    assert.equal((await view(b)).unreadMessagesCount, 2);
    // the horizon moved through the participant is the same horizon
    const pb = (await v1().conversations(cv.sid).participants.list()).find((p) => p.identity === b);
    await v1().conversations(cv.sid).participants(pb.sid).update({ lastReadMessageIndex: 3 });
    assert.equal((await view(b)).unreadMessagesCount, 0);
    // and the list shows the same counts as the fetch
    const listed = await v1().users(encodeURIComponent(a)).userConversations.list();
    assert.equal(listed.find((x) => x.conversationSid === cv.sid).unreadMessagesCount, 1);
  });

  it('refusals: unknown user, conversation, or not a member (404); 50210, 50421, 50405; the closed guard', async () => {
    const identity = uid('refused');
    const cv = await v1().conversations.create({});
    const other = await v1().conversations.create({});
    await v1().conversations(cv.sid).participants.create({ identity });
    await rejectsRest(v1().users('US' + randomHex(32)).userConversations(cv.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(v1().users('nobody-here').userConversations.list(), { status: 404, code: 20404 });
    await rejectsRest(v1().users(identity).userConversations('CH' + randomHex(32)).fetch(), { status: 404, code: 20404 });
    await rejectsRest(v1().users(identity).userConversations(other.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(v1().users(identity).userConversations(other.sid).update({ notificationLevel: 'muted' }), { status: 404, code: 20404 });
    await rejectsRest(v1().users(identity).userConversations(other.sid).remove(), { status: 404, code: 20404 });
    const uc = v1().users(identity).userConversations(cv.sid);
    const before = JSON.stringify(await uc.fetch());
    await rejectsRest(uc.update({ notificationLevel: 'loud' }), { status: 400, code: 50210, message: 'Invalid notification level' });
    await rejectsRest(uc.update({ lastReadMessageIndex: 'two' }), { status: 400, code: 50421, message: 'Invalid last read message index format' });
    const ts = await ctx.h.raw('POST', `/v1/Users/${identity}/Conversations/${cv.sid}`, { body: { LastReadTimestamp: 'noon' } });
    assert.equal(ts.status, 400);
    assert.equal(ts.json.code, 50405);
    const empty = await ctx.h.raw('POST', `/v1/Users/${identity}/Conversations/${cv.sid}`, { body: {} });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.code, 20161);
    assert.equal(JSON.stringify(await uc.fetch()), before, 'a refused update changed nothing');
    await v1().conversations(cv.sid).update({ state: 'closed' });
    const closed = { status: 400, code: 50377, message: "Can't update conversation as it's in final closed state" };
    await rejectsRest(uc.update({ notificationLevel: 'muted' }), closed);
    await rejectsRest(uc.remove(), closed);
    assert.equal((await uc.fetch()).conversationState, 'closed', 'reads still work');
  });

  it('delete fires no webhook, even with the header', async () => {
    const rx = await new Receiver().listen();
    try {
      await v1().configuration.webhooks().update({ method: 'POST', filters: ['onParticipantRemoved', 'onParticipantRemove'], postWebhookUrl: `http://127.0.0.1:${rx.port}/post`,
        preWebhookUrl: `http://127.0.0.1:${rx.port}/pre`, target: 'webhook' });
      const identity = uid('silent');
      const cv = await v1().conversations.create({});
      await v1().conversations(cv.sid).participants.create({ identity });
      const res = await ctx.h.raw('DELETE', `/v1/Users/${identity}/Conversations/${cv.sid}`, { headers: { 'x-twilio-webhook-enabled': 'true' } });
      assert.equal(res.status, 204);
      await sleep(500);
      assert.equal(rx.requests.length, 0);
    } finally {
      await v1().configuration.webhooks().update({ filters: [], postWebhookUrl: '', preWebhookUrl: '' });
      await rx.close();
    }
  });

  it('another account sees none of it: 404 on both path families', async () => {
    const identity = uid('private');
    const cv = await v1().conversations.create({});
    await v1().conversations(cv.sid).participants.create({ identity });
    const user = await v1().users(identity).fetch();
    const made = ctx.h.cli(['account', 'create', '--friendly-name', 'other']);
    assert.equal(made.status, 0, made.stderr);
    const f = Object.fromEntries(made.stdout.trim().split('\n').map((l) => l.split(' ')));
    const ov1 = ctx.h.newClient(f.account_sid, f.auth_token).conversations.v1;
    await rejectsRest(ov1.users(user.sid).userConversations(cv.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(ov1.users(user.sid).userConversations.list(), { status: 404, code: 20404 });
    await rejectsRest(ov1.services(IS).users(user.sid).userConversations(cv.sid).fetch(), { status: 404, code: 20404 });
    await rejectsRest(ov1.users(user.sid).userConversations(cv.sid).update({ notificationLevel: 'muted' }), { status: 404, code: 20404 });
    await rejectsRest(ov1.users(user.sid).userConversations(cv.sid).remove(), { status: 404, code: 20404 });
    assert.equal((await v1().users(identity).userConversations(cv.sid).fetch()).notificationLevel, 'default');
  });
});
