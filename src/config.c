#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/auth_header.h"
#include "store/store.h"
#include "util/sid.h"

_Static_assert(CONFIG_TOKEN_MAX <= AUTH_PASS_MAX,
               "a token the auth header parser cuts could never authenticate");

void config_usage(FILE *out)
{
    fputs(
        "usage: parley [serve] [options]\n"
        "       parley account create|list ...      accounts on the data file (parley account --help)\n"
        "       parley key create|list|revoke ...   API keys on the data file (parley key --help)\n"
        "       parley inbound|receipt ...          inbound traffic for tests (parley inbound --help)\n"
        "\n"
        "A Twilio Conversations REST API (v1) server.\n"
        "\n"
        "  --listen HOST:PORT     address to listen on (PARLEY_LISTEN; default 127.0.0.1:8080)\n"
        "  --data FILE            SQLite data file (PARLEY_DATA; default parley.db)\n"
        "  --data-file FILE       read --data from FILE, for a PostgreSQL URL with a password "
        "(PARLEY_DATA_FILE)\n"
        "  --public-url URL       base of every URL in responses (PARLEY_PUBLIC_URL; default "
        "http://HOST:PORT)\n"
        "  --account-sid AC...    account to serve; created if new (PARLEY_ACCOUNT_SID)\n"
        "  --auth-token TOKEN     its auth token, 8 to 128 characters (PARLEY_AUTH_TOKEN); visible in ps:\n"
        "                         prefer --auth-token-file FILE (PARLEY_AUTH_TOKEN_FILE) or the variable\n"
        "  --threads N            HTTP worker threads (default: number of CPUs)\n"
        "  --sync full|normal     fsync every commit (full, default) or only at checkpoints\n"
        "  --max-body BYTES       largest request body (default 65536)\n"
        "  --max-connections N    connection limit (default 4096)\n"
        "  --max-per-ip N         connections per client address (default 256; 0: no limit)\n"
        "  --idle-timeout SECONDS close idle connections (default 30)\n"
        "  --read-timeout SECONDS a request must be read whole within this (default 10; 0: no deadline)\n"
        "  --connection-memory BYTES   per-connection memory: request line and headers must fit (default "
        "16384)\n"
        "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
        "  --log FILE             log here instead of stderr (reopened on SIGHUP)\n"
        "  --pre-webhook-timeout MS        wait for a pre-event webhook (default 5000)\n"
        "  --pre-webhook-failure proceed|reject   when it times out or fails (default proceed)\n"
        "  --rest-pre-webhooks on|off      pre-event hooks for REST calls with the header (default on)\n"
        "  --veto-status N        HTTP status of a call a pre-event hook refused (default 400)\n"
        "  --webhook-targets open|public   addresses webhooks may reach: open (default, for local use) "
        "refuses\n"
        "                                  link-local and cloud metadata; public refuses loopback, private,\n"
        "                                  link-local, unique-local, multicast and 0.0.0.0/8 "
        "(Internet-facing)\n"
        "  --webhook-allow-link-local      under open, let webhooks reach link-local and metadata addresses\n"
        "  --webhook-max-attempts N        post-event delivery attempts (default 50)\n"
        "  --metrics-public       serve the server-wide /metrics without credentials (for a Prometheus "
        "scraper)\n"
        "  --admin-token-file FILE   credential for the server-wide /metrics (PARLEY_ADMIN_TOKEN,\n"
        "                         PARLEY_ADMIN_TOKEN_FILE); an account's credentials see its own counters\n"
        "  --secret-key-file FILE key sealing auth tokens and credential secrets (PARLEY_SECRET_KEY_FILE;\n"
        "                         default DATA.key for SQLite, created on first start)\n"
        "  --test-clock           tests may freeze and move this server's clock (/parley/clock); never in\n"
        "                         production\n"
        "  --changes-retention-days N   keep change log records N days (default 7; 0: keep all)\n"
        "  --timers-need-state    refuse conversation Timers.* without State (400/50382; Twilio no longer\n"
        "                         does)\n"
        "  --closed-allows-delete a closed conversation's participants may be deleted (default: 400/50377)\n"
        "  --studio-url URL       POST studio-target scoped webhook events here (default: only logged)\n"
        "  --scoped-trigger-key triggers|filters   key of a trigger webhook's keywords in its configuration\n"
        "                         (default triggers; filters is the spec example's form)\n"
        "  --media-strict         a message's MediaSid must be registered (POST /parley/Media), else 50507\n"
        "  --strict-sms-body      a message body going out over SMS or WhatsApp (the conversation has a\n"
        "                         non-chat participant other than the author) has at most 1600 characters\n"
        "                         (400/50504); default: 32 KB on every channel\n"
        "  --no-delivery-receipts messages to non-chat participants create no delivery receipts\n"
        "  --omit-message-chat-service-sid   no ChatServiceSid on onMessageAdded/Updated/Removed\n"
        "  --event-media-keys pascal|snake   keys of the Media event parameter's objects: Sid,\n"
        "                         ContentType... (default pascal) or sid, content_type... as in REST\n"
        "  --help, --version\n",
        out);
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static void config_warn(struct config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void config_warn(struct config *cfg, const char *fmt, ...)
{
    if (cfg->nwarnings >= CONFIG_WARNINGS) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->warning[cfg->nwarnings++], CONFIG_WARNING_LEN, fmt, ap);
    va_end(ap);
}

/* Reads a one-line secret from path into out[max + 1]: trailing newlines dropped, and nothing else
 * changed. Refuses an empty file, a longer one, and NUL or other control bytes (a value with them
 * could not be typed as a flag either). Returns 0, or -1 after printing why (never the contents). */
static int read_secret_file(struct config *cfg, const char *what, const char *path, char *out, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "parley: %s: cannot open %s: %s\n", what, path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
        config_warn(cfg, "%s: %s is readable by other users (chmod 600 it)", what, path);
    /* room for the value, a CRLF and one byte more, to tell "too long" from "ends in a newline" */
    char tmp[CONFIG_DATA_MAX + 3];
    if (max > CONFIG_DATA_MAX) max = CONFIG_DATA_MAX;
    size_t n = fread(tmp, 1, max + 3, f);
    int err = ferror(f) || (n == max + 3 && fgetc(f) != EOF);
    fclose(f);
    while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
        n--;
    if (err || n == 0 || n > max) {
        fprintf(stderr, "parley: %s: %s must hold one line of 1 to %zu characters\n", what, path, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tmp[i] < 0x20 || tmp[i] == 0x7f) {
            fprintf(stderr, "parley: %s: %s holds a control character\n", what, path);
            return -1;
        }
    memcpy(out, tmp, n);
    out[n] = '\0';
    return 0;
}

/* One secret from, in this order: the flag's value or its file flag, then NAME or NAME_FILE. Both forms
 * at one level is a mistake, not a precedence question. Returns 0 (value or NULL in *out), or -1. */
static int resolve_secret(struct config *cfg, const char *flag, const char *flag_file, const char *arg,
                          const char *arg_file, const char *env, char *buf, size_t max, const char **out)
{
    char env_file[64];
    snprintf(env_file, sizeof(env_file), "%s_FILE", env);
    const char *ev = env_or(env, NULL), *ef = env_or(env_file, NULL);
    if (arg && arg_file) {
        fprintf(stderr, "parley: give %s or %s, not both\n", flag, flag_file);
        return -1;
    }
    if (!arg && !arg_file && ev && ef) {
        fprintf(stderr, "parley: set %s or %s, not both\n", env, env_file);
        return -1;
    }
    const char *file = arg_file ? arg_file : arg ? NULL : ef;
    if (file) {
        if (read_secret_file(cfg, arg_file ? flag_file : env_file, file, buf, max) != 0) return -1;
        *out = buf;
        return 0;
    }
    *out = arg ? arg : ev;
    return 0;
}

static int text_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
    return 1;
}

static int parse_listen(struct config *cfg, const char *s)
{
    const char *colon;
    const char *host_start = s;
    size_t host_len;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return -1;
        host_start = s + 1;
        host_len = (size_t)(close - host_start);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return -1;
        host_len = (size_t)(colon - s);
    }
    if (host_len == 0 || host_len >= sizeof(cfg->host)) return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) return -1;
    memcpy(cfg->host, host_start, host_len);
    cfg->host[host_len] = '\0';
    if (strcmp(cfg->host, "localhost") == 0) memcpy(cfg->host, "127.0.0.1", sizeof("127.0.0.1"));
    cfg->port = (unsigned short)port;
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > max || s[0] == '-') return -1;
    *out = v;
    return 0;
}

