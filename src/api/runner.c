/* The runner: a family's descriptor (api/runner.h) executed in the documented validation order. Failures
 * travel as one int value (0: none; > 0: a Twilio code; < 0: a store result), and fail() alone turns a
 * value into the response body, so no step can answer an error and still report success. */
#include "api/runner.h"

#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/paging.h"
#include "store/account_store.h"
#include "store/changes.h"
#include "store/rows.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "json/jw.h"

#define AT(row, off) ((char *)(row) + (off))

/* In the write transaction: answers err (a Twilio code or a store result; the store's "no such row" is
 * the resource's 404) and returns -1, what an apply returns for a change that must not commit. */
static int fail(struct req *r, int err)
{
    if (err == RUNNER_ANSWERED) return -1;
    return api_fail(r, err == ST_NOT_FOUND ? E_NOT_FOUND : err);
}

/* On the request thread: answers err and returns 0, what a handler returns once the response is ready. */
static int refuse(struct req *r, int err)
{
    (void)fail(r, err);
    return 0;
}

/* 0 once r->service_sid is a Conversation Service of the caller's account (named in the path, or the
 * default one for the short path family); else the value to fail with. */
int runner_resolve_service(struct req *r)
{
    if (!r->service_path) {
        r->service_sid = r->account.default_service_sid;
        return 0;
    }
    if (!sid_valid(r->service_sid, strlen(r->service_sid), "IS")) return E_NOT_FOUND;
    struct service sv;
    return store_service_get(r->db, r->account.sid, r->service_sid, &r->arena, &sv);
}

/* ---- store calls: the family's own, else the row codec's over its table ---- */

/* The parent a family's rows hang on, as its table's C_PARENT column holds it. */
static const char *parent_of(const struct req *r, const struct family *f)
{
    return f->parent == PARENT_ACCOUNT ? r->account.sid : r->service_sid;
}

static int st_get(struct store_conn *c, struct req *r, const struct family *f, const char *key, void *out)
{
    if (f->store.get) return f->store.get(c, r, key, out);
    memset(out, 0, f->row_size); /* write-only columns are not read back */
    int by_alt = f->alt_key && !sid_valid(key, strlen(key), f->prefix);
    return rows_get(c, f->table, by_alt, parent_of(r, f), key, &r->arena, out);
}

static int st_insert(struct store_conn *c, struct req *r, const struct family *f, void *row)
{
    return f->store.insert ? f->store.insert(c, r, row) : rows_insert(c, f->table, row);
}

static int st_update(struct store_conn *c, struct req *r, const struct family *f, const void *row,
                     const void *before)
{
    return f->store.update ? f->store.update(c, r, row, before) : rows_update(c, f->table, row, before);
}

static int st_delete(struct store_conn *c, struct req *r, const struct family *f, const char *key)
{
    return f->store.del ? f->store.del(c, r, key) : rows_delete(c, f->table, parent_of(r, f), key);
}

static int st_list(struct store_conn *c, struct req *r, const struct family *f, const struct list_filter *lf,
                   const struct page_req *p, void *ctx)
{
    if (f->store.list) return f->store.list(c, r, lf, p, ctx);
    static const char *const none[RUNNER_MAX_PARAMS]; /* no filter: each of its parameters binds NULL */
    const char *const *extra = lf->store_filter ? lf->store_filter : none;
    _Alignas(max_align_t) char scratch[RUNNER_ROW_MAX];
    if (f->row_size > sizeof(scratch)) return ST_ERROR;
    memset(scratch, 0, f->row_size);
    return rows_list_filtered(c, f->table, parent_of(r, f), p, extra, (int)f->n_list_params, scratch,
                              runner_list_row, ctx);
}

/* The parent chain, left to right: for a service family the service in param[0] (404 when it is not the
 * caller's). Returns 0 or the value to fail with; *sid is the family's own path SID, if any. */
static int resolve_parents(struct req *r, const struct family *f, const char **sid)
{
    int at = 0;
    if (f->parent == PARENT_SERVICE) {
        r->service_path = 1;
        r->service_sid = r->param[0];
        at = 1;
    }
    if (f->parent != PARENT_ACCOUNT) {
        int err = runner_resolve_service(r);
        if (err) return err;
    }
    if (f->resolve_parent) {
        int err = f->resolve_parent(r, r->param[at]);
        if (err) return err;
        at++;
    }
    *sid = f->singleton ? NULL : r->param[at];
    if (*sid && !f->alt_key && !sid_valid(*sid, r->param_len[at], f->prefix)) return E_NOT_FOUND;
    return 0;
}

