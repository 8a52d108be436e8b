/* Parses an HTTP "Authorization: Basic <base64(user:pass)>" header value. */
#ifndef PARLEY_AUTH_HEADER_H
#define PARLEY_AUTH_HEADER_H
#include <stddef.h>

#define AUTH_USER_MAX 64
#define AUTH_PASS_MAX 128

struct basic_cred {
    char user[AUTH_USER_MAX + 1];
    char pass[AUTH_PASS_MAX + 1];
};

/* 0 on success. -1 when the header is not the Basic scheme (case-insensitive scheme name, one or more
 * spaces), the base64 is invalid, there is no ':', either part is too long, or a part holds a NUL or
 * a control character. The user is everything before the first ':'. */
int auth_basic_parse(const char *header, struct basic_cred *out);

#endif
