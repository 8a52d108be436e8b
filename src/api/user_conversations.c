/* UserConversations: /v1/Users/{UserSid}/Conversations[/{ConversationSid}] and the service twin
 * (BEHAVIOUR-conversations §7), a family run by api/runner.c over a view: one row per conversation the user
 * (SID or identity) participates in, any state. {ConversationSid} is a CH SID or the unique name. The view
 * owns notification_level; the read horizon is the participant's, written through; delete is the user
 * leaving (the participant goes, no webhook: the operation takes no X-Twilio-Webhook-Enabled). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "api/participants.h"
#include "store/account_store.h"
#include "store/conversations.h"
#include "store/participants.h"
#include "util/sid.h"
#include "util/timefmt.h"
#include "json/jw.h"

#define UCV(m) offsetof(struct user_conversation, m)

enum { UC_NOTIFICATION_LEVEL, UC_LAST_READ_TIMESTAMP, UC_LAST_READ_INDEX, UC__COUNT };

/* LastReadMessageIndex is read as text, which before_update parses. */
static const struct param_spec params[UC__COUNT] = {
    [UC_NOTIFICATION_LEVEL] = {"NotificationLevel", PK_STRING, 0, 0, 0, 0, NULL, UCV(notification_level)},
    [UC_LAST_READ_TIMESTAMP] = {"LastReadTimestamp", PK_STRING, P_EMPTY_CLEARS, 0, 0, 0, NULL,
                                UCV(last_read_timestamp)},
    [UC_LAST_READ_INDEX] = {"LastReadMessageIndex", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
};

static void render_timers(struct jw *w, const void *row, struct req *r)
{
    participant_render_timers(w, &((const struct user_conversation *)row)->conv);
}

/* Conversations created over REST are created by the system (docs/DECISIONS.md). */
static void render_created_by(struct jw *w, const void *row, struct req *r)
{
    jw_str(w, "system");
}

static void render_links(struct jw *w, const void *row, struct req *r)
{
    const struct user_conversation *uc = row;
    participant_render_links(w, r, uc->conv.sid, uc->participant_sid);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, UCV(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, UCV(service_sid), NULL},
    {"conversation_sid", FK_CHARS, UCV(conv.sid), NULL},
    {"unread_messages_count", FK_I64_NULL, UCV(unread_messages_count), NULL},
    {"last_read_message_index", FK_I64_NULL, UCV(last_read_message_index), NULL},
    {"participant_sid", FK_CHARS, UCV(participant_sid), NULL},
    {"user_sid", FK_CHARS, UCV(user_sid), NULL},
    {"friendly_name", FK_STR, UCV(conv.friendly_name), NULL},
    {"conversation_state", FK_STR, UCV(conv.state), NULL},
    {"timers", FK_FN, 0, render_timers},
    {"attributes", FK_STR, UCV(conv.attributes), NULL},
    {"date_created", FK_DATE, UCV(conv.date_created), NULL},
    {"date_updated", FK_DATE, UCV(conv.date_updated), NULL},
    {"created_by", FK_FN, 0, render_created_by},
    {"notification_level", FK_STR, UCV(notification_level), NULL},
    {"unique_name", FK_STR, UCV(conv.unique_name), NULL},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
};

static int check_update(struct req *r, const struct param_value *v)
{
    const struct param_value *level = &v[UC_NOTIFICATION_LEVEL];
    if (level->present && strcmp(level->s, "default") != 0 && strcmp(level->s, "muted") != 0)
        return E_NOTIFICATION_LEVEL_INVALID;
    int bad = 0;
    if (v[UC_LAST_READ_INDEX].present) (void)participant_parse_index(v[UC_LAST_READ_INDEX].s, &bad);
    if (bad) return E_LAST_READ_INDEX_INVALID;
    long long ms;
    if (v[UC_LAST_READ_TIMESTAMP].present && v[UC_LAST_READ_TIMESTAMP].len &&
        time_parse_iso(v[UC_LAST_READ_TIMESTAMP].s, &ms) != 0)
        return E_LAST_READ_TIMESTAMP_INVALID;
    return 0;
}

/* The closed guard (400/50377, recommended for the read-horizon call), then the values into the view. */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct user_conversation *uc = stored;
    struct conversation cv;
    int err = conversations_writable(c, r, uc->conv.sid, &cv);
    if (err) return err;
    int bad;
    if (v[UC_LAST_READ_INDEX].present)
        uc->last_read_message_index = participant_parse_index(v[UC_LAST_READ_INDEX].s, &bad);
    return 0;
}