/* A row's URL up to its SID ("<base>/Conversations/CH…/Messages/"), kept for the rows of one response:
 * the rows of a page share it, and joining it and checking it for escapes per URL was a tenth of a page
 * of messages' rendering. */
#define URL_PREFIX_MAX (sizeof(((struct req *)0)->base) + 128)
struct url_prefix {
    const struct family *f;
    char key[SID_LEN + 1]; /* the parent SID of the row it was built for ("" when not nested) */
    int plain;             /* no byte needs an escape (a --public-url with a '"' would) */
    size_t n;
    /* the row whose URL follows the prefix in s ("" when none): its url and links share it */
    char sid[SID_LEN + 1];
    int row_plain;
    char s[URL_PREFIX_MAX + SID_LEN];
};

/* The family's collection under root (the public URL for a row's URL, "" for a list's meta URLs): the
 * request's path family ("/v1" or "/v1/Services/IS…": a service family's rows are the path's service's),
 * the parent the rows hang on (key) when nested, the segment, then tail. */
static size_t collection_path(char *out, size_t n, struct req *r, const struct family *f, const char *root,
                              const char *key, const char *tail)
{
    char rel[sizeof(((struct req *)0)->base)];
    api_rel_base(r, rel, sizeof(rel));
    const char *nest = f->parent_segment ? "/" : "", *parent = f->parent_segment ? f->parent_segment : "";
    if (!f->parent_segment) key = "";
    const char *parts[] = {root, rel, nest, parent, nest, key, "/", f->segment, tail};
    return text_join(out, n, parts, 9);
}

static struct url_prefix *url_prefix(struct req *r, const struct family *f, const void *row)
{
    const char *key = f->parent_segment ? AT(row, f->parent_off) : "";
    struct url_prefix *u = r->url_prefix;
    if (u && u->f == f && strcmp(u->key, key) == 0) return u;
    if (!u) u = r->url_prefix = arena_alloc(&r->arena, sizeof(*u));
    /* a singleton's url is its parent's and its segment: .../Services/IS…/Configuration */
    u->n = collection_path(u->s, URL_PREFIX_MAX, r, f, r->app->public_url, key, f->singleton ? "" : "/");
    u->plain = jw_plain(u->s, u->n);
    u->sid[0] = '\0';
    snprintf(u->key, sizeof(u->key), "%s", key);
    u->f = f;
    return u;
}

/* 1 when u->s holds the prefix and sid (a char[SID_LEN + 1]), put there now if it held another row's */
static int row_url(struct url_prefix *u, const char *sid)
{
    if (memcmp(u->sid, sid, SID_LEN + 1) == 0) return 1;
    if (strlen(sid) != SID_LEN) return 0;
    memcpy(u->s + u->n, sid, SID_LEN);
    memcpy(u->sid, sid, SID_LEN + 1);
    u->row_plain = u->plain && jw_plain(sid, SID_LEN);
    return 1;
}

void runner_url(struct jw *w, struct req *r, const struct family *f, const void *row, const char *suffix)
{
    struct url_prefix *u = url_prefix(r, f, row);
    if (!suffix) suffix = "";
    const struct jw_part end = {suffix, strlen(suffix), 1};
    const char *sid = f->singleton ? "" : AT(row, f->sid_off);
    if (!f->singleton && row_url(u, sid)) {
        const struct jw_part parts[] = {{u->s, u->n + SID_LEN, u->row_plain}, end};
        jw_str_parts(w, parts, 2);
        return;
    }
    const struct jw_part parts[] = {{u->s, u->n, u->plain}, {sid, strlen(sid), 0}, end};
    jw_str_parts(w, parts, 3);
}

void runner_link(struct jw *w, struct req *r, const struct family *f, const void *row, const char *key,
                 const char *suffix)
{
    jw_key(w, key);
    runner_url(w, r, f, row, suffix);
}

/* The fields a response's rows show on its path family, each with its key prebuilt as ,"key": (one
 * copy instead of a measured, checked write per key: a page of 50 messages writes 850 keys). Built at
 * a response's first row and kept for the others. */
struct render_step {
    const struct field *fd;
    size_t at, n; /* the key's literal in render_plan.keys */
};
struct render_plan {
    const struct family *f;
    size_t n;
    struct render_step *steps;
    char *keys;
};

