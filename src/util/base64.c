#include "util/base64.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode_with(const unsigned char *in, size_t n, char *out, const char *alpha, int pad)
{
    size_t o = 0, i = 0;

    for (; n - i >= 3; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    return b64_encode_with(in, n, out, b64_std, 1);
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
    return b64_encode_with(in, n, out, b64_url, 0);
}

/* Value of c in the alphabet, or -1. */
static int b64_val(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

/* Decodes unpadded symbols; a final group of 2 or 3 symbols yields 1 or 2 bytes. */
static long b64_decode_with(const char *in, size_t n, unsigned char *out, int url)
{
    size_t o = 0, i = 0;

    if (n % 4 == 1) return -1;
    for (; i < n; i += 4) {
        size_t k = n - i < 4 ? n - i : 4;
        unsigned v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = j < k ? b64_val((unsigned char)in[i + j], url) : 0;
            if (d < 0) return -1;
            v = v << 6 | (unsigned)d;
        }
        out[o++] = (unsigned char)(v >> 16);
        if (k == 2) {
            /* the unused low 4 bits must be zero, or two inputs would decode to the same bytes */
            if (v & 0xffff) return -1;
            continue;
        }
        out[o++] = (unsigned char)(v >> 8);
        if (k == 3) {
            if (v & 0xff) return -1;
            continue;
        }
        out[o++] = (unsigned char)v;
    }
    return (long)o;
}

long b64_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 != 0) return -1;
    /* padding only at the very end: "xx==" or "xxx=" */
    if (n && in[n - 1] == '=') {
        n--;
        if (in[n - 1] == '=') n--;
    }
    return b64_decode_with(in, n, out, 0);
}

long b64url_decode(const char *in, size_t n, unsigned char *out)
{
    return b64_decode_with(in, n, out, 1);
}
