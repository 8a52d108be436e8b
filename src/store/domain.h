/* The domain operations written once over the statement seam (store/engine.h); both engines' store_ops
 * point at these. */
#ifndef PARLEY_STORE_DOMAIN_H
#define PARLEY_STORE_DOMAIN_H

#include "store/account_store.h"
#include "store/store.h"

/* The tables of the row codec (store/rows.h). */
extern struct store_table store_users_table;
extern struct store_table store_roles_table;
extern struct store_table store_credentials_table;
extern struct store_table store_bindings_table;
extern struct store_table store_services_table;

/* Each domain file registers its tables and statements (called once by store_sql_init). */
int store_users_sql_add(void);
int store_roles_sql_add(void);
int store_credentials_sql_add(void);
int store_bindings_sql_add(void);
int store_services_sql_add(void);
int store_timers_sql_add(void);  /* store/timers.c */
int store_changes_sql_add(void); /* store/changes.c */

/* store/users.c */
int store_user_get(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                   struct arena *a, struct user *out);
int store_user_insert(struct store_conn *c, struct user *u);
int store_user_update(struct store_conn *c, const struct user *u);
int store_user_delete(struct store_conn *c, const char *service_sid, const char *sid);
int store_user_list(struct store_conn *c, const char *service_sid, const struct page_req *p, user_row_fn fn,
                    void *ctx);

/* store/roles.c */
int store_role_get(struct store_conn *c, const char *service_sid, const char *sid, struct arena *a,
                   struct role *out);
int store_role_insert(struct store_conn *c, const struct role *r);
int store_role_update(struct store_conn *c, const struct role *r);
int store_role_delete(struct store_conn *c, const char *service_sid, const char *sid);
int store_role_list(struct store_conn *c, const char *service_sid, const struct page_req *p, role_row_fn fn,
                    void *ctx);

/* store/credentials.c */
int store_credential_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                         struct credential *out);
int store_credential_insert(struct store_conn *c, struct credential *cr);
int store_credential_update(struct store_conn *c, const struct credential *cr);
int store_credential_delete(struct store_conn *c, const char *account_sid, const char *sid);
int store_credential_list(struct store_conn *c, const char *account_sid, const struct page_req *p,
                          credential_row_fn fn, void *ctx);

/* store/bindings.c */
int store_binding_get(struct store_conn *c, const char *service_sid, const char *sid, struct arena *a,
                      struct binding *out);
int store_binding_delete(struct store_conn *c, const char *service_sid, const char *sid);
int store_binding_list(struct store_conn *c, const char *service_sid, const struct binding_filter *f,
                       const struct page_req *p, binding_row_fn fn, void *ctx);

/* store/services.c */
int store_service_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                      struct service *out);
int store_service_insert(struct store_conn *c, const struct service *sv, const struct service_config *cfg);
int store_service_config_get(struct store_conn *c, const char *service_sid, struct service_config *out);
int store_service_config_update(struct store_conn *c, const struct service_config *cfg);
int store_service_list(struct store_conn *c, const char *account_sid, const struct page_req *p,
                       service_row_fn fn, void *ctx);

/* The entries of both engines' store_ops and store_account_ops that are these functions. */
#define STORE_DOMAIN_OPS                                                                                     \
    .service_get = store_service_get, .service_insert = store_service_insert,                                \
    .service_config_get = store_service_config_get, .role_get = store_role_get,                              \
    .role_insert = store_role_insert, .role_list = store_role_list, .user_get = store_user_get,              \
    .user_insert = store_user_insert, .user_update = store_user_update, .user_delete = store_user_delete,    \
    .user_list = store_user_list
#define STORE_ACCOUNT_DOMAIN_OPS                                                                             \
    .service_list = store_service_list, .service_config_update = store_service_config_update,                \
    .role_update = store_role_update, .role_delete = store_role_delete,                                      \
    .credential_get = store_credential_get, .credential_insert = store_credential_insert,                    \
    .credential_update = store_credential_update, .credential_delete = store_credential_delete,              \
    .credential_list = store_credential_list, .binding_get = store_binding_get,                              \
    .binding_delete = store_binding_delete, .binding_list = store_binding_list

#endif
