#include "webhook/addr_policy.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static int in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (a & mask) == (net & mask);
}

static enum addr_class classify4(uint32_t a)
{
    if (a == 0xa9fea9feu) /* 169.254.169.254 */
        return ADDR_METADATA;
    if (in4(a, 0x00000000u, 8)) return ADDR_THIS_NET;
    if (in4(a, 0x7f000000u, 8)) return ADDR_LOOPBACK;
    if (in4(a, 0x0a000000u, 8) || in4(a, 0xac100000u, 12) || in4(a, 0xc0a80000u, 16) ||
        in4(a, 0x64400000u, 10))
        return ADDR_PRIVATE;
    if (in4(a, 0xa9fe0000u, 16)) return ADDR_LINK_LOCAL;
    if (in4(a, 0xe0000000u, 4)) return ADDR_MULTICAST;
    if (in4(a, 0xf0000000u, 4) || in4(a, 0xc0000000u, 24) || in4(a, 0xc6120000u, 15))
        return ADDR_RESERVED; /* 240/4 holds 255.255.255.255 */
    return ADDR_PUBLIC;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum addr_class classify6(const unsigned char *b)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    static const unsigned char metadata[16] = {0xfd, 0, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02};
    static const unsigned char zero[16] = {0};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) return classify4(be32(b + 12));
    if (memcmp(b, metadata, 16) == 0) return ADDR_METADATA;
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? ADDR_LOOPBACK : b[15] == 0 ? ADDR_THIS_NET : ADDR_RESERVED;
    if (memcmp(b, zero, 12) == 0) return ADDR_RESERVED; /* ::a.b.c.d, the deprecated IPv4-compatible form */
    if (b[0] == 0xff) return ADDR_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return ADDR_LINK_LOCAL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return ADDR_PRIVATE;
    if ((b[0] & 0xfe) == 0xfc) return ADDR_ULA;
    return ADDR_PUBLIC;
}

enum addr_class addr_classify(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return classify4(be32((const unsigned char *)&s4->sin_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        return classify6(s6->sin6_addr.s6_addr);
    }
    return ADDR_UNKNOWN;
}

const char *addr_class_name(enum addr_class c)
{
    static const char *const names[] = {
        [ADDR_PUBLIC] = "public",         [ADDR_LOOPBACK] = "loopback",     [ADDR_PRIVATE] = "private",
        [ADDR_LINK_LOCAL] = "link-local", [ADDR_METADATA] = "metadata",     [ADDR_ULA] = "unique-local",
        [ADDR_MULTICAST] = "multicast",   [ADDR_THIS_NET] = "this-network", [ADDR_RESERVED] = "reserved",
        [ADDR_UNKNOWN] = "unknown",
    };
    return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "unknown";
}

int addr_policy_allows(enum target_policy p, int allow_link_local, const struct sockaddr *sa)
{
    enum addr_class c = addr_classify(sa);
    if (p == TARGETS_PUBLIC) return c == ADDR_PUBLIC;
    switch (c) {
    case ADDR_PUBLIC:
    case ADDR_LOOPBACK:
    case ADDR_PRIVATE:
    case ADDR_ULA:
    case ADDR_THIS_NET:
        return 1;
    case ADDR_LINK_LOCAL:
    case ADDR_METADATA:
        return allow_link_local;
    default:
        return 0;
    }
}