/* ---- store calls ---- */

/* {UserSid} is a US SID or the identity of a user of the service. */
static int resolve_parent(struct req *r, const char *key)
{
    struct user u;
    int by_sid = sid_valid(key, strlen(key), "US");
    int err = store_user_get(r->db, r->service_sid, key, by_sid, &r->arena, &u);
    if (err == ST_NOT_FOUND) return E_NOT_FOUND;
    if (!err) memcpy(r->parent_sid, u.sid, sizeof(r->parent_sid));
    return err;
}

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    struct conversation cv;
    int err = conversations_get(c, r, key, &cv);
    if (!err) err = store_user_conversation_get(c, r->service_sid, r->parent_sid, cv.sid, &r->arena, out);
    return err;
}

/* Writes the view's state through to the participant, then reads the view again, so that what is
 * answered (unread_messages_count too) is computed from the data. */
static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    const struct user_conversation *uc = row;
    struct participant p;
    int err = store_participant_get(c, uc->conv.sid, uc->participant_sid, 0, &r->arena, &p);
    if (err) return err;
    const struct participant stored = p;
    p.notification_level = uc->notification_level;
    p.last_read_message_index = uc->last_read_message_index;
    p.last_read_timestamp = uc->last_read_timestamp;
    p.date_updated = uc->touched > p.date_updated ? uc->touched : p.date_updated + 1;
    err = store_participant_update(c, &p, &stored);
    if (!err) err = participant_change_record(c, &p, "updated");
    if (!err)
        err = store_user_conversation_get(c, r->service_sid, r->parent_sid, uc->conv.sid, &r->arena,
                                          (struct user_conversation *)row);
    return err;
}

static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct user_conversation uc;
    struct participant p;
    int err = get(c, r, key, &uc);
    if (!err) err = store_participant_get(c, uc.conv.sid, uc.participant_sid, 0, &r->arena, &p);
    if (!err) err = participant_remove(c, r, &p, 0);
    return err ? err : participant_change_record(c, &p, "deleted"); /* a view: the runner records nothing */
}

RUNNER_LIST_ROW(list_row, struct user_conversation)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_user_conversation_list(c, r->service_sid, r->parent_sid, p, list_row, ctx);
}

const struct family user_conversations_family = {
    .segment = "Conversations",
    .prefix = "",
    .alt_key = 1,
    .parent = PARENT_TWIN,
    .parent_segment = "Users",
    .resolve_parent = resolve_parent,
    .parent_off = UCV(user_sid),
    .row_size = sizeof(struct user_conversation),
    .sid_off = UCV(conv.sid),
    .account_off = UCV(account_sid),
    .service_off = UCV(service_sid),
    .id_off = UCV(id),
    .created_off = UCV(conv.date_created),
    .updated_off = UCV(touched),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    .op_fetch = &ops_table[OPID_FETCH_USER_CONVERSATION],
    .op_list = &ops_table[OPID_LIST_USER_CONVERSATION],
    .op_update = &ops_table[OPID_UPDATE_USER_CONVERSATION],
    .op_delete = &ops_table[OPID_DELETE_USER_CONVERSATION],
    .store = {get, NULL, update, del, list},
    .check_update = check_update,
    .before_update = before_update,
};
