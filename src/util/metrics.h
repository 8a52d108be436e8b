/* Prometheus metrics: request counts by route, method and status, latency histograms by route, the
 * store's commit batch sizes and commit (fsync) latency. Lock-free: relaxed atomic counters, cheap
 * enough to stay on for benchmarks. */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

struct buf;

#define METRICS_MAX_ROUTES 64

/* names[i] labels route i (e.g. "/v1/Users/{}"); the table is borrowed for the process's life. */
void metrics_init(const char *const *names, int n);
/* route: an index into the names, or -1 ("other") for requests no route handled. method: "GET"... status: HTTP. */
void metrics_request(int route, int method, int status, long long duration_us);
void metrics_commit(int batch_size, long long commit_us);
/* Writes the text exposition format; gauges are passed in by the caller. */
void metrics_render(struct buf *out, long long outbox_depth, long long in_flight);

#endif