static int field_shown(const struct field *fd, int service_path)
{
    if (fd->kind == FK_SVC_CHARS || fd->kind == FK_SVC_URL) return service_path;
    if (fd->kind == FK_SHORT_CHARS || fd->kind == FK_SHORT_URL) return !service_path;
    return 1;
}

static const struct render_plan *render_plan(struct req *r, const struct family *f)
{
    struct render_plan *p = r->render_plan;
    if (p && p->f == f) return p;
    if (!p) p = r->render_plan = arena_alloc(&r->arena, sizeof(*p));
    p->f = f;
    p->n = 0;
    p->steps = arena_alloc(&r->arena, f->n_fields * sizeof(p->steps[0]));
    p->keys = arena_alloc(&r->arena, f->n_fields * RUNNER_KEY_MAX);
    size_t at = 0;
    for (size_t i = 0; i < f->n_fields; i++) {
        const struct field *fd = &f->fields[i];
        if (!field_shown(fd, r->service_path)) continue;
        /* a key longer than RUNNER_KEY_MAX allows (none: tests/unit/test_families.c) latches an error */
        size_t n = jw_key_literal(p->keys + at, RUNNER_KEY_MAX, fd->key);
        p->steps[p->n++] = (struct render_step){fd, at, n};
        at += n;
    }
    return p;
}

/* Writes one row as the family's JSON object (fields in order). */
static void runner_render(struct jw *w, struct req *r, const struct family *f, const void *row)
{
    char text[480];
    const struct render_plan *p = render_plan(r, f);
    jw_obj_begin(w);
    for (size_t i = 0; i < p->n; i++) {
        const struct field *fd = p->steps[i].fd;
        const char *at = AT(row, fd->off);
        jw_key_lit(w, p->keys + p->steps[i].at, p->steps[i].n);
        switch (fd->kind) {
        case FK_CHARS:
        case FK_SVC_CHARS:
        case FK_SHORT_CHARS:
            jw_str(w, at);
            break;
        case FK_CHARS_NULL:
            jw_str(w, at[0] ? at : NULL);
            break;
        case FK_STR:
            jw_str(w, *(char *const *)at);
            break;
        case FK_RAW:
            jw_raw(w, *(char *const *)at);
            break;
        case FK_DATE:
        case FK_DATE_NULL: {
            long long ms = *(const long long *)at;
            if (ms < 0 && fd->kind == FK_DATE_NULL) {
                jw_null(w);
                break;
            }
            time_iso(text, ms);
            const struct jw_part date = {text, TIME_ISO_LEN, 1};
            jw_str_parts(w, &date, 1);
            break;
        }
        case FK_I64:
            jw_int(w, *(const long long *)at);
            break;
        case FK_I64_NULL:
            if (*(const long long *)at < 0)
                jw_null(w);
            else
                jw_int(w, *(const long long *)at);
            break;
        case FK_NULL:
            jw_null(w);
            break;
        case FK_BOOL:
            jw_bool(w, *(const int *)at);
            break;
        case FK_URL:
        case FK_SHORT_URL:
        case FK_SVC_URL:
            runner_url(w, r, f, row, NULL);
            break;
        case FK_FN:
            fd->fn(w, row, r);
            break;
        }
    }
    jw_obj_end(w);
}

static void respond(struct req *r, const struct family *f, const struct op_def *op, const void *row)
{
    struct jw w;
    api_json_begin(r, &w, op->status);
    runner_render(&w, r, f, row);
}

/* What a queued write carries to the writer thread (r->ctx): the family, the request's row, the path key
 * (a SID or an alternate key) and the parameters as read, for the hooks. */
struct runner_job {
    const struct family *f;
    void *row;
    const char *key;
    struct param_value v[];
};

static struct runner_job *job_new(struct req *r, const struct family *f, void *row, const char *key,
                                  const struct param_value *v)
{
    size_t n = v ? f->n_params : 0;
    struct runner_job *job = arena_alloc(&r->arena, sizeof(*job) + n * sizeof(job->v[0]));
    job->f = f;
    job->row = row;
    job->key = key;
    if (n) memcpy(job->v, v, n * sizeof(job->v[0]));
    return job;
}

/* Queues job's write unless the operation's pre-event hook (NULL: none) refused the request or took it
 * over (RUNNER_SUSPENDED: the hook calls write once the hooks allow the change). */
static int pre_then_write(struct req *r, struct runner_job *job, int (*pre)(struct req *r),
                          int (*write)(struct req *r))
{
    r->ctx = job;
    int err = pre ? pre(r) : 0;
    if (err == RUNNER_SUSPENDED) return 1;
    return err ? refuse(r, err) : write(r);
}

