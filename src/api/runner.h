/* One runner for the plain operations of a resource family: fetch, list, create, update and delete, in
 * the validation order of docs/DECISIONS.md (route → path resources, 404 first → parameters → checks →
 * write through the writer → render). A family is data (struct family, in api/<family>.c): its fields in
 * the spec's order, one parameter table for create and update with offsetof slots, its parent, its store
 * calls and the few hooks with real behaviour. The operation's shape (success status, list key, PageSize
 * maximum) comes from the generated operation table. */
#ifndef PARLEY_RUNNER_H
#define PARLEY_RUNNER_H
#include <stddef.h>

#include "api/operations.gen.h"
#include "api/params.h"
#include "http/response.h"
#include "http/router.h"

struct req;
struct jw;
struct store_conn;
struct page_req;
struct store_table;

/* How one response key is read from the model struct at off. */
enum field_kind {
    FK_CHARS,      /* an inline char array (a SID): always a string */
    FK_CHARS_NULL, /* the same, "" rendered as null */
    FK_STR,        /* char *: NULL rendered as null */
    FK_RAW,        /* char *: JSON text Parley wrote itself, copied as is */
    FK_DATE,       /* long long milliseconds: ISO 8601 */
    FK_DATE_NULL,  /* the same, negative rendered as null (never set) */
    FK_I64,        /* long long: a number */
    FK_I64_NULL,   /* the same, negative rendered as null (no read horizon) */
    FK_NULL,       /* always null (off unused): is_online where no SDK connections exist */
    FK_BOOL,       /* int: true or false */
    FK_URL,        /* the resource's own absolute URL (off unused) */
    FK_FN,         /* the odd one: fn writes the value (the key is already written) */
    FK_SVC_CHARS,  /* an inline SID written on the service path family only (the short family's
                    * schema lacks the key: a participant's chat_service_sid) */
    /* where the two path families' schemas order their keys differently (a message's url and delivery,
     * a receipt's sid and message_sid), a key is listed twice, once for each family: */
    FK_SHORT_CHARS, /* an inline SID written on the short path family only */
    FK_SHORT_URL,   /* the own URL, written on the short path family only */
    FK_SVC_URL,     /* the own URL, written on the service path family only */
};

struct field {
    const char *key;
    enum field_kind kind;
    size_t off;
    void (*fn)(struct jw *w, const void *row, struct req *r);
};

/* Where the family hangs: the account (/v1/Credentials); a Conversation Service of the account, named in
 * the path (/v1/Services/{IS}/Bindings); or a service reached by both path families (/v1/Roles for the
 * default service, /v1/Services/{IS}/Roles: the router says which). The runner resolves the service, 404
 * when it is not the caller's, and renders url on the family the request used. */
enum family_parent { PARENT_ACCOUNT, PARENT_SERVICE, PARENT_TWIN };

/* The list hook's answer: the store's filter (NULL: none) and the filters' query text for the meta URLs
 * ("BindingType=apn&" or ""). */
struct list_filter {
    const void *store_filter;
    const char *query;
};

/* Store calls: the family's own, for the odd one; each left NULL is the row codec's generic call over
 * family.table (store/rows.h), scoped to the family's parent (the service, or the account for
 * PARENT_ACCOUNT). get/insert/update/delete take the row or SID of the family; the account and service
 * come from r. list calls row(ctx, model) for each row (runner_list_row). */
struct family_store {
    int (*get)(struct store_conn *c, struct req *r, const char *sid, void *out);
    int (*insert)(struct store_conn *c, struct req *r, void *row);
    /* before: the row as it was stored, for rows_update */
    int (*update)(struct store_conn *c, struct req *r, const void *row, const void *before);
    int (*del)(struct store_conn *c, struct req *r, const char *sid);
    int (*list)(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx);
};

/* Parameters in one of a family's tables: the runner reads them into an array on the stack. */
#define RUNNER_MAX_PARAMS 16
/* Longest model struct a generic list reads its rows into, on the stack (test_families checks them). */
#define RUNNER_ROW_MAX 512
/* Room for a response key as the renderer prebuilds it, ,"key": (test_families checks every key fits) */
#define RUNNER_KEY_MAX 64

