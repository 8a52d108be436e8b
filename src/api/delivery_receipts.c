/* Delivery Receipts: /v1/Conversations/{ConversationSid}/Messages/{MessageSid}/Receipts[/{Sid}] and the
 * service twin (BEHAVIOUR-conversations §4): read-only, one per non-chat recipient of a message (the
 * messages family creates them; inbound traffic moves their status through store_receipt_set_status).
 * The runner serves one level of nesting; the message is the second, so each request resolves its
 * conversation and message here and runs the family as nested under the conversation with the message
 * in its segment ("Messages/IM…/Receipts"): URLs and the list's meta then come out right. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/messages.h"
#include "store/conversations.h"
#include "util/arena.h"
#include "util/sid.h"
#include "util/text.h"
#include "json/jw.h"

#define DR(m) offsetof(struct receipt, m)
#define SEGMENT_MAX 64 /* "Messages/" + an IM SID + "/Receipts" */

/* The families order sid and message_sid differently [SPEC]: sid is listed where each has it. */
static const struct field fields[] = {
    {"account_sid", FK_CHARS, DR(account_sid), NULL},
    {"chat_service_sid", FK_SVC_CHARS, DR(service_sid), NULL},
    {"conversation_sid", FK_CHARS, DR(conversation_sid), NULL},
    {"sid", FK_SHORT_CHARS, DR(sid), NULL},
    {"message_sid", FK_CHARS, DR(message_sid), NULL},
    {"sid", FK_SVC_CHARS, DR(sid), NULL},
    {"channel_message_sid", FK_CHARS, DR(channel_message_sid), NULL},
    {"participant_sid", FK_CHARS, DR(participant_sid), NULL},
    {"status", FK_STR, DR(status), NULL},
    {"error_code", FK_I64, DR(error_code), NULL},
    {"date_created", FK_DATE, DR(date_created), NULL},
    {"date_updated", FK_DATE_NULL, DR(date_updated), NULL}, /* null until the first status change (§4.1) */
    {"url", FK_URL, 0, NULL},
};

/* What one request resolved: its message, and the family with that message in its segment. */
struct receipts_req {
    struct family f;
    char message_sid[SID_LEN + 1];
    char segment[SEGMENT_MAX];
};

/* the conversation is already r->parent_sid (receipts_resolve) */
static int parent_resolved(struct req *r, const char *key)
{
    return 0;
}

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    const struct receipts_req *rr = r->ctx;
    return store_receipt_get(c, rr->message_sid, key, &r->arena, out);
}

RUNNER_LIST_ROW(list_row, struct receipt)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    const struct receipts_req *rr = r->ctx;
    return store_receipt_list(c, rr->message_sid, p, list_row, ctx);
}

const struct family receipts_family = {
    .segment = "Receipts",
    .prefix = "DY",
    .parent = PARENT_TWIN,
    .parent_segment = "Conversations",
    .resolve_parent = parent_resolved,
    .parent_off = DR(conversation_sid),
    FAMILY_MODEL(struct receipt),
    .service_off = DR(service_sid),
    FAMILY_FIELDS(fields),
    .op_fetch = &ops_table[OPID_FETCH_CONVERSATION_MESSAGE_RECEIPT],
    .op_list = &ops_table[OPID_LIST_CONVERSATION_MESSAGE_RECEIPT],
    .store = {get, NULL, NULL, NULL, list},
};

/* The service, the conversation (a SID or unique name) and the message of the path, 404 for any that is
 * not there; then the message's path parameter is taken out, so the runner sees the conversation and
 * the receipt. Returns 0 with the request's family in r->route_arg, or -1 with the error answered. */
static int receipts_resolve(struct req *r)
{
    int err = runner_resolve_service(r);
    struct conversation cv;
    if (!err) err = conversations_get(r->db, r, r->param[0], &cv);
    const char *msg = r->param[1];
    struct message m;
    if (!err && !sid_valid(msg, strlen(msg), "IM")) err = E_NOT_FOUND;
    if (!err) err = store_message_get(r->db, cv.sid, msg, &r->arena, &m);
    if (err) return api_fail(r, err == ST_NOT_FOUND ? E_NOT_FOUND : err);
    struct receipts_req *rr = arena_alloc(&r->arena, sizeof(*rr));
    rr->f = receipts_family;
    memcpy(rr->message_sid, m.sid, sizeof(rr->message_sid));
    const char *parts[] = {"Messages/", m.sid, "/Receipts"};
    text_join(rr->segment, sizeof(rr->segment), parts, 3);
    rr->f.segment = rr->segment;
    memcpy(r->parent_sid, cv.sid, sizeof(r->parent_sid));
    for (int i = 1; i + 1 < ROUTE_MAX_PARAMS; i++) {
        r->param[i] = r->param[i + 1];
        r->param_len[i] = r->param_len[i + 1];
    }
    r->ctx = rr;
    r->route_arg = &rr->f;
    return 0;
}

int receipts_list(struct req *r)
{
    return receipts_resolve(r) == 0 ? run_list(r) : 0;
}

int receipts_fetch(struct req *r)
{
    return receipts_resolve(r) == 0 ? run_fetch(r) : 0;
}
