/* What the messages family (api/messages.c) shares with the delivery receipts and with inbound
 * traffic. */
#ifndef PARLEY_API_MESSAGES_H
#define PARLEY_API_MESSAGES_H

#include "store/messages.h"

struct req;
struct store_conn;
struct conversation;
struct buf;
struct app;

/* The family's row: the model first, then the request's DateCreated / DateUpdated (-1: not given) and the
 * conversation's messaging service (for onMessageAdded), filled in the write transaction. */
struct message_row {
    struct message m;
    long long date_created, date_updated;
    char messaging_service_sid[SID_LEN + 1];
};

/* Inside a write transaction, for traffic that is not a REST create (an inbound SMS or WhatsApp message):
 * posts mr as the REST create would after its parameter checks, with r->parent_sid the conversation's
 * SID: the closed guard, the media, the author's participant, the next index, the conversation's
 * activity, the receipts, the change record and, when r->webhook_enabled, onMessageAdded (its Source is
 * m.source: "SMS", "WHATSAPP"; NULL is "API"). mr->date_created / date_updated: -1 unless imported;
 * m.author, m.body, m.attributes (NULL: "{}"), m.media_sid as given. 0 or a failure value. */
int message_post(struct store_conn *c, struct req *r, struct message_row *mr);

/* For traffic that is not a REST create, its onMessageAdd pre-event (§10.4): the REST create's
 * parameters for mr (Source m.source), appended to out; 0 or ST_ERROR when out overflowed. */
int message_add_params(struct buf *out, const struct message_row *mr, const struct app *app);

/* The Media event parameter of m (a stringified JSON array), nothing without media. */
void message_media_param(struct buf *out, const struct message *m, const struct app *app);

/* The limits a pre-event's modified body, author and attributes must keep (NULL: not modified): 0 or
 * the failure value of the first one broken, as for a REST create. */
int message_check_modified(const char *body, const char *author, const char *attributes);

/* m->participant_sid: the participant m->author names in m->conversation_sid, as for a REST create (NULL
 * when none); 0 or its failure value (a Group MMS author who is none). */
int message_author_participant(struct store_conn *c, struct req *r, struct message *m);

#endif
