/* ParticipantConversations: GET /v1/ParticipantConversations and the service twin
 * (BEHAVIOUR-conversations §6), a list-only family over a view: the conversations (any state) of the
 * participants found by Identity or by Address, exactly one of them. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/participants.h"
#include "store/participants.h"
#include "util/buf.h"
#include "util/text.h"
#include "json/jw.h"

#define PCF(m) offsetof(struct participant_conversation, m)
#define LOOKUP_QUERY_MAX (4 * 1024) /* "Address=" and a percent-encoded value */

enum { L_IDENTITY, L_ADDRESS, L__COUNT };

static const struct param_spec list_params[L__COUNT] = {
    [L_IDENTITY] = {"Identity", PK_STRING, 0, 0, 0, 0, NULL, 0},
    [L_ADDRESS] = {"Address", PK_STRING, 0, 0, 0, 0, NULL, 0},
};

/* All six keys, null when unset, unlike the participant resource (§6.2); null without a binding. */
static void render_binding(struct jw *w, const void *row, struct req *r)
{
    const struct participant_conversation *pc = row;
    if (!pc->binding_type) {
        jw_null(w);
        return;
    }
    jw_obj_begin(w);
    jw_kstr(w, "address", pc->address);
    jw_kstr(w, "proxy_address", pc->proxy_address);
    jw_kstr(w, "type", pc->binding_type);
    jw_knull(w, "level");
    jw_knull(w, "name");
    jw_kstr(w, "projected_address", pc->projected_address);
    jw_obj_end(w);
}

static void render_created_by(struct jw *w, const void *row, struct req *r)
{
    jw_str(w, "system");
}

static void render_timers(struct jw *w, const void *row, struct req *r)
{
    participant_render_timers(w, &((const struct participant_conversation *)row)->conv);
}

static void render_links(struct jw *w, const void *row, struct req *r)
{
    const struct participant_conversation *pc = row;
    participant_render_links(w, r, pc->conv.sid, pc->participant_sid);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, PCF(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, PCF(service_sid), NULL},
    {"participant_sid", FK_CHARS, PCF(participant_sid), NULL},
    {"participant_user_sid", FK_CHARS_NULL, PCF(user_sid), NULL},
    {"participant_identity", FK_STR, PCF(identity), NULL},
    {"participant_messaging_binding", FK_FN, 0, render_binding},
    {"conversation_sid", FK_CHARS, PCF(conv.sid), NULL},
    {"conversation_unique_name", FK_STR, PCF(conv.unique_name), NULL},
    {"conversation_friendly_name", FK_STR, PCF(conv.friendly_name), NULL},
    {"conversation_attributes", FK_STR, PCF(conv.attributes), NULL},
    {"conversation_date_created", FK_DATE, PCF(conv.date_created), NULL},
    {"conversation_date_updated", FK_DATE, PCF(conv.date_updated), NULL},
    {"conversation_created_by", FK_FN, 0, render_created_by},
    {"conversation_state", FK_STR, PCF(conv.state), NULL},
    {"conversation_timers", FK_FN, 0, render_timers},
    {"links", FK_FN, 0, render_links},
};

struct lookup {
    const char *key;
    int by_address;
};

/* Exactly one of Identity or Address (§6.1); the meta URLs carry it, percent-encoded. */
static int list_filter(struct req *r, const struct param_value *v, struct list_filter *out)
{
    int id = v[L_IDENTITY].present, addr = v[L_ADDRESS].present;
    if (id && addr) return E_LOOKUP_ONE_IDENTIFIER;
    if (!id && !addr) {
        api_failf(r, E_INVALID_PARAM, "Missing required parameter Identity or Address");
        return RUNNER_ANSWERED;
    }
    struct lookup *l = arena_alloc(&r->arena, sizeof(*l));
    const struct param_value *p = id ? &v[L_IDENTITY] : &v[L_ADDRESS];
    l->key = p->s;
    l->by_address = addr;
    struct buf q;
    buf_init(&q, LOOKUP_QUERY_MAX);
    buf_puts(&q, id ? "Identity=" : "Address=");
    pct_encode(&q, p->s, p->len);
    buf_putc(&q, '&');
    int err = q.err;
    out->query = err ? "" : arena_strndup(&r->arena, q.p, q.len);
    buf_free(&q);
    if (err) return E_INVALID_PARAM;
    out->store_filter = l;
    return 0;
}

RUNNER_LIST_ROW(list_row, struct participant_conversation)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    const struct lookup *l = f->store_filter;
    return store_participant_conversation_list(c, r->service_sid, l->key, l->by_address, p, list_row, ctx);
}

const struct family participant_conversations_family = {
    .segment = "ParticipantConversations",
    .prefix = "",
    .parent = PARENT_TWIN,
    .row_size = sizeof(struct participant_conversation),
    .sid_off = PCF(participant_sid),
    .account_off = PCF(account_sid),
    .service_off = PCF(service_sid),
    .id_off = PCF(id),
    .created_off = PCF(conv.date_created),
    .updated_off = PCF(conv.date_updated),
    FAMILY_FIELDS(fields),
    .op_list = &ops_table[OPID_LIST_PARTICIPANT_CONVERSATION],
    .store = {NULL, NULL, NULL, NULL, list},
    .list_params = list_params,
    .n_list_params = L__COUNT,
    .list_filter = list_filter,
};
