/* Conversation-scoped webhooks (WH) in the store, once for both engines (store/scoped_webhooks.c, a
 * table of the row codec scoped by its conversation). Conventions as in store/store.h: 0 or a negative
 * store_result, strings of a returned row in the caller's arena, list rows valid only during the
 * callback. */
#ifndef PARLEY_STORE_SCOPED_WEBHOOKS_H
#define PARLEY_STORE_SCOPED_WEBHOOKS_H

#include "store/store.h"

#define SCOPED_WEBHOOKS_MAX 5 /* per conversation [SPEC, ERRDICT 50361] */

struct scoped_webhook {
    long long id; /* keyset position: insertion order */
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char conversation_sid[SID_LEN + 1];
    char *target;           /* "webhook" | "trigger" | "studio" */
    char *url;              /* NULL for studio */
    char *method;           /* "get" | "post"; NULL for studio */
    char *filters;          /* JSON array of event names, "[]" when none */
    char *triggers;         /* JSON array of keywords, "[]" when none */
    char *flow_sid;         /* FW…; NULL unless studio */
    long long replay_after; /* message index, -1 when not given */
    long long date_created;
    long long date_updated;
};

typedef int (*scoped_webhook_row_fn)(void *ctx, const struct scoped_webhook *w);

/* The webhook sid of the conversation. ST_NOT_FOUND when it has none by that SID. */
int store_scoped_webhook_get(struct store_conn *c, const char *conversation_sid, const char *sid,
                             struct arena *a, struct scoped_webhook *out);
/* Sets w->id. */
int store_scoped_webhook_insert(struct store_conn *c, struct scoped_webhook *w);
int store_scoped_webhook_update(struct store_conn *c, const struct scoped_webhook *w);
int store_scoped_webhook_delete(struct store_conn *c, const char *conversation_sid, const char *sid);
int store_scoped_webhook_list(struct store_conn *c, const char *conversation_sid, const struct page_req *p,
                              scoped_webhook_row_fn fn, void *ctx);
/* How many webhooks the conversation has, into *n. */
int store_scoped_webhook_count(struct store_conn *c, const char *conversation_sid, long long *n);

#endif
