/* A step that refuses a request answers the error and reports failure in one call, so that no caller can
 * prepare an error body and still return success (which, in the write transaction, would commit the
 * change). Both return -1: what an apply returns for a change that must not commit, and what a request
 * step (authentication, parameters, paging) returns once the response is ready. */
#ifndef PARLEY_API_FAIL_H
#define PARLEY_API_FAIL_H

#include "http/response.h"

/* err is a failure value: E_NOT_FOUND (404 naming the path), another Twilio code (its dictionary title as
 * the message, or the detail api_detail gave it), or a store result (< 0: 503 when busy, else 500). */
int api_fail(struct req *r, int err);

/* code with a message of its own, for the refusals that name a parameter or a value. */
int api_failf(struct req *r, enum twilio_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The failure value code with a message of its own (one that names a parameter, a value or a SID): a hook
 * returns what this returns, and api_fail answers it with that message. The message stays with r. */
int api_detail(struct req *r, enum twilio_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
