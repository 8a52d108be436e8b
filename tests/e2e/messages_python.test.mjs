// Messages and delivery receipts through twilio-python (Debian's python3-twilio 7.x): tests/py/messages.py runs the
// main flow on both path families against a fresh server and prints one line per check; this suite requires exit
// status 0 and every check passed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defaults, e2eSuite, REPO_ROOT } from './harness.mjs';

// Debian's interpreter, where python3-twilio lives (scripts/deps.sh installs it); a missing SDK fails the test
const PYTHON = '/usr/bin/python3';

e2eSuite('messages, python sdk', {}, (ctx, it) => {
  it('the message flow of tests/py/messages.py on both path families', async () => {
    const { serviceSid } = await defaults(ctx.h);
    const r = spawnSync(PYTHON, [path.join(REPO_ROOT, 'tests', 'py', 'messages.py')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH, BASE_URL: ctx.h.url, ACCOUNT_SID: ctx.h.accountSid, AUTH_TOKEN: ctx.h.authToken, SERVICE_SID: serviceSid },
    });
    assert.equal(r.status, 0, `messages.py failed:\n${r.stdout}\n${r.stderr || r.error}`);
    assert.ok(!/^FAIL /m.test(r.stdout), r.stdout);
    assert.equal((r.stdout.match(/^ok /gm) ?? []).length, 32, r.stdout);
  });
});
