/* Prometheus metrics: request counts by route, method and status, latency histograms by route, the
 * store's commit batch sizes and commit (fsync) latency. Lock-free: relaxed atomic counters, cheap
 * enough to stay on for benchmarks. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

struct buf;

/* names[i] labels route i (e.g. "/v1/Users/{}"); the table is borrowed for the process's life. The
 * counters are sized for n routes here, once (another call fails): nothing is counted before. Returns 0,
 * or -1 when out of memory. */
int metrics_init(const char *const *names, int n);
/* route: an index into the names, or -1 ("other") for requests no route handled. method: "GET"... status:
 * HTTP. */
void metrics_request(int route, int method, int status, long long duration_us);
void metrics_commit(int batch_size, long long commit_us);
/* Writes the text exposition format; gauges are passed in by the caller. The server-wide view: it
 * ends with every account's own request counters. */
void metrics_render(struct buf *out, long long outbox_depth, long long in_flight);

/* Per-account request counters, for an account's own view of /metrics. A fixed table of
 * METRICS_ACCOUNTS slots keyed by account SID: a slot is claimed the first time its account is seen
 * and never given back; counting is a relaxed atomic add, as above. */
#define METRICS_ACCOUNTS 256

/* The slot of account sid ("AC" + 32 hex), claimed on first sight; -1 when the table is full or sid is
 * not a SID's length. Lock-free. */
int metrics_account_slot(const char *sid);
void metrics_account_request(int slot, int route, int method, int status);
/* Writes the account's own counters only (slot -1: none, and a comment saying why). */
void metrics_render_account(struct buf *out, int slot);

#endif