struct family {
    const char *segment; /* "Credentials": the path segment after the parent */
    char prefix[3];      /* "CR": a path SID of another shape is no such resource... */
    int alt_key;         /* ...unless 1: the key may be an identity, which store.get resolves */
    int singleton;       /* 1: no SID of its own, the parent's one row of settings (fetch and
                          * update only; store.get gets a NULL key); it has no dates */
    enum family_parent parent;
    /* its name in the change log (store/changes.h), "credential"; NULL: its writes leave no record */
    const char *resource;
    size_t row_size;                         /* sizeof the model struct */
    size_t sid_off, account_off;             /* offsetof the model's sid and account_sid (char arrays) */
    size_t service_off;                      /* PARENT_SERVICE: offsetof its service_sid; else unused */
    size_t id_off, updated_off, created_off; /* offsetof id (keyset position) and the two dates */
    const struct field *fields;              /* in the spec's order (tests/unit/test_families.c checks it) */
    size_t n_fields;
    /* create and update read one table, P_CREATE_REQUIRED marking what create requires. Each value lands at
     * its spec's off: strings as char *, PK_BOOL and PK_INT as int (-1 when absent: the store leaves it
     * unchanged on update). */
    const struct param_spec *params;
    size_t n_params;
    /* the family's rows of the generated table (&ops_table[OPID_…]); NULL for one it does not serve */
    const struct op_def *op_fetch, *op_list, *op_create, *op_update, *op_delete;
    struct family_store store;
    /* the store's table (store/rows.h): with it, a store call left NULL needs no code. get by an alt_key
     * that is no SID of the prefix reads by the table's C_ALT_KEY column; a list with list_params passes
     * the filter's store_filter as the n_list_params texts bound from ?4 (rows_list_filtered). */
    const struct store_table *table;
    /* a list's query filters, read before list_filter turns their values into the store's filter */
    const struct param_spec *list_params;
    size_t n_list_params;
    int conflict;         /* the Twilio code of an insert a uniqueness rule refuses; 0: a store error */
    int no_update_params; /* the Twilio code of an update without parameters; 0: 20161 */
    /* hooks, NULL when the family has none; each returns 0 or the failure value (a Twilio code, or a
     * store result) that the runner answers with. v holds the parameters as read (P_NO_SLOT ones too). */
    int (*list_filter)(struct req *r, const struct param_value *v, struct list_filter *out);
    /* create, on the request thread after the parameters: rules no table states */
    int (*check_create)(struct req *r, void *row, const struct param_value *v);
    /* update, on the request thread after the parameters: rules no table states */
    int (*check_update)(struct req *r, const struct param_value *v);
    /* create, in the write transaction before the insert: referenced resources, defaults from the store */
    int (*before_insert)(struct store_conn *c, struct req *r, void *row, const struct param_value *v);
    /* update, on the merged stored row before it is written back (in the write transaction, and on the
     * read connection when a pre-event hook is shown the proposed row) */
    int (*before_update)(struct store_conn *c, struct req *r, void *stored, const struct param_value *v);
    /* after an insert (OPK_CREATE) or update (OPK_UPDATE), in the same transaction: post-events */
    int (*post_event)(struct store_conn *c, struct req *r, enum op_kind kind, const void *row);
    /* update, before the write: a pre-event webhook. 0 to write now, RUNNER_SUSPENDED when it took the
     * request over (it calls runner_update_write once the hooks allow the change), else a failure value */
    int (*pre_update)(struct req *r);
    /* nested under another resource of the service (Participants under Conversations/{ConversationSid}):
     * the parent's path segment; resolve_parent finds the path key (a SID or an alternate key) and
     * returns 0 with r->parent_sid set, or the failure value; parent_off is the offsetof the row's
     * parent SID (a char array). NULL: not nested. */
    const char *parent_segment;
    int (*resolve_parent)(struct req *r, const char *key);
    size_t parent_off;
    /* 1 when the create's write finds the parent (named by SID) itself and answers 20404 without it:
     * the request thread then looks it up only to rank a 404 above a parameter error */
    int create_checks_parent;
    /* create and delete, before the write: pre-event webhooks, answering as pre_update does (they call
     * runner_create_write / runner_delete_write once the hooks allow the change) */
    int (*pre_create)(struct req *r);
    int (*pre_delete)(struct req *r);
};

/* 0 once r->service_sid is a Conversation Service of the caller's account: the one the path names when
 * r->service_path, else the account's default. Otherwise 20404 or a store result, for the caller to fail
 * with. The parent chain's first step, shared with the routes that are not yet families. */
int runner_resolve_service(struct req *r);

/* A pre_update hook's answer: the request is suspended (pre_event_run) and completes later. */
#define RUNNER_SUSPENDED 1
/* A hook's failure value when it prepared the error response itself (api_failf): a list filter's value
 * whose error names the parameter, a message naming another resource (50416 names the conversation that
 * holds the pair), which a code's title cannot. */
#define RUNNER_ANSWERED 2

