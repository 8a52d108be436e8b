/* The row codec and the statement registry (store/rows.h, store/engine.h): engine-neutral. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/conversations.h"
#include "store/domain.h"
#include "store/messages.h"
#include "store/migrations.h"
#include "store/participants.h"
#include "store/rows.h"
#include "store/scoped_webhooks.h"
#include "store/secret.h"
#include "util/arena.h"
#include "util/log.h"

/* ---- the registry ---- */

static struct store_sql *sql_head, **sql_tail = &sql_head;
static int sql_n;

/* ?N -> $N; the lock clause appended for the writer's variant. */
static char *pg_rewrite(const char *sql, const char *suffix)
{
    size_t n = strlen(sql) + strlen(suffix) + 1;
    char *out = malloc(n);
    if (!out) return NULL;
    size_t j = 0;
    for (size_t i = 0; sql[i]; i++)
        out[j++] = sql[i] == '?' && sql[i + 1] >= '0' && sql[i + 1] <= '9' ? '$' : sql[i];
    memcpy(out + j, suffix, strlen(suffix) + 1);
    return out;
}

/* The highest N of the text's ?N placeholders (0: none). */
static int max_param(const char *sql)
{
    int top = 0;
    for (const char *p = sql; *p; p++) {
        if (*p != '?' || p[1] < '0' || p[1] > '9') continue;
        int n = 0;
        while (p[1] >= '0' && p[1] <= '9' && n <= STORE_SQL_PARAMS_MAX)
            n = n * 10 + (*++p - '0');
        if (n > top) top = n;
    }
    return top;
}

int store_sql_add(struct store_sql *q)
{
    if (max_param(q->sql) > STORE_SQL_PARAMS_MAX ||
        (q->sql_pg && max_param(q->sql_pg) > STORE_SQL_PARAMS_MAX)) {
        log_err("store: a statement has more than %d parameters: %.60s", STORE_SQL_PARAMS_MAX, q->sql);
        return ST_ERROR;
    }
    static const char *const lock_clause[] = {"", " FOR SHARE", " FOR NO KEY UPDATE", " FOR UPDATE"};
    const char *pg = q->sql_pg ? q->sql_pg : q->sql;
    q->pg_text = pg_rewrite(pg, "");
    q->pg_text_lock = q->lock != SQL_LOCK_NONE ? pg_rewrite(pg, lock_clause[q->lock]) : NULL;
    if (!q->pg_text || (q->lock != SQL_LOCK_NONE && !q->pg_text_lock)) return ST_ERROR;
    q->id = sql_n++;
    q->next = NULL;
    *sql_tail = q;
    sql_tail = &q->next;
    return ST_OK;
}

const struct store_sql *store_sql_first(void)
{
    return sql_head;
}

/* The plain tables (their statements are the codec's alone), and the domain files that register tables
 * with hand-written statements, one a line: a new resource adds one. */
static struct store_table *const tables[] = {
    &store_users_table,
    &store_credentials_table,
    &store_bindings_table,
    &store_address_configs_table,
};
/* clang-format off */
static int (*const adders[])(void) = {
    store_roles_sql_add,
    store_services_sql_add,
    store_webhooks_sql_add,
    store_accounts_sql_add,
    store_secrets_sql_add,
    store_timers_sql_add,
    store_changes_sql_add,
    store_conversations_sql_add,
    store_participants_sql_add,
    store_scoped_webhooks_sql_add,
    store_messages_sql_add,
};
/* clang-format on */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_all(void)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && init_rc == ST_OK; i++)
        init_rc = rows_table_add(tables[i]);
    for (size_t i = 0; i < sizeof(adders) / sizeof(adders[0]) && init_rc == ST_OK; i++)
        init_rc = adders[i]();
    if (init_rc != ST_OK) log_err("store: cannot build the statements");
}

int store_sql_init(void)
{
    pthread_once(&init_once, init_all);
    return init_rc;
}

void *store_sql_slots(size_t size, int *n)
{
    if (store_sql_init() != ST_OK) return NULL;
    *n = sql_n;
    return calloc((size_t)sql_n + 1, size); /* + 1: never a zero-size allocation */
}

