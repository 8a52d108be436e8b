/* API keys: HTTP Basic with an API key (SK…:secret) and the salted hashes its secrets are kept as. */
#ifndef PARLEY_APIKEYS_H
#define PARLEY_APIKEYS_H
#include <stddef.h>

struct req;

#define APIKEY_SALT_HEX 32 /* 16 random bytes */
#define APIKEY_HASH_HEX 64 /* SHA-256 */

/* out = hex SHA-256 of the salt's bytes followed by secret[0..n). Returns 0, or -1 when salt_hex is
 * not APIKEY_SALT_HEX hex digits or hashing fails. */
int apikey_hash(const char *salt_hex, const char *secret, size_t n, char out[APIKEY_HASH_HEX + 1]);
/* 1 when secret[0..n) hashes to hash_hex under salt_hex; the digests are compared in constant time. */
int apikey_verify(const char *salt_hex, const char *hash_hex, const char *secret, size_t n);

/* Authenticates r with an API key: on success r->account is the key's owning account and
 * r->credential_sid the key. Returns 0, or -1 with the 401 (or store error) prepared. Revoked keys
 * and wrong secrets answer "Authenticate"; unknown keys "Authentication Error - invalid username". */
int apikey_authenticate(struct req *r, const char *sid, const char *secret);

/* in[0..n) as 2n lower-case hex digits and a NUL into out. */
void apikey_to_hex(const unsigned char *in, size_t n, char *out);

#endif
