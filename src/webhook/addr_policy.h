/* Which addresses a webhook may connect to (issue 10, SSRF). The check runs on the address libcurl is
 * about to connect to, after DNS, so a name that resolves to a refused address (or rebinds to one
 * between two lookups) is refused as well. */
#ifndef PARLEY_ADDR_POLICY_H
#define PARLEY_ADDR_POLICY_H

#include <sys/socket.h>

enum addr_class {
    ADDR_PUBLIC,
    ADDR_LOOPBACK,   /* 127/8, ::1 */
    ADDR_PRIVATE,    /* 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fec0::/10 (old site-local) */
    ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10 */
    ADDR_METADATA,   /* cloud instance metadata: 169.254.169.254, fd00:ec2::254 */
    ADDR_ULA,        /* fc00::/7 */
    ADDR_MULTICAST,  /* 224/4, ff00::/8 */
    ADDR_THIS_NET,   /* 0/8, :: */
    ADDR_RESERVED,   /* 240/4 and 255.255.255.255, 192.0.0/24, 198.18/15 (benchmarking) */
    ADDR_UNKNOWN,    /* not IPv4 or IPv6 */
};

enum target_policy {
    TARGETS_OPEN,   /* local use: anything but link-local, metadata, multicast and reserved */
    TARGETS_PUBLIC, /* Internet-facing: public unicast addresses only */
};

/* IPv4 in IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d) is classified as the IPv4 address it carries. */
enum addr_class addr_classify(const struct sockaddr *sa);
const char *addr_class_name(enum addr_class c);
/* 1 when the policy lets a webhook connect to sa; allow_link_local also admits link-local and metadata
 * addresses under TARGETS_OPEN (a receiver on such an address, explicitly wanted). */
int addr_policy_allows(enum target_policy p, int allow_link_local, const struct sockaddr *sa);

#endif
