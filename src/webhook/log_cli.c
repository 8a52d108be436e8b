/* `parley webhooks log`: the delivery log of an account, read from the data file (the same rows as
 * GET /parley/webhooks/log), newest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/account_store.h"
#include "store/secret.h"
#include "store/store.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/sid.h"
#include "util/timefmt.h"
#include "webhook/log_cli.h"

static void usage(FILE *out)
{
    fputs("usage: parley webhooks log [--data FILE] [--account AC...] [--limit N] [--secret-key-file FILE]\n"
          "  the account's webhook calls, newest first (pending deliveries first); --data defaults to\n"
          "  PARLEY_DATA or parley.db, --account to the first account, --limit to 50\n",
          out);
}

static int print_row(void *ctx, const struct webhook_log_entry *e)
{
    char created[TIME_ISO_MS_LEN + 1];
    time_iso_ms(created, e->created_at);
    char status[16] = "-";
    if (e->status) snprintf(status, sizeof(status), "%d", e->status);
    printf("%s  %-4s %-14s %-9s %3s  %2d attempt%s  %5lldms  %s %s%s%s\n", created, e->kind, e->event_type,
           e->outcome, status, e->attempts, e->attempts == 1 ? " " : "s", e->latency_ms, e->method, e->url,
           e->last_error ? "  error: " : "", e->last_error ? e->last_error : "");
    return 0;
}

int webhooks_cli_main(int argc, char **argv)
{
    const char *data = getenv("PARLEY_DATA");
    const char *account = NULL;
    const char *key_file = getenv("PARLEY_SECRET_KEY_FILE");
    int limit = 50;
    if (argc < 2 || strcmp(argv[1], "log") != 0) {
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--data") == 0 && v) {
            data = v;
            i++;
        } else if (strcmp(argv[i], "--secret-key-file") == 0 && v) {
            key_file = v;
            i++;
        } else if (strcmp(argv[i], "--account") == 0 && v) {
            account = v;
            i++;
        } else if (strcmp(argv[i], "--limit") == 0 && v) {
            char *end;
            long n = strtol(v, &end, 10);
            i++;
            limit = *v && !*end && n >= 1 && n <= 100000 ? (int)n : 0;
            if (limit < 1) {
                fprintf(stderr, "parley: --limit takes 1 to 100000\n");
                return 2;
            }
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!data || !*data) data = "parley.db";
    if (account && !sid_valid(account, strlen(account), "AC")) {
        fprintf(stderr, "parley: --account must be AC followed by 32 hex digits\n");
        return 2;
    }
    const struct store_ops *ops = store_backend_for(data);
    struct store_conn *c;
    if (ops->open(data, 0, 0, &c) != ST_OK) {
        fprintf(stderr, "parley: cannot open %s\n", data);
        return 1;
    }
    /* the account row is read, and its auth token is sealed */
    if (secret_key_setup(key_file && *key_file ? key_file : NULL, data, ops == &store_sqlite_ops) != 0) {
        c->ops->close(c);
        return 1;
    }
    struct arena a;
    arena_init(&a);
    struct account acct;
    int rc = account ? store_account_get(c, account, &a, &acct) : store_account_first(c, &a, &acct);
    if (rc == ST_OK)
        rc = store_webhook_log_list(c, acct.sid, limit, print_row, NULL);
    else
        fprintf(stderr, "parley: %s\n", rc == ST_NOT_FOUND ? "no such account" : "cannot read the accounts");
    arena_free(&a);
    c->ops->close(c);
    return rc == ST_OK ? 0 : 1;
}
