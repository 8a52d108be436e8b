/* Standard (RFC 4648 §4, with padding) and URL-safe (§5, no padding) base64. */
#ifndef PARLEY_BASE64_H
#define PARLEY_BASE64_H
#include <stddef.h>

#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes B64_ENCODED_LEN(n) chars (padded; url form: unpadded) plus a NUL; returns chars written. */
size_t b64_encode(const unsigned char *in, size_t n, char *out);
size_t b64url_encode(const unsigned char *in, size_t n, char *out);
/* Strict decoders: reject bad characters, bad padding and non-canonical trailing bits.
 * Return the decoded length, or -1. out must hold at least n*3/4 bytes. */
long b64_decode(const char *in, size_t n, unsigned char *out);
long b64url_decode(const char *in, size_t n, unsigned char *out);

#endif
