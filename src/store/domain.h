/* The store's own registry: the row codec's tables (store/rows.h) and each domain file's registration of
 * its statements. */
#ifndef PARLEY_STORE_DOMAIN_H
#define PARLEY_STORE_DOMAIN_H

/* The tables of the row codec (store/rows.h). */
extern struct store_table store_users_table;
extern struct store_table store_roles_table;
extern struct store_table store_credentials_table;
extern struct store_table store_bindings_table;
extern struct store_table store_services_table;
extern struct store_table store_address_configs_table;

/* A domain file with more than a plain table registers its tables and statements (called once by
 * store_sql_init); a plain table is in the codec's own list (store/rows.c). */
int store_roles_sql_add(void);
int store_services_sql_add(void);
int store_webhooks_sql_add(void);
int store_accounts_sql_add(void);
int store_timers_sql_add(void);  /* store/timers.c */
int store_changes_sql_add(void); /* store/changes.c */
/* store/scoped_webhooks.c */
int store_scoped_webhooks_sql_add(void);

#endif
