// twilio-python (Debian's python3-twilio 7.x) against Parley: that SDK version puts Python booleans straight into
// the form, so they arrive as "True"/"False". The script tests/py/booleans.py makes the calls and checks the
// answers; this suite runs it against a fresh server and requires exit status 0. tests/py/fidelity.py does the
// same for the other fixes of issue 12, and tests/py/conversations.py the main conversation flow.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defaults, e2eSuite, REPO_ROOT } from './harness.mjs';

// Debian's interpreter, where python3-twilio lives (scripts/deps.sh installs it); a missing SDK fails the test
const PYTHON = '/usr/bin/python3';

function runPython(h, script, env = {}) {
  const r = spawnSync(PYTHON, [path.join(REPO_ROOT, 'tests', 'py', script)], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH, BASE_URL: h.url, ACCOUNT_SID: h.accountSid, AUTH_TOKEN: h.authToken, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr || String(r.error ?? '') };
}

e2eSuite('python sdk', {}, (ctx, it) => {
  it('booleans as twilio-python sends them (True/False) are accepted everywhere', async () => {
    const { serviceSid } = await defaults(ctx.h);
    const r = runPython(ctx.h, 'booleans.py', { SERVICE_SID: serviceSid });
    assert.equal(r.status, 0, `booleans.py failed:\n${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.create_sandbox, 'True');
    assert.equal(out.reachability_on, true);
    // what the server stored, read back through twilio-node
    const n = await ctx.h.client.conversations.v1.services(serviceSid).configuration.notifications().fetch();
    assert.equal(n.logEnabled, true);
    assert.equal(n.removedFromConversation.enabled, false);
  });

  it('the fidelity fixes of issue 12 as twilio-python users meet them (tests/py/fidelity.py)', async () => {
    const { serviceSid } = await defaults(ctx.h);
    const r = runPython(ctx.h, 'fidelity.py', { SERVICE_SID: serviceSid });
    assert.equal(r.status, 0, `fidelity.py failed:\n${r.stdout}\n${r.stderr}`);
    assert.ok(!/^FAIL /m.test(r.stdout), r.stdout);
    assert.equal((r.stdout.match(/^ok /gm) ?? []).length, 19, r.stdout);
  });

  it('conversations on both path families (tests/py/conversations.py)', async () => {
    const { serviceSid } = await defaults(ctx.h);
    const r = runPython(ctx.h, 'conversations.py', { SERVICE_SID: serviceSid });
    assert.equal(r.status, 0, `conversations.py failed:\n${r.stdout}\n${r.stderr}`);
    assert.ok(!/^FAIL /m.test(r.stdout), r.stdout);
    assert.equal((r.stdout.match(/^ok /gm) ?? []).length, 22, r.stdout);
  });
});
