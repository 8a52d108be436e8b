// Fidelity of the input side (issue 12): what Twilio accepts and how it answers, through twilio-node and raw HTTP.
// twilio-python's booleans are in python_sdk.test.mjs.

import assert from 'node:assert/strict';
import { before } from 'node:test';
import { assertErrorBody, defaults, e2eSuite, randomHex, rejectsRest } from './harness.mjs';

const badValue = (name) => ({ status: 400, code: 20001, message: new RegExp(`^Invalid value for ${name.replace(/\./g, '\\.')}`) });

e2eSuite('fidelity', {}, (ctx, it) => {
  const h = () => ctx.h;
  const v1 = () => h().client.conversations.v1;
  let IS;

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
  });

  // ---- booleans ------------------------------------------------------------------------------------------------

  it('booleans are accepted in any case on every boolean parameter; other words are still refused', async () => {
    const cred = await h().raw('POST', '/v1/Credentials', { body: { Type: 'apn', Sandbox: 'TRUE' } });
    assert.equal(cred.status, 201, cred.body);
    assert.equal(cred.json.sandbox, 'True');
    const upd = await h().raw('POST', `/v1/Credentials/${cred.json.sid}`, { body: { Sandbox: 'False' } });
    assert.equal(upd.status, 200, upd.body);
    assert.equal(upd.json.sandbox, 'False');
    for (const [v, want] of [['True', true], ['fALSE', false], ['TRUE', true], ['false', false]]) {
      const r = await h().raw('POST', `/v1/Services/${IS}/Configuration`, { body: { ReachabilityEnabled: v } });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.json.reachability_enabled, want, v);
    }
    const names = ['LogEnabled', 'NewMessage.Enabled', 'NewMessage.BadgeCountEnabled', 'NewMessage.WithMedia.Enabled', 'AddedToConversation.Enabled', 'RemovedFromConversation.Enabled'];
    const body = Object.fromEntries(names.map((n) => [n, 'True']));
    const n = await h().raw('POST', `/v1/Services/${IS}/Configuration/Notifications`, { body });
    assert.equal(n.status, 200, n.body);
    assert.equal(n.json.log_enabled, true);
    assert.equal(n.json.new_message.enabled, true);
    assert.equal(n.json.new_message.badge_count_enabled, true);
    assert.equal(n.json.new_message.with_media.enabled, true);
    assert.equal(n.json.added_to_conversation.enabled, true);
    assert.equal(n.json.removed_from_conversation.enabled, true);
    // twilio-node sends lower case
    const back = await v1().services(IS).configuration.notifications().update({ logEnabled: false, 'newMessage.enabled': false });
    assert.equal(back.logEnabled, false);
    assert.equal(back.newMessage.enabled, false);
    for (const v of ['yes', '1', 'T', 'truee', ' true']) {
      assertErrorBody(await h().raw('POST', `/v1/Services/${IS}/Configuration`, { body: { ReachabilityEnabled: v } }), badValue('ReachabilityEnabled'));
    }
  });
});
