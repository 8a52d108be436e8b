#include "http/response.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/request.h"
#include "store/store.h"
#include "json/jw.h"

const struct resp_header resp_fixed_headers[] = {
    {"Content-Type", "application/json; charset=utf-8"},
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
    {"Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, If-Match, If-Modified-Since, "
                                     "If-None-Match, If-Unmodified-Since, Idempotency-Key"},
    {"Access-Control-Allow-Credentials", "true"},
    {"Access-Control-Expose-Headers", "ETag"},
    /* what conversations.twilio.com sends (BEHAVIOUR §10.6); no client depends on them */
    {"X-Powered-By", "AT-5000"},
    {"X-Shenanigans", "none"},
    {"X-Home-Region", "us1"},
    {NULL, NULL},
};

void resp_api_domain(const char *public_url, char *out, size_t n)
{
    const char *host = strstr(public_url, "://");
    host = host ? host + 3 : public_url;
    size_t len = strcspn(host, "/?#");
    snprintf(out, n, "%.*s", (int)len, host);
}

static const char *resp_participant_title(enum twilio_code code);
static const char *resp_message_title(enum twilio_code code);

static int status_of(enum twilio_code code)
{
    switch (code) {
    case E_AUTH:
        return 401;
    case E_METHOD:
        return 405;
    case E_NOT_FOUND:
    case E_INBOUND_NO_ROUTE:
        return 404;
    case E_USER_EXISTS:
    case E_CONFLICT:
    case E_UNIQUE_NAME_EXISTS:
    case E_BINDING_IN_USE:
    case E_CWP_BINDING_IN_USE:
    case E_PARTICIPANT_EXISTS:
        return 409;
    case E_INTERNAL:
        return 500;
    case E_UNAVAILABLE:
        return 503;
    default:
        return 400;
    }
}

const char *resp_title(enum twilio_code code)
{
    switch (code) {
    case E_FRIENDLY_NAME_TOO_LONG:
        return "Friendly name too long";
    case E_IDENTITY_TOO_LONG:
        return "Identity too long";
    case E_ATTRS_TOO_LONG:
        return "Attributes too long";
    case E_ATTRS_INVALID:
        return "Attributes not valid JSON";
    case E_USER_EXISTS:
        return "User already exists";
    case E_IDENTITY_LOOKS_LIKE_SID:
        return "Identity should not match user SID pattern";
    case E_ROLE_NOT_FOUND:
        return "Role not found";
    case E_SERVICE_NOT_FOUND:
        return "Service Instance not found";
    case E_PERMISSION_NOT_FOUND:
        return "Permission not found";
    case E_INVALID_ROLE_TYPE:
        return "Invalid role type";
    case E_CONVERSATION_ROLE_NOT_FOUND:
        return "Conversation role not found";
    case E_CONFLICT:
        return "Conflict";
    case E_WEBHOOK_METHOD:
        return "Invalid webhook method";
    case E_NOTIFICATION_TEMPLATE_TOO_LONG:
        return "Notification template too long";
    case E_NOTIFICATION_SOUND_TOO_LONG:
        return "Notification sound name too long";
    case E_INVALID_MESSAGING_SERVICE_SID:
        return "Invalid messaging service SID";
    case E_INACTIVE_TIMER_TOO_SHORT:
        return "TimeToInactive should be greater or equal to 1 minute";
    case E_CLOSED_TIMER_TOO_SHORT:
        return "TimeToClosed should be greater or equal to 10 minutes";
    case E_INACTIVE_TIMER_FORMAT:
        return "TimeToInactive format is invalid";
    case E_CLOSED_TIMER_FORMAT:
        return "TimeToClosed format is invalid";
    case E_UNIQUE_NAME_TOO_LONG:
        return "Unique Name too long";
    case E_DATE_CREATED_INVALID:
        return "Invalid Date Created parameter";
    case E_DATE_UPDATED_INVALID:
        return "Invalid Date Updated parameter";
    case E_CONVERSATION_NO_UPDATE_PARAMS:
        return "Parameters are missing for channel update request";
    case E_UNIQUE_NAME_EXISTS:
        return "Conversation with provided unique name already exists";
    case E_STATE_EMPTY:
        return "'State' field can't be empty";
    case E_CONVERSATION_CLOSED:
        return "Can't update conversation as it's in final closed state";
    case E_STATE_INVALID:
        return "'State' parameter value is invalid";
    case E_TIMER_WITHOUT_STATE:
        return "Timer can't be set without state";
    case E_INITIAL_STATE_CLOSED:
        return "Initial state can't be 'closed";
    case E_UNIQUE_NAME_LOOKS_LIKE_SID:
        return "Unique name should not match conversation sid pattern";
    case E_SW_TOO_MANY:
        return "Too many conversation webhooks";
    case E_SW_TOO_MANY_TRIGGERS:
        return "Too many conversation webhook triggers";
    case E_SW_BAD_TYPE:
        return "Invalid conversation webhook type";
    case E_SW_BAD_FILTER:
        return "Invalid conversation webhook filter";
    case E_SW_BAD_TRIGGER:
        return "Invalid conversation webhook trigger";
    case E_SW_BAD_FLOW:
        return "Invalid conversation webhook flow SID";
    case E_SW_NO_URL:
        return "Conversation webhook URL not provided";
    case E_SW_NO_FILTER:
        return "Conversation webhook filter not provided";
    case E_SW_NO_TRIGGER:
        return "Conversation webhook trigger not provided";
    case E_SW_URL_TOO_LONG:
        return "Conversation webhook URL is too long";
    case E_PAGE_TOKEN_REQUIRED:
        return "Paged requests must include a PageToken";
    default:
        return resp_participant_title(code);
    }
}

