/* Conversations (CH) in the store, once for both engines (store/conversations.c, a table of the row
 * codec). Conventions as in store/store.h: 0 or a negative store_result, strings of a returned row in
 * the caller's arena, list rows valid only during the callback. */
#ifndef PARLEY_STORE_CONVERSATIONS_H
#define PARLEY_STORE_CONVERSATIONS_H

#include "store/store.h"

/* The states a conversation is in (BEHAVIOUR-conversations §1.1); "initializing" is never stored. */
#define CONV_ACTIVE "active"
#define CONV_INACTIVE "inactive"
#define CONV_CLOSED "closed"

struct conversation {
    long long id; /* keyset position: insertion order */
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char messaging_service_sid[SID_LEN + 1]; /* "" when none */
    char *friendly_name;                     /* NULL when never set */
    char *unique_name;                       /* NULL when none */
    char *attributes;
    char *state; /* CONV_ACTIVE, CONV_INACTIVE or CONV_CLOSED */
    /* timers: configured durations (ms, 0: none); the pending timer's due time or the time the state
     * changed (ms, 0: none); the instant they count from */
    long long timer_inactive, timer_closed;
    long long date_inactive, date_closed;
    long long last_activity;
    char *email_address; /* Bindings.Email.*: NULL when unset */
    char *email_name;
    long long date_created;
    long long date_updated;
    /* not a column: the state an update found when it changed it (NULL: unchanged), for the state event */
    const char *state_before;
};

/* The list's filters: state (NULL: any), and date_created bounds in ms, both inclusive. */
struct conversation_filter {
    const char *state;
    int has_start, has_end;
    long long start, end;
};

typedef int (*conversation_row_fn)(void *ctx, const struct conversation *cv);

int store_conversations_sql_add(void);

/* key is the SID when by_sid, else the unique name. ST_NOT_FOUND when the service has none. */
int store_conversation_get(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                           struct arena *a, struct conversation *out);
/* The SID of the conversation of service_sid that key names (as store_conversation_get), into out. */
int store_conversation_sid(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                           char out[SID_LEN + 1]);
/* The conversation with this SID in whatever service (for a timer, which knows only the SID). */
int store_conversation_get_by_sid(struct store_conn *c, const char *sid, struct arena *a,
                                  struct conversation *out);
/* Sets cv->id. ST_CONFLICT when the unique name is taken in the service. */
int store_conversation_insert(struct store_conn *c, struct conversation *cv);
/* Every column but the keys; ST_CONFLICT when the new unique name is taken. */
int store_conversation_update(struct store_conn *c, const struct conversation *cv,
                              const struct conversation *before);
/* The row and, by ON DELETE CASCADE, everything under it (participants, messages, receipts, scoped
 * webhooks, as their tables arrive). */
int store_conversation_delete(struct store_conn *c, const char *service_sid, const char *sid);
int store_conversation_list(struct store_conn *c, const char *service_sid,
                            const struct conversation_filter *f, const struct page_req *p,
                            conversation_row_fn fn, void *ctx);

#endif
