/* What the store's unit tests share: a fresh temporary directory, and an account with its default service
 * (and that service's configuration and roles) in a transaction left open for the test to go on in.
 * Include after <cmocka.h>. */
#ifndef PARLEY_TEST_STORE_FIXTURE_H
#define PARLEY_TEST_STORE_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NO_STORE_PG
#include <libpq-fe.h>
#endif

#include "api/api.h"
#include "store/account_store.h"
#include "store/store.h"
#include "util/sid.h"

/* dir[n] becomes a new directory under TMPDIR (else P_tmpdir) named parley-NAME-XXXXXX. 0, or -1. */
static inline int fixture_tmpdir(char *dir, size_t n, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(dir, n, "%s/parley-%s-XXXXXX", tmp && *tmp ? tmp : P_tmpdir, name);
    return len < 0 || (size_t)len >= n || !mkdtemp(dir) ? -1 : 0;
}

#ifndef NO_STORE_PG
/* Runs one statement on the PARLEY_TEST_PG base database; 0 or -1. */
static inline int fixture_pg_admin(const char *base, const char *sql)
{
    PGconn *c = PQconnectdb(base);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *res = PQexec(c, sql);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) print_error("%s: %s", sql, PQerrorMessage(c));
        PQclear(res);
    } else {
        print_error("cannot connect to PARLEY_TEST_PG: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}
#endif

/* The base URL with its database replaced by name (postgres://user:pass@host:port/db?options). */
static inline int fixture_pg_url_for(const char *base, const char *name, char *out, size_t n)
{
    const char *scheme = strstr(base, "://");
    if (!scheme) return -1;
    const char *slash = strchr(scheme + 3, '/');
    size_t host_len = slash ? (size_t)(slash - base) : strlen(base);
    const char *query = slash ? strchr(slash, '?') : NULL;
    int len = snprintf(out, n, "%.*s/%s%s", (int)host_len, base, name, query ? query : "");
    return len > 0 && (size_t)len < n ? 0 : -1;
}

static inline void fixture_account(struct store_conn *c, struct account *a, struct service_config *cfg)
{
    memset(a, 0, sizeof(*a));
    sid_new(a->sid, "AC");
    sid_new(a->default_service_sid, "IS");
    a->auth_token = "0123456789abcdef";
    a->date_created = 1;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_account_insert(c, a), ST_OK);
    assert_int_equal(services_insert_with_defaults(c, a->sid, "s", 1, a->default_service_sid), ST_OK);
    assert_int_equal(store_service_config_get(c, a->default_service_sid, cfg), ST_OK);
}

#endif
