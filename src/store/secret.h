/* Secrets at rest (auth tokens, push credential secrets): AES-256-GCM with a key kept apart from the
 * data, in a key file. One key per process, loaded before the store opens.
 *
 * A sealed value is "enc1:" followed by base64 of nonce (12 bytes), ciphertext and tag (16 bytes); the
 * row's SID is the associated data, so a sealed value copied into another row does not open. A value
 * without the prefix is clear text (rows written before encryption, or a PostgreSQL store run without a
 * key): it is read as it is and sealed by the start-up migration once a key is there. */
#ifndef PARLEY_SECRET_H
#define PARLEY_SECRET_H
#include <stddef.h>

struct arena;

#define SECRET_KEY_BYTES 32
#define SECRET_PREFIX "enc1:"
#define SECRET_PLAIN_MAX (1 << 20) /* the largest value sealed; request bodies are smaller */

/* Loads the key from path (64 hex digits, surrounding white space ignored). With create and no file
 * at path, writes a new random key there first (mode 0600). Returns 0, or -1 after logging why. */
int secret_key_load(const char *path, int create);
/* Picks and loads the key for a store target: key_file when given; else, for a SQLite file, DATA.key
 * (created on first use); else (PostgreSQL without a key file) no key. Returns 0 or -1 (logged). */
int secret_key_setup(const char *key_file, const char *data, int sqlite);
int secret_have_key(void);
void secret_key_forget(void); /* tests */

int secret_is_sealed(const char *stored);
/* Seals plain (bound to aad) into a in the stored form; without a key, plain itself. NULL for NULL
 * or on failure (logged). */
char *secret_seal(struct arena *a, const char *plain, const char *aad);
/* The clear text of a stored value into a: sealed values are opened, clear ones copied. Returns 0,
 * or -1 when it is sealed and there is no key or it does not open (wrong key, altered, other row). */
int secret_open(struct arena *a, const char *stored, const char *aad, char **out);

#endif
