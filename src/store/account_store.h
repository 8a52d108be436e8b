/* Store operations of the account model around Users: accounts and API keys, services with everything
 * they own, roles, users, service configuration and notifications; and the rows of push credentials and
 * bindings. The API's plain families (users, roles, credentials, bindings) reach their rows through the
 * row codec (store/rows.h) over the tables of store/domain.h; only what the codec does not do is here.
 * Conventions as in store/store.h: 0 or a negative store_result, strings of returned structs in the
 * caller's arena, list rows valid only during the callback. */
#ifndef PARLEY_ACCOUNT_STORE_H
#define PARLEY_ACCOUNT_STORE_H

#include "store/store.h"

struct api_key {
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char *friendly_name; /* NULL when not given */
    char *salt;          /* hex */
    char *secret_hash;   /* hex SHA-256 of salt bytes followed by the secret */
    long long date_created;
    long long date_revoked; /* 0 while the key is active */
};

/* Push notification settings of a service (one row per service). Strings are NULL when never set. */
struct notifications {
    char service_sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    int log_enabled;
    int new_message_enabled;
    char *new_message_template;
    char *new_message_sound;
    int new_message_badge_count_enabled;
    int new_message_with_media_enabled;
    char *new_message_with_media_template;
    int added_enabled;
    char *added_template;
    char *added_sound;
    int removed_enabled;
    char *removed_template;
    char *removed_sound;
};

/* A push credential. The secret fields (certificate, private_key, api_key, secret) are write-only: the
 * row codec never reads them back. */
struct credential {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char *friendly_name; /* NULL when not given */
    char *type;          /* apn | gcm | fcm */
    int sandbox;         /* an update's -1 leaves it unchanged */
    char *certificate;
    char *private_key;
    char *api_key;
    char *secret;
    long long date_created;
    long long date_updated;
};

struct binding {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char credential_sid[SID_LEN + 1]; /* "" when none (twilsock) */
    char *endpoint;
    char *identity;
    char *binding_type;  /* apn | gcm | fcm | twilsock */
    char *message_types; /* JSON array text */
    long long date_created;
    long long date_updated;
};

typedef int (*account_row_fn)(void *ctx, const struct account *a);
typedef int (*api_key_row_fn)(void *ctx, const struct api_key *k);
typedef int (*service_row_fn)(void *ctx, long long id, const struct service *s);

/* ---- accounts ---- */
int store_account_get(struct store_conn *c, const char *sid, struct arena *a, struct account *out);
/* the oldest account */
int store_account_first(struct store_conn *c, struct arena *a, struct account *out);
int store_account_insert(struct store_conn *c, const struct account *acct);
int store_account_set_token(struct store_conn *c, const char *sid, const char *token);
/* every account, oldest first (auth_token is not read) */
int store_account_list(struct store_conn *c, account_row_fn fn, void *ctx);
/* default_service_sid, default_messaging_service_sid and the two timers of a->sid */
int store_account_update_config(struct store_conn *c, const struct account *a);

/* ---- API keys ---- */
int store_api_key_insert(struct store_conn *c, const struct api_key *k);
int store_api_key_get(struct store_conn *c, const char *sid, struct arena *a, struct api_key *out);
/* account_sid NULL: the keys of every account */
int store_api_key_list(struct store_conn *c, const char *account_sid, api_key_row_fn fn, void *ctx);
/* ST_NOT_FOUND when unknown; revoking a revoked key keeps its first revocation time */
int store_api_key_revoke(struct store_conn *c, const char *sid, long long now);

/* ---- services ---- */
int store_service_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                      struct service *out);
int store_service_insert(struct store_conn *c, const struct service *sv, const struct service_config *cfg);
int store_service_list(struct store_conn *c, const char *account_sid, const struct page_req *p,
                       service_row_fn fn, void *ctx);
/* the service with its users, roles, configuration, notifications, bindings and webhook configuration
 * (see store_service_reap); ST_NOT_FOUND when the account has no such service */
int store_service_delete(struct store_conn *c, const char *account_sid, const char *sid);
/* A deleted service is only marked (it is then not found, and writes into it are refused as ST_IN_USE);
 * its rows go here, at most max_rows (and the few its row takes along) per call, in the caller's
 * transaction. *more is 0 when no deleted service was left to reap. */
int store_service_reap(struct store_conn *c, int max_rows, int *more);
int store_service_config_get(struct store_conn *c, const char *service_sid, struct service_config *out);
int store_service_config_update(struct store_conn *c, const struct service_config *cfg);

/* ---- roles ---- */
int store_role_get(struct store_conn *c, const char *service_sid, const char *sid, struct arena *a,
                   struct role *out);
int store_role_insert(struct store_conn *c, const struct role *r);
/* ST_IN_USE (nothing deleted) while a user or the service configuration refers to the role */
int store_role_delete(struct store_conn *c, const char *service_sid, const char *sid);

/* ---- users: key is a SID when by_sid, else an identity ---- */
int store_user_get(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                   struct arena *a, struct user *out);

/* ---- notifications: put inserts or replaces the service's row ---- */
int store_notifications_get(struct store_conn *c, const char *service_sid, struct arena *a,
                            struct notifications *out);
int store_notifications_put(struct store_conn *c, const struct notifications *n);

#endif
