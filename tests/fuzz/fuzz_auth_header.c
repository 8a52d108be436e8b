/* libFuzzer target: auth_basic_parse on arbitrary header text; whatever it accepts must obey the
 * limits and survive a re-encode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/auth_header.h"
#include "util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_part(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct basic_cred c, again;
    char *h = malloc(size + 1);
    if (!h) return 0;
    memcpy(h, data, size);
    h[size] = '\0';

    if (auth_basic_parse(h, &c) == 0) {
        check_part(c.user, AUTH_USER_MAX);
        check_part(c.pass, AUTH_PASS_MAX);
        if (!memchr(h, ' ', size)) abort(); /* the scheme needs a space after it */
        /* "Basic " + base64(user ":" pass) parses back to the same pair */
        char raw[AUTH_USER_MAX + 1 + AUTH_PASS_MAX + 1];
        char hdr[6 + B64_ENCODED_LEN(sizeof raw) + 1];
        size_t ul = strlen(c.user), pl = strlen(c.pass);
        memcpy(raw, c.user, ul);
        raw[ul] = ':';
        memcpy(raw + ul + 1, c.pass, pl);
        memcpy(hdr, "Basic ", 6);
        b64_encode((const unsigned char *)raw, ul + 1 + pl, hdr + 6);
        if (auth_basic_parse(hdr, &again) != 0 || strcmp(again.user, c.user) || strcmp(again.pass, c.pass))
            abort();
    } else if (c.user[0] || c.pass[0]) {
        abort(); /* nothing is left behind on failure */
    }
    free(h);
    return 0;
}
