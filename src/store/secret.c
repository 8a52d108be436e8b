/* AES-256-GCM sealing of secrets at rest (store/secret.h). */
#include "store/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/text.h"

#define NONCE_BYTES 12
#define TAG_BYTES 16
#define KEY_FILE_MAX 256 /* 64 hex digits and some white space */
#define PREFIX_LEN (sizeof(SECRET_PREFIX) - 1)

static unsigned char key[SECRET_KEY_BYTES];
static int have_key;

int secret_have_key(void)
{
    return have_key;
}

void secret_key_forget(void)
{
    OPENSSL_cleanse(key, sizeof(key));
    have_key = 0;
}

static int fill_random(unsigned char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r <= 0 && errno != EINTR) return -1;
        if (r > 0) got += (size_t)r;
    }
    return 0;
}

/* A new key file: O_EXCL, so that two processes starting at once cannot write two different keys. */
static int create_key_file(const char *path)
{
    unsigned char raw[SECRET_KEY_BYTES];
    char hex[2 * SECRET_KEY_BYTES + 2];
    if (fill_random(raw, sizeof(raw)) != 0) return -1;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof(raw));
    hex[2 * SECRET_KEY_BYTES] = '\n';
    hex[2 * SECRET_KEY_BYTES + 1] = '\0';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(hex, sizeof(hex));
        return errno == EEXIST ? 0 : -1; /* another process made it: load that one */
    }
    size_t n = strlen(hex);
    int ok = write(fd, hex, n) == (ssize_t)n && fsync(fd) == 0;
    OPENSSL_cleanse(hex, sizeof(hex));
    if (close(fd) != 0 || !ok) {
        unlink(path);
        return -1;
    }
    log_info("store: created the secret key file %s (keep it apart from backups of the data)", path);
    return 0;
}

int secret_key_load(const char *path, int create)
{
    if (create && access(path, F_OK) != 0 && create_key_file(path) != 0) {
        log_err("cannot create the secret key file %s: %s", path, strerror(errno));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_err("cannot open the secret key file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        log_warn("the secret key file %s can be read by other users (chmod 600 it)", path);
    char buf[KEY_FILE_MAX + 1];
    ssize_t n = read(fd, buf, KEY_FILE_MAX);
    close(fd);
    if (n < 0) {
        log_err("cannot read the secret key file %s: %s", path, strerror(errno));
        return -1;
    }
    buf[n] = '\0';
    char *p = buf, *end = buf + n;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    int ok = end - p == 2 * SECRET_KEY_BYTES;
    for (size_t i = 0; ok && i < SECRET_KEY_BYTES; i++) {
        int hi = hex_val((unsigned char)p[2 * i]), lo = hex_val((unsigned char)p[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        if (ok) key[i] = (unsigned char)(hi << 4 | lo);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (!ok) {
        secret_key_forget();
        log_err("the secret key file %s must hold 64 hex digits (a 256-bit key)", path);
        return -1;
    }
    have_key = 1;
    return 0;
}

int secret_key_setup(const char *key_file, const char *data, int sqlite)
{
    if (key_file) return secret_key_load(key_file, sqlite);
    if (!sqlite) return 0;
    char path[4096];
    if (snprintf(path, sizeof(path), "%s.key", data) >= (int)sizeof(path)) {
        log_err("the data file name is too long");
        return -1;
    }
    return secret_key_load(path, 1);
}

int secret_is_sealed(const char *stored)
{
    return stored && strncmp(stored, SECRET_PREFIX, PREFIX_LEN) == 0;
}

char *secret_seal(struct arena *a, const char *plain, const char *aad)
{
    if (!plain) return NULL;
    size_t n = strlen(plain);
    if (!have_key) return arena_strndup(a, plain, n);
    if (n > SECRET_PLAIN_MAX) {
        log_err("store: a secret of %zu bytes is over the %d that are sealed", n, SECRET_PLAIN_MAX);
        return NULL;
    }
    unsigned char *raw = arena_alloc(a, NONCE_BYTES + n + TAG_BYTES);
    if (!raw) return NULL;
    unsigned char *nonce = raw, *ct = raw + NONCE_BYTES, *tag = ct + n;
    if (fill_random(nonce, NONCE_BYTES) != 0) return NULL;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, aad_len = aad ? (int)strlen(aad) : 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
             (!aad || EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, aad_len) == 1) &&
             EVP_EncryptUpdate(ctx, ct, &len, (const unsigned char *)plain, (int)n) == 1 &&
             EVP_EncryptFinal_ex(ctx, ct + len, &fin) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        log_err("store: cannot seal a secret (OpenSSL)");
        return NULL;
    }
    size_t raw_len = NONCE_BYTES + n + TAG_BYTES;
    char *out = arena_alloc(a, PREFIX_LEN + B64_ENCODED_LEN(raw_len) + 1);
    if (!out) return NULL;
    memcpy(out, SECRET_PREFIX, PREFIX_LEN);
    b64_encode(raw, raw_len, out + PREFIX_LEN);
    return out;
}

int secret_open(struct arena *a, const char *stored, const char *aad, char **out)
{
    *out = NULL;
    if (!stored) return 0;
    if (!secret_is_sealed(stored)) {
        *out = arena_strndup(a, stored, strlen(stored));
        return *out ? 0 : -1;
    }
    if (!have_key) return -1;
    const char *b = stored + PREFIX_LEN;
    size_t bn = strlen(b);
    if (bn > B64_ENCODED_LEN(NONCE_BYTES + SECRET_PLAIN_MAX + TAG_BYTES)) return -1;
    unsigned char *raw = arena_alloc(a, bn / 4 * 3 + 3);
    if (!raw) return -1;
    long rn = b64_decode(b, bn, raw);
    if (rn < NONCE_BYTES + TAG_BYTES) return -1;
    size_t n = (size_t)rn - NONCE_BYTES - TAG_BYTES;
    char *plain = arena_alloc(a, n + 1);
    if (!plain) return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, aad_len = aad ? (int)strlen(aad) : 0;
    int ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) == 1 &&
             (!aad || EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, aad_len) == 1) &&
             EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, raw + NONCE_BYTES, (int)n) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, raw + NONCE_BYTES + n) == 1 &&
             EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(plain, n);
        return -1;
    }
    plain[n] = '\0';
    *out = plain;
    return 0;
}
