#include "webhook/sign.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/form.h"
#include "util/base64.h"
#include "util/buf.h"

/* Webhook parameters are bounded by the request limits that produced them (64 KiB bodies,
 * 16 KiB attributes); this only stops a runaway caller. */
#define SIGN_MESSAGE_MAX (1024 * 1024)

/* Byte order; a string that is a prefix of another sorts first. */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c) return c;
    return (an > bn) - (an < bn);
}

static int pair_cmp(const void *x, const void *y)
{
    const struct form_pair *a = *(const struct form_pair *const *)x;
    const struct form_pair *b = *(const struct form_pair *const *)y;
    int c = bytes_cmp(a->key, a->klen, b->key, b->klen);
    return c ? c : bytes_cmp(a->val, a->vlen, b->val, b->vlen);
}

int sign_twilio(const char *token, const char *url, const struct form_pair *params, size_t n,
                char out[SIGNATURE_LEN + 1])
{
    const struct form_pair **sorted = NULL;
    struct buf msg;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc = -1;

    buf_init(&msg, SIGN_MESSAGE_MAX);
    if (!token || !url || (n && !params)) return -1;
    if (n) {
        if (n > SIZE_MAX / sizeof *sorted || !(sorted = malloc(n * sizeof *sorted))) return -1;
        for (size_t i = 0; i < n; i++)
            sorted[i] = &params[i];
        /* sorting by (name, value) gives Twilio's order and puts repeats side by side */
        qsort(sorted, n, sizeof *sorted, pair_cmp);
    }

    buf_puts(&msg, url);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && pair_cmp(&sorted[i - 1], &sorted[i]) == 0)
            continue; /* a repeated name contributes each distinct value once */
        buf_put(&msg, sorted[i]->key, sorted[i]->klen);
        buf_put(&msg, sorted[i]->val, sorted[i]->vlen);
    }
    if (msg.err || !msg.p) goto done;

    if (!HMAC(EVP_sha1(), token, (int)strlen(token), (const unsigned char *)msg.p, msg.len, md, &mdlen) ||
        mdlen != 20)
        goto done;
    b64_encode(md, mdlen, out);
    rc = 0;

done:
    free(sorted);
    buf_free(&msg);
    return rc;
}