/* For a pre_update hook, on the request thread: the row the update would write (stored row, merged,
 * date_updated now, before_update run) into *out. Returns 0 or a failure value. */
int runner_update_proposal(struct req *r, void **out);
/* Queues the update the runner prepared (a pre_update hook's proceed). Returns what api_write returns. */
int runner_update_write(struct req *r);
/* The same for a create (pre_create) and a delete (pre_delete). */
int runner_create_write(struct req *r);
int runner_delete_write(struct req *r);
/* For the pre hooks: the request's row (a create's whole row; an update's parameters, merged into the
 * stored row when it is written), which a pre-event's answer may modify; and the path key (update,
 * delete). */
void *runner_request_row(struct req *r);
const char *runner_request_key(struct req *r);

/* The row's own URL on the request's path family, followed by suffix ("/Receipts", or NULL), as a JSON
 * string; runner_link writes it under key (a links member). */
void runner_url(struct jw *w, struct req *r, const struct family *f, const void *row, const char *suffix);
void runner_link(struct jw *w, struct req *r, const struct family *f, const void *row, const char *key,
                 const char *suffix);

/* The row callback a family's store.list passes to the store (through a one-line typed wrapper). */
int runner_list_row(void *ctx, const void *row);
/* The same for a model without an id member: the store hands the keyset position beside the row. */
int runner_list_row_id(void *ctx, long long id, const void *row);
/* name(ctx, row): the typed row callback (rows of type) a family's store.list gives its store, handing
 * each row to runner_list_row. */
#define RUNNER_LIST_ROW(name, type)                                                                          \
    static int name(void *ctx, const type *row)                                                              \
    {                                                                                                        \
        return runner_list_row(ctx, row);                                                                    \
    }

/* The route handler of a family's operation of kind k: runs it on the family the route carries
 * (r->route_arg). api/routes.c builds the families' routes with it. */
handler_fn runner_handler(enum op_kind k);

/* The model struct's members that every family names the same way (sid, account_sid, id, date_created,
 * date_updated), for a descriptor's initializer; PARENT_SERVICE and PARENT_TWIN add service_off. */
#define FAMILY_MODEL(type)                                                                                   \
    .row_size = sizeof(type), .sid_off = offsetof(type, sid), .account_off = offsetof(type, account_sid),    \
    .id_off = offsetof(type, id), .created_off = offsetof(type, date_created),                               \
    .updated_off = offsetof(type, date_updated)
/* The same for a service family whose model is the member m of its row (a message_row's m), its keyset
 * position m.id */
#define FAMILY_MODEL_IN(type, m, id)                                                                         \
    .row_size = sizeof(type), .sid_off = offsetof(type, m.sid),                                              \
    .account_off = offsetof(type, m.account_sid), .service_off = offsetof(type, m.service_sid),              \
    .id_off = offsetof(type, m.id), .created_off = offsetof(type, m.date_created),                           \
    .updated_off = offsetof(type, m.date_updated)
#define FAMILY_FIELDS(a) .fields = (a), .n_fields = sizeof(a) / sizeof((a)[0])
#define FAMILY_PARAMS(a) .params = (a), .n_params = sizeof(a) / sizeof((a)[0])
/* The five rows of the generated table of a family that has them all: FAMILY_CRUD(USER) names
 * OPID_FETCH_USER, OPID_LIST_USER, OPID_CREATE_USER, OPID_UPDATE_USER and OPID_DELETE_USER. */
#define FAMILY_CRUD(X)                                                                                       \
    .op_fetch = &ops_table[OPID_FETCH_##X], .op_list = &ops_table[OPID_LIST_##X],                            \
    .op_create = &ops_table[OPID_CREATE_##X], .op_update = &ops_table[OPID_UPDATE_##X],                      \
    .op_delete = &ops_table[OPID_DELETE_##X]
/* Every store call and hook of a family, each under its conventional name in the family's file (the
 * conversation resources with pre-events: conversations, participants, messages). */
#define FAMILY_ALL_HOOKS                                                                                     \
    .store = {get, insert, update, del, list}, .check_create = check_create, .check_update = check_update,   \
    .before_insert = before_insert, .before_update = before_update, .post_event = post_event,                \
    .pre_create = pre_create, .pre_update = pre_update, .pre_delete = pre_delete

/* The five operations, each on the family in r->route_arg (its route's, or one a handler of its own made).
 * Each returns what a handler returns: 0 with the response ready, 1 when a write was queued (api_write). */
int run_fetch(struct req *r);
int run_list(struct req *r);
int run_create(struct req *r);
int run_update(struct req *r);
int run_delete(struct req *r);

#endif
