#include "webhook/events.h"

#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"

static const char *const event_names[] = {
    "onMessageAdded",
    "onMessageUpdated",
    "onMessageRemoved",
    "onMessageAdd",
    "onMessageUpdate",
    "onMessageRemove",
    "onConversationUpdated",
    "onConversationRemoved",
    "onConversationAdd",
    "onConversationAdded",
    "onConversationRemove",
    "onConversationUpdate",
    "onConversationStateUpdated",
    "onParticipantAdded",
    "onParticipantUpdated",
    "onParticipantRemoved",
    "onParticipantAdd",
    "onParticipantRemove",
    "onParticipantUpdate",
    "onDeliveryUpdated",
    "onUserAdded",
    "onUserUpdate",
    "onUserUpdated",
};

int webhook_event_valid(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (strlen(event_names[i]) == n && memcmp(event_names[i], name, n) == 0) return 1;
    return 0;
}

int webhook_filters_has(const char *filters, const char *event)
{
    if (!filters) return 0;
    /* names are validated identifiers, so a quoted match is exact */
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", event);
    return strstr(filters, quoted) != NULL;
}

static int add_target(const char *url, const char *method, struct webhook_target *out, int n)
{
    if (!url || !*url) return n;
    out[n].url = url;
    out[n].method = method && strcmp(method, "GET") == 0 ? "GET" : "POST";
    return n + 1;
}

int webhook_targets(struct store_conn *c, const char *account_sid, const char *service_sid, const char *event,
                    int pre, struct arena *a, struct webhook_target out[WEBHOOK_MAX_TARGETS])
{
    struct webhook_config cfg;
    int n = 0;
    int rc = store_webhook_config_get(c, account_sid, NULL, a, &cfg);
    if (rc != ST_OK && rc != ST_NOT_FOUND) return rc;
    /* Target=flex routes events into Flex, which a stand-in does not have */
    if (rc == ST_OK && (!cfg.target || strcmp(cfg.target, "webhook") == 0) &&
        webhook_filters_has(cfg.filters, event))
        n = add_target(pre ? cfg.pre_url : cfg.post_url, cfg.method, out, n);
    rc = store_webhook_config_get(c, account_sid, service_sid, a, &cfg);
    if (rc != ST_OK && rc != ST_NOT_FOUND) return rc;
    if (rc == ST_OK && webhook_filters_has(cfg.filters, event))
        n = add_target(pre ? cfg.pre_url : cfg.post_url, cfg.method, out, n);
    return n;
}

const char *webhook_user_event_name(enum user_event ev)
{
    switch (ev) {
    case EV_USER_ADDED:
        return "onUserAdded";
    case EV_USER_UPDATE:
        return "onUserUpdate";
    default:
        return "onUserUpdated";
    }
}

void webhook_param(struct buf *out, const char *name, const char *value)
{
    if (!value) return;
    if (out->len) buf_putc(out, '&');
    buf_puts(out, name);
    buf_putc(out, '=');
    pct_encode(out, value, strlen(value));
}

void webhook_user_params(struct buf *out, enum user_event ev, const struct user *u)
{
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1];
    time_iso_ms(created, u->date_created);
    time_iso_ms(updated, u->date_updated);
    webhook_param(out, "AccountSid", u->account_sid);
    webhook_param(out, "EventType", webhook_user_event_name(ev));
    webhook_param(out, "Source", "API");
    webhook_param(out, "ChatServiceSid", u->service_sid);
    webhook_param(out, "UserSid", u->sid);
    webhook_param(out, "Identity", u->identity);
    webhook_param(out, "RoleSid", u->role_sid);
    webhook_param(out, "Attributes", u->attributes);
    webhook_param(out, "FriendlyName", u->friendly_name);
    if (ev != EV_USER_UPDATE) webhook_param(out, "DateCreated", created);
    if (ev != EV_USER_ADDED) webhook_param(out, "DateUpdated", updated);
    /* isOnline / isNotifiable (onUserUpdated) are null for a REST-only server and so omitted */
}

int webhook_queue_event(struct store_conn *c, const char *account_sid, const char *service_sid,
                        const char *event, const char *order_key, const char *params, struct arena *a)
{
    struct webhook_target t[WEBHOOK_MAX_TARGETS];
    int n = webhook_targets(c, account_sid, service_sid, event, 0, a, t);
    if (n <= 0) return n;
    int rc = ST_OK;
    for (int i = 0; i < n && rc == ST_OK; i++) {
        struct outbox_row row = {0};
        char token[37];
        uuid4_new(token);
        memcpy(row.account_sid, account_sid, SID_LEN + 1);
        row.event_type = (char *)event;
        row.url = (char *)t[i].url;
        row.method = (char *)t[i].method;
        row.params = (char *)params;
        row.order_key = (char *)order_key;
        row.idempotency_token = token;
        row.created_at = time_now_ms();
        rc = store_outbox_insert(c, &row);
    }
    return rc == ST_OK ? n : rc;
}

int webhook_queue_user_event(struct store_conn *c, enum user_event ev, const struct user *u, struct arena *a)
{
    struct buf params;
    buf_init(&params, 256 * 1024);
    webhook_user_params(&params, ev, u);
    int rc = params.err ? ST_ERROR
                        : webhook_queue_event(c, u->account_sid, u->service_sid, webhook_user_event_name(ev),
                                              u->sid, params.p ? params.p : "", a);
    buf_free(&params);
    return rc;
}
