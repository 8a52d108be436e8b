#include "util/metrics.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/sid.h"

/* methods: GET, POST, DELETE, OPTIONS, other */
#define NMETHODS 5
static const char *const method_names[NMETHODS] = {"GET", "POST", "DELETE", "OPTIONS", "other"};
/* statuses tracked one by one; the rest fold into "other" */
static const int status_codes[] = {200, 201, 204, 400, 401, 404, 405, 409, 413, 414, 431, 500, 503};
#define NSTATUS (sizeof(status_codes) / sizeof(status_codes[0]) + 1)
/* latency buckets, microseconds */
static const long long lat_bounds[] = {250,   500,   1000,   2500,   5000,   10000,
                                       25000, 50000, 100000, 250000, 1000000};
#define NLAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))
static const int batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NBATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))

/* Sized by metrics_init from the route table: nroutes slots and the last one, "other" (slot nroutes).
 * Allocated once at start; NULL before, when nothing is counted. */
static const char *const *route_names;
static int nroutes;
#define OTHER nroutes
static atomic_ullong (*req_count)[NMETHODS][NSTATUS];
static atomic_ullong (*lat_bucket)[NLAT + 1];
static atomic_ullong *lat_sum_us;
static atomic_ullong batch_bucket[NBATCH + 1];
static atomic_ullong batch_sum, batch_count;
static atomic_ullong commit_bucket[NLAT + 1];
static atomic_ullong commit_sum_us;

/* Per-account counters. state: 0 free, 1 being claimed (the SID is being copied in), 2 ready. */
_Static_assert((METRICS_ACCOUNTS & (METRICS_ACCOUNTS - 1)) == 0, "the probe masks with METRICS_ACCOUNTS - 1");

struct account_counters {
    atomic_int state;
    char sid[SID_LEN + 1];
    atomic_ullong (*count)[NMETHODS][NSTATUS]; /* nroutes + 1 rows, in account_counts */
};

static struct account_counters accounts[METRICS_ACCOUNTS];

static atomic_ullong (*account_counts)[NMETHODS][NSTATUS];

int metrics_init(const char *const *names, int n)
{
    if (req_count) /* sized once per process: counters never move under a running server */
        return names == route_names && n == nroutes ? 0 : -1;
    if (n < 0) return -1;
    size_t slots = (size_t)n + 1;
    req_count = calloc(slots, sizeof(*req_count));
    lat_bucket = calloc(slots, sizeof(*lat_bucket));
    lat_sum_us = calloc(slots, sizeof(*lat_sum_us));
    account_counts = calloc(slots * METRICS_ACCOUNTS, sizeof(*account_counts));
    if (!req_count || !lat_bucket || !lat_sum_us || !account_counts) {
        free(req_count);
        free(lat_bucket);
        free(lat_sum_us);
        free(account_counts);
        req_count = NULL;
        lat_bucket = NULL;
        lat_sum_us = NULL;
        account_counts = NULL;
        return -1;
    }
    for (int i = 0; i < METRICS_ACCOUNTS; i++)
        accounts[i].count = account_counts + (size_t)i * slots;
    route_names = names;
    nroutes = n;
    return 0;
}

static int status_slot(int status)
{
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (status_codes[i] == status) return (int)i;
    return NSTATUS - 1;
}

static void inc(atomic_ullong *c, unsigned long long by)
{
    atomic_fetch_add_explicit(c, by, memory_order_relaxed);
}

static int lat_slot(long long us)
{
    size_t i = 0;
    while (i < NLAT && us > lat_bounds[i])
        i++;
    return (int)i;
}

void metrics_request(int route, int method, int status, long long duration_us)
{
    if (!req_count) return;
    int r = route >= 0 && route < nroutes ? route : OTHER;
    if (method < 0 || method >= NMETHODS) method = NMETHODS - 1;
    if (duration_us < 0) duration_us = 0;
    inc(&req_count[r][method][status_slot(status)], 1);
    inc(&lat_bucket[r][lat_slot(duration_us)], 1);
    inc(&lat_sum_us[r], (unsigned long long)duration_us);
}

