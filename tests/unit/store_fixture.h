/* What the store's unit tests share: a fresh temporary directory, and an account with its default service
 * (and that service's configuration and roles) in a transaction left open for the test to go on in.
 * Include after <cmocka.h>. */
#ifndef PARLEY_TEST_STORE_FIXTURE_H
#define PARLEY_TEST_STORE_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "store/store.h"
#include "util/sid.h"

/* dir[n] becomes a new directory under TMPDIR (else P_tmpdir) named parley-NAME-XXXXXX. 0, or -1. */
static inline int fixture_tmpdir(char *dir, size_t n, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    int len = snprintf(dir, n, "%s/parley-%s-XXXXXX", tmp && *tmp ? tmp : P_tmpdir, name);
    return len < 0 || (size_t)len >= n || !mkdtemp(dir) ? -1 : 0;
}

static inline void fixture_account(struct store_conn *c, struct account *a, struct service_config *cfg)
{
    memset(a, 0, sizeof(*a));
    sid_new(a->sid, "AC");
    sid_new(a->default_service_sid, "IS");
    a->auth_token = "0123456789abcdef";
    a->date_created = 1;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(c->ops->account_insert(c, a), ST_OK);
    assert_int_equal(services_insert_with_defaults(c, a->sid, "s", 1, a->default_service_sid), ST_OK);
    assert_int_equal(c->ops->service_config_get(c, a->default_service_sid, cfg), ST_OK);
}

#endif