/* Runs s to its end and resets it: 0 or a negative store_result; *changed (may be NULL) receives the rows
 * it changed. */
static int run(const struct store_engine *e, struct store_stmt *s, long long *changed)
{
    int rc = e->step(s);
    if (changed) *changed = rc >= 0 ? e->changes(s) : 0;
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

int store_stmt_exec(const struct store_engine *e, struct store_stmt *s)
{
    return run(e, s, NULL);
}

/* ---- building the SQL of a table ---- */

struct sqlbuf {
    char *p;
    size_t len;
    int overflow;
};

static void put(struct sqlbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, ROWS_SQL_MAX - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= ROWS_SQL_MAX - b->len)
        b->overflow = 1;
    else
        b->len += (size_t)n;
}

static const struct column *col_with(const struct store_table *t, unsigned flag)
{
    for (int i = 0; i < t->n; i++)
        if (t->cols[i].flags & flag) return &t->cols[i];
    return NULL;
}

static int readable(const struct column *c)
{
    return !(c->flags & C_WRITE_ONLY);
}
static int inserted(const struct column *c)
{
    return c->kind != CK_ID;
}
static int updated(const struct column *c)
{
    return c->kind != CK_ID && !(c->flags & (C_PARENT | C_KEY | C_IMMUTABLE));
}
/* A column the UPDATE sets: its text and its binding both ask this, so their placeholders agree. kept:
 * the statement without the C_INDEXED columns (update_kept). */
static int update_sets(const struct column *c, int kept)
{
    return updated(c) && !(kept && (c->flags & C_INDEXED));
}

static void put_cols(struct sqlbuf *b, const struct store_table *t, int (*want)(const struct column *))
{
    int first = 1;
    for (int i = 0; i < t->n; i++)
        if (want(&t->cols[i])) {
            put(b, first ? "%s" : ", %s", t->cols[i].name);
            first = 0;
        }
}

typedef void writer_fn(struct sqlbuf *, const struct store_table *, const void *);

/* One text of t, written into its slot; NULL (logged) when it is longer than ROWS_SQL_MAX. */
static const char *text_of(struct store_table *t, int slot, writer_fn *write, const void *arg)
{
    struct sqlbuf b = {t->text[slot], 0, 0};
    write(&b, t, arg);
    if (!b.overflow) return b.p;
    log_err("store: the SQL of table %s is longer than ROWS_SQL_MAX", t->name);
    return NULL;
}

/* q's text from write(arg) and, where PostgreSQL's differs (pg_arg), its own from write(pg_arg). */
static int build(struct store_table *t, struct store_sql *q, enum sql_lock lock, writer_fn *write, int slot,
                 const void *arg, int pg_slot, const void *pg_arg)
{
    q->sql = text_of(t, slot, write, arg);
    q->sql_pg = pg_arg ? text_of(t, pg_slot, write, pg_arg) : NULL;
    q->lock = lock;
    return q->sql && (!pg_arg || q->sql_pg) ? store_sql_add(q) : ST_ERROR;
}

static void write_get(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    const struct column *key = arg, *parent = col_with(t, C_PARENT);
    put(b, "SELECT ");
    put_cols(b, t, readable);
    put(b, " FROM %s WHERE %s = ?1 AND %s = ?2%s", t->name, parent->name, key->name,
        t->read_filter ? t->read_filter : "");
}

/* The key alone: an existence check, and the SID an alternate key names. */
static void write_key(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    const struct column *by = arg;
    put(b, "SELECT %s FROM %s WHERE %s = ?1 AND %s = ?2%s", col_with(t, C_KEY)->name, t->name,
        col_with(t, C_PARENT)->name, by->name, t->read_filter ? t->read_filter : "");
}

static void write_insert(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    (void)arg;
    put(b, "INSERT INTO %s(", t->name);
    put_cols(b, t, inserted);
    put(b, ") VALUES (");
    int k = 0;
    for (int i = 0; i < t->n; i++)
        if (inserted(&t->cols[i])) {
            k++;
            put(b, k > 1 ? ", ?%d" : "?%d", k);
        }
    put(b, ")");
    if (arg) put(b, " RETURNING %s", (const char *)arg);
}

