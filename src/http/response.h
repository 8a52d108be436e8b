/* Response bodies and headers shared by every route: Twilio's error JSON and the fixed header set. */
#ifndef PARLEY_RESPONSE_H
#define PARLEY_RESPONSE_H
#include <stddef.h>

struct req;

/* Error codes Parley answers with; the table in response.c gives each its HTTP status. */
enum twilio_code {
    E_INVALID_PARAM = 20001,
    E_AUTH = 20003,
    E_METHOD = 20004,
    E_NO_UPDATE_PARAMS = 20161,
    E_NOT_FOUND = 20404,
    E_CONFLICT = 20409,
    E_INVALID_SID = 20423,
    E_INTERNAL = 20500,
    E_UNAVAILABLE = 20503,
    E_FRIENDLY_NAME_TOO_LONG = 50003,
    E_SERVICE_NOT_FOUND = 50050,
    E_WEBHOOK_FORMAT = 50054,
    E_WEBHOOK_METHOD = 50055,
    E_WEBHOOK_VETO = 50056,
    E_NOTIFICATION_TEMPLATE_TOO_LONG = 50058,
    E_NOTIFICATION_SOUND_TOO_LONG = 50059,
    E_ROLE_NOT_FOUND = 50100,
    E_PERMISSION_NOT_FOUND = 50104,
    E_INVALID_ROLE_TYPE = 50105,
    E_CONVERSATION_ROLE_NOT_FOUND = 50109,
    E_USER_EXISTS = 50201,
    E_IDENTITY_NOT_PROVIDED = 50204,
    E_IDENTITY_LOOKS_LIKE_SID = 50206,
    E_IDENTITY_TOO_LONG = 50207,
    E_NOTIFICATION_LEVEL_INVALID = 50210,
    E_IDENTITY_NOT_ACCEPTABLE = 50211,
    E_USER_CONVERSATIONS_LIMIT = 50214,
    E_ATTRS_TOO_LONG = 50303,
    E_ATTRS_INVALID = 50304,
    E_INVALID_MESSAGING_SERVICE_SID = 50341,
    E_INACTIVE_TIMER_TOO_SHORT = 50375,
    E_CLOSED_TIMER_TOO_SHORT = 50376,
    E_INACTIVE_TIMER_FORMAT = 50379,
    E_CLOSED_TIMER_FORMAT = 50380,
    /* conversations (BEHAVIOUR-conversations §11) */
    E_UNIQUE_NAME_TOO_LONG = 50004,
    E_DATE_CREATED_INVALID = 50308,
    E_DATE_UPDATED_INVALID = 50309,
    E_CONVERSATION_NO_UPDATE_PARAMS = 50347,
    E_UNIQUE_NAME_EXISTS = 50353,
    E_STATE_EMPTY = 50374,
    E_CONVERSATION_CLOSED = 50377,
    E_STATE_INVALID = 50378,
    E_TIMER_WITHOUT_STATE = 50382,
    E_INITIAL_STATE_CLOSED = 50384,
    E_UNIQUE_NAME_LOOKS_LIKE_SID = 50390,
    /* participants (BEHAVIOUR-conversations §2, §6, §8) */
    E_NO_MESSAGING_SERVICE = 50373,
    E_LAST_READ_TIMESTAMP_INVALID = 50405,
    E_BINDING_ADDRESS_INVALID = 50407,
    E_PROXY_ADDRESS_INVALID = 50408,
    E_ADDRESS_EQUALS_PROXY = 50409,
    E_ADDRESS_EMPTY = 50411,
    E_PROXY_ADDRESS_EMPTY = 50412,
    E_ADDRESS_TYPE_MISMATCH = 50414,
    E_BINDING_IN_USE = 50416,
    E_PARTICIPANTS_LIMIT = 50417,
    E_NON_CHAT_LIMIT = 50418,
    E_LAST_READ_INDEX_INVALID = 50421,
    E_CWP_PARTICIPANT_INVALID = 50424,
    E_CWP_BINDING_IN_USE = 50425,
    E_CWP_TOO_MANY = 50426,
    E_PARTICIPANT_EXISTS = 50433,
    E_PROXY_REMOVE_FAILED = 50440,
    E_PROXY_ADD_FAILED = 50441,
    E_PROJECTED_REMOVE_FAILED = 50442,
    E_PROJECTED_ADD_FAILED = 50443,
    E_IDENTITY_ADD_FAILED = 50444,
    E_LOOKUP_ONE_IDENTIFIER = 50451,
    /* conversation-scoped webhooks (BEHAVIOUR-conversations §5.2, §11) */
    E_SW_TOO_MANY = 50361,
    E_SW_TOO_MANY_TRIGGERS = 50362,
    E_SW_BAD_TYPE = 50364,
    E_SW_BAD_FILTER = 50365,
    E_SW_BAD_TRIGGER = 50366,
    E_SW_BAD_FLOW = 50367,
    E_SW_NO_URL = 50369,
    E_SW_NO_FILTER = 50370,
    E_SW_NO_TRIGGER = 50371,
    E_SW_URL_TOO_LONG = 50372,
    /* messages and media (BEHAVIOUR-conversations §3, §11) */
    E_AUTHOR_TOO_LONG = 50310,
    E_BODY_NOT_PROVIDED = 50503,
    E_BODY_TOO_LONG = 50504,
    E_MEDIA_NOT_FOUND = 50507,
    E_MEDIA_ALREADY_SENT = 50508,
    E_MEDIA_BODY_UPDATE = 50509,
    E_MEDIA_SID_INVALID = 50510,
    E_GMMS_AUTHOR = 50513,
    E_CONTENT_SID_INVALID = 50526,
    E_CONTENT_VARIABLES_INVALID = 50527,
    E_CONTENT_SID_MISSING = 50528,
    E_CONTENT_VARIABLES_TOO_LONG = 50529,
    E_CONTENT_VARIABLE_KEY_TOO_LONG = 50540,
    E_CONTENT_VARIABLE_VALUE_TOO_LONG = 50541,
    E_PAGE_TOKEN_REQUIRED = 70002,
    /* Parley's own codes, for its /parley endpoints (docs/DECISIONS.md, "Inbound traffic and delivery
     * status"): no Twilio error covers them */
    E_INBOUND_NO_ROUTE = 90001,  /* 404: no open conversation binds the pair, no configuration auto-creates */
    E_RECEIPT_BACKWARDS = 90002, /* 400: a delivery receipt's status only moves forward */
};

