#include "util/sid.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util/clock.h"

static const char hex_lower[] = "0123456789abcdef";

#define SID_TIME_BYTES 6

/* Fills p with n bytes from the kernel CSPRNG. Without it no SID would be unguessable, so failure
 * (only possible on a kernel older than 3.17) is fatal rather than silently weaker. */
static void random_fill(void *p, size_t n)
{
    unsigned char *c = p;
    while (n > 0) {
        ssize_t r = getrandom(c, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            perror("getrandom");
            abort();
        }
        c += r;
        n -= (size_t)r;
    }
}

static void hex_write(char *out, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_lower[in[i] >> 4];
        out[2 * i + 1] = hex_lower[in[i] & 15];
    }
}

/* The 32 hex digits: 12 of the real time in milliseconds, then 20 random (80 bits). SIDs made one after
 * the other sort together, so an index on a SID column grows at its right edge and a batch of inserts
 * dirties one leaf page instead of one per row: that halved the data each durable commit of messages
 * syncs (bench/RESULTS.md). 80 random bits keep a SID unguessable. */
void sid_new(char out[SID_LEN + 1], const char *prefix)
{
    unsigned char r[16];

    assert(prefix && prefix[0] && prefix[1] && !prefix[2]);
    unsigned long long ms = (unsigned long long)clock_wall_ms();
    for (int i = SID_TIME_BYTES - 1; i >= 0; i--, ms >>= 8)
        r[i] = (unsigned char)ms;
    random_fill(r + SID_TIME_BYTES, sizeof r - SID_TIME_BYTES);
    out[0] = prefix[0];
    out[1] = prefix[1];
    hex_write(out + 2, r, sizeof r);
    out[SID_LEN] = '\0';
}

int sid_valid(const char *s, size_t n, const char *prefix)
{
    if (n != SID_LEN) return 0;
    if (prefix) {
        if (s[0] != prefix[0] || s[1] != prefix[1]) return 0;
    } else if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
        return 0;
    }
    for (size_t i = 2; i < SID_LEN; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return 1;
}

/* xoshiro256** per thread, seeded from getrandom on first use. Request ids and idempotency tokens
 * need uniqueness, not secrecy, and this costs a few nanoseconds instead of a syscall.
 * A fork()ed child would repeat its parent's stream; the server does not fork after start. */
static _Thread_local uint64_t prng_s[4];
static _Thread_local int prng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t prng_next(void)
{
    if (!prng_seeded) {
        do
            random_fill(prng_s, sizeof prng_s);
        while (!(prng_s[0] | prng_s[1] | prng_s[2] | prng_s[3])); /* the all-zero state is a fixed point */
        prng_seeded = 1;
    }
    uint64_t *s = prng_s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void prng_bytes(unsigned char out[16])
{
    uint64_t a = prng_next(), b = prng_next();
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

void request_id_new(char out[SID_LEN + 1])
{
    unsigned char r[16];

    prng_bytes(r);
    out[0] = 'R';
    out[1] = 'Q';
    hex_write(out + 2, r, sizeof r);
    out[SID_LEN] = '\0';
}

void uuid4_new(char out[37])
{
    unsigned char r[16];

    prng_bytes(r);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char *o = out;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hex_lower[r[i] >> 4];
        *o++ = hex_lower[r[i] & 15];
    }
    *o = '\0';
}