/* arg non-NULL: without the C_INDEXED columns */
static void write_update(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    put(b, "UPDATE %s SET ", t->name);
    int k = 2;
    for (int i = 0; i < t->n; i++)
        if (update_sets(&t->cols[i], arg != NULL)) {
            const char *name = t->cols[i].name;
            k++;
            put(b, k > 3 ? ", " : "");
            if (t->cols[i].flags & C_KEEP_NULL)
                put(b, "%s = coalesce(?%d, %s)", name, k, name);
            else
                put(b, "%s = ?%d", name, k);
        }
    put(b, " WHERE %s = ?1 AND %s = ?2", col_with(t, C_PARENT)->name, col_with(t, C_KEY)->name);
}

static void write_delete(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    (void)arg;
    put(b, "DELETE FROM %s WHERE %s = ?1 AND %s = ?2", t->name, col_with(t, C_PARENT)->name,
        col_with(t, C_KEY)->name);
}

/* The page before a position is read backwards and turned around, so both directions come ascending. */
struct list_shape {
    int before;
    const char *filter;
};

static void write_list(struct sqlbuf *b, const struct store_table *t, const void *arg)
{
    const struct list_shape *l = arg;
    const struct column *parent = col_with(t, C_PARENT);
    if (l->before) put(b, "SELECT * FROM (");
    put(b, "SELECT ");
    put_cols(b, t, readable);
    put(b, " FROM %s WHERE %s = ?1 AND id %s ?2%s%s ORDER BY id%s LIMIT ?3", t->name, parent->name,
        l->before ? "<" : ">", t->read_filter ? t->read_filter : "", l->filter ? l->filter : "",
        l->before ? " DESC" : "");
    if (l->before) put(b, ") page ORDER BY id");
}

int rows_table_add(struct store_table *t)
{
    const struct column *key = col_with(t, C_KEY), *alt = col_with(t, C_ALT_KEY);
    if (!key || !col_with(t, C_PARENT)) {
        log_err("store: table %s needs a parent and a key column", t->name);
        return ST_ERROR;
    }
    /* the engines learn a new id differently: SQLite from the connection (sqlite3_last_insert_rowid, which
     * costs nothing, where RETURNING costs a third of the insert), PostgreSQL from RETURNING */
    const char *id = NULL;
    for (int i = 0; i < t->n; i++)
        if (t->cols[i].kind == CK_ID) id = t->cols[i].name;
    /* a list with PostgreSQL's own text when its filter has one */
    const struct list_shape after = {0, t->list_filter}, before = {1, t->list_filter};
    const struct list_shape after_pg = {0, t->list_filter_pg}, before_pg = {1, t->list_filter_pg};
    int pg_list = t->list_filter_pg != NULL;
    int rc = build(t, &t->get, t->lock, write_get, 0, key, 0, NULL);
    if (rc == ST_OK && alt) rc = build(t, &t->get_alt, t->lock, write_get, 1, alt, 0, NULL);
    if (rc == ST_OK) rc = build(t, &t->key, SQL_LOCK_NONE, write_key, 10, key, 0, NULL);
    if (rc == ST_OK && alt) rc = build(t, &t->key_alt, SQL_LOCK_NONE, write_key, 11, alt, 0, NULL);
    if (rc == ST_OK) rc = build(t, &t->insert, SQL_LOCK_NONE, write_insert, 2, NULL, 9, id);
    if (rc == ST_OK) rc = build(t, &t->update, SQL_LOCK_NONE, write_update, 3, NULL, 0, NULL);
    if (rc == ST_OK && col_with(t, C_INDEXED))
        rc = build(t, &t->update_kept, SQL_LOCK_NONE, write_update, 12, t, 0, NULL);
    if (rc == ST_OK) rc = build(t, &t->del, SQL_LOCK_NONE, write_delete, 4, NULL, 0, NULL);
    if (rc == ST_OK)
        rc = build(t, &t->list_after, SQL_LOCK_NONE, write_list, 5, &after, 7, pg_list ? &after_pg : NULL);
    if (rc == ST_OK)
        rc = build(t, &t->list_before, SQL_LOCK_NONE, write_list, 6, &before, 8, pg_list ? &before_pg : NULL);
    return rc;
}