static int int_slot(const struct param_spec *sp)
{
    return sp->kind == PK_BOOL || sp->kind == PK_INT;
}

/* 1 when v, as read for sp, clears its slot */
static int cleared(const struct param_spec *sp, const struct param_value *v)
{
    return (sp->flags & P_EMPTY_CLEARS) && v->present && v->len == 0;
}

/* The present parameters into their slots; absent strings stay NULL, absent numbers -1. An empty value of
 * a P_EMPTY_CLEARS parameter is NULL in a create's row (an update's merge clears the stored one). */
static void *row_from(struct req *r, const struct family *f, const struct param_value *v, int create)
{
    char *row = arena_alloc(&r->arena, f->row_size);
    memset(row, 0, f->row_size);
    for (size_t i = 0; i < f->n_params; i++) {
        const struct param_spec *sp = &f->params[i];
        if (sp->flags & P_NO_SLOT) continue;
        if (int_slot(sp))
            *(int *)AT(row, sp->off) = v[i].present ? (int)v[i].i : -1;
        else
            *(const char **)AT(row, sp->off) =
                v[i].present && !(create && cleared(sp, &v[i])) ? v[i].s : NULL;
    }
    if (f->singleton) return row; /* only the parameters: an update merges them into the stored row */
    snprintf(AT(row, f->account_off), SID_LEN + 1, "%s", r->account.sid);
    if (f->parent != PARENT_ACCOUNT) snprintf(AT(row, f->service_off), SID_LEN + 1, "%s", r->service_sid);
    return row;
}

static int read_params(struct req *r, const struct family *f, int create, struct param_value *v)
{
    if (f->n_params > RUNNER_MAX_PARAMS) /* a descriptor error; tests/unit/test_families.c rules it out */
        return fail(r, ST_ERROR);
    return params_read_op(r, &r->body, f->params, f->n_params, v, create);
}

/* The change record of a write (store/changes.h), in its transaction. A singleton's SID is its parent's; a
 * nested family's record names its parent by the SID resolve_parent found (never a unique name), so that a
 * follower can tie it to the parent's own records (a parent's "deleted" implies its children). */
static int record(struct store_conn *c, struct req *r, const struct family *f, const char *sid,
                  const char *kind)
{
    if (!f->resource) return 0;
    const char *service = f->parent == PARENT_ACCOUNT ? NULL : r->service_sid;
    if (f->singleton) sid = service ? service : r->account.sid;
    /* a nested family's record names its parent (a participant's, a webhook's conversation) */
    const char *parent = f->parent_segment ? r->parent_sid : NULL;
    return store_change_record(c, r->account.sid, service, f->resource, sid, parent, kind);
}

/* ---- fetch ---- */

int run_fetch(struct req *r)
{
    const struct family *f = r->route_arg;
    const char *sid;
    int err = resolve_parents(r, f, &sid);
    void *row = err ? NULL : arena_alloc(&r->arena, f->row_size);
    if (!err) err = st_get(r->db, r, f, sid, row);
    if (err) return refuse(r, err);
    respond(r, f, f->op_fetch, row);
    return 0;
}

/* ---- create ---- */

static int apply_create(struct store_conn *c, struct req *r)
{
    const struct runner_job *job = r->ctx;
    const struct family *f = job->f;
    void *row = job->row;
    long long now = time_now_ms();
    *(long long *)AT(row, f->created_off) = now;
    *(long long *)AT(row, f->updated_off) = now;
    int err = f->before_insert ? f->before_insert(c, r, row, job->v) : 0;
    if (!err) err = st_insert(c, r, f, row);
    if (err == ST_IN_USE && f->parent != PARENT_ACCOUNT)
        err = E_NOT_FOUND; /* the service was deleted after the parent chain found it */
    if (err == ST_CONFLICT && f->conflict) err = f->conflict;
    if (!err) err = record(c, r, f, AT(row, f->sid_off), "created");
    if (!err && f->post_event) err = f->post_event(c, r, OPK_CREATE, row);
    if (err) return fail(r, err);
    respond(r, f, f->op_create, row);
    return 0;
}

/* A deferred parent (create_checks_parent) looked up after all, for a request refused on the request
 * thread: a missing parent outranks its other errors (validation order, docs/DECISIONS.md). */
static int parent_gone(struct req *r, const struct family *f)
{
    if (!r->parent_deferred) return 0;
    r->parent_deferred = 0;
    char sid[SID_LEN + 1];
    memcpy(sid, r->parent_sid, sizeof(sid));
    return f->resolve_parent(r, sid) == E_NOT_FOUND;
}

