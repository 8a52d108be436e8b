/* Declarative request parameters: an operation names its parameters in a table, and one reader turns
 * the decoded form into checked values or the right Twilio error. */
#ifndef PARLEY_PARAMS_H
#define PARLEY_PARAMS_H
#include <stddef.h>

struct req;
struct form;

enum param_kind {
    PK_STRING, /* free text; max is a limit in characters, too_long the error code beyond it */
    PK_SID,    /* prefix followed by 32 hex digits; malformed: 400 / 20423 */
    PK_JSON,   /* JSON text (Attributes): 50304 when unparsable, 50303 when too long */
    PK_BOOL,   /* "true" | "false", in any case */
    PK_INT,    /* decimal integer in [min, max] */
    PK_ENUM,   /* one of the '|'-separated values in choices */
};

#define P_REQUIRED 1u
#define P_LIST 2u /* repeated key: every value is checked; see param_value.n */
/* Required when read for a create only (params_read_op): one table serves create and update. */
#define P_CREATE_REQUIRED 4u
#define P_CREATE_ONLY 8u /* params_read_op: not read for an update */
#define P_NO_SLOT 16u    /* a family's table (api/runner.h): checked here, used by a hook, no slot */
#define P_ANY_CASE 32u   /* PK_ENUM: a choice in any case (the value is kept as sent) */
/* a family's string slot: an empty value clears it (NULL), where an absent one keeps what is stored */
#define P_EMPTY_CLEARS 64u

struct param_spec {
    const char *name;
    enum param_kind kind;
    unsigned flags;
    long long min, max;  /* PK_INT range; PK_STRING max characters (0: unlimited) */
    int too_long;        /* PK_STRING: error code when longer than max */
    const char *choices; /* PK_SID prefix, PK_ENUM "a|b|c" */
    size_t off;          /* a family's table (api/runner.h): where the value lands in the model struct */
};

struct param_value {
    int present;
    const char *s; /* NUL-terminated, decoded */
    size_t len;
    long long i; /* PK_INT value, PK_BOOL 0/1 */
    size_t n;    /* P_LIST: number of values (values via form_nth) */
};

/* Reads n specs from f into out[n]. Returns 0, or -1 after preparing the error response in r. */
int params_read(struct req *r, const struct form *f, const struct param_spec *spec, size_t n,
                struct param_value *out);
/* The same for one table shared by create and update: P_CREATE_REQUIRED counts only when create is 1. */
int params_read_op(struct req *r, const struct form *f, const struct param_spec *spec, size_t n,
                   struct param_value *out, int create);
/* Number of specs present; update handlers use it to refuse an empty update. */
size_t params_count_present(const struct param_value *v, size_t n);
/* Room for the JSON array params_list_json makes: 10 event names, or 5 keywords of 248 characters. */
#define PARAMS_LIST_JSON_MAX 8192
/* The values of the repeated body parameter name as a JSON array of strings, each once at its first
 * position, empty values left out: into *out (r's arena), NULL when no value is left. check (NULL: none)
 * is given every value, empty ones too, and returns 0 or the failure value to stop with; more than max
 * values (0: any number) or more text than PARAMS_LIST_JSON_MAX is too_many. Returns 0 or the failure. */
int params_list_json(struct req *r, const char *name, int (*check)(struct req *r, const char *s, size_t n),
                     int max, int too_many, char **out);
/* 1 when s[0..n) is an absolute http(s) URL with a host and no space or control byte: a webhook
 * target's rule (§5.2, the webhook configuration's). */
int params_http_url(const char *s, size_t n);

#endif
