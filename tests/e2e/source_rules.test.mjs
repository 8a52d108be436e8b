// Rules read from the source rather than run: no assert() on anything a request can reach, and every abort() a
// reviewed one (out of memory, no kernel randomness). A new assert or abort fails here until it is reviewed and
// listed, with the reason, in ALLOWED below.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './harness.mjs';

// file → {assert, abort}: how many of each it may hold, and why they are not reachable from input
const ALLOWED = {
  'src/util/sid.c': { assert: 1, abort: 1 }, // sid_new's prefix (every caller passes a literal); getrandom failed
  'src/util/arena.c': { abort: 1 }, // malloc failed
  'src/http/server.c': { abort: 1 }, // calloc of a connection state failed
  'src/webhook/client.c': { abort: 2 }, // calloc / realloc failed
  'src/cli/accounts.c': { abort: 1 }, // getrandom failed: secrets must be unguessable
  'src/main.c': { abort: 1 }, // getrandom failed (random_hex is only called with constant sizes)
};

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.[ch]$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The source without comments and string literals, so that neither is counted. */
function code(text) {
  // one pass, so that a quote inside a comment or a comment marker inside a string is taken for what it is
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (m) => (m[0] === '/' ? ' ' : '""'));
}

test('assert() and abort() in src/ are only the reviewed ones', () => {
  const found = {};
  for (const file of sources(path.join(REPO_ROOT, 'src'))) {
    const rel = path.relative(REPO_ROOT, file).split(path.sep).join('/');
    const c = code(fs.readFileSync(file, 'utf8'));
    const asserts = (c.match(/(?<![\w])assert\s*\(/g) ?? []).length;
    const aborts = (c.match(/(?<![\w])abort\s*\(/g) ?? []).length;
    if (asserts || aborts) found[rel] = { ...(asserts ? { assert: asserts } : {}), ...(aborts ? { abort: aborts } : {}) };
  }
  assert.deepEqual(found, ALLOWED);
});

// The one clock (src/util/clock.h): the domain's "now" is time_now_ms(). Reading the wall clock anywhere else would
// escape the test clock; durations and waits use the monotonic clock instead.
const WALL_CLOCK_ALLOWED = {
  'src/util/clock.c': 1, // the clock itself (real mode)
  'src/util/log.c': 1, // log lines carry the real time, also under a test clock
};

test('the wall clock is read only by the clock module (and the log)', () => {
  const re = /clock_gettime\s*\(\s*CLOCK_REALTIME\b|(?<![\w])gettimeofday\s*\(|(?<![\w])time\s*\(\s*(NULL|0)\s*\)|CLOCK_REALTIME_COARSE/g;
  const found = {};
  for (const file of sources(path.join(REPO_ROOT, 'src'))) {
    const rel = path.relative(REPO_ROOT, file).split(path.sep).join('/');
    const n = (code(fs.readFileSync(file, 'utf8')).match(re) ?? []).length;
    if (n) found[rel] = n;
  }
  assert.deepEqual(found, WALL_CLOCK_ALLOWED);
});

// STYLE.md's banned functions (curl's list): unbounded writes, silent number parsing, hidden state.
const BANNED = ['sprintf', 'vsprintf', 'strcpy', 'strcat', 'strncpy', 'strncat', 'strtok', 'gets', 'atoi', 'atol', 'atoll', 'sscanf'];

test('no banned string function in src/', () => {
  const re = new RegExp(`(?<![\\w])(${BANNED.join('|')})\\s*\\(`, 'g');
  const found = [];
  for (const file of sources(path.join(REPO_ROOT, 'src'))) {
    const rel = path.relative(REPO_ROOT, file).split(path.sep).join('/');
    for (const m of code(fs.readFileSync(file, 'utf8')).matchAll(re)) found.push(`${rel}: ${m[1]}`);
  }
  assert.deepEqual(found, []);
});