int run_create(struct req *r)
{
    const struct family *f = r->route_arg;
    const char *sid;
    struct param_value v[RUNNER_MAX_PARAMS];
    r->parent_deferred = f->create_checks_parent;
    int err = resolve_parents(r, f, &sid);
    if (err) return refuse(r, err);
    if (read_params(r, f, 1, v) != 0) {
        if (parent_gone(r, f)) resp_not_found(r);
        return 0;
    }
    void *row = row_from(r, f, v, 1);
    err = f->check_create ? f->check_create(r, row, v) : 0;
    if (err) return refuse(r, parent_gone(r, f) ? E_NOT_FOUND : err);
    sid_new(AT(row, f->sid_off), f->prefix);
    return pre_then_write(r, job_new(r, f, row, NULL, v), f->pre_create, runner_create_write);
}

int runner_create_write(struct req *r)
{
    return api_write(r, apply_create, r->ctx);
}

void *runner_request_row(struct req *r)
{
    return ((struct runner_job *)r->ctx)->row;
}

const char *runner_request_key(struct req *r)
{
    return ((const struct runner_job *)r->ctx)->key;
}

/* ---- update ---- */

/* The present values of row (the request's, its parameters as read in v) into stored (the row as it is). */
static void merge(const struct family *f, const void *row, const struct param_value *v, void *stored)
{
    for (size_t i = 0; i < f->n_params; i++) {
        const struct param_spec *sp = &f->params[i];
        if (sp->flags & P_NO_SLOT) continue;
        if (int_slot(sp)) {
            if (*(const int *)AT(row, sp->off) >= 0)
                *(int *)AT(stored, sp->off) = *(const int *)AT(row, sp->off);
        } else if (cleared(sp, &v[i])) {
            *(char **)AT(stored, sp->off) = NULL;
        } else if (*(char *const *)AT(row, sp->off)) {
            *(char **)AT(stored, sp->off) = *(char *const *)AT(row, sp->off);
        }
    }
}

/* The stored row for the job's key with the update applied (before_update run), into *out, and the row
 * as it was stored into *before (before NULL: not wanted). */
static int proposal(struct store_conn *c, struct req *r, const struct runner_job *job, void **out,
                    void **before)
{
    const struct family *f = job->f;
    void *stored = arena_alloc(&r->arena, f->row_size);
    int err = st_get(c, r, f, job->key, stored);
    if (err) return err;
    if (before) {
        /* its strings stay in the arena: merge replaces the pointers, not what they point to */
        *before = arena_alloc(&r->arena, f->row_size);
        memcpy(*before, stored, f->row_size);
    }
    merge(f, job->row, job->v, stored);
    /* date_updated only moves forward, even when two updates fall in one millisecond; set before
     * before_update, which may set it itself (an imported DateUpdated) */
    if (!f->singleton) {
        long long t = time_now_ms(), *updated = (long long *)AT(stored, f->updated_off);
        *updated = t > *updated ? t : *updated + 1;
    }
    if (f->before_update && (err = f->before_update(c, r, stored, job->v)) != 0) return err;
    *out = stored;
    return 0;
}

static int apply_update(struct store_conn *c, struct req *r)
{
    const struct runner_job *job = r->ctx;
    const struct family *f = job->f;
    void *stored, *before;
    int err = proposal(c, r, job, &stored, &before);
    if (err) return fail(r, err);
    err = st_update(c, r, f, stored, before);
    if (!err) err = record(c, r, f, AT(stored, f->sid_off), "updated");
    if (!err && f->post_event) err = f->post_event(c, r, OPK_UPDATE, stored);
    if (err) return fail(r, err);
    respond(r, f, f->op_update, stored);
    return 0;
}

int runner_update_proposal(struct req *r, void **out)
{
    return proposal(r->db, r, r->ctx, out, NULL);
}

int runner_update_write(struct req *r)
{
    return api_write(r, apply_update, r->ctx);
}

