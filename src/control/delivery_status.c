/* POST /parley/receipts/{DY…}: the channel's delivery report for one receipt (BEHAVIOUR-conversations §4),
 * which an emulator has no carrier to send. Status moves the receipt forward (sent → delivered → read;
 * failed and undelivered, from sent only, end it), its message's `delivery` summary with it, and fires
 * onDeliveryUpdated with the §10.4 parameters whatever X-Twilio-Webhook-Enabled says (no REST action caused
 * it, §0.6). The receipt is named by its SID alone, as a carrier's report names its message; the account's
 * own only. Answers the receipt as the short path family renders it. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/params.h"
#include "control/control.h"
#include "store/changes.h"
#include "store/messages.h"
#include "util/buf.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "webhook/events.h"
#include "webhook/scoped.h"
#include "json/jw.h"

#define ERROR_CODE_MAX 99999        /* Twilio's codes have five digits */
#define ERROR_CODE_DEFAULT 30008    /* "Unknown error", a failure reported without a code */
#define EVENT_PARAMS_MAX (4 * 1024) /* SIDs, a status, two dates */

enum { DS_STATUS, DS_ERROR_CODE, DS__COUNT };

static const struct param_spec ds_params[DS__COUNT] = {
    [DS_STATUS] = {"Status", PK_ENUM, P_REQUIRED | P_ANY_CASE, 0, 0, 0,
                   "sent|delivered|read|failed|undelivered", 0},
    [DS_ERROR_CODE] = {"ErrorCode", PK_INT, 0, 0, ERROR_CODE_MAX, 0, NULL, 0},
};

/* 1 when a receipt in status from may move to status to: sent → delivered → read, skipping allowed;
 * failed and undelivered only from sent (a carrier reports one outcome) and end the receipt. */
static int moves_forward(int from, int to)
{
    if (from == RS_SENT) return to != RS_SENT;
    return from == RS_DELIVERED && to == RS_READ;
}

struct status_job {
    char sid[SID_LEN + 1];
    int status; /* enum receipt_status */
    long long error_code;
    struct receipt d;
    int changed;
};

static int delivery_updated(struct store_conn *c, struct req *r, const struct receipt *d)
{
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1], code[24];
    time_iso_ms(created, d->date_created);
    time_iso_ms(updated, d->date_updated);
    snprintf(code, sizeof(code), "%lld", d->error_code);
    struct buf p;
    buf_init(&p, EVENT_PARAMS_MAX);
    webhook_param(&p, "AccountSid", d->account_sid);
    webhook_param(&p, "EventType", "onDeliveryUpdated");
    /* the channel reported it: WA… is a WhatsApp message, SM… an SMS (api/messages.c names them so) */
    webhook_param(&p, "Source", strncmp(d->channel_message_sid, "WA", 2) == 0 ? "WHATSAPP" : "SMS");
    webhook_param(&p, "ChatServiceSid", d->service_sid);
    webhook_param(&p, "ConversationSid", d->conversation_sid);
    webhook_param(&p, "MessageSid", d->message_sid);
    webhook_param(&p, "DeliveryReceiptSid", d->sid);
    webhook_param(&p, "ChannelMessageSid", d->channel_message_sid);
    webhook_param(&p, "ParticipantSid", d->participant_sid);
    webhook_param(&p, "Status", d->status);
    webhook_param(&p, "ErrorCode", code);
    webhook_param(&p, "DateCreated", created);
    webhook_param(&p, "DateUpdated", updated);
    int n = p.err ? ST_ERROR
                  : conversation_event_queue(c, d->account_sid, d->service_sid, d->conversation_sid,
                                             "onDeliveryUpdated", p.p ? p.p : "", NULL, &r->arena);
    buf_free(&p);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

static void render(struct req *r, const struct receipt *d)
{
    const char *parts[] = {r->app->public_url,
                           "/v1/Conversations/",
                           d->conversation_sid,
                           "/Messages/",
                           d->message_sid,
                           "/Receipts/",
                           d->sid};
    char url[512], created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    text_join(url, sizeof(url), parts, 7);
    time_iso(created, d->date_created);
    time_iso(updated, d->date_updated);
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", d->account_sid);
    jw_kstr(&w, "chat_service_sid", d->service_sid);
    jw_kstr(&w, "conversation_sid", d->conversation_sid);
    jw_kstr(&w, "sid", d->sid);
    jw_kstr(&w, "message_sid", d->message_sid);
    jw_kstr(&w, "channel_message_sid", d->channel_message_sid);
    jw_kstr(&w, "participant_sid", d->participant_sid);
    jw_kstr(&w, "status", d->status);
    jw_kint(&w, "error_code", d->error_code);
    jw_kstr(&w, "date_created", created);
    if (d->date_updated < 0)
        jw_knull(&w, "date_updated");
    else
        jw_kstr(&w, "date_updated", updated);
    jw_kstr(&w, "url", url);
    jw_obj_end(&w);
}

static const char *const status_names[RS__COUNT] = {"sent", "delivered", "read", "failed", "undelivered"};

static int apply_status(struct store_conn *c, struct req *r)
{
    struct status_job *j = r->ctx;
    struct receipt *d = &j->d;
    int rc = store_receipt_find(c, r->account.sid, j->sid, &r->arena, d);
    if (rc == ST_NOT_FOUND) return api_fail(r, E_NOT_FOUND);
    if (rc != ST_OK) return api_fail(r, rc);
    int from = receipt_status_index(d->status);
    if (from == j->status) { /* a report repeated: nothing moves, nothing fires */
        render(r, d);
        return 0;
    }
    if (from < 0 || !moves_forward(from, j->status))
        return api_failf(r, E_RECEIPT_BACKWARDS, "Delivery receipt %s cannot move from %s to %s", d->sid,
                         d->status, status_names[j->status]);
    rc = store_receipt_set_status(c, d, status_names[j->status], j->error_code, time_now_ms());
    if (rc == ST_OK)
        rc = store_change_record(c, d->account_sid, d->service_sid, "delivery_receipt", d->sid,
                                 d->message_sid, "updated");
    if (rc == ST_OK) rc = delivery_updated(c, r, d);
    if (rc != ST_OK) return api_fail(r, rc);
    render(r, d);
    return 0;
}

int delivery_status_update(struct req *r)
{
    const char *sid = r->param[0];
    if (!sid_valid(sid, strlen(sid), "DY")) return api_fail(r, E_NOT_FOUND), 0;
    struct param_value v[DS__COUNT];
    if (params_read(r, &r->body, ds_params, DS__COUNT, v) != 0) return 0;
    struct status_job *j = arena_alloc(&r->arena, sizeof(*j));
    memset(j, 0, sizeof(*j));
    memcpy(j->sid, sid, SID_LEN + 1);
    char status[16];
    snprintf(status, sizeof(status), "%s", v[DS_STATUS].s);
    for (char *p = status; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    j->status = receipt_status_index(status); /* one of the enum's choices: params_read checked it */
    int failing = j->status == RS_FAILED || j->status == RS_UNDELIVERED;
    if (v[DS_ERROR_CODE].present && !failing)
        return api_failf(r, E_INVALID_PARAM, "ErrorCode is only for Status failed or undelivered"), 0;
    j->error_code = !failing ? 0 : v[DS_ERROR_CODE].present ? v[DS_ERROR_CODE].i : ERROR_CODE_DEFAULT;
    return api_write(r, apply_status, j);
}