/* The participants' codes (BEHAVIOUR-conversations §11): the dictionary titles. */
static const char *resp_participant_title(enum twilio_code code)
{
    switch (code) {
    case E_IDENTITY_NOT_PROVIDED:
        return "Identity not provided";
    case E_NOTIFICATION_LEVEL_INVALID:
        return "Invalid notification level";
    case E_IDENTITY_NOT_ACCEPTABLE:
        return "Identity parameter not acceptable for this Participant";
    case E_USER_CONVERSATIONS_LIMIT:
        return "User conversation limit exceeded";
    case E_NO_MESSAGING_SERVICE:
        return "No Messaging Service assigned to Conversation";
    case E_LAST_READ_TIMESTAMP_INVALID:
        return "Invalid last consumption timestamp format";
    case E_BINDING_ADDRESS_INVALID:
        return "Invalid messaging binding address";
    case E_PROXY_ADDRESS_INVALID:
        return "Invalid participant proxy address";
    case E_ADDRESS_EQUALS_PROXY:
        return "Participant address equals proxy address";
    case E_ADDRESS_EMPTY:
        return "Participant address is empty";
    case E_PROXY_ADDRESS_EMPTY:
        return "Participant proxy address is empty";
    case E_ADDRESS_TYPE_MISMATCH:
        return "Participant address type does not match proxy address type";
    case E_BINDING_IN_USE:
        return "A binding for this participant and proxy address already exists";
    case E_PARTICIPANTS_LIMIT:
        return "Participants limit exceeded";
    case E_NON_CHAT_LIMIT:
        return "Non-Chat participants limit exceeded";
    case E_LAST_READ_INDEX_INVALID:
        return "Invalid last read message index format";
    case E_CWP_PARTICIPANT_INVALID:
        return "One of the JSON requests for participant creation is invalid";
    case E_CWP_BINDING_IN_USE:
        return "Participant and proxy address pairs for one or more participants already in use";
    case E_CWP_TOO_MANY:
        return "Request contains too many participants";
    case E_PARTICIPANT_EXISTS:
        return "Participant already exists";
    case E_PROXY_REMOVE_FAILED:
        return "Failed to remove the proxy address of a participant";
    case E_PROXY_ADD_FAILED:
        return "Failed to add a proxy address to a participant";
    case E_PROJECTED_REMOVE_FAILED:
        return "Failed to remove the projected address of a participant";
    case E_PROJECTED_ADD_FAILED:
        return "Failed to add a projected address to a participant";
    case E_IDENTITY_ADD_FAILED:
        return "Failed to add an identity to a participant";
    case E_LOOKUP_ONE_IDENTIFIER:
        return "One user identifier parameter for lookup at a time is allowed. Please, use either Identity or"
               " Address";
    default:
        return resp_message_title(code);
    }
}

/* The messages' and media codes (BEHAVIOUR-conversations §11): the dictionary titles. */
static const char *resp_message_title(enum twilio_code code)
{
    switch (code) {
    case E_AUTHOR_TOO_LONG:
        return "Author parameter is too long";
    case E_BODY_NOT_PROVIDED:
        return "Message body not provided";
    case E_BODY_TOO_LONG:
        return "Message body parameter is too long";
    case E_MEDIA_NOT_FOUND:
        return "Media not found";
    case E_MEDIA_ALREADY_SENT:
        return "Media already sent with another message";
    case E_MEDIA_BODY_UPDATE:
        return "Media message body cannot be updated";
    case E_MEDIA_SID_INVALID:
        return "Invalid message media SID";
    case E_GMMS_AUTHOR:
        return "Message author should be among Group MMS participants";
    case E_CONTENT_SID_INVALID:
        return "Invalid content SID";
    case E_CONTENT_VARIABLES_INVALID:
        return "Invalid content variables format";
    case E_CONTENT_SID_MISSING:
        return "Content SID is missing";
    case E_CONTENT_VARIABLES_TOO_LONG:
        return "Content variables are too long";
    case E_CONTENT_VARIABLE_KEY_TOO_LONG:
        return "Content variable key is too long";
    case E_CONTENT_VARIABLE_VALUE_TOO_LONG:
        return "Content variable value is too long";
    default:
        return NULL;
    }
}

static int write_error(struct req *r, int status, enum twilio_code code, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char more[64];
    snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", (int)code);
    buf_reset(&r->out);
    struct jw w;
    jw_init(&w, &r->out);
    jw_obj_begin(&w);
    jw_kint(&w, "code", code);
    jw_kstr(&w, "message", msg);
    jw_kstr(&w, "more_info", more);
    jw_kint(&w, "status", status);
    jw_obj_end(&w);
    r->status = status;
    return 0;
}

int resp_error(struct req *r, enum twilio_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_error(r, status_of(code), code, fmt, ap);
    va_end(ap);
    return 0;
}

int resp_error_status(struct req *r, int status, enum twilio_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_error(r, status, code, fmt, ap);
    va_end(ap);
    return 0;
}

int resp_not_found(struct req *r)
{
    /* The path may be long; the message keeps its first 400 bytes. */
    return resp_error(r, E_NOT_FOUND, "The requested resource %.400s was not found", r->v1_path);
}

int resp_store_error(struct req *r, int store_result)
{
    if (store_result == ST_BUSY) return resp_error(r, E_UNAVAILABLE, "Service unavailable");
    return resp_error(r, E_INTERNAL, "Internal Server Error");
}