int run_update(struct req *r)
{
    const struct family *f = r->route_arg;
    const char *sid;
    struct param_value v[RUNNER_MAX_PARAMS];
    int err = resolve_parents(r, f, &sid);
    if (err) return refuse(r, err);
    int bad = read_params(r, f, 0, v) != 0;
    if (!bad && params_count_present(v, f->n_params) == 0) {
        if (f->no_update_params)
            api_fail(r, f->no_update_params);
        else
            resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
        bad = 1;
    }
    if (!bad && f->check_update && (err = f->check_update(r, v)) != 0) {
        fail(r, err);
        bad = 1;
    }
    if (bad) {
        /* a missing resource outranks a parameter error (validation order, docs/DECISIONS.md), checked
         * only here so that a valid update pays nothing for it */
        void *row = arena_alloc(&r->arena, f->row_size);
        if (st_get(r->db, r, f, sid, row) == ST_NOT_FOUND) resp_not_found(r);
        return 0;
    }
    return pre_then_write(r, job_new(r, f, row_from(r, f, v, 0), sid, v), f->pre_update, runner_update_write);
}

/* ---- delete ---- */

static int apply_delete(struct store_conn *c, struct req *r)
{
    const struct runner_job *job = r->ctx;
    const struct family *f = job->f;
    const char *sid = job->key;
    int err = 0;
    /* named by its other key: the record and the codec's delete take the row's SID, not the identity */
    if (f->alt_key && (f->resource || !f->store.del) && !sid_valid(sid, strlen(sid), f->prefix)) {
        void *row = arena_alloc(&r->arena, f->row_size);
        err = st_get(c, r, f, sid, row);
        if (!err) sid = AT(row, f->sid_off);
    }
    if (!err) err = st_delete(c, r, f, sid);
    /* still referenced (a role held by a user); the message is the dictionary title */
    if (err == ST_IN_USE) err = E_CONFLICT;
    if (!err) err = record(c, r, f, sid, "deleted");
    if (err) return fail(r, err);
    r->status = f->op_delete->status; /* 204, no body */
    buf_reset(&r->out);
    return 0;
}

int run_delete(struct req *r)
{
    const struct family *f = r->route_arg;
    const char *sid;
    int err = resolve_parents(r, f, &sid);
    if (err) return refuse(r, err);
    return pre_then_write(r, job_new(r, f, NULL, sid, NULL), f->pre_delete, runner_delete_write);
}

int runner_delete_write(struct req *r)
{
    return api_write(r, apply_delete, r->ctx);
}

/* ---- list ---- */

struct run_list_ctx {
    const struct family *f;
    struct list_filter filter;
};

int runner_list_row_id(void *ctx, long long id, const void *row)
{
    struct list_ctx *lc = ctx;
    const struct run_list_ctx *rl = lc->extra;
    list_row_begin(lc, id);
    runner_render(lc->w, lc->r, rl->f, row);
    return 0;
}

int runner_list_row(void *ctx, const void *row)
{
    const struct run_list_ctx *rl = ((struct list_ctx *)ctx)->extra;
    return runner_list_row_id(ctx, *(const long long *)AT(row, rl->f->id_off), row);
}

static int fetch_page(struct list_ctx *lc)
{
    const struct run_list_ctx *rl = lc->extra;
    return st_list(lc->r->db, lc->r, rl->f, &rl->filter, &lc->pg->req, lc);
}

/* Longest list path: "/v1/Services/IS…/Conversations/CH…/" + segment. */
#define LIST_PATH_MAX 160

int run_list(struct req *r)
{
    const struct family *f = r->route_arg;
    const char *sid;
    int err = resolve_parents(r, f, &sid);
    if (err) return refuse(r, err);
    struct run_list_ctx rl = {f, {NULL, ""}};
    if (f->list_filter) {
        struct param_value v[RUNNER_MAX_PARAMS];
        if (f->n_list_params > RUNNER_MAX_PARAMS) return refuse(r, ST_ERROR);
        if (params_read(r, &r->query, f->list_params, f->n_list_params, v) != 0) return 0;
        err = f->list_filter(r, v, &rl.filter);
        if (err == RUNNER_ANSWERED) return 0;
        if (err) return refuse(r, err);
    }
    char path[LIST_PATH_MAX];
    collection_path(path, sizeof(path), r, f, "", r->parent_sid, "");
    const struct op_def *op = f->op_list;
    return paging_list(r, op->page_max, op->list_key, path, rl.filter.query, fetch_page, &rl);
}

/* ---- the routes' handlers: the family comes with the route ---- */

handler_fn runner_handler(enum op_kind k)
{
    static const handler_fn by_kind[] = {
        [OPK_FETCH] = run_fetch,   [OPK_LIST] = run_list,     [OPK_CREATE] = run_create,
        [OPK_UPDATE] = run_update, [OPK_DELETE] = run_delete, [OPK_OTHER] = NULL,
    };
    return by_kind[k];
}
