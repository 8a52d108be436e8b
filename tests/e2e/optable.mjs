// The generated operation table (tests/operations.gen.json, written by scripts/gen_operations.py from the spec)
// as the e2e suites use it: the table itself, which of its operations the running server implements, and
// helpers to fill its path patterns and build request bodies. The suites read this data, never the C sources.
//
// Which operations are implemented is asked of the server: no route answers PATCH, so PATCH on a path answers
// 405 when the router knows the path and 404 when it does not; the operation's own method then answers anything
// but 405 exactly when the route has a handler for it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { randomHex, REPO_ROOT } from './harness.mjs';

export const TABLE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tests', 'operations.gen.json'), 'utf8')).operations;

// The explicit service family: "/v1/Services/{ChatServiceSid}/…" (the short family is the same path without it).
export const FAMILY = /^\/v1\/Services\/\{ChatServiceSid\}\//;
export const isFamily = (op) => FAMILY.test(op.path);

/** The short-family twin of a service-family operation, or null ('FetchServiceUser' → the 'FetchUser' entry): the
 * same path without "/Services/{ChatServiceSid}", the same method and the same fields (so not /v1/Configuration,
 * the account's configuration, for /v1/Services/{ChatServiceSid}/Configuration). */
export function shortTwin(entry, entries = TABLE) {
  if (!isFamily(entry.op)) return null;
  const p = entry.op.path.replace(FAMILY, '/v1/');
  const same = (e) => JSON.stringify(fieldNames(e)) === JSON.stringify(fieldNames(entry));
  return entries.find((e) => e.op.path === p && e.op.method === entry.op.method && same(e)) ?? null;
}

/** pattern with every {Name} replaced by encodeURIComponent(f(Name)). */
export const fill = (pattern, f) => pattern.replace(/\{([A-Za-z]+)\}/g, (_, name) => encodeURIComponent(f(name)));

/** The names of a path pattern's parameters, in order. */
export const pathParams = (pattern) => [...pattern.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]);

/** A well-formed SID nobody has: the parameter's prefix (US for a user's {Sid}, which also takes an identity). */
export function unknownSid(entry, name) {
  const p = entry.params.find((q) => q.name === name);
  let prefix = p?.prefix || '';
  if (!prefix) prefix = name === 'ChatServiceSid' ? 'IS' : name === 'UserSid' ? 'US' : entry.op.prefix || 'ZZ';
  return prefix + randomHex(32);
}

/** The implemented entries of the table, in table order, asked of the server h (a harness Server). */
export async function implementedOps(h, entries = TABLE) {
  const out = [];
  for (const entry of entries) {
    const probe = fill(entry.op.path, (name) => unknownSid(entry, name));
    const patch = await h.raw('PATCH', probe);
    if (patch.status === 404) continue;
    assert.equal(patch.status, 405, `PATCH ${probe}: ${patch.body}`);
    const own = await h.raw(entry.op.method, probe);
    if (own.status !== 405) out.push(entry);
  }
  return out;
}

// Values for parameters whose meaning the spec's kind does not give (a role's permissions, a webhook method).
const VALUES = {
  Permission: ['sendMessage'],
  Method: 'POST',
  Attributes: '{"optable":true}',
  DefaultInactiveTimer: 'PT5M',
  DefaultClosedTimer: 'PT10M',
  // an address configuration's: the table's first Type is sms, whose address is an E.164 number, one per create
  Address: () => `+1555${String(++serial).padStart(7, '0')}`,
  'Configuration.Url': 'https://example.com/optable',
  'Configuration.Filters': ['onMessageAdded'],
  'Configuration.Triggers': ['optable'],
};

let serial = 0;
/** A valid value for parameter p of the table (arrays for list parameters). */
export function value(p) {
  if (p.name in VALUES) return typeof VALUES[p.name] === 'function' ? VALUES[p.name]() : VALUES[p.name];
  switch (p.kind) {
    case 'bool':
      return 'false';
    case 'enum':
      return p.choices[0];
    case 'enum-array':
      return [p.choices[0]];
    case 'int':
      return String(p.min ?? 1);
    case 'uri':
      return 'https://example.com/optable';
    case 'array':
      return ['optable'];
    default:
      return `optable-${++serial}-${randomHex(6)}`;
  }
}

/** [name, value] pairs of the required body parameters, plus for an update the first optional one that needs no
 * other resource. */
export function bodyPairs(entry) {
  const out = [];
  const params = entry.params.filter((p) => p.in === 'body');
  for (const p of params.filter((q) => q.required)) out.push([p.name, value(p)]);
  // a participant needs one of its kinds' parameters, which the spec leaves optional (a chat participant)
  if (entry.op.kind === 'create' && entry.op.prefix === 'MB') out.push(['Identity', value({ name: 'Identity' })]);
  // a scoped webhook of the first Target (webhook) needs a URL and a filter, which the spec leaves optional
  if (entry.op.kind === 'create' && entry.op.prefix === 'WH')
    for (const name of ['Configuration.Url', 'Configuration.Filters']) out.push([name, VALUES[name]]);
  // a message needs something to send (50503): Body, which the spec leaves optional beside MediaSid and ContentSid
  if (entry.op.kind === 'create' && entry.op.prefix === 'IM') out.push(['Body', value({ name: 'Body' })]);
  if (entry.op.kind === 'update') {
    const opt = params.filter((p) => !p.required && p.kind !== 'sid' && p.kind !== 'date-time');
    const pick =
      opt.find((p) => p.kind === 'bool') ??
      opt.find((p) => p.name === 'FriendlyName') ??
      opt.find((p) => p.name === 'Attributes') ??
      opt[0];
    if (pick) out.push([pick.name, value(pick)]);
  }
  return out;
}

/** The query pairs a list needs to answer at all: ParticipantConversations looks up exactly one of Identity or
 * Address (BEHAVIOUR-conversations §6.1); identity names whom (default: nobody, an empty list). */
export function listQuery(entry, identity = 'optable-nobody') {
  return /ParticipantConversation$/.test(entry.op.id) ? [['Identity', identity]] : [];
}

/** bodyPairs flattened into form pairs (a list value becomes repeated keys). */
export function body(entry) {
  return bodyPairs(entry).flatMap(([k, v]) => (Array.isArray(v) ? v.map((one) => [k, one]) : [[k, v]]));
}

export const fieldNames = (entry) => entry.fields.map((f) => f.name);
