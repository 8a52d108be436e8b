/* The operation table's types. The rows are generated from the Conversations v1 spec into
 * api/operations.gen.{h,c} (scripts/gen_operations.py, `make gen`); this header is hand-written.
 *
 * A row holds only what the spec states: method, path pattern, success status, list key, the PageSize
 * maximum, the parameter skeletons and the response's field names in the spec's order. What Parley's own
 * documents decide (lengths and their error codes, defaults, validation order, link templates) belongs in
 * the hand-written resource descriptors, not here. Everything is const data: string literals and static
 * arrays, nothing allocated. */
#ifndef PARLEY_OPTABLE_H
#define PARLEY_OPTABLE_H

/* The same bit values as enum http_method (http/request.h), so that the runner can compare them;
 * tests/unit/test_optable.c checks that they agree. This header stays free of http/. */
enum op_method { OPM_GET = 1, OPM_POST = 2, OPM_DELETE = 4 };

/* From method + path shape: GET on a collection lists, POST on one creates, GET/POST on an item (or a
 * singleton such as /v1/Configuration) fetches/updates, DELETE on an item deletes. OTHER is anything
 * else (none in v1 today), left to a hand-written handler. */
enum op_kind { OPK_FETCH, OPK_LIST, OPK_CREATE, OPK_UPDATE, OPK_DELETE, OPK_OTHER };

/* A response field's type as the spec gives it. FT_ENUM: a string with fixed values (a $ref to an enum
 * schema); FT_URI_MAP: an object of absolute URLs (`links`); FT_ANY: the spec names no type
 * (`auto_creation`, `messaging_binding`). */
enum field_type {
    FT_STRING,
    FT_INTEGER,
    FT_BOOLEAN,
    FT_OBJECT,
    FT_ARRAY,
    FT_DATE_TIME,
    FT_URI,
    FT_URI_MAP,
    FT_ENUM,
    FT_ANY,
};

struct op_field {
    const char *name;       /* "friendly_name" */
    unsigned char type;     /* enum field_type */
    unsigned char nullable; /* the spec allows null */
    char prefix[3];         /* "US" when the spec gives a SID pattern, "*" for any prefix; else "" */
};

/* A response schema (a list's item schema for OPK_LIST); several operations share one. */
struct op_schema {
    const char *name;              /* "conversations.v1.service.service_user" */
    const struct op_field *fields; /* in the spec's `properties` order */
    unsigned char n_fields;
    char prefix[3]; /* the SID prefix of its `sid` field; "" when it has none */
};

enum param_in { PIN_PATH, PIN_QUERY, PIN_BODY, PIN_HEADER };

/* OPP_SID: a string with a SID pattern (prefix set); OPP_ARRAY: a repeated string; OPP_ENUM_ARRAY: a repeated
 * value from choices. Attributes-style JSON strings are OPP_STRING: the spec does not mark them. */
enum op_param_kind {
    OPP_STRING,
    OPP_SID,
    OPP_BOOL,
    OPP_INT,
    OPP_ENUM,
    OPP_DATE_TIME,
    OPP_URI,
    OPP_ARRAY,
    OPP_ENUM_ARRAY
};

#define PF_REQUIRED 1u /* path parameters always */
#define PF_MIN 2u      /* OPP_INT: min holds the spec's minimum */
#define PF_MAX 4u      /* OPP_INT: max holds the spec's maximum */

struct op_param {
    const char *name;           /* the wire name: "FriendlyName", "X-Twilio-Webhook-Enabled" */
    unsigned char in;           /* enum param_in */
    unsigned char kind;         /* enum op_param_kind */
    unsigned char flags;        /* PF_* */
    char prefix[3];             /* OPP_SID: "RL"; else "" */
    const char *const *choices; /* OPP_ENUM, OPP_ENUM_ARRAY: the values, NULL-terminated; else NULL */
    int min, max;               /* OPP_INT, under PF_MIN / PF_MAX */
};

struct op_def {
    const char *id;       /* operationId: "UpdateServiceUser" */
    const char *path;     /* "/v1/Services/{ChatServiceSid}/Users/{Sid}" */
    const char *route;    /* the router's pattern (http/router.h): "/Services/{}/Users/{}" */
    unsigned char method; /* enum op_method */
    unsigned char kind;   /* enum op_kind */
    short status;         /* the success status: 200, 201, 204 */
    short status_alt;     /* a second success status (202 for ConversationWithParticipants); else 0 */
    short page_max;       /* OPK_LIST: the PageSize maximum */
    const char *list_key; /* OPK_LIST: the array's key in the page ("users"); else NULL */
    char prefix[3];       /* the resource's SID prefix ("US"); "" for singletons */
    const struct op_schema *schema; /* the response body (a list's item); NULL for a 204 */
    const struct op_param *params;  /* path, query and header parameters in the spec's order, then body */
    unsigned char n_params;
};

#endif