/* The flags as data (nginx's ngx_command_t idea): each row says where its value goes and how it is
 * checked; one loop reads them all. Secrets and the listen address land in struct args first, because
 * they are resolved against the environment and checked after the loop. */
struct args {
    const char *listen, *public_url, *data, *data_file, *token, *token_file, *admin_file;
};

enum flag_kind {
    FLAG_TEXT,   /* const char * */
    FLAG_UINT,   /* unsigned, in [min, max] */
    FLAG_SIZE,   /* size_t, in [min, max] */
    FLAG_CHOICE, /* int: 1 when the value is `truth`, 0 for the other word of `choices` */
    FLAG_SET,    /* int set to 1; takes no value */
};

struct flag {
    const char *name;
    enum flag_kind kind;
    int in_args; /* the slot is in struct args, not struct config */
    size_t off;
    unsigned long min, max;
    const char *choices, *truth; /* FLAG_CHOICE: "a|b" and the word that means 1 */
};

#define CFG(field) 0, offsetof(struct config, field)
#define ARG(field) 1, offsetof(struct args, field)
#define NUM_MAX (1UL << 30)

static const struct flag flags[] = {
    {"--listen", FLAG_TEXT, ARG(listen), 0, 0, NULL, NULL},
    {"--data", FLAG_TEXT, ARG(data), 0, 0, NULL, NULL},
    {"--data-file", FLAG_TEXT, ARG(data_file), 0, 0, NULL, NULL},
    {"--public-url", FLAG_TEXT, ARG(public_url), 0, 0, NULL, NULL},
    {"--account-sid", FLAG_TEXT, CFG(account_sid), 0, 0, NULL, NULL},
    {"--auth-token", FLAG_TEXT, ARG(token), 0, 0, NULL, NULL},
    {"--auth-token-file", FLAG_TEXT, ARG(token_file), 0, 0, NULL, NULL},
    {"--admin-token-file", FLAG_TEXT, ARG(admin_file), 0, 0, NULL, NULL},
    {"--secret-key-file", FLAG_TEXT, CFG(secret_key_file), 0, 0, NULL, NULL},
    {"--log", FLAG_TEXT, CFG(log_file), 0, 0, NULL, NULL},
    {"--tls-cert", FLAG_TEXT, CFG(tls_cert), 0, 0, NULL, NULL},
    {"--tls-key", FLAG_TEXT, CFG(tls_key), 0, 0, NULL, NULL},
    {"--sync", FLAG_CHOICE, CFG(sync_full), 0, 0, "full|normal", "full"},
    {"--pre-webhook-failure", FLAG_CHOICE, CFG(pre_failure_reject), 0, 0, "proceed|reject", "reject"},
    {"--webhook-targets", FLAG_CHOICE, CFG(webhook_targets_public), 0, 0, "open|public", "public"},
    {"--rest-pre-webhooks", FLAG_CHOICE, CFG(rest_pre_hooks), 0, 0, "on|off", "on"},
    {"--metrics-public", FLAG_SET, CFG(metrics_public), 0, 0, NULL, NULL},
    {"--media-strict", FLAG_SET, CFG(media_strict), 0, 0, NULL, NULL},
    {"--webhook-allow-link-local", FLAG_SET, CFG(webhook_allow_link_local), 0, 0, NULL, NULL},
    {"--pre-webhook-timeout", FLAG_UINT, CFG(pre_timeout_ms), 1, 600000, NULL, NULL},
    {"--veto-status", FLAG_UINT, CFG(veto_status), 400, 599, NULL, NULL},
    {"--webhook-max-attempts", FLAG_UINT, CFG(webhook_max_attempts), 1, 600000, NULL, NULL},
    {"--threads", FLAG_UINT, CFG(threads), 1, NUM_MAX, NULL, NULL},
    {"--max-body", FLAG_SIZE, CFG(max_body), 1, NUM_MAX, NULL, NULL},
    {"--max-connections", FLAG_UINT, CFG(connection_limit), 1, NUM_MAX, NULL, NULL},
    {"--max-per-ip", FLAG_UINT, CFG(per_ip_limit), 0, NUM_MAX, NULL, NULL},
    {"--idle-timeout", FLAG_UINT, CFG(idle_timeout), 0, NUM_MAX, NULL, NULL},
    {"--read-timeout", FLAG_UINT, CFG(read_timeout), 0, NUM_MAX, NULL, NULL},
    {"--connection-memory", FLAG_SIZE, CFG(connection_memory), 1, NUM_MAX, NULL, NULL},
    {"--test-clock", FLAG_SET, CFG(test_clock), 0, 0, NULL, NULL},
    {"--changes-retention-days", FLAG_UINT, CFG(changes_days), 0, 36500, NULL, NULL},
    {"--timers-need-state", FLAG_SET, CFG(timers_need_state), 0, 0, NULL, NULL},
    {"--closed-allows-delete", FLAG_SET, CFG(closed_allows_delete), 0, 0, NULL, NULL},
    {"--studio-url", FLAG_TEXT, CFG(studio_url), 0, 0, NULL, NULL},
    {"--scoped-trigger-key", FLAG_CHOICE, CFG(scoped_trigger_filters), 0, 0, "triggers|filters", "filters"},
    {"--strict-sms-body", FLAG_SET, CFG(strict_sms_body), 0, 0, NULL, NULL},
    {"--no-delivery-receipts", FLAG_SET, CFG(no_delivery_receipts), 0, 0, NULL, NULL},
    {"--omit-message-chat-service-sid", FLAG_SET, CFG(omit_message_chat_service_sid), 0, 0, NULL, NULL},
    {"--event-media-keys", FLAG_CHOICE, CFG(event_media_snake), 0, 0, "pascal|snake", "snake"},
};