/* FNV-1a over the SID's hex digits: they are random, any mix spreads them. */
static unsigned sid_hash(const char *sid)
{
    unsigned h = 2166136261u;
    for (int i = 2; i < SID_LEN; i++)
        h = (h ^ (unsigned char)sid[i]) * 16777619u;
    return h;
}

int metrics_account_slot(const char *sid)
{
    if (strnlen(sid, SID_LEN + 1) != SID_LEN) return -1;
    unsigned h = sid_hash(sid);
    for (unsigned i = 0; i < METRICS_ACCOUNTS; i++) {
        unsigned at = (h + i) & (METRICS_ACCOUNTS - 1);
        struct account_counters *a = &accounts[at];
        int st = atomic_load_explicit(&a->state, memory_order_acquire);
        if (st == 0) {
            int expect = 0;
            if (atomic_compare_exchange_strong_explicit(&a->state, &expect, 1, memory_order_acquire,
                                                        memory_order_acquire)) {
                memcpy(a->sid, sid, SID_LEN + 1);
                atomic_store_explicit(&a->state, 2, memory_order_release);
                return (int)at;
            }
            st = expect;
        }
        /* another thread is copying a SID in: a few instructions, once per account and process */
        while (st == 1) {
            sched_yield();
            st = atomic_load_explicit(&a->state, memory_order_acquire);
        }
        if (memcmp(a->sid, sid, SID_LEN) == 0) return (int)at;
    }
    return -1;
}

void metrics_account_request(int slot, int route, int method, int status)
{
    if (slot < 0 || slot >= METRICS_ACCOUNTS || !account_counts) return;
    int r = route >= 0 && route < nroutes ? route : OTHER;
    if (method < 0 || method >= NMETHODS) method = NMETHODS - 1;
    inc(&accounts[slot].count[r][method][status_slot(status)], 1);
}

void metrics_commit(int batch_size, long long commit_us)
{
    size_t i = 0;
    while (i < NBATCH && batch_size > batch_bounds[i])
        i++;
    inc(&batch_bucket[i], 1);
    inc(&batch_sum, (unsigned long long)batch_size);
    inc(&batch_count, 1);
    inc(&commit_bucket[lat_slot(commit_us)], 1);
    inc(&commit_sum_us, (unsigned long long)(commit_us > 0 ? commit_us : 0));
}

static unsigned long long get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* "other": unrouted paths, OPTIONS, /healthz and /metrics */
static const char *route_label(int r)
{
    return r == OTHER ? "other" : route_names[r];
}

static void status_label(char *out, size_t n, size_t s)
{
    if (s < NSTATUS - 1)
        snprintf(out, n, "%d", status_codes[s]);
    else
        snprintf(out, n, "other");
}

static const char account_help[] =
    "# HELP parley_account_http_requests_total HTTP requests of one account by route, method and status.\n"
    "# TYPE parley_account_http_requests_total counter\n";

static void account_samples(struct buf *b, int slot)
{
    struct account_counters *a = &accounts[slot];
    for (int r = 0; a->count && r <= OTHER; r++) {
        for (int m = 0; m < NMETHODS; m++)
            for (size_t s = 0; s < NSTATUS; s++) {
                unsigned long long v = get(&a->count[r][m][s]);
                if (!v) continue;
                char st[8];
                status_label(st, sizeof(st), s);
                buf_printf(b,
                           "parley_account_http_requests_total{account_sid=\"%s\",route=\"%s\",method=\"%s\","
                           "status=\"%s\"} %llu\n",
                           a->sid, route_label(r), method_names[m], st, v);
            }
    }
}

void metrics_render_account(struct buf *b, int slot)
{
    buf_puts(b, account_help);
    if (slot < 0 || slot >= METRICS_ACCOUNTS ||
        atomic_load_explicit(&accounts[slot].state, memory_order_acquire) != 2) {
        buf_puts(b, "# this account's requests are not counted: the per-account table is full\n");
        return;
    }
    account_samples(b, slot);
}

