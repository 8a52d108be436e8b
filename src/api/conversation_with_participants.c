/* ConversationWithParticipants: POST /v1/ConversationWithParticipants and the service twin
 * (BEHAVIOUR-conversations §8): a conversation create (the conversations family's parameters, rules and
 * events, reused through its descriptor) plus up to 10 Participant JSON objects, each checked as a
 * participant create before anything is written, all added in the conversation's transaction: one
 * failure and nothing is created. 201 without participants, 202 with (§8.2); the answer is the final
 * state (active), the participants added synchronously. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "api/participants.h"
#include "store/conversations.h"

#define CWP_PARTICIPANTS_MAX 10 /* per request (§0.3) */
#define CWP_FIELDS_MAX 24

/* The family's row: the conversation first (the conversations family's hooks read it), then the
 * request's participants. */
struct cwp_row {
    struct conversation cv;
    size_t n;
    struct participant_row *parts;
};

/* Built once from the conversations family: its parameters and Participant, its fields in this
 * operation's order; the 202 twin differs in its operation's status only. */
static struct param_spec cwp_params[RUNNER_MAX_PARAMS];
static struct field cwp_fields[CWP_FIELDS_MAX];
static struct family created_family, accepted_family;
static struct op_def accepted_op;
static pthread_once_t built = PTHREAD_ONCE_INIT;
static size_t participant_param; /* index of Participant in cwp_params */

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    int err = conversations_family.check_create(r, row, v);
    if (err) return err;
    struct cwp_row *w = row;
    const struct param_value *pv = &v[participant_param];
    if (pv->n > CWP_PARTICIPANTS_MAX) return E_CWP_TOO_MANY;
    w->parts = arena_alloc(&r->arena, (pv->n ? pv->n : 1) * sizeof(w->parts[0]));
    for (size_t i = 0; i < r->body.n && w->n < pv->n; i++) {
        const struct form_pair *p = &r->body.pair[i];
        if (strcmp(p->key, "Participant") != 0) continue;
        if ((err = participant_from_json(r, p->val, p->vlen, &w->parts[w->n])) != 0) return err;
        w->n++;
    }
    return 0;
}

/* After the conversation's insert and its own post-event, in the same transaction: the participants. */
static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    const struct cwp_row *w = row;
    int err = conversations_family.post_event(c, r, kind, row);
    memcpy(r->parent_sid, w->cv.sid, sizeof(r->parent_sid));
    for (size_t i = 0; i < w->n && !err; i++)
        err = participant_add_bulk(c, r, &w->parts[i], w->cv.date_created);
    return err;
}

static void build(void)
{
    const struct family *cf = &conversations_family;
    memcpy(cwp_params, cf->params, cf->n_params * sizeof(cwp_params[0]));
    participant_param = cf->n_params;
    cwp_params[participant_param] =
        (struct param_spec){"Participant", PK_STRING, P_LIST | P_NO_SLOT, 0, 0, 0, NULL, 0};
    const struct op_def *op = &ops_table[OPID_CREATE_CONVERSATION_WITH_PARTICIPANTS];
    size_t n = 0;
    for (size_t i = 0; i < op->schema->n_fields && n < CWP_FIELDS_MAX; i++)
        for (size_t k = 0; k < cf->n_fields; k++)
            if (strcmp(cf->fields[k].key, op->schema->fields[i].name) == 0) cwp_fields[n++] = cf->fields[k];
    created_family = *cf;
    created_family.segment = "Conversations"; /* url: the conversation's own */
    created_family.row_size = sizeof(struct cwp_row);
    created_family.fields = cwp_fields;
    created_family.n_fields = n;
    created_family.params = cwp_params;
    created_family.n_params = cf->n_params + 1;
    created_family.op_fetch = created_family.op_list = created_family.op_update = created_family.op_delete =
        NULL;
    created_family.op_create = op;
    created_family.check_create = check_create;
    created_family.post_event = post_event;
    accepted_op = *op;
    accepted_op.status = op->status_alt;
    accepted_family = created_family;
    accepted_family.op_create = &accepted_op;
}

const struct family *conversation_with_participants_family(void)
{
    pthread_once(&built, build);
    return &created_family;
}

int conversation_with_participants_create(struct req *r)
{
    pthread_once(&built, build);
    r->route_arg = form_count(&r->body, "Participant") ? &accepted_family : &created_family;
    return run_create(r);
}
