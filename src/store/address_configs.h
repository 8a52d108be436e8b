/* Address configurations (/v1/Configuration/Addresses, account level), once for both engines over the row
 * codec. Conventions as in store/store.h: 0 or a negative store_result, strings of a returned row in the
 * caller's arena, list rows valid only during the callback. */
#ifndef PARLEY_STORE_ADDRESS_CONFIGS_H
#define PARLEY_STORE_ADDRESS_CONFIGS_H

#include "store/store.h"

/* Absent optional values are NULL (strings) or -1 (numbers) here and in the table. */
struct address_config {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char *type;    /* sms | whatsapp | messenger | gbm | email | rcs | apple | chat, lower case */
    char *address; /* as given; unique within the account */
    char *friendly_name;
    char *address_country;
    int auto_enabled;      /* AutoCreation.Enabled: 0 or 1 */
    char *auto_type;       /* webhook | studio | default; NULL: default */
    char *service_sid;     /* IS…; NULL: the account's default service */
    char *webhook_url;     /* type webhook */
    char *webhook_method;  /* GET | POST; NULL: POST */
    char *webhook_filters; /* JSON array of event names; NULL: none */
    char *studio_flow_sid; /* type studio: FW… */
    int studio_retry_count;
    long long date_created;
    long long date_updated;
};

typedef int (*address_config_row_fn)(void *ctx, const struct address_config *ac);

/* key is the configuration's SID (by_sid 1) or its address. */
int store_address_config_get(struct store_conn *c, const char *account_sid, const char *key, int by_sid,
                             struct arena *a, struct address_config *out);
/* The account's configuration of address when it is of type (lower case): what an inbound message to
 * address on that channel looks up. ST_NOT_FOUND when there is none, or it is of another type. */
int store_address_config_find(struct store_conn *c, const char *account_sid, const char *address,
                              const char *type, struct arena *a, struct address_config *out);
/* ST_CONFLICT when the account already has a configuration of ac->address; sets ac->id. */
int store_address_config_insert(struct store_conn *c, struct address_config *ac);
/* Writes every field but the account, SID, type, address, country and creation date. */
int store_address_config_update(struct store_conn *c, const struct address_config *ac,
                                const struct address_config *before);
int store_address_config_delete(struct store_conn *c, const char *account_sid, const char *sid);
/* A keyset page of the account's configurations; type NULL for every type. */
int store_address_config_list(struct store_conn *c, const char *account_sid, const char *type,
                              const struct page_req *p, address_config_row_fn fn, void *ctx);

#endif
