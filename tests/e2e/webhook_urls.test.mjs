// Webhook URLs at and past the 2,048-byte limit (issue 10, finding 1): the pre-event log line once overflowed
// a fixed buffer with a 2,048-byte URL, and further with non-ASCII, and the stored URL crashed the server again
// after each restart. Run it on the ASan build too.

import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { e2eSuite, defaults, rejectsRest } from './harness.mjs';
import { Receiver, rawReceiver, urlOfBytes } from './receiver.mjs';

e2eSuite('webhook URLs at the byte limit', { args: ['--pre-webhook-timeout', '3000'] }, (ctx, it) => {
  let IS;
  let rx;
  let n = 0;
  const v1 = () => ctx.h.client.conversations.v1;
  const account = () => v1().configuration.webhooks();
  const service = () => v1().services(IS).configuration.webhooks();
  const hdr = { xTwilioWebhookEnabled: 'true' };
  const filters = ['onUserUpdate', 'onUserUpdated'];
  const clear = { filters: [''], preWebhookUrl: '', postWebhookUrl: '' };

  before(async () => {
    ({ serviceSid: IS } = await defaults(ctx.h));
    rx = await new Receiver().listen();
  });
  after(async () => rx?.close());

  async function logged(url, kind, count) {
    const log = await ctx.h.raw('GET', '/parley/webhooks/log?Limit=1000');
    assert.equal(log.status, 200);
    const got = log.json.deliveries.filter((d) => d.kind === kind && d.url === url);
    assert.ok(got.length >= count, `${got.length} ${kind} log rows with the ${Buffer.byteLength(url)}-byte URL, want ${count}`);
  }

  /** Three updates with the header through hooks at `level`; each pre and post call reaches the receiver. */
  async function threeUpdates(level, bytes) {
    const pre = urlOfBytes(rx, `/pre-${level}-${bytes}`, bytes);
    const post = urlOfBytes(rx, `/post-${level}-${bytes}`, bytes);
    assert.equal(Buffer.byteLength(pre), bytes);
    const set = await (level === 'account' ? account() : service()).update({ filters, preWebhookUrl: pre, postWebhookUrl: post });
    assert.equal(set.preWebhookUrl, pre);
    const id = `u-${level}-${bytes}-${++n}`;
    await v1().users.create({ identity: id });
    for (let i = 0; i < 3; i++) assert.equal((await v1().users(id).update({ friendlyName: `v${i}`, ...hdr })).friendlyName, `v${i}`);
    const pres = await rx.waitFor(`/pre-${level}-${bytes}`, 3);
    assert.equal(pres[0].rawUrl.length, bytes - rx.url('').length, 'the whole URL was sent');
    await rx.waitFor(`/post-${level}-${bytes}`, 3);
    await logged(pre, 'pre', 3);
    await logged(post, 'post', 3);
    await (level === 'account' ? account() : service()).update(clear);
  }

  for (const level of ['account', 'service'])
    for (const bytes of [2047, 2048])
      it(`${level}: ${bytes}-byte pre and post URLs, three updates with the header, logged whole`, () => threeUpdates(level, bytes));

  it('4,000 bytes, or 2,048 characters of non-ASCII, are refused at both levels and change nothing', async () => {
    await account().update({ filters, preWebhookUrl: rx.url('/keep-pre'), postWebhookUrl: rx.url('/keep-post') });
    const before = [(await account().fetch()).toJSON(), (await service().fetch()).toJSON()];
    const long = urlOfBytes(rx, '/long', 4000);
    const wide = rx.url('/wide?p=') + 'é'.repeat(1500); // under 2,048 characters, over 2,048 bytes
    assert.ok(wide.length <= 2048 && Buffer.byteLength(wide) > 2048);
    const wider = urlOfBytes(rx, '/wider', 2049);
    for (const res of [account, service])
      for (const key of ['preWebhookUrl', 'postWebhookUrl'])
        for (const url of [long, wide, wider])
          await rejectsRest(res().update({ [key]: url }), { status: 400, code: 20001, message: new RegExp(`at most 2048`) });
    assert.deepEqual([(await account().fetch()).toJSON(), (await service().fetch()).toJSON()], before);
    await account().update(clear);
  });

  it('non-ASCII within 2,048 bytes is accepted; updates with the header send and log it whole, at both levels', async () => {
    const raw = await rawReceiver();
    try {
      for (const level of ['account', 'service']) {
        const pre = urlOfBytes(raw, `/pre-wide-${level}`, 2048, 'ü');
        const post = urlOfBytes(raw, `/post-wide-${level}`, 2048, '€');
        assert.ok(pre.length < 1100 && Buffer.byteLength(pre) === 2048);
        const res = level === 'account' ? account() : service();
        assert.equal((await res.update({ filters, preWebhookUrl: pre, postWebhookUrl: post })).preWebhookUrl, pre);
        const id = `wide-${level}`;
        await v1().users.create({ identity: id });
        for (let i = 0; i < 3; i++) assert.equal((await v1().users(id).update({ friendlyName: `w${i}`, ...hdr })).friendlyName, `w${i}`);
        await logged(pre, 'pre', 3);
        await res.update(clear);
      }
      assert.ok(raw.lines.some((l) => l.startsWith('POST /pre-wide-account?pad=ü')), raw.lines[0]);
    } finally {
      await raw.close();
    }
  });

  it('2,048-byte URLs stored at both levels survive a restart and keep working', async () => {
    const pre = urlOfBytes(rx, '/pre-restart', 2048);
    const post = urlOfBytes(rx, '/post-restart', 2048);
    await account().update({ filters, preWebhookUrl: pre, postWebhookUrl: post });
    await service().update({ filters, preWebhookUrl: urlOfBytes(rx, '/pre-restart-svc', 2048), postWebhookUrl: post });
    await ctx.h.restart();
    await v1().users.create({ identity: 'after-restart' });
    for (let i = 0; i < 3; i++) await v1().users('after-restart').update({ friendlyName: `r${i}`, ...hdr });
    await rx.waitFor('/pre-restart-svc', 3);
    await rx.waitFor('/post-restart', 6);
    await logged(pre, 'pre', 3);
    await ctx.h.restart();
    assert.equal((await v1().users('after-restart').update({ friendlyName: 'again', ...hdr })).friendlyName, 'again');
  });
});
