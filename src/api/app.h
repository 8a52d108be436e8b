/* Process-wide state the handlers share: configuration, the writer, the public base URL. */
#ifndef PARLEY_APP_H
#define PARLEY_APP_H
#include <stddef.h>

struct writer;
struct store_ops;
struct hook_client;
struct reaper;

/* What a pre-event webhook's silence or failure means (BEHAVIOUR §10.1.1: Twilio proceeds). */
enum pre_failure_policy { PRE_FAILURE_PROCEED, PRE_FAILURE_REJECT };

struct app {
    const char *public_url; /* no trailing slash */
    size_t public_url_len;
    const struct store_ops *store;
    const char *data; /* backend target */
    int sync_full;
    struct writer *writer;
    struct hook_client *hooks;
    int pre_hooks_for_rest; /* fire pre-event hooks for REST calls carrying the header (default 1) */
    enum pre_failure_policy pre_failure;
    int veto_status;              /* HTTP status of a vetoed REST call (default 400, code 50056) */
    int metrics_public;           /* serve /metrics without credentials */
    int media_strict;             /* a message's MediaSid must be registered (control/media.c), else 50507 */
    const char *admin_token;      /* credential for the server-wide /metrics; NULL: none */
    int cache_accounts;           /* this process is the store's only writer (SQLite) */
    struct reaper *reaper;        /* reaps deleted services (api/services.c); NULL in subcommands */
    long long (*in_flight)(void); /* requests being handled (the HTTP server's count) */
    int timers_need_state;        /* --timers-need-state: Timers.* without State is 400/50382 */
    int closed_allows_delete;     /* --closed-allows-delete: a closed conversation's participants may go */
    int scoped_trigger_filters;   /* a trigger webhook's keywords render under "filters" (spec example) */
    /* message switches (api/messages.c) */
    int strict_sms_body;               /* --strict-sms-body: 1600 characters over SMS/WhatsApp, else 50504 */
    int no_delivery_receipts;          /* --no-delivery-receipts: a message creates no receipts */
    int omit_message_chat_service_sid; /* --omit-message-chat-service-sid: on message post-events */
    int event_media_snake;             /* --event-media-keys snake: Media objects' keys in snake_case */
};

#endif
