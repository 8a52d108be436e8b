#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sid.h"

void config_usage(FILE *out)
{
    fputs("usage: parley [serve] [options]\n"
          "       parley account create|list ...      accounts on the data file (parley account --help)\n"
          "       parley key create|list|revoke ...   API keys on the data file (parley key --help)\n"
          "\n"
          "A Twilio Conversations REST API (v1) server.\n"
          "\n"
          "  --listen HOST:PORT     address to listen on (PARLEY_LISTEN; default 127.0.0.1:8080)\n"
          "  --data FILE            SQLite data file (PARLEY_DATA; default parley.db)\n"
          "  --public-url URL       base of every URL in responses (PARLEY_PUBLIC_URL; default http://HOST:PORT)\n"
          "  --account-sid AC...    account to serve; created if new (PARLEY_ACCOUNT_SID)\n"
          "  --auth-token TOKEN     its auth token (PARLEY_AUTH_TOKEN)\n"
          "  --threads N            HTTP worker threads (default: number of CPUs)\n"
          "  --sync full|normal     fsync every commit (full, default) or only at checkpoints\n"
          "  --max-body BYTES       largest request body (default 65536)\n"
          "  --max-connections N    connection limit (default 4096)\n"
          "  --max-per-ip N         connections per client address (default 0: no limit)\n"
          "  --idle-timeout SECONDS close idle connections (default 30)\n"
          "  --connection-memory BYTES   per-connection memory: request line and headers must fit (default 16384)\n"
          "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
          "  --log FILE             log here instead of stderr (reopened on SIGHUP)\n"
          "  --pre-webhook-timeout MS        wait for a pre-event webhook (default 5000)\n"
          "  --pre-webhook-failure proceed|reject   when it times out or fails (default proceed)\n"
          "  --rest-pre-webhooks on|off      pre-event hooks for REST calls with the header (default on)\n"
          "  --veto-status N        HTTP status of a call a pre-event hook refused (default 400)\n"
          "  --webhook-targets open|public   addresses webhooks may reach: open (default, for local use) refuses\n"
          "                                  link-local and cloud metadata; public refuses loopback, private,\n"
          "                                  link-local, unique-local, multicast and 0.0.0.0/8 (Internet-facing)\n"
          "  --webhook-allow-link-local      under open, let webhooks reach link-local and metadata addresses\n"
          "  --webhook-max-attempts N        post-event delivery attempts (default 50)\n"
          "  --metrics-public       serve /metrics without credentials (for a Prometheus scraper)\n"
          "  --help, --version\n",
          out);
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int parse_listen(struct config *cfg, const char *s)
{
    const char *colon;
    const char *host_start = s;
    size_t host_len;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        host_start = s + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        host_len = (size_t)(colon - s);
    }
    if (host_len == 0 || host_len >= sizeof(cfg->host))
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1)
        return -1;
    memcpy(cfg->host, host_start, host_len);
    cfg->host[host_len] = '\0';
    if (strcmp(cfg->host, "localhost") == 0)
        strcpy(cfg->host, "127.0.0.1");
    cfg->port = (unsigned short)port;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    const char *listen = env_or("PARLEY_LISTEN", "127.0.0.1:8080");
    const char *public_url = env_or("PARLEY_PUBLIC_URL", NULL);
    cfg->data = env_or("PARLEY_DATA", "parley.db");
    cfg->account_sid = env_or("PARLEY_ACCOUNT_SID", NULL);
    cfg->auth_token = env_or("PARLEY_AUTH_TOKEN", NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = ncpu > 0 ? (unsigned)ncpu : 2;
    cfg->sync_full = 1;
    cfg->max_body = 65536;
    cfg->connection_limit = 4096;
    cfg->idle_timeout = 30;
    cfg->connection_memory = 16384;
    cfg->pre_timeout_ms = 5000;
    cfg->rest_pre_hooks = 1;
    cfg->veto_status = 400;
    cfg->webhook_max_attempts = 50;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n;
#define NEED_VALUE                                                                                           \
    do {                                                                                                     \
        if (!v) {                                                                                            \
            fprintf(stderr, "parley: %s needs a value\n", a);                                                \
            return -1;                                                                                       \
        }                                                                                                    \
        i++;                                                                                                 \
    } while (0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(stdout);
            return 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("parley %s\n", PARLEY_VERSION);
            return 1;
        } else if (strcmp(a, "--listen") == 0) {
            NEED_VALUE;
            listen = v;
        } else if (strcmp(a, "--data") == 0) {
            NEED_VALUE;
            cfg->data = v;
        } else if (strcmp(a, "--public-url") == 0) {
            NEED_VALUE;
            public_url = v;
        } else if (strcmp(a, "--account-sid") == 0) {
            NEED_VALUE;
            cfg->account_sid = v;
        } else if (strcmp(a, "--auth-token") == 0) {
            NEED_VALUE;
            cfg->auth_token = v;
        } else if (strcmp(a, "--sync") == 0) {
            NEED_VALUE;
            if (strcmp(v, "full") != 0 && strcmp(v, "normal") != 0) {
                fprintf(stderr, "parley: --sync takes full or normal\n");
                return -1;
            }
            cfg->sync_full = strcmp(v, "full") == 0;
        } else if (strcmp(a, "--log") == 0) {
            NEED_VALUE;
            cfg->log_file = v;
        } else if (strcmp(a, "--tls-cert") == 0) {
            NEED_VALUE;
            cfg->tls_cert = v;
        } else if (strcmp(a, "--tls-key") == 0) {
            NEED_VALUE;
            cfg->tls_key = v;
        } else if (strcmp(a, "--metrics-public") == 0) {
            cfg->metrics_public = 1;
        } else if (strcmp(a, "--pre-webhook-failure") == 0) {
            NEED_VALUE;
            if (strcmp(v, "proceed") != 0 && strcmp(v, "reject") != 0) {
                fprintf(stderr, "parley: --pre-webhook-failure takes proceed or reject\n");
                return -1;
            }
            cfg->pre_failure_reject = strcmp(v, "reject") == 0;
        } else if (strcmp(a, "--webhook-targets") == 0) {
            NEED_VALUE;
            if (strcmp(v, "open") != 0 && strcmp(v, "public") != 0) {
                fprintf(stderr, "parley: --webhook-targets takes open or public\n");
                return -1;
            }
            cfg->webhook_targets_public = strcmp(v, "public") == 0;
        } else if (strcmp(a, "--webhook-allow-link-local") == 0) {
            cfg->webhook_allow_link_local = 1;
        } else if (strcmp(a, "--rest-pre-webhooks") == 0) {
            NEED_VALUE;
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
                fprintf(stderr, "parley: --rest-pre-webhooks takes on or off\n");
                return -1;
            }
            cfg->rest_pre_hooks = strcmp(v, "on") == 0;
        } else if (strcmp(a, "--pre-webhook-timeout") == 0 || strcmp(a, "--veto-status") == 0 ||
                   strcmp(a, "--webhook-max-attempts") == 0) {
            NEED_VALUE;
            if (parse_uint(v, 600000, &n) != 0 || n == 0 ||
                (strcmp(a, "--veto-status") == 0 && (n < 400 || n > 599))) {
                fprintf(stderr, "parley: %s: '%s' is out of range\n", a, v);
                return -1;
            }
            if (strcmp(a, "--pre-webhook-timeout") == 0)
                cfg->pre_timeout_ms = (unsigned)n;
            else if (strcmp(a, "--veto-status") == 0)
                cfg->veto_status = (unsigned)n;
            else
                cfg->webhook_max_attempts = (unsigned)n;
        } else if (strcmp(a, "--threads") == 0 || strcmp(a, "--max-body") == 0 ||
                   strcmp(a, "--max-connections") == 0 || strcmp(a, "--max-per-ip") == 0 ||
                   strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--connection-memory") == 0) {
            NEED_VALUE;
            if (parse_uint(v, 1UL << 30, &n) != 0 || (n == 0 && strcmp(a, "--max-per-ip") != 0 &&
                                                      strcmp(a, "--idle-timeout") != 0)) {
                fprintf(stderr, "parley: %s: '%s' is not a valid number\n", a, v);
                return -1;
            }
            if (a[2] == 't')
                cfg->threads = (unsigned)n;
            else if (strcmp(a, "--max-body") == 0)
                cfg->max_body = n;
            else if (strcmp(a, "--max-connections") == 0)
                cfg->connection_limit = (unsigned)n;
            else if (strcmp(a, "--max-per-ip") == 0)
                cfg->per_ip_limit = (unsigned)n;
            else if (strcmp(a, "--connection-memory") == 0)
                cfg->connection_memory = n < 4096 ? 4096 : n;
            else
                cfg->idle_timeout = (unsigned)n;
        } else {
            fprintf(stderr, "parley: unknown option '%s' (see --help)\n", a);
            return -1;
        }
