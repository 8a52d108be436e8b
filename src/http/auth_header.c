#include "http/auth_header.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "util/base64.h"

/* user ':' pass at their longest, and the base64 text that encodes it */
#define AUTH_RAW_MAX (AUTH_USER_MAX + 1 + AUTH_PASS_MAX)
#define AUTH_B64_MAX B64_ENCODED_LEN(AUTH_RAW_MAX)

static int auth_part_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f) return 0;
    return 1;
}

int auth_basic_parse(const char *header, struct basic_cred *out)
{
    unsigned char raw[AUTH_B64_MAX / 4 * 3];
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (!header || strncasecmp(header, "Basic", 5) != 0 || header[5] != ' ') return -1;
    const char *tok = header + 5;
    while (*tok == ' ')
        tok++;
    /* the token ends at the first space; only spaces may follow it */
    size_t n = strcspn(tok, " ");
    for (const char *t = tok + n; *t; t++)
        if (*t != ' ') return -1;
    if (n == 0 || n > AUTH_B64_MAX) return -1;

    long len = b64_decode(tok, n, raw);
    if (len < 0) goto done;
    const unsigned char *colon = memchr(raw, ':', (size_t)len);
    if (!colon) goto done;
    size_t ulen = (size_t)(colon - raw);
    size_t plen = (size_t)len - ulen - 1;
    if (ulen > AUTH_USER_MAX || plen > AUTH_PASS_MAX) goto done;
    if (!auth_part_ok(raw, ulen) || !auth_part_ok(colon + 1, plen)) goto done;
    memcpy(out->user, raw, ulen);
    memcpy(out->pass, colon + 1, plen);
    rc = 0;

done:
    /* raw held the password */
    OPENSSL_cleanse(raw, sizeof raw);
    return rc;
}
