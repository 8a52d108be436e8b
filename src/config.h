/* Command line and environment → struct config. Flags win over PARLEY_* variables, which win over
 * defaults. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H
#include <stddef.h>
#include <stdio.h>

#define PARLEY_VERSION "0.1.0"

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
    int webhook_targets_public;       /* --webhook-targets public: public unicast addresses only */
    int webhook_allow_link_local;     /* --webhook-allow-link-local: under open, link-local and metadata too */
    int metrics_public;
};

/* Parses argv (after the subcommand) into cfg. Returns 0, 1 when --help/--version was answered, or -1
 * after printing an error. */
int config_parse(struct config *cfg, int argc, char **argv);
void config_usage(FILE *out);

#endif