/* A histogram in seconds from microsecond buckets. */
static void histogram_us(struct buf *b, const char *name, const char *labels, atomic_ullong *buckets,
                         atomic_ullong *sum_us)
{
    unsigned long long cum = 0;
    for (size_t i = 0; i <= NLAT; i++) {
        cum += get(&buckets[i]);
        if (i < NLAT)
            buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, *labels ? "," : "",
                       (double)lat_bounds[i] / 1e6, cum);
        else
            buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "", cum);
    }
    buf_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, (double)get(sum_us) / 1e6, name,
               labels, cum);
}

void metrics_render(struct buf *b, long long outbox_depth, long long in_flight)
{
    buf_puts(b, "# HELP parley_http_requests_total HTTP requests by route, method and status.\n"
                "# TYPE parley_http_requests_total counter\n");
    for (int r = 0; req_count && r <= OTHER; r++) {
        for (int m = 0; m < NMETHODS; m++)
            for (size_t s = 0; s < NSTATUS; s++) {
                unsigned long long v = get(&req_count[r][m][s]);
                if (!v) continue;
                if (s < NSTATUS - 1)
                    buf_printf(b,
                               "parley_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                               route_label(r), method_names[m], status_codes[s], v);
                else
                    buf_printf(
                        b, "parley_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %llu\n",
                        route_label(r), method_names[m], v);
            }
    }
    buf_puts(
        b,
        "# HELP parley_http_request_duration_seconds Time from the request line to the response, by route.\n"
        "# TYPE parley_http_request_duration_seconds histogram\n");
    for (int r = 0; lat_bucket && r <= OTHER; r++) {
        unsigned long long any = 0;
        for (size_t i = 0; i <= NLAT; i++)
            any += get(&lat_bucket[r][i]);
        if (!any) continue;
        char labels[160];
        size_t n = strlen(route_label(r));
        if (n > 120) n = 120;
        memcpy(labels, "route=\"", 7);
        memcpy(labels + 7, route_label(r), n);
        memcpy(labels + 7 + n, "\"", 2);
        histogram_us(b, "parley_http_request_duration_seconds", labels, lat_bucket[r], &lat_sum_us[r]);
    }
    buf_puts(b, "# HELP parley_store_commit_batch_size Write jobs per committed transaction (group commit).\n"
                "# TYPE parley_store_commit_batch_size histogram\n");
    unsigned long long cum = 0;
    for (size_t i = 0; i <= NBATCH; i++) {
        cum += get(&batch_bucket[i]);
        if (i < NBATCH)
            buf_printf(b, "parley_store_commit_batch_size_bucket{le=\"%d\"} %llu\n", batch_bounds[i], cum);
        else
            buf_printf(b, "parley_store_commit_batch_size_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    buf_printf(b, "parley_store_commit_batch_size_sum %llu\nparley_store_commit_batch_size_count %llu\n",
               get(&batch_sum), get(&batch_count));
    buf_puts(b,
             "# HELP parley_store_commit_seconds Time of COMMIT (SQLite --sync full: its sync runs behind).\n"
             "# TYPE parley_store_commit_seconds histogram\n");
    histogram_us(b, "parley_store_commit_seconds", "", commit_bucket, &commit_sum_us);
    buf_printf(b,
               "# HELP parley_webhook_outbox_depth Post-event deliveries waiting in the outbox.\n"
               "# TYPE parley_webhook_outbox_depth gauge\nparley_webhook_outbox_depth %lld\n"
               "# HELP parley_http_requests_in_flight Requests being handled.\n"
               "# TYPE parley_http_requests_in_flight gauge\nparley_http_requests_in_flight %lld\n",
               outbox_depth, in_flight);
    buf_puts(b, account_help);
    for (int i = 0; i < METRICS_ACCOUNTS; i++)
        if (atomic_load_explicit(&accounts[i].state, memory_order_acquire) == 2) account_samples(b, i);
}
