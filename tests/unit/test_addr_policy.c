/* The webhook address classifier and the two target policies, on addresses that are never connected to. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "webhook/addr_policy.h"

/* An address from text; an IPv6 one when it has a ':'. */
static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
    }
    return ss;
}

static enum addr_class class_of(const char *text)
{
    struct sockaddr_storage ss = addr(text);
    return addr_classify((const struct sockaddr *)&ss);
}

static int allows(enum target_policy p, int ll, const char *text)
{
    struct sockaddr_storage ss = addr(text);
    return addr_policy_allows(p, ll, (const struct sockaddr *)&ss);
}

struct want {
    const char *addr;
    enum addr_class c;
};

static void check_all(const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        enum addr_class got = class_of(w[i].addr);
        if (got != w[i].c)
            fail_msg("%s: %s, want %s", w[i].addr, addr_class_name(got), addr_class_name(w[i].c));
    }
}

static void test_ipv4_edges(void **state)
{
    static const struct want w[] = {
        {"0.0.0.0", ADDR_THIS_NET},
        {"0.255.255.255", ADDR_THIS_NET},
        {"1.0.0.0", ADDR_PUBLIC},
        {"8.8.8.8", ADDR_PUBLIC},
        {"9.255.255.255", ADDR_PUBLIC},
        {"10.0.0.0", ADDR_PRIVATE},
        {"10.255.255.255", ADDR_PRIVATE},
        {"11.0.0.0", ADDR_PUBLIC},
        {"100.63.255.255", ADDR_PUBLIC},
        {"100.64.0.0", ADDR_PRIVATE},
        {"100.127.255.255", ADDR_PRIVATE},
        {"100.128.0.0", ADDR_PUBLIC},
        {"126.255.255.255", ADDR_PUBLIC},
        {"127.0.0.0", ADDR_LOOPBACK},
        {"127.0.0.1", ADDR_LOOPBACK},
        {"127.255.255.255", ADDR_LOOPBACK},
        {"128.0.0.0", ADDR_PUBLIC},
        {"169.253.255.255", ADDR_PUBLIC},
        {"169.254.0.0", ADDR_LINK_LOCAL},
        {"169.254.169.253", ADDR_LINK_LOCAL},
        {"169.254.169.254", ADDR_METADATA},
        {"169.254.169.255", ADDR_LINK_LOCAL},
        {"169.254.255.255", ADDR_LINK_LOCAL},
        {"169.255.0.0", ADDR_PUBLIC},
        {"172.15.255.255", ADDR_PUBLIC},
        {"172.16.0.0", ADDR_PRIVATE},
        {"172.31.255.255", ADDR_PRIVATE},
        {"172.32.0.0", ADDR_PUBLIC},
        {"192.0.0.1", ADDR_RESERVED},
        {"192.0.1.0", ADDR_PUBLIC},
        {"192.167.255.255", ADDR_PUBLIC},
        {"192.168.0.0", ADDR_PRIVATE},
        {"192.168.255.255", ADDR_PRIVATE},
        {"192.169.0.0", ADDR_PUBLIC},
        {"198.17.255.255", ADDR_PUBLIC},
        {"198.18.0.0", ADDR_RESERVED},
        {"198.19.255.255", ADDR_RESERVED},
        {"198.20.0.0", ADDR_PUBLIC},
        {"223.255.255.255", ADDR_PUBLIC},
        {"224.0.0.0", ADDR_MULTICAST},
        {"239.255.255.255", ADDR_MULTICAST},
        {"240.0.0.0", ADDR_RESERVED},
        {"255.255.255.255", ADDR_RESERVED},
    };
    check_all(w, sizeof(w) / sizeof(w[0]));
}

