#include "util/pagetoken.h"

#include <string.h>

#include <openssl/sha.h>

#include "util/base64.h"

/* Payload: version, dir, key as 8 big-endian bytes, then a 6-byte check. 16 bytes encode to 22
 * base64url chars with no padding, so every token is exactly "PT" + 22 chars.
 * The check is SHA-256 over a fixed label and the payload, not a secret MAC: it turns typos,
 * truncation and hand-edited tokens into "Invalid PageToken", and tokens survive restarts and work
 * across instances. Forging one gains nothing, since the key only says where a page starts and the
 * store still filters by account; so every key 0..2^63-1 in either direction must be safe to act on
 * (paging.c saturates at both ends), and encode refuses what it cannot write instead of asserting. */
#define PT_VERSION 1
#define PT_BODY 10
#define PT_CHECK 6
#define PT_RAW (PT_BODY + PT_CHECK)
#define PT_B64 22
#define PT_TOTAL (2 + PT_B64)

static const char pt_label[] = "parley pagetoken v1";

_Static_assert(PT_TOTAL < PAGETOKEN_MAX, "token and its NUL fit in PAGETOKEN_MAX");

static void pt_check(const unsigned char body[PT_BODY], unsigned char check[PT_CHECK])
{
    unsigned char msg[sizeof pt_label - 1 + PT_BODY], md[SHA256_DIGEST_LENGTH];

    memcpy(msg, pt_label, sizeof pt_label - 1);
    memcpy(msg + sizeof pt_label - 1, body, PT_BODY);
    SHA256(msg, sizeof msg, md);
    memcpy(check, md, PT_CHECK);
}

int pagetoken_encode(const struct pagetoken *t, char out[PAGETOKEN_MAX])
{
    unsigned char raw[PT_RAW];
    unsigned long long k = (unsigned long long)t->key;

    out[0] = '\0';
    if (t->key < 0 || (t->dir != 'a' && t->dir != 'b')) return -1;
    raw[0] = PT_VERSION;
    raw[1] = (unsigned char)t->dir;
    for (int i = 0; i < 8; i++)
        raw[2 + i] = (unsigned char)(k >> (56 - 8 * i));
    pt_check(raw, raw + PT_BODY);
    out[0] = 'P';
    out[1] = 'T';
    b64url_encode(raw, sizeof raw, out + 2);
    return 0;
}

int pagetoken_decode(const char *s, size_t n, struct pagetoken *t)
{
    unsigned char raw[PT_RAW], check[PT_CHECK];

    if (!s || n != PT_TOTAL || s[0] != 'P' || s[1] != 'T') return -1;
    /* strict decoding: one token has exactly one spelling */
    if (b64url_decode(s + 2, PT_B64, raw) != PT_RAW) return -1;
    if (raw[0] != PT_VERSION || (raw[1] != 'a' && raw[1] != 'b') || (raw[2] & 0x80)) return -1;
    pt_check(raw, check);
    if (memcmp(check, raw + PT_BODY, PT_CHECK) != 0) return -1;
    unsigned long long k = 0;
    for (int i = 0; i < 8; i++)
        k = k << 8 | raw[2 + i];
    t->dir = (char)raw[1];
    t->key = (long long)k;
    return 0;
}