/* ---- rows by offset ---- */

static void copy_sid(char *out, const char *v)
{
    size_t n = v ? strnlen(v, SID_LEN) : 0;
    memcpy(out, v ? v : "", n);
    out[n] = '\0';
}

void rows_read_cols(const struct store_engine *e, struct store_stmt *s, const struct column *cols, int n,
                    struct arena *a, void *out)
{
    char *row = out;
    int k = 0;
    for (int i = 0; i < n; i++) {
        const struct column *c = &cols[i];
        if (!readable(c)) continue;
        switch (c->kind) {
        case CK_ID:
        case CK_I64:
            *(long long *)(row + c->off) = e->col_int(s, k);
            break;
        case CK_INT:
        case CK_FLAG:
            *(int *)(row + c->off) = (int)e->col_int(s, k);
            break;
        case CK_I64N:
            *(long long *)(row + c->off) = e->col_text(s, k) ? e->col_int(s, k) : -1;
            break;
        case CK_SID:
            copy_sid(row + c->off, e->col_text(s, k));
            break;
        case CK_TEXT: {
            const char *v = e->col_text(s, k);
            *(char **)(row + c->off) = v && a ? arena_strndup(a, v, strlen(v)) : (char *)v;
            break;
        }
        }
        k++;
    }
}

/* How a write binds a row: sealed columns are sealed into a, bound to the row's key. */
struct binder {
    const struct store_engine *e;
    struct store_stmt *s;
    const char *row;
    const char *key;
    struct arena *a;
    int update;
};

static int bind_col(struct binder *b, int i, const struct column *c)
{
    const char *at = b->row + c->off;
    long long v = 0;
    int null = 0; /* the value binds NULL */
    switch (c->kind) {
    case CK_SID:
        b->e->bind_text(b->s, i, at);
        return ST_OK;
    case CK_TEXT: {
        const char *t = *(char *const *)at;
        if (t && (c->flags & C_SEALED) && !(t = secret_seal(b->a, t, b->key))) return ST_ERROR;
        b->e->bind_text(b->s, i, t);
        return ST_OK;
    }
    case CK_INT:
        v = *(const int *)at;
        null = (c->flags & C_ZERO_NULL) && v == 0;
        break;
    case CK_FLAG:
        v = *(const int *)at;
        null = v < 0 && b->update;
        v = v > 0;
        break;
    case CK_I64N:
        v = *(const long long *)at;
        null = v < 0;
        break;
    case CK_ID:
    case CK_I64:
        v = *(const long long *)at;
        null = (c->flags & C_ZERO_NULL) && v == 0;
        break;
    }
    if (null)
        b->e->bind_text(b->s, i, NULL);
    else
        b->e->bind_int(b->s, i, v);
    return ST_OK;
}

/* Binds row's cols as ?1 .. ?n of a hand-written statement (no sealed columns). */
static void bind_cols(const struct store_engine *e, struct store_stmt *s, const struct column *cols, int n,
                      const void *row)
{
    struct binder b = {e, s, row, NULL, NULL, 0};
    for (int i = 0; i < n; i++)
        bind_col(&b, i + 1, &cols[i]);
}

/* Steps a single-row statement: its row into out by cols, ST_NOT_FOUND without one; s is reset. */
static int one_row(const struct store_engine *e, struct store_stmt *s, const struct column *cols, int n,
                   struct arena *a, void *out)
{
    int rc = e->step(s);
    if (rc == 1) rows_read_cols(e, s, cols, n, a, out);
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_NOT_FOUND : rc;
}

