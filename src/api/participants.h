/* What the participants family (api/participants.c) shares with the views over it (UserConversations)
 * and with ConversationWithParticipants. */
#ifndef PARLEY_API_PARTICIPANTS_H
#define PARLEY_API_PARTICIPANTS_H

#include "store/participants.h"

struct req;
struct store_conn;

/* The family's row: the model first (the store reads and lists struct participant), then the request's
 * DateCreated / DateUpdated (-1: not given), applied in the write transaction. */
struct participant_row {
    struct participant p;
    long long date_created, date_updated;
};

enum participant_event { PE_ADD, PE_ADDED, PE_UPDATE, PE_UPDATED, PE_REMOVE, PE_REMOVED };

/* Inside the write transaction: the post-event ev for p, when the request enabled webhooks. */
int participant_post_event(struct store_conn *c, struct req *r, enum participant_event ev,
                           const struct participant *p);
/* Inside the write transaction: removes p (the closed guard first) and, when events, onParticipantRemoved.
 * The change record is the caller's (the runner's for the participants family). Returns 0 or the failure
 * value. */
int participant_remove(struct store_conn *c, struct req *r, const struct participant *p, int events);
/* The change record of a participant write (kind "created", "updated", "deleted"). */
int participant_change_record(struct store_conn *c, const struct participant *p, const char *kind);
/* LastReadMessageIndex: "" or "null" is -1 (cleared); *bad when it is no integer >= 0. */
long long participant_parse_index(const char *s, int *bad);

#endif

/* ConversationWithParticipants (§8): one Participant JSON object (snake_case keys, the binding nested) into
 * pr, checked as a participant create is; 0 or the failure value (50424 when it is no such object). */
int participant_from_json(struct req *r, const char *text, size_t len, struct participant_row *pr);
/* Inside the write transaction, after the conversation (r->parent_sid) was inserted: adds pr with the
 * participant create's rules (a taken pair: 50425), its user, change record and onParticipantAdded. */
int participant_add_bulk(struct store_conn *c, struct req *r, struct participant_row *pr, long long now);

struct jw;
struct participant_view_conversation;

/* The views' shared renderings: the conversation's timers (only the configured ones, as the conversation
 * shows them) and {"participant": …, "conversation": …} on the request's path family. */
void participant_render_timers(struct jw *w, const struct participant_view_conversation *cv);
void participant_render_links(struct jw *w, struct req *r, const char *conversation_sid,
                              const char *participant_sid);
