/* Every family descriptor (api/families.h) against the generated operation table: its fields are the
 * spec's response keys in the spec's order, its operations are the kinds it claims, its SID prefix is the
 * spec's, its parameters are body parameters of its create or update operation, and its tables fit the
 * runner's bounds. A renamed, reordered, missing or extra key fails here before any request is made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/families.h"
#include "store/domain.h"
#include "store/rows.h"

static const struct family *const families[] = {&credentials_family,
                                                &bindings_family,
                                                &roles_family,
                                                &users_family,
                                                &service_config_family,
                                                &notifications_family,
                                                &configuration_family,
                                                &services_family,
                                                &account_webhooks_family,
                                                &service_webhooks_family,
                                                &conversations_family,
                                                &participants_family,
                                                &user_conversations_family,
                                                &participant_conversations_family,
                                                &address_configurations_family,
                                                &scoped_webhooks_family,
                                                &messages_family,
                                                &receipts_family};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* 1 when the family's fields are exactly the schema's names, in order; 0 otherwise. The fields written
 * on the service path family only are not in the short family's schema (the operations named are the
 * short family's). */
static int fields_match(const struct family *f, const struct op_schema *s)
{
    if (!s) return 0;
    size_t k = 0;
    for (size_t i = 0; i < f->n_fields; i++) {
        if (f->fields[i].kind == FK_SVC_CHARS || f->fields[i].kind == FK_SVC_URL) continue;
        if (k >= s->n_fields || strcmp(f->fields[i].key, s->fields[k].name) != 0) return 0;
        k++;
    }
    return k == s->n_fields;
}

static void check_op(const struct family *f, const struct op_def *op, enum op_kind kind)
{
    if (!op) return;
    assert_true(op >= ops_table && op < ops_table + OPID_COUNT);
    if (op->kind != kind) fail_msg("%s: %s is not of kind %d", f->segment, op->id, (int)kind);
    assert_string_equal(op->prefix, f->prefix);
    if (kind != OPK_DELETE && !fields_match(f, op->schema))
        fail_msg("%s: fields differ from %s's schema %s", f->segment, op->id,
                 op->schema ? op->schema->name : "-");
    if (kind == OPK_LIST) {
        assert_non_null(op->list_key);
        assert_true(op->page_max > 0);
    }
}

/* The column of t with flag, or NULL. */
static const struct column *column_with(const struct store_table *t, unsigned flag)
{
    for (int i = 0; i < t->n; i++)
        if (t->cols[i].flags & flag) return &t->cols[i];
    return NULL;
}

/* 1 when a family's store calls are complete: its own for each operation it serves, or the row codec's
 * over a table that agrees with it (the table's key is the model's sid, its parent the family's parent,
 * its alternate key there when the family has one, and the model fits the runner's list buffer). */
static int table_agrees(const struct family *f)
{
    const struct family_store *st = &f->store;
    if (!f->table)
        return (!f->op_fetch || st->get) && (!f->op_create || st->insert) && (!f->op_update || st->update) &&
               (!f->op_delete || st->del) && (!f->op_list || st->list);
    if (f->singleton && !st->get) return 0; /* the codec reads by a key, which a singleton has not */
    const struct column *key = column_with(f->table, C_KEY), *parent = column_with(f->table, C_PARENT);
    if (!key || !parent || key->off != f->sid_off) return 0;
    if (parent->off != (f->parent == PARENT_ACCOUNT ? f->account_off : f->service_off)) return 0;
    if ((column_with(f->table, C_ALT_KEY) != NULL) != (f->alt_key != 0)) return 0;
    if (f->op_list && !st->list && f->row_size > RUNNER_ROW_MAX) return 0;
    for (int i = 0; i < f->table->n; i++)
        if (f->table->cols[i].off >= f->row_size) return 0;
    return 1;
}

