// Seed a Parley server with users through its HTTP API, then find a deep PageToken.
//
//   node bench/seed.mjs --url http://127.0.0.1:PORT --account ACxxx --token TOKEN \
//        --users N --prefix bench-user- --out DIR [--concurrency 32] [--timeout SECONDS]
//
// Why through the API (and not straight into SQLite): the store's schema is the server's private
// business and changes with it; the public API cannot rot under the benchmark. Node's http module
// with a keep-alive agent and 32 requests in flight seeds as fast as the server commits, and hands
// back each user's SID from the 201 body, which the fetch/update runs need.
//
// Writes into DIR:
//   sids.txt        the SID of user i on line i+1 (identity PREFIX + i)
//   deep_path.txt   path + query of the list page half-way through (PageSize=50, by PageToken)
//   user.json       one user's JSON body (the ceiling answers a body of the same size)
//   seed.json       {"users":N,"seconds":…,"per_second":…,"pages_walked":…}
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

function parseArgs(argv) {
    const a = { concurrency: 32, timeout: 900, prefix: 'bench-user-' };
    for (let i = 0; i < argv.length; i += 2) {
        const k = argv[i].replace(/^--/, '');
        a[k] = argv[i + 1];
    }
    for (const k of ['url', 'account', 'token', 'users', 'out']) {
        if (a[k] === undefined) throw new Error(`missing --${k}`);
    }
    a.users = Number(a.users);
    a.concurrency = Number(a.concurrency);
    a.timeout = Number(a.timeout);
    return a;
}

const args = parseArgs(process.argv.slice(2));
const base = new URL(args.url);
const auth = 'Basic ' + Buffer.from(`${args.account}:${args.token}`).toString('base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: args.concurrency });
const deadline = Date.now() + args.timeout * 1000;

setTimeout(() => {
    console.error(`seed.mjs: gave up after ${args.timeout}s`);
    process.exit(1);
}, args.timeout * 1000).unref();

function request(method, pathAndQuery, form) {
    return new Promise((resolve, reject) => {
        const body = form ? new URLSearchParams(form).toString() : null;
        const headers = { Authorization: auth, Accept: 'application/json' };
        if (body !== null) {
            headers['Content-Type'] = 'application/x-www-form-urlencoded';
            headers['Content-Length'] = Buffer.byteLength(body);
        }
        const req = http.request(
            { host: base.hostname, port: base.port, method, path: pathAndQuery, headers, agent, timeout: 30000 },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
                res.on('error', reject);
            },
        );
        req.on('timeout', () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        if (body !== null) req.write(body);
        req.end();
    });
}

// A request that is retried a few times on a network error or a 5xx (e.g. 503 when the store is busy).
async function requestRetry(method, p, form, okStatus) {
    let last;
    for (let attempt = 0; attempt < 5 && Date.now() < deadline; attempt++) {
        try {
            const r = await request(method, p, form);
            if (r.status === okStatus) return r;
            last = new Error(`${method} ${p} -> ${r.status}: ${r.body.slice(0, 300)}`);
            if (r.status < 500) throw last;
        } catch (e) {
            last = e;
            if (/-> 4\d\d/.test(String(e.message))) throw e;
        }
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
    throw last;
}

const sidRe = /"sid"\s*:\s*"(US[0-9a-f]{32})"/;

async function seed() {
    const sids = new Array(args.users);
    let next = 0;
    const t0 = process.hrtime.bigint();
    async function worker() {
        for (;;) {
            const i = next++;
            if (i >= args.users) return;
            const identity = args.prefix + i;
            let r;
            try {
                r = await requestRetry('POST', '/v1/Users', { Identity: identity, FriendlyName: `Bench user ${i}` }, 201);
            } catch (e) {
                // A retried create whose first attempt did commit answers 409: take the existing user.
                if (!/-> 409/.test(String(e.message))) throw e;
                r = await requestRetry('GET', '/v1/Users/' + encodeURIComponent(identity), null, 200);
            }
            const m = sidRe.exec(r.body);
            if (!m) throw new Error(`no user SID in: ${r.body.slice(0, 300)}`);
            sids[i] = m[1];
        }
    }
    await Promise.all(Array.from({ length: Math.min(args.concurrency, args.users) }, worker));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { sids, seconds };
}

// Follow next_page_url from the first page to the page half-way through; return its path + query.
async function deepPath() {
    const pages = Math.ceil(args.users / 50);
    const target = Math.floor(pages / 2);
    let p = '/v1/Users?PageSize=50';
    let walked = 0;
    while (walked < target) {
        const r = await requestRetry('GET', p, null, 200);
        const next = JSON.parse(r.body).meta?.next_page_url;
        if (!next) throw new Error(`page ${walked} of ${p} has no next_page_url`);
        const u = new URL(next);
        p = u.pathname + u.search;
        walked++;
    }
    if (!/PageToken=/.test(p) && target > 0) throw new Error(`deep page URL has no PageToken: ${p}`);
    const check = await requestRetry('GET', p, null, 200);
    const n = JSON.parse(check.body).users?.length;
    if (!n) throw new Error(`deep page ${p} has no users`);
    return { path: p, walked };
}

try {
    fs.mkdirSync(args.out, { recursive: true });
    const { sids, seconds } = await seed();
    fs.writeFileSync(path.join(args.out, 'sids.txt'), sids.join('\n') + '\n');
    const user = await requestRetry('GET', '/v1/Users/' + sids[0], null, 200);
    fs.writeFileSync(path.join(args.out, 'user.json'), user.body);
    const deep = await deepPath();
    fs.writeFileSync(path.join(args.out, 'deep_path.txt'), deep.path + '\n');
    const summary = { users: args.users, seconds: +seconds.toFixed(3), per_second: Math.round(args.users / seconds), pages_walked: deep.walked };
    fs.writeFileSync(path.join(args.out, 'seed.json'), JSON.stringify(summary) + '\n');
    agent.destroy();
    process.exit(0);
} catch (e) {
    console.error('seed.mjs: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
}