/* The error dictionary's title for code, without its product prefix (BEHAVIOUR §10.4.3), for the codes
 * whose message is always the title; NULL for the others. */
const char *resp_title(enum twilio_code code);

/* Fills r->status and r->out with {"code","message","more_info","status"}; returns 0 so that a
 * handler can `return resp_error(...)`. */
int resp_error(struct req *r, enum twilio_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with an explicit HTTP status (413 for an oversized body). */
int resp_error_status(struct req *r, int status, enum twilio_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 404 / 20404 naming the request path after /v1. */
int resp_not_found(struct req *r);
/* Maps a store failure to 500 / 503. */
int resp_store_error(struct req *r, int store_result);

struct resp_header {
    const char *name;
    const char *value;
};
/* Headers every response carries (content type, CORS, Twilio's fixed ones), NULL-terminated. The server
 * adds the per-request ones: Twilio-Request-Id, Twilio-Request-Duration, Twilio-Concurrent-Requests,
 * X-API-Domain, and Strict-Transport-Security (RESP_HSTS) over TLS. */
extern const struct resp_header resp_fixed_headers[];

#define RESP_HSTS "max-age=31536000"
#define RESP_API_DOMAIN_MAX 256
/* X-API-Domain: the host (and port) of the public URL, as Twilio names its own host there. */
void resp_api_domain(const char *public_url, char *out, size_t n);

#endif