/* Every row of s read into scratch by cols and handed to fn until it returns non-zero; s is reset. */
static int each_row(const struct store_engine *e, struct store_stmt *s, const struct column *cols, int n,
                    void *scratch, int (*fn)(void *ctx, const void *row), void *ctx)
{
    int rc;
    while ((rc = e->step(s)) == 1) {
        rows_read_cols(e, s, cols, n, NULL, scratch);
        if (fn(ctx, scratch)) break;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

/* Runs s, a write that had to change a row: ST_NOT_FOUND when it changed none. */
static int run_one(const struct store_engine *e, struct store_stmt *s)
{
    long long n = 0;
    int rc = run(e, s, &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

/* q's statement with fmt's parameters (rows_exec) bound from ap; NULL when it cannot be prepared. */
static struct store_stmt *bound(struct store_conn *c, struct store_sql *q, const char *fmt, va_list ap)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, q);
    for (int i = 1; s && *fmt; fmt++, i++) {
        if (*fmt == 't') {
            e->bind_text(s, i, va_arg(ap, const char *));
            continue;
        }
        long long v = va_arg(ap, long long);
        if (*fmt == 'z' && v == 0)
            e->bind_text(s, i, NULL);
        else
            e->bind_int(s, i, v);
    }
    return s;
}

int rows_exec(struct store_conn *c, struct store_sql *q, long long *changed, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct store_stmt *s = bound(c, q, fmt, ap);
    va_end(ap);
    return s ? run(c->ops->engine, s, changed) : ST_ERROR;
}

int rows_exec_one(struct store_conn *c, struct store_sql *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct store_stmt *s = bound(c, q, fmt, ap);
    va_end(ap);
    return s ? run_one(c->ops->engine, s) : ST_ERROR;
}

int rows_fetch(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, struct arena *a,
               void *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct store_stmt *s = bound(c, q, fmt, ap);
    va_end(ap);
    return s ? one_row(c->ops->engine, s, cols, n, a, out) : ST_ERROR;
}

int rows_int(struct store_conn *c, struct store_sql *q, long long *out, const char *fmt, ...)
{
    static const struct column first = {"", CK_I64, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    struct store_stmt *s = bound(c, q, fmt, ap);
    va_end(ap);
    return s ? one_row(c->ops->engine, s, &first, 1, NULL, out) : ST_ERROR;
}

int rows_each(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, void *scratch,
              int (*fn)(void *ctx, const void *row), void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct store_stmt *s = bound(c, q, fmt, ap);
    va_end(ap);
    return s ? each_row(c->ops->engine, s, cols, n, scratch, fn, ctx) : ST_ERROR;
}

int rows_write(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, const void *row,
               int deferred)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, q);
    if (!s) return ST_ERROR;
    bind_cols(e, s, cols, n, row);
    return deferred ? e->exec_deferred(s) : run(e, s, NULL);
}

int rows_sql_add_all(struct store_sql *const *q, size_t n)
{
    int rc = ST_OK;
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        rc = store_sql_add(q[i]);
    return rc;
}

/* The keyed statement q of t (get, key or delete, by the key or the alternate key), bound: NULL on
 * failure. */
static struct store_stmt *keyed(struct store_conn *c, const struct store_sql *q, const char *parent,
                                const char *key)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, q);
    if (!s) return NULL;
    e->bind_text(s, 1, parent);
    e->bind_text(s, 2, key);
    return s;
}

int rows_get(struct store_conn *c, const struct store_table *t, int by_alt, const char *parent,
             const char *key, struct arena *a, void *out)
{
    struct store_stmt *s = keyed(c, by_alt ? &t->get_alt : &t->get, parent, key);
    return s ? one_row(c->ops->engine, s, t->cols, t->n, a, out) : ST_ERROR;
}

int rows_key(struct store_conn *c, const struct store_table *t, int by_alt, const char *parent,
             const char *key, char out[SID_LEN + 1])
{
    const struct column sid = {"sid", CK_SID, 0, 0}; /* the one column, read into out */
    struct store_stmt *s = keyed(c, by_alt ? &t->key_alt : &t->key, parent, key);
    return s ? one_row(c->ops->engine, s, &sid, 1, NULL, out) : ST_ERROR;
}

