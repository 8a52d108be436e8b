#include "api/fail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/request.h"

/* Room for a refusal's message: parameter names, limits and a value cut to 64 bytes fit well inside. */
#define FAIL_MESSAGE_MAX 512

/* A failure value's own message: it belongs to the value whose code it carries. */
struct fail_detail {
    int code;
    char text[];
};

int api_fail(struct req *r, int err)
{
    if (err == E_NOT_FOUND)
        resp_not_found(r);
    else if (err < 0)
        resp_store_error(r, err);
    else if (r->detail && r->detail->code == err)
        resp_error(r, (enum twilio_code)err, "%s", r->detail->text);
    else
        resp_error(r, (enum twilio_code)err, "%s", resp_title((enum twilio_code)err));
    return -1;
}

/* The message fmt makes, kept with r as the detail of code's failure value. */
static int detail(struct req *r, enum twilio_code code, const char *fmt, va_list ap)
{
    char msg[FAIL_MESSAGE_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    struct fail_detail *d = arena_alloc(&r->arena, sizeof(*d) + n + 1);
    d->code = code;
    memcpy(d->text, msg, n + 1);
    r->detail = d;
    return code;
}

int api_detail(struct req *r, enum twilio_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = detail(r, code, fmt, ap);
    va_end(ap);
    return err;
}

int api_failf(struct req *r, enum twilio_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int err = detail(r, code, fmt, ap);
    va_end(ap);
    return api_fail(r, err);
}
