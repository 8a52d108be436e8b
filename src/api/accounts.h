/* Accounts and API keys: HTTP Basic with an API key (SK…:secret), the salted hashes its secrets are kept
 * as, and the `parley account …` / `parley key …` subcommands that manage both on a data file. */
#ifndef PARLEY_ACCOUNTS_H
#define PARLEY_ACCOUNTS_H
#include <stddef.h>

struct app;
struct req;

#define APIKEY_SALT_HEX 32   /* 16 random bytes */
#define APIKEY_HASH_HEX 64   /* SHA-256 */

/* out = hex SHA-256 of the salt's bytes followed by secret[0..n). Returns 0, or -1 when salt_hex is
 * not APIKEY_SALT_HEX hex digits or hashing fails. */
int apikey_hash(const char *salt_hex, const char *secret, size_t n, char out[APIKEY_HASH_HEX + 1]);
/* 1 when secret[0..n) hashes to hash_hex under salt_hex; the digests are compared in constant time. */
int apikey_verify(const char *salt_hex, const char *hash_hex, const char *secret, size_t n);

/* Authenticates r with an API key: on success r->account is the key's owning account and
 * r->credential_sid the key. Returns 0, or -1 with the 401 (or store error) prepared. Revoked keys
 * and wrong secrets answer "Authenticate"; unknown keys "Authentication Error - invalid username". */
int apikey_authenticate(struct req *r, const char *sid, const char *secret);

/* Replaces the auth token of account sid through app's writer; once committed, every cached copy of
 * the account is stale (this process's and, with SQLite, a running server's). Returns a store_result. */
int accounts_set_token(struct app *app, const char *sid, const char *token);

/* `parley account …` and `parley key …`: argv[0] is "account" or "key". Returns the exit status. */
int accounts_main(int argc, char **argv);

#endif
