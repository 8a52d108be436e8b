/* API keys (BEHAVIOUR §6): HTTP Basic with SK…:secret, and the salted SHA-256 hashes their secrets are
 * kept as. The subcommands that create and revoke keys are in cli/accounts.c. */
#include "api/apikeys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "http/request.h"
#include "http/response.h"
#include "store/account_store.h"
#include "store/secret.h"
#include "util/arena.h"
#include "util/sid.h"
#include "util/text.h"

/* ---- hashing ---- */

void apikey_to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int from_hex(const char *s, size_t want, unsigned char *out)
{
    if (!s || strlen(s) != 2 * want) return -1;
    for (size_t i = 0; i < want; i++) {
        int hi = hex_val((unsigned char)s[2 * i]), lo = hex_val((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int digest(const char *salt_hex, const char *secret, size_t n, unsigned char out[32])
{
    unsigned char salt[APIKEY_SALT_HEX / 2];
    if (from_hex(salt_hex, sizeof(salt), salt) != 0) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, salt, sizeof(salt)) == 1 && EVP_DigestUpdate(ctx, secret, n) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int apikey_hash(const char *salt_hex, const char *secret, size_t n, char out[APIKEY_HASH_HEX + 1])
{
    unsigned char d[32];
    if (digest(salt_hex, secret, n, d) != 0) return -1;
    apikey_to_hex(d, sizeof(d), out);
    OPENSSL_cleanse(d, sizeof(d));
    return 0;
}

int apikey_verify(const char *salt_hex, const char *hash_hex, const char *secret, size_t n)
{
    unsigned char want[32], got[32];
    if (from_hex(hash_hex, sizeof(want), want) != 0 || digest(salt_hex, secret, n, got) != 0) return 0;
    int same = CRYPTO_memcmp(want, got, sizeof(want)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return same;
}

/* ---- HTTP Basic with an API key ---- */

/* A salt and digest no secret matches, hashed against for unknown keys (32 hex digits, 64 hex digits). */
static const char no_key_salt[] = "00000000000000000000000000000000";
static const char no_key_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

int apikey_authenticate(struct req *r, const char *sid, const char *secret)
{
    struct api_key k;
    int rc = store_api_key_get(r->db, sid, &r->arena, &k);
    if (rc == ST_NOT_FOUND) {
        /* hash the secret all the same: an unknown key must cost what a wrong secret costs */
        (void)apikey_verify(no_key_salt, no_key_hash, secret, strlen(secret));
        return api_failf(r, E_AUTH, "Authenticate");
    }
    if (rc != ST_OK) return api_fail(r, rc);
    /* the hash is checked before the revocation, so both failures take the same time */
    int ok = apikey_verify(k.salt, k.secret_hash, secret, strlen(secret));
    if (!ok || k.date_revoked) return api_failf(r, E_AUTH, "Authenticate");
    rc = store_account_get(r->db, k.account_sid, &r->arena, &r->account);
    if (rc == ST_NOT_FOUND) return api_failf(r, E_AUTH, "Authenticate");
    if (rc != ST_OK) return api_fail(r, rc);
    r->credential_sid = arena_strndup(&r->arena, k.sid, SID_LEN);
    return 0;
}