#undef NEED_VALUE
    }
    if (parse_listen(cfg, listen) != 0) {
        fprintf(stderr, "parley: --listen: expected HOST:PORT, got '%s'\n", listen);
        return -1;
    }
    if (public_url) {
        size_t n = strlen(public_url);
        while (n && public_url[n - 1] == '/')
            n--;
        if ((strncmp(public_url, "http://", 7) != 0 && strncmp(public_url, "https://", 8) != 0) ||
            n >= sizeof(cfg->public_url)) {
            fprintf(stderr, "parley: --public-url must be an http(s) URL of at most 255 characters\n");
            return -1;
        }
        memcpy(cfg->public_url, public_url, n);
        cfg->public_url[n] = '\0';
    } else {
        int v6 = strchr(cfg->host, ':') != NULL;
        snprintf(cfg->public_url, sizeof(cfg->public_url), "%s://%s%s%s:%u", cfg->tls_cert ? "https" : "http",
                 v6 ? "[" : "", cfg->host, v6 ? "]" : "", cfg->port);
    }
    if (cfg->account_sid && !sid_valid(cfg->account_sid, strlen(cfg->account_sid), "AC")) {
        fprintf(stderr, "parley: --account-sid must be AC followed by 32 hex digits\n");
        return -1;
    }
    if (cfg->auth_token && (strlen(cfg->auth_token) < 8 || strlen(cfg->auth_token) > 128)) {
        fprintf(stderr, "parley: --auth-token must be 8 to 128 characters\n");
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "parley: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}