/* 1 when name is a body parameter of op. */
static int body_param(const struct op_def *op, const char *name)
{
    if (!op) return 0;
    for (int k = 0; k < op->n_params; k++)
        if (op->params[k].in == PIN_BODY && strcmp(op->params[k].name, name) == 0) return 1;
    return 0;
}

static void test_descriptors_follow_the_spec(void **state)
{
    for (size_t i = 0; i < N_FAMILIES; i++) {
        const struct family *f = families[i];
        check_op(f, f->op_fetch, OPK_FETCH);
        check_op(f, f->op_list, OPK_LIST);
        check_op(f, f->op_create, OPK_CREATE);
        check_op(f, f->op_update, OPK_UPDATE);
        check_op(f, f->op_delete, OPK_DELETE);
        assert_true(f->n_params <= RUNNER_MAX_PARAMS);
        assert_true(f->n_list_params <= RUNNER_MAX_PARAMS);
        for (size_t k = 0; k < f->n_params; k++) {
            const struct param_spec *p = &f->params[k];
            if (!body_param(f->op_create, p->name) && !body_param(f->op_update, p->name))
                fail_msg("%s: %s is no body parameter of its operations", f->segment, p->name);
            size_t slot = p->kind == PK_BOOL || p->kind == PK_INT ? sizeof(int) : sizeof(char *);
            if (!(p->flags & P_NO_SLOT)) assert_true(p->off + slot <= f->row_size);
        }
        for (size_t k = 0; k < f->n_list_params; k++) {
            const struct op_def *op = f->op_list;
            int found = 0;
            for (int j = 0; op && j < op->n_params; j++)
                found |=
                    op->params[j].in == PIN_QUERY && strcmp(op->params[j].name, f->list_params[k].name) == 0;
            if (!found)
                fail_msg("%s: filter %s is no query parameter of its list", f->segment,
                         f->list_params[k].name);
        }
        for (size_t k = 0; k < f->n_fields; k++) {
            assert_true(f->fields[k].kind == FK_FN ? f->fields[k].fn != NULL
                                                   : f->fields[k].off < f->row_size);
            /* the renderer prebuilds ,"key": in RUNNER_KEY_MAX bytes */
            assert_true(strlen(f->fields[k].key) + 4 <= RUNNER_KEY_MAX);
        }
        if (!table_agrees(f)) fail_msg("%s: its store calls or its table do not fit it", f->segment);
    }
}

/* The check can fail: a schema with the keys swapped, and one with a key missing, do not match. */
static void test_a_drift_is_caught(void **state)
{
    const struct family *f = &credentials_family;
    const struct op_schema *s = f->op_fetch->schema;
    struct op_field swapped[32];
    assert_true(s->n_fields <= 32 && s->n_fields >= 2);
    memcpy(swapped, s->fields, s->n_fields * sizeof(swapped[0]));
    swapped[0] = s->fields[1];
    swapped[1] = s->fields[0];
    struct op_schema bad = *s;
    bad.fields = swapped;
    assert_false(fields_match(f, &bad));
    bad.fields = s->fields;
    bad.n_fields = (unsigned char)(s->n_fields - 1);
    assert_false(fields_match(f, &bad));
    assert_true(fields_match(f, s));
}

/* The table check can fail: a family whose key or parent is not its table's. */
static void test_a_table_drift_is_caught(void **state)
{
    struct family f = users_family;
    assert_true(table_agrees(&f));
    f.parent = PARENT_ACCOUNT; /* the account is not the users table's parent */
    assert_false(table_agrees(&f));
    f = users_family;
    f.alt_key = 0; /* the table has an alternate key */
    assert_false(table_agrees(&f));
    f = credentials_family;
    f.table = NULL; /* no table and no calls of its own */
    assert_false(table_agrees(&f));
}

/* The fields of the service path family only are the service schema's: with them, a participant's keys
 * are the service twin's, in order. */