static void test_ipv6_and_mapped(void **state)
{
    static const struct want w[] = {
        {"::", ADDR_THIS_NET},
        {"::1", ADDR_LOOPBACK},
        {"::2", ADDR_RESERVED},
        {"::7f00:1", ADDR_RESERVED}, /* IPv4-compatible, deprecated */
        {"::ffff:127.0.0.1", ADDR_LOOPBACK},
        {"::ffff:10.1.2.3", ADDR_PRIVATE},
        {"::ffff:169.254.169.254", ADDR_METADATA},
        {"::ffff:169.254.1.1", ADDR_LINK_LOCAL},
        {"::ffff:0.0.0.0", ADDR_THIS_NET},
        {"::ffff:8.8.8.8", ADDR_PUBLIC},
        {"64:ff9b::a9fe:a9fe", ADDR_METADATA},
        {"64:ff9b::7f00:1", ADDR_LOOPBACK},
        {"64:ff9b::808:808", ADDR_PUBLIC},
        {"fe80::1", ADDR_LINK_LOCAL},
        {"febf:ffff::1", ADDR_LINK_LOCAL},
        {"fec0::1", ADDR_PRIVATE},
        {"fbff:ffff::1", ADDR_PUBLIC},
        {"fc00::", ADDR_ULA},
        {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_ULA},
        {"fd00:ec2::254", ADDR_METADATA},
        {"fd00:ec2::253", ADDR_ULA},
        {"ff02::1", ADDR_MULTICAST},
        {"ff00::", ADDR_MULTICAST},
        {"2001:4860:4860::8888", ADDR_PUBLIC},
        {"2606:4700::1111", ADDR_PUBLIC},
    };
    check_all(w, sizeof(w) / sizeof(w[0]));
}

static void test_policy_open(void **state)
{
    const char *ok[] = {"127.0.0.1", "::1",     "10.0.0.1",        "192.168.1.10",
                        "fd12::1",   "8.8.8.8", "::ffff:127.0.0.1"};
    const char *refused[] = {"169.254.169.254",        "169.254.1.1",        "fe80::1",   "fd00:ec2::254",
                             "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "224.0.0.1", "ff02::1",
                             "255.255.255.255"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!allows(TARGETS_OPEN, 0, ok[i])) fail_msg("open refuses %s", ok[i]);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (allows(TARGETS_OPEN, 0, refused[i])) fail_msg("open allows %s", refused[i]);
    /* explicitly allowed: link-local and metadata, still not multicast */
    assert_true(allows(TARGETS_OPEN, 1, "169.254.169.254"));
    assert_true(allows(TARGETS_OPEN, 1, "fe80::1"));
    assert_false(allows(TARGETS_OPEN, 1, "224.0.0.1"));
}

static void test_policy_public(void **state)
{
    const char *refused[] = {"127.0.0.1",        "::1",
                             "10.0.0.1",         "172.16.5.4",
                             "192.168.1.10",     "100.64.1.1",
                             "169.254.169.254",  "169.254.1.1",
                             "fe80::1",          "fc00::1",
                             "fd00:ec2::254",    "224.0.0.1",
                             "ff02::1",          "0.0.0.0",
                             "0.1.2.3",          "::",
                             "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                             "64:ff9b::7f00:1",  "240.1.1.1",
                             "255.255.255.255",  "198.18.0.1"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (allows(TARGETS_PUBLIC, 0, refused[i])) fail_msg("public allows %s", refused[i]);
        if (allows(TARGETS_PUBLIC, 1, refused[i]))
            fail_msg("public allows %s with link-local allowed", refused[i]);
    }
    assert_true(allows(TARGETS_PUBLIC, 0, "8.8.8.8"));
    assert_true(allows(TARGETS_PUBLIC, 0, "2001:4860:4860::8888"));
    assert_true(allows(TARGETS_PUBLIC, 0, "::ffff:8.8.8.8"));
}

static void test_unknown_family(void **state)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    assert_int_equal(addr_classify((struct sockaddr *)&ss), ADDR_UNKNOWN);
    assert_false(addr_policy_allows(TARGETS_OPEN, 1, (struct sockaddr *)&ss));
    assert_false(addr_policy_allows(TARGETS_PUBLIC, 1, (struct sockaddr *)&ss));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_edges),     cmocka_unit_test(test_ipv6_and_mapped),
        cmocka_unit_test(test_policy_open),    cmocka_unit_test(test_policy_public),
        cmocka_unit_test(test_unknown_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