/* "full" in "full|normal": 0 for the first word, 1 for the second, -1 for neither. */
static int choice_index(const char *choices, const char *v)
{
    const char *bar = strchr(choices, '|');
    size_t n = strlen(v);
    if (n == (size_t)(bar - choices) && memcmp(choices, v, n) == 0) return 0;
    return strcmp(bar + 1, v) == 0 ? 1 : -1;
}

/* Stores v (NULL for a FLAG_SET) in the slot of f. Returns 0, or -1 after printing why. */
static int flag_set(const struct flag *f, struct config *cfg, struct args *args, const char *v)
{
    char *slot = (f->in_args ? (char *)args : (char *)cfg) + f->off;
    unsigned long n;
    switch (f->kind) {
    case FLAG_TEXT:
        *(const char **)slot = v;
        return 0;
    case FLAG_SET:
        *(int *)slot = 1;
        return 0;
    case FLAG_CHOICE: {
        int i = choice_index(f->choices, v);
        if (i < 0) {
            const char *bar = strchr(f->choices, '|');
            fprintf(stderr, "parley: %s takes %.*s or %s\n", f->name, (int)(bar - f->choices), f->choices,
                    bar + 1);
            return -1;
        }
        *(int *)slot = strcmp(v, f->truth) == 0;
        return 0;
    }
    case FLAG_UINT:
    case FLAG_SIZE:
        if (parse_uint(v, NUM_MAX, &n) != 0) {
            fprintf(stderr, "parley: %s: '%s' is not a valid number\n", f->name, v);
            return -1;
        }
        if (n < f->min || n > f->max) {
            fprintf(stderr, "parley: %s: '%s' is out of range (%lu to %lu)\n", f->name, v, f->min, f->max);
            return -1;
        }
        if (f->kind == FLAG_UINT)
            *(unsigned *)slot = (unsigned)n;
        else
            *(size_t *)slot = n;
        return 0;
    }
    return -1;
}

