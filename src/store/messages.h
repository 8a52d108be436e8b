/* Messages of a conversation, their delivery receipts and the registered media metadata
 * (BEHAVIOUR-conversations §3, §4), once for both engines (store/messages.c: tables of the row codec, and
 * hand-written statements for the index counter and the keyset list by index).
 * Conventions as in store/store.h: 0 or a negative store_result, strings of a returned row in the
 * caller's arena, list rows valid only during the callback. */
#ifndef PARLEY_STORE_MESSAGES_H
#define PARLEY_STORE_MESSAGES_H

#include "store/store.h"

struct arena;
struct conversation;

/* Receipt statuses (§4.1), the index of each one's counter in struct message.delivery. */
enum receipt_status { RS_SENT, RS_DELIVERED, RS_READ, RS_FAILED, RS_UNDELIVERED, RS__COUNT };

struct message {
    long long id; /* the row's own id (insertion order) */
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char conversation_sid[SID_LEN + 1];
    long long conversation_id; /* the conversation's row id: the key of its messages' index */
    long long index;           /* per conversation, from 0, never reused */
    char *author;
    char *participant_sid; /* NULL: no participant matches the author */
    char *body;            /* NULL: none (media or content only) */
    char *attributes;
    char *subject; /* stored, never rendered (§3.2 rule 5) */
    char *content_sid, *content_variables;
    char *media_sid; /* NULL: no media; else the metadata it was sent with */
    char *media_content_type, *media_filename;
    long long media_size;
    char *source;                  /* "API", "SMS", "WHATSAPP": who posted it (events' Source) */
    long long delivery[RS__COUNT]; /* receipts in each status */
    long long date_created;
    long long date_updated;
    /* not a column: the list's keyset position (asc: index + 1; desc: MESSAGE_DESC_BASE - index) */
    long long pos;
};

/* Positions of a descending list: ascending positions, all > 0 like the ids a page token carries. */
#define MESSAGE_DESC_BASE (1LL << 62)

typedef int (*message_row_fn)(void *ctx, const struct message *m);

struct receipt {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char conversation_sid[SID_LEN + 1];
    char message_sid[SID_LEN + 1];
    char participant_sid[SID_LEN + 1];
    char channel_message_sid[SID_LEN + 1];
    char *status;
    long long error_code;
    long long date_created;
    long long date_updated; /* -1: never updated (rendered null) */
};

typedef int (*receipt_row_fn)(void *ctx, const struct receipt *d);

struct media_meta {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char *content_type;
    char *filename; /* NULL: none */
    long long size;
    long long date_created;
};

int store_messages_sql_add(void);

int store_message_get(struct store_conn *c, const char *conversation_sid, const char *sid, struct arena *a,
                      struct message *out);
/* The id is not read back (m->id is left as it is); the result may be read later (store/engine.h). */
int store_message_insert(struct store_conn *c, struct message *m);
int store_message_update(struct store_conn *c, const struct message *m);
/* The message and, by ON DELETE CASCADE, its receipts. */
int store_message_delete(struct store_conn *c, const char *conversation_sid, const char *sid);
/* A keyset page by index, ascending or descending (desc), positions as struct message.pos says, of
 * page's conversation; each row starts as page (its account, service and conversation SIDs). */
int store_message_list(struct store_conn *c, const struct message *page, int desc, const struct page_req *p,
                       message_row_fn fn, void *ctx);
/* The participant an author names (BEHAVIOUR-conversations §3.1): a chat participant by identity first,
 * else one whose binding address, else projected address it is; ST_NOT_FOUND when none. *group is 1 when
 * the conversation is a Group MMS (a participant has a projected address), found or not. */
int store_message_author_participant(struct store_conn *c, const char *conversation_sid,
                                     const char *service_sid, const char *author, char sid[SID_LEN + 1],
                                     int *group);
/* A create's author (m->author, as store_message_author_participant; sid "" when none matches) and, in
 * the write transaction right before the message's insert, m->index, the index it gets (never one a
 * deleted message had; on PostgreSQL the conversation's row stays locked until the transaction ends),
 * m->conversation_id, and of the conversation its state (in a), timers and messaging service into cv
 * (nothing else of it), in one statement; ST_NOT_FOUND when m->service_sid has no such conversation. */
int store_message_author_index(struct store_conn *c, struct message *m, char sid[SID_LEN + 1], int *group,
                               struct arena *a, struct conversation *cv);

/* A non-chat recipient of a message: a participant with a binding address. */
struct recipient {
    char sid[SID_LEN + 1];
    char type[16]; /* the binding type: "sms", "whatsapp", ... */
};
/* The conversation's non-chat participants, at most max of them, in *n. */
int store_message_recipients(struct store_conn *c, const char *conversation_sid, struct recipient *out,
                             int max, int *n);
/* 1 in *used when a message of the account already carries media_sid. */
int store_message_media_used(struct store_conn *c, const char *account_sid, const char *media_sid, int *used);

int store_receipt_get(struct store_conn *c, const char *message_sid, const char *sid, struct arena *a,
                      struct receipt *out);
/* The account's receipt with this SID, whatever its message. ST_NOT_FOUND when the account has none. */
int store_receipt_find(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                       struct receipt *out);
/* Inserts d and counts it in its message's delivery summary, in one transaction. */
int store_receipt_insert(struct store_conn *c, struct receipt *d);
/* Moves d (as stored) to status with error_code at now, and its message's summary with it: the only
 * writer of a receipt's status (inbound traffic's status endpoint calls it). */
int store_receipt_set_status(struct store_conn *c, struct receipt *d, const char *status,
                             long long error_code, long long now);
int store_receipt_list(struct store_conn *c, const char *message_sid, const struct page_req *p,
                       receipt_row_fn fn, void *ctx);
/* The enum index of a receipt status name; -1 for none. */
int receipt_status_index(const char *status);

int store_media_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                    struct media_meta *out);
/* Registers (or replaces) the account's metadata for m->sid. */
int store_media_put(struct store_conn *c, struct media_meta *m);

#endif
