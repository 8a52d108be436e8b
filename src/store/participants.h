/* Participants of a conversation and the two views over them (BEHAVIOUR-conversations §2, §6, §7): the
 * model structs and the store functions, written once for both engines (store/participants.c). */
#ifndef PARLEY_STORE_PARTICIPANTS_H
#define PARLEY_STORE_PARTICIPANTS_H

#include "store/store.h"

struct arena;

struct participant {
    long long id; /* keyset position: insertion order */
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char conversation_sid[SID_LEN + 1];
    char *role_sid; /* NULL when none */
    char *identity; /* NULL for a non-chat participant */
    char *attributes;
    char *binding_type; /* "sms", "whatsapp", ...; NULL: no messaging binding */
    char *address, *proxy_address, *projected_address;
    long long last_read_message_index; /* -1: null */
    char *last_read_timestamp;
    char *notification_level; /* the user's own state in the UserConversation view */
    long long date_created;
    long long date_updated;
};

typedef int (*participant_row_fn)(void *ctx, const struct participant *p);

int store_participants_sql_add(void);

/* The participant of the conversation whose SID (or identity, when by_identity) is key. */
int store_participant_get(struct store_conn *c, const char *conversation_sid, const char *key,
                          int by_identity, struct arena *a, struct participant *out);
/* ST_CONFLICT when the identity is already a participant of the conversation. */
int store_participant_insert(struct store_conn *c, struct participant *p);
int store_participant_update(struct store_conn *c, const struct participant *p,
                             const struct participant *before);
int store_participant_delete(struct store_conn *c, const char *conversation_sid, const char *sid);
int store_participant_list(struct store_conn *c, const char *conversation_sid, const struct page_req *p,
                           participant_row_fn fn, void *ctx);
/* How many participants the conversation has, how many of them are non-chat (no identity), and whether
 * one has a projected address (1: the conversation is a Group MMS; else 0). */
int store_participant_counts(struct store_conn *c, const char *conversation_sid, long long *total,
                             long long *non_chat, long long *projected);
/* Inserts the user u (identity, dates; the service's user role, no friendly name, attributes "{}") unless
 * the service has one with that identity: ST_OK when inserted, ST_CONFLICT when it existed. */
int store_participant_user_ensure(struct store_conn *c, const struct user *u);
/* How many conversations of the service the identity participates in, counting no further than limit. */
int store_participant_identity_count(struct store_conn *c, const char *service_sid, const char *identity,
                                     long long limit, long long *n);
/* The conversation (not closed, other than none) where the account's (address, proxy address) pair is
 * already bound, into conversation_sid; ST_NOT_FOUND when it is free. */
int store_participant_pair_owner(struct store_conn *c, const char *account_sid, const char *address,
                                 const char *proxy_address, char conversation_sid[SID_LEN + 1]);

/* ---- the views (BEHAVIOUR-conversations §6, §7): a participant joined with its conversation ---- */

/* The conversation's fields both views show. */
struct participant_view_conversation {
    char sid[SID_LEN + 1];
    char *unique_name, *friendly_name, *attributes, *state;
    long long timer_inactive, timer_closed, date_inactive, date_closed; /* as struct conversation */
    long long date_created, date_updated;
};

/* A user's view of one conversation it participates in (UserConversation). */
struct user_conversation {
    long long id; /* the participant's: keyset position */
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char participant_sid[SID_LEN + 1];
    char user_sid[SID_LEN + 1];
    long long unread_messages_count;   /* -1: null (no read horizon) */
    long long last_read_message_index; /* -1: null */
    char *last_read_timestamp;
    char *notification_level;
    struct participant_view_conversation conv;
    long long touched; /* the update's time (the runner's date_updated; the view shows the conversation's) */
};

/* A participant's conversation found by identity or address (ParticipantConversation). */
struct participant_conversation {
    long long id; /* the participant's: keyset position */
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char participant_sid[SID_LEN + 1];
    char user_sid[SID_LEN + 1]; /* "" when no user has the identity */
    char *identity;
    char *binding_type, *address, *proxy_address, *projected_address;
    struct participant_view_conversation conv;
};

typedef int (*user_conversation_row_fn)(void *ctx, const struct user_conversation *uc);
typedef int (*participant_conversation_row_fn)(void *ctx, const struct participant_conversation *pc);

/* The user's (a SID of the service) view of the conversation (a SID). ST_NOT_FOUND when the user is no
 * participant of it. */
int store_user_conversation_get(struct store_conn *c, const char *service_sid, const char *user_sid,
                                const char *conversation_sid, struct arena *a, struct user_conversation *out);
/* Every conversation the user participates in, any state, by the participant's position. */
int store_user_conversation_list(struct store_conn *c, const char *service_sid, const char *user_sid,
                                 const struct page_req *p, user_conversation_row_fn fn, void *ctx);
/* The participants of the service whose identity (by_address: messaging binding address) is key, with
 * their conversations, any state, by the participant's position. */
int store_participant_conversation_list(struct store_conn *c, const char *service_sid, const char *key,
                                        int by_address, const struct page_req *p,
                                        participant_conversation_row_fn fn, void *ctx);

#endif
