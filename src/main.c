/* parley: flags → config; store, writer and HTTP server started in that order and stopped in reverse;
 * signals handled on the main thread only. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "api/api.h"
#include "cli/accounts.h"
#include "cli/inbound.h"
#include "config.h"
#include "http/server.h"
#include "store/account_store.h"
#include "store/changes.h"
#include "store/datalock.h"
#include "store/secret.h"
#include "store/store.h"
#include "store/timers.h"
#include "store/writer.h"
#include "util/arena.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/text.h"
#include "webhook/addr_policy.h"
#include "webhook/client.h"
#include "webhook/log_cli.h"
#include "webhook/scoped.h"

static void random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof(raw) || getrandom(raw, nbytes, 0) != (ssize_t)nbytes) abort();
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
}

/* Every connection is a file descriptor: take the hard limit, so that --max-connections is what binds. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Memory holds auth tokens and key secrets: no core file, and no ptrace or /proc/PID/mem by the same
 * user. */
static void disable_core_dumps(void)
{
    struct rlimit rl = {0, 0};
    if (setrlimit(RLIMIT_CORE, &rl) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        log_warn("cannot disable core dumps: %s", strerror(errno));
}

/* Makes sure the account to serve exists: the given one, the first stored one, or a new one. */
static int ensure_account(struct app *app, struct store_conn *db, const struct config *cfg, char sid_out[35])
{
    struct arena a;
    arena_init(&a);
    struct account acct;
    char sid[SID_LEN + 1], token[CONFIG_TOKEN_MAX + 1]; /* config_parse refuses a longer one */
    int rc;
    if (cfg->account_sid) {
        snprintf(sid, sizeof(sid), "%s", cfg->account_sid);
        rc = store_account_get(db, sid, &a, &acct);
    } else {
        rc = store_account_first(db, &a, &acct);
        if (rc == ST_OK) snprintf(sid, sizeof(sid), "%s", acct.sid);
    }
    if (rc == ST_OK) {
        if (cfg->auth_token && strcmp(cfg->auth_token, acct.auth_token) != 0) {
            /* through the writer: db is a reader, and the change must reach every thread's cache */
            if (accounts_set_token(app, sid, cfg->auth_token) != 0) {
                arena_free(&a);
                return -1;
            }
            log_info("account %s: auth token replaced by the one given at start", sid);
        }
        arena_free(&a);
        memcpy(sid_out, sid, SID_LEN + 1);
        return 0;
    }
    arena_free(&a);
    if (rc != ST_NOT_FOUND) return -1;
    int generated = !cfg->auth_token;
    if (cfg->auth_token)
        snprintf(token, sizeof(token), "%s", cfg->auth_token);
    else
        random_hex(token, 16);
    if (!cfg->account_sid) {
        memcpy(sid, "AC", 2);
        random_hex(sid + 2, 16);
    }
    if (services_create_default_account(app, sid, token) != 0) return -1;
    if (generated)
        printf("parley: created account %s with auth token %s (keep it; it is not shown again)\n", sid,
               token);
    else
        printf("parley: created account %s\n", sid);
    fflush(stdout);
    memcpy(sid_out, sid, SID_LEN + 1);
    return 0;
}

static int serve(int argc, char **argv)
{
    struct config cfg;
    int rc = config_parse(&cfg, argc, argv);
    if (rc != 0) return rc > 0 ? 0 : 2;
    if (cfg.log_file && log_open(cfg.log_file) != 0) {
        fprintf(stderr, "parley: cannot open log file %s\n", cfg.log_file);
        return 1;
    }
    for (int i = 0; i < cfg.nwarnings; i++)
        log_warn("%s", cfg.warning[i]);
    if (cfg.test_clock) {
        clock_test_enable();
        log_warn("--test-clock: the clock can be frozen and moved through /parley/clock");
    }

    /* Signals are taken synchronously by the main thread; every other thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* past a file size limit writes fail with EFBIG (a 5xx) instead of killing the process */
    signal(SIGXFSZ, SIG_IGN);
    raise_fd_limit();
    disable_core_dumps();

    struct app app = {.public_url = cfg.public_url,
                      .public_url_len = strlen(cfg.public_url),
                      .store = store_backend_for(cfg.data),
                      .data = cfg.data,
                      .sync_full = cfg.sync_full,
                      .pre_hooks_for_rest = cfg.rest_pre_hooks,
                      .pre_failure = cfg.pre_failure_reject ? PRE_FAILURE_REJECT : PRE_FAILURE_PROCEED,
                      .veto_status = (int)cfg.veto_status,
                      .metrics_public = cfg.metrics_public,
                      .media_strict = cfg.media_strict,
                      .admin_token = cfg.admin_token,
                      .timers_need_state = cfg.timers_need_state,
                      .closed_allows_delete = cfg.closed_allows_delete,
                      .scoped_trigger_filters = cfg.scoped_trigger_filters};
    app.cache_accounts = strcmp(app.store->name, "sqlite") == 0;
    app.strict_sms_body = cfg.strict_sms_body;
    app.no_delivery_receipts = cfg.no_delivery_receipts;
    app.omit_message_chat_service_sid = cfg.omit_message_chat_service_sid;
    app.event_media_snake = cfg.event_media_snake;
    int sqlite = app.store == &store_sqlite_ops;
    /* one server per SQLite file; the lock goes with the process, also when it is killed */
    if (sqlite && datalock_open(cfg.data, 1) != DATALOCK_OK) return 1;
    if (secret_key_setup(cfg.secret_key_file, cfg.data, sqlite) != 0) {
        datalock_close();
        return 1;
    }
    if (!secret_have_key())
        log_warn("no --secret-key-file: auth tokens and credential secrets are stored in clear text");
    /* studio targets of conversation-scoped webhooks: Parley has no Studio, a stand-in may take them */
    if (cfg.studio_url && strncmp(cfg.studio_url, "http://", 7) != 0 &&
        strncmp(cfg.studio_url, "https://", 8) != 0) {
        log_err("--studio-url must be an http or https URL");
        datalock_close();
        return 2;
    }
    scoped_webhooks_set_studio_url(cfg.studio_url);
    /* the conversation state timers (api/conversations.c), before the timer scheduler starts */
    messages_replay_register(&app);
    if (conversations_timers_register() != 0) {
        datalock_close();
        return 1;
    }
    struct store_conn *wdb = NULL;
    if (app.store->open(cfg.data, 1, cfg.sync_full, &wdb) != ST_OK || wdb->ops->migrate(wdb) != ST_OK) {
        if (wdb) wdb->ops->close(wdb);
        datalock_close();
        return 1;
    }
    if (writer_start(&app.writer, wdb, 256) != 0) {
        wdb->ops->close(wdb);
        return 1;
    }
    struct store_conn *rdb = NULL;
    char account_sid[SID_LEN + 1];
    int status = 1;
    struct server *srv = NULL;
    /* a second look when the first fails: another server on the same database may have just created it */
    if (app.store->open(cfg.data, 0, cfg.sync_full, &rdb) != ST_OK ||
        (ensure_account(&app, rdb, &cfg, account_sid) != 0 &&
         ensure_account(&app, rdb, &cfg, account_sid) != 0))
        goto out;
    struct hook_client_config hcfg = {.pre_timeout_ms = (int)cfg.pre_timeout_ms,
                                      .post_timeout_ms = 5000,
                                      .max_attempts = (int)cfg.webhook_max_attempts,
                                      .backoff_base_ms = 500,
                                      .backoff_max_ms = 30000,
                                      .max_in_flight = 32,
                                      .target_policy =
                                          cfg.webhook_targets_public ? TARGETS_PUBLIC : TARGETS_OPEN,
                                      .allow_link_local = cfg.webhook_allow_link_local,
                                      .release_claims_at_start = strcmp(app.store->name, "sqlite") == 0};
    if (services_reaper_start(&app) != 0) {
        log_err("cannot start the reaper of deleted services");
        goto out;
    }
    if (hook_client_start(&app.hooks, &app, &hcfg) != 0) {
        log_err("cannot start the webhook client");
        goto out;
    }
    /* timer kinds are registered (timers_register) before this */
    if (timers_start(app.writer, !sqlite) != 0 || changes_pruner_start(app.writer, cfg.changes_days) != 0) {
        log_err("cannot start the timer scheduler or the change log's pruner");
        goto out;
    }

    struct server_config scfg = {.host = cfg.host,
                                 .port = cfg.port,
                                 .threads = cfg.threads,
                                 .max_body = cfg.max_body,
                                 .connection_limit = cfg.connection_limit,
                                 .per_ip_limit = cfg.per_ip_limit,
                                 .idle_timeout = cfg.idle_timeout,
                                 .read_timeout = cfg.read_timeout,
                                 .connection_memory = cfg.connection_memory,
                                 .tls_cert = cfg.tls_cert,
                                 .tls_key = cfg.tls_key};
    if (server_start(&srv, &scfg, &app) != 0) goto out;
    char shown[512];
    store_target_redact(cfg.data, shown, sizeof(shown));
    printf("parley %s listening on %s (store %s %s, %u threads, sync %s, account %s)\n", PARLEY_VERSION,
           cfg.public_url, app.store->name, shown, cfg.threads, cfg.sync_full ? "full" : "normal",
           account_sid);
    fflush(stdout);

    for (;;) {
        int sig = 0;
        sigwait(&set, &sig);
        if (sig == SIGHUP) {
            log_reopen();
            log_info("SIGHUP: log file reopened");
            continue;
        }
        log_info("signal %d: stopping; requests in flight finish first", sig);
        break;
    }
    status = 0;
out:
    server_stop(srv, 10000);
    timers_stop();
    changes_pruner_stop();
    hook_client_stop(app.hooks);
    services_reaper_stop(&app);
    writer_stop(app.writer);
    if (rdb) rdb->ops->close(rdb);
    wdb->ops->close(wdb);
    datalock_close();
    return status;
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT); /* once, before any thread */
    atexit(curl_global_cleanup);
    if (argc > 1 && strcmp(argv[1], "serve") == 0) return serve(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "webhooks") == 0) return webhooks_cli_main(argc - 1, argv + 1);
    if (argc > 1 && (strcmp(argv[1], "account") == 0 || strcmp(argv[1], "key") == 0))
        return accounts_main(argc - 1, argv + 1);
    if (argc > 1 && (strcmp(argv[1], "inbound") == 0 || strcmp(argv[1], "receipt") == 0))
        return inbound_cli_main(argc - 1, argv + 1);
    return serve(argc - 1, argv + 1);
}