static void test_service_only_fields_follow_the_twin(void **state)
{
    const struct family *f = &participants_family;
    const struct op_schema *s = ops_table[OPID_FETCH_SERVICE_CONVERSATION_PARTICIPANT].schema;
    assert_non_null(s);
    assert_int_equal(f->n_fields, s->n_fields);
    for (size_t i = 0; i < f->n_fields; i++)
        assert_string_equal(f->fields[i].key, s->fields[i].name);
    assert_true(fields_match(f, f->op_fetch->schema));
    assert_false(fields_match(f, s));
}

/* The fields of the service path family only are the service schema's: with them, a scoped webhook's
 * keys are the service twin's, in order. */
static void test_scoped_webhook_fields_follow_the_twin(void **state)
{
    const struct family *f = &scoped_webhooks_family;
    const struct op_schema *s = ops_table[OPID_FETCH_SERVICE_CONVERSATION_SCOPED_WEBHOOK].schema;
    assert_non_null(s);
    assert_int_equal(f->n_fields, s->n_fields);
    for (size_t i = 0; i < f->n_fields; i++)
        assert_string_equal(f->fields[i].key, s->fields[i].name);
    assert_true(fields_match(f, f->op_fetch->schema));
    assert_false(fields_match(f, s)); /* the short family's check does not take the twin's extra key */
}

/* ConversationWithParticipants is built at start from the conversations family: its keys are its own
 * schema's, in order, its parameters its operation's, and its create answers 201 (202 is the twin's). */
static void test_conversation_with_participants_is_its_operation(void **state)
{
    const struct family *f = conversation_with_participants_family();
    assert_ptr_equal(f->op_create, &ops_table[OPID_CREATE_CONVERSATION_WITH_PARTICIPANTS]);
    check_op(f, f->op_create, OPK_CREATE);
    assert_true(f->n_params <= RUNNER_MAX_PARAMS);
    for (size_t k = 0; k < f->n_params; k++)
        if (!body_param(f->op_create, f->params[k].name))
            fail_msg("%s is no body parameter", f->params[k].name);
    assert_string_equal(f->params[f->n_params - 1].name, "Participant");
    assert_int_equal(f->op_create->status, 201);
    assert_int_equal(f->op_create->status_alt, 202);
}

/* The service family's own key order: each family-only field in its place gives the service schema's keys,
 * in order, where the two families order them differently (a message's url and delivery, a receipt's
 * sid and message_sid). */
static int service_fields_match(const struct family *f, const struct op_schema *s)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n_fields; i++) {
        if (f->fields[i].kind == FK_SHORT_CHARS || f->fields[i].kind == FK_SHORT_URL) continue;
        if (k >= s->n_fields || strcmp(f->fields[i].key, s->fields[k].name) != 0) return 0;
        k++;
    }
    return k == s->n_fields;
}

static void test_family_only_fields_give_each_family_its_order(void **state)
{
    assert_true(
        service_fields_match(&messages_family, ops_table[OPID_FETCH_SERVICE_CONVERSATION_MESSAGE].schema));
    assert_true(service_fields_match(&receipts_family,
                                     ops_table[OPID_FETCH_SERVICE_CONVERSATION_MESSAGE_RECEIPT].schema));
    assert_true(service_fields_match(&participants_family,
                                     ops_table[OPID_FETCH_SERVICE_CONVERSATION_PARTICIPANT].schema));
    /* and the check can fail: the short schema is not the service one */
    assert_false(service_fields_match(&messages_family, ops_table[OPID_FETCH_CONVERSATION_MESSAGE].schema));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors_follow_the_spec),
        cmocka_unit_test(test_a_drift_is_caught),
        cmocka_unit_test(test_a_table_drift_is_caught),
        cmocka_unit_test(test_service_only_fields_follow_the_twin),
        cmocka_unit_test(test_conversation_with_participants_is_its_operation),
        cmocka_unit_test(test_scoped_webhook_fields_follow_the_twin),
        cmocka_unit_test(test_family_only_fields_give_each_family_its_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