int config_parse(struct config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof(*cfg));
    /* secrets: flags and files first, the environment after the loop (resolve_secret) */
    struct args args = {.listen = env_or("PARLEY_LISTEN", "127.0.0.1:8080"),
                        .public_url = env_or("PARLEY_PUBLIC_URL", NULL)};
    cfg->account_sid = env_or("PARLEY_ACCOUNT_SID", NULL);
    cfg->secret_key_file = env_or("PARLEY_SECRET_KEY_FILE", NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = ncpu > 0 ? (unsigned)ncpu : 2;
    cfg->sync_full = 1;
    cfg->max_body = 65536;
    cfg->connection_limit = 4096;
    cfg->idle_timeout = 30;
    cfg->per_ip_limit = 256;
    cfg->read_timeout = 10;
    cfg->connection_memory = 16384;
    cfg->pre_timeout_ms = 5000;
    cfg->rest_pre_hooks = 1;
    cfg->veto_status = 400;
    cfg->webhook_max_attempts = 50;
    cfg->changes_days = 7;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            printf("parley %s\n", PARLEY_VERSION);
            return 1;
        }
        const struct flag *f = NULL;
        for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]) && !f; k++)
            if (strcmp(a, flags[k].name) == 0) f = &flags[k];
        if (!f) {
            fprintf(stderr, "parley: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        const char *v = NULL;
        if (f->kind != FLAG_SET) {
            if (i + 1 >= argc) {
                fprintf(stderr, "parley: %s needs a value\n", a);
                return -1;
            }
            v = argv[++i];
        }
        if (flag_set(f, cfg, &args, v) != 0) return -1;
    }
    /* a smaller per-connection pool could not hold a request line and its headers */
    if (cfg->connection_memory < 4096) cfg->connection_memory = 4096;
    if (resolve_secret(cfg, "--data", "--data-file", args.data, args.data_file, "PARLEY_DATA", cfg->data_buf,
                       CONFIG_DATA_MAX, &cfg->data) != 0 ||
        resolve_secret(cfg, "--auth-token", "--auth-token-file", args.token, args.token_file,
                       "PARLEY_AUTH_TOKEN", cfg->auth_token_buf, CONFIG_TOKEN_MAX, &cfg->auth_token) != 0 ||
        resolve_secret(cfg, "--admin-token", "--admin-token-file", NULL, args.admin_file,
                       "PARLEY_ADMIN_TOKEN", cfg->admin_token_buf, CONFIG_TOKEN_MAX, &cfg->admin_token) != 0)
        return -1;
    if (!cfg->data) cfg->data = "parley.db";
    /* what ps shows every local user */
    if (args.token)
        config_warn(cfg, "--auth-token on the command line is visible to other users of this machine (ps); "
                         "use --auth-token-file or PARLEY_AUTH_TOKEN");
    if (args.data) {
        char shown[CONFIG_DATA_MAX + 8];
        store_target_redact(args.data, shown, sizeof(shown));
        if (strlen(args.data) <= CONFIG_DATA_MAX && strcmp(shown, args.data) != 0)
            config_warn(cfg,
                        "--data on the command line holds a password visible to other users of this machine "
                        "(ps); use --data-file, PARLEY_DATA or PGPASSWORD");
    }
    if (parse_listen(cfg, args.listen) != 0) {
        fprintf(stderr, "parley: --listen: expected HOST:PORT, got '%s'\n", args.listen);
        return -1;
    }
    if (args.public_url) {
        size_t n = strlen(args.public_url);
        while (n && args.public_url[n - 1] == '/')
            n--;
        if ((strncmp(args.public_url, "http://", 7) != 0 && strncmp(args.public_url, "https://", 8) != 0) ||
            n >= sizeof(cfg->public_url)) {
            fprintf(stderr, "parley: --public-url must be an http(s) URL of at most 255 characters\n");
            return -1;
        }
        memcpy(cfg->public_url, args.public_url, n);
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
    if (cfg->auth_token && (strlen(cfg->auth_token) < CONFIG_TOKEN_MIN ||
                            strlen(cfg->auth_token) > CONFIG_TOKEN_MAX || !text_printable(cfg->auth_token))) {
        fprintf(stderr, "parley: --auth-token must be %d to %d characters, no control characters\n",
                CONFIG_TOKEN_MIN, CONFIG_TOKEN_MAX);
        return -1;
    }
    if (cfg->admin_token &&
        (strlen(cfg->admin_token) < CONFIG_ADMIN_TOKEN_MIN || strlen(cfg->admin_token) > CONFIG_TOKEN_MAX ||
         !text_printable(cfg->admin_token))) {
        fprintf(stderr, "parley: the admin token must be %d to %d characters, no control characters\n",
                CONFIG_ADMIN_TOKEN_MIN, CONFIG_TOKEN_MAX);
        return -1;
    }
    if (!cfg->tls_cert != !cfg->tls_key) {
        fprintf(stderr, "parley: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return 0;
}
