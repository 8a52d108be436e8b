/* Command line and environment → struct config. Flags win over PARLEY_* variables, which win over
 * defaults. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H
#include <stddef.h>
#include <stdio.h>

#define PARLEY_VERSION "0.1.0"

/* Secrets given by file or environment (kept out of ps). A token longer than the Basic auth parser's
 * password limit (AUTH_PASS_MAX) could never authenticate, so that is the limit, refused beyond. */
#define CONFIG_TOKEN_MIN 8
#define CONFIG_TOKEN_MAX 128
#define CONFIG_ADMIN_TOKEN_MIN 16
#define CONFIG_DATA_MAX 4096 /* a --data-file: a URL or libpq keyword string */
#define CONFIG_WARNINGS 4
#define CONFIG_WARNING_LEN 256

struct config {
    char host[64];
    unsigned short port;
    const char *data;
    char public_url[256];
    const char *account_sid;
    const char *auth_token;
    unsigned threads;
    int sync_full;
    size_t max_body;
    unsigned connection_limit;
    unsigned per_ip_limit;
    unsigned idle_timeout;
    unsigned read_timeout; /* seconds to read a whole request; 0: no deadline */
    size_t connection_memory;
    const char *log_file;
    const char *tls_cert;
    const char *tls_key;
    /* webhooks */
    unsigned pre_timeout_ms;
    int pre_failure_reject;
    int rest_pre_hooks;
    unsigned veto_status;
    unsigned webhook_max_attempts;
    int webhook_targets_public;   /* --webhook-targets public: public unicast addresses only */
    int webhook_allow_link_local; /* --webhook-allow-link-local: under open, link-local and metadata too */
    int metrics_public;
    int media_strict; /* --media-strict: an unregistered MediaSid is 50507 */
    /* secrets read from files (--auth-token-file, --data-file, --admin-token-file, PARLEY_*_FILE) */
    char auth_token_buf[CONFIG_TOKEN_MAX + 1];
    char data_buf[CONFIG_DATA_MAX + 1];
    char admin_token_buf[CONFIG_TOKEN_MAX + 1];
    const char *admin_token; /* server-wide /metrics credential; NULL: none */
    /* for the log, once it is open: secrets on the command line, loosely readable secret files */
    char warning[CONFIG_WARNINGS][CONFIG_WARNING_LEN];
    int nwarnings;
    const char *secret_key_file; /* NULL: DATA.key for SQLite, none for PostgreSQL */
    int test_clock;        /* --test-clock: /parley/clock may freeze and move the clock (util/clock.h) */
    unsigned changes_days; /* --changes-retention-days: change log records kept (0: all) */
    int timers_need_state; /* --timers-need-state: conversation timers only beside a State (50382) */

    /* --closed-allows-delete: participants of a closed conversation may be deleted */
    int closed_allows_delete;
    /* conversation-scoped webhooks (api/scoped_webhooks.c, webhook/scoped.c) */
    const char *studio_url;     /* --studio-url: where studio targets' events go; NULL: the log only */
    int scoped_trigger_filters; /* --scoped-trigger-key filters: keywords rendered under "filters" */
    /* message switches (api/messages.c), each named after its flag */
    int strict_sms_body;
    int no_delivery_receipts;
    int omit_message_chat_service_sid;
    int event_media_snake; /* --event-media-keys snake */
};

/* Parses argv (after the subcommand) into cfg. Returns 0, 1 when --help/--version was answered, or -1
 * after printing an error. */
int config_parse(struct config *cfg, int argc, char **argv);
void config_usage(FILE *out);

#endif
