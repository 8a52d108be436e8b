// The benchmarks' seeding through the API (required by the node scripts of bench/*.sh): a POST that must
// answer 201, its JSON.
module.exports = (base, account, token) => {
  const auth = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');
  return async (path, body) => {
    const r = await fetch(base + path, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  };
};