static int insert_row(struct store_conn *c, const struct store_table *t, void *row, int deferred)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &t->insert);
    if (!s) return ST_ERROR;
    struct arena a;
    arena_init(&a); /* allocates only when a sealed column is written */
    struct binder b = {e, s, row, (const char *)row + col_with(t, C_KEY)->off, &a, 0};
    const struct column *id = NULL;
    int k = 0, rc = ST_OK;
    for (int i = 0; i < t->n && rc == ST_OK; i++) {
        if (inserted(&t->cols[i]))
            rc = bind_col(&b, ++k, &t->cols[i]);
        else
            id = &t->cols[i];
    }
    if (rc != ST_OK) {
        e->reset(s);
    } else if (deferred) {
        rc = e->exec_deferred(s); /* resets s; the sealed values were copied when it was sent */
    } else {
        rc = e->step(s);
        if (rc >= 0 && id) *(long long *)((char *)row + id->off) = e->last_id(s);
        e->reset(s);
        rc = rc < 0 ? rc : ST_OK;
    }
    arena_free(&a);
    return rc;
}

int rows_insert(struct store_conn *c, const struct store_table *t, void *row)
{
    return insert_row(c, t, row, 0);
}

int rows_insert_deferred(struct store_conn *c, const struct store_table *t, void *row)
{
    return insert_row(c, t, row, 1);
}

/* Whether column c holds the same value in rows a and b. */
static int same_value(const struct column *c, const void *a, const void *b)
{
    const char *x = (const char *)a + c->off, *y = (const char *)b + c->off;
    switch (c->kind) {
    case CK_SID:
        return strcmp(x, y) == 0;
    case CK_TEXT: {
        const char *u = *(char *const *)x, *v = *(char *const *)y;
        return u == v || (u && v && strcmp(u, v) == 0);
    }
    case CK_INT:
    case CK_FLAG:
        return *(const int *)x == *(const int *)y;
    default:
        return *(const long long *)x == *(const long long *)y;
    }
}

/* Whether an update of before into row keeps every C_INDEXED column as it was. */
static int indexed_kept(const struct store_table *t, const void *row, const void *before)
{
    for (int i = 0; i < t->n; i++)
        if ((t->cols[i].flags & C_INDEXED) && !same_value(&t->cols[i], row, before)) return 0;
    return 1;
}

int rows_update(struct store_conn *c, const struct store_table *t, const void *row, const void *before)
{
    const struct store_engine *e = c->ops->engine;
    int kept = before && t->update_kept.sql && indexed_kept(t, row, before);
    struct store_stmt *s = e->stmt(c, kept ? &t->update_kept : &t->update);
    if (!s) return ST_ERROR;
    struct arena a;
    arena_init(&a);
    const struct column *key = col_with(t, C_KEY);
    struct binder b = {e, s, row, (const char *)row + key->off, &a, 1};
    int rc = bind_col(&b, 1, col_with(t, C_PARENT));
    if (rc == ST_OK) rc = bind_col(&b, 2, key);
    int k = 2;
    for (int i = 0; i < t->n && rc == ST_OK; i++)
        if (update_sets(&t->cols[i], kept)) rc = bind_col(&b, ++k, &t->cols[i]);
    if (rc == ST_OK)
        rc = run_one(e, s);
    else
        e->reset(s);
    arena_free(&a);
    return rc;
}

int rows_delete(struct store_conn *c, const struct store_table *t, const char *parent, const char *key)
{
    struct store_stmt *s = keyed(c, &t->del, parent, key);
    return s ? run_one(c->ops->engine, s) : ST_ERROR;
}

int rows_list(struct store_conn *c, const struct store_table *t, const char *parent, const struct page_req *p,
              void *scratch, int (*fn)(void *ctx, const void *row), void *ctx)
{
    return rows_list_filtered(c, t, parent, p, NULL, 0, scratch, fn, ctx);
}

int rows_list_filtered(struct store_conn *c, const struct store_table *t, const char *parent,
                       const struct page_req *p, const char *const *extra, int n, void *scratch,
                       int (*fn)(void *ctx, const void *row), void *ctx)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, p->dir == 'b' ? &t->list_before : &t->list_after);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, parent);
    e->bind_int(s, 2, p->dir == 'b' ? p->before : p->after);
    e->bind_int(s, 3, p->limit + 1);
    for (int i = 0; i < n; i++)
        e->bind_text(s, 4 + i, extra[i]);
    return each_row(e, s, t->cols, t->n, scratch, fn, ctx);
}
