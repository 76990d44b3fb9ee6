/* Network rules ready for decisions: the policy's CIDRs, port ranges and
 * per-executable exceptions, parsed once. */
#ifndef VIGIL_NETRULES_H
#define VIGIL_NETRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

/* An IPv4 address is kept as such; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is turned into its IPv4 address, so IPv4 rules match it. */
struct net_addr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t bytes[16];
};

struct net_cidr {
    struct net_addr addr;
    int bits;
};

struct net_rule {
    struct net_cidr cidr;
    uint16_t port_lo, port_hi; /* 0-65535 when the rule names no port */
    char *exe_glob, *exe_canon; /* exceptions only; exe_canon may be NULL */
    int index;
    const char *text; /* the policy value (CIDR part for the event's pattern) */
    char cidr_text[64];
};

struct net_rules {
    struct net_rule *deny, *allow, *exception;
    size_t n_deny, n_allow, n_exception;
    struct { uint16_t lo, hi; } *listen;
    size_t n_listen;
    bool exceptions_any; /* exceptions hold for any process running the program, not only the application's own */
};

struct net_verdict {
    bool allowed;
    const char *key;     /* network.connect.deny / .allow / .exception, network.listen.allow, default */
    int index;           /* -1 when none */
    const char *pattern; /* the CIDR text of the rule, or NULL */
};

int net_rules_build(const struct policy *p, struct net_rules *r);
void net_rules_free(struct net_rules *r);
bool net_rules_connect(const struct net_rules *r);
bool net_rules_listen(const struct net_rules *r);

/* sockaddr bytes (as the process passed them) into an address and port; false
 * for families other than AF_INET/AF_INET6. Maps v4-mapped v6 to v4, and the
 * unspecified addresses (0.0.0.0, ::) to loopback, where connect sends them. */
bool net_addr_from_sockaddr(const void *sa, size_t len, struct net_addr *out, uint16_t *port);

/* Who connects, for exceptions: the canonical path of its program (NULL if
 * unknown), and whether it is the application's own process (lineage.h),
 * asked only when an exception matches the program and the address. */
struct net_subject {
    const char *exe;
    bool (*own)(pid_t tgid);
    pid_t tgid;
};
/* The index of the first exception naming program exe and address a, whoever
 * runs it; -1 when none. (Why a refused connect was not excepted: the process
 * is not the application's own.) */
int net_exception_naming(const struct net_rules *r, const char *exe, const struct net_addr *a);
void net_decide_connect(const struct net_rules *r, const struct net_subject *s, const struct net_addr *a,
                        uint16_t port, struct net_verdict *v);
void net_decide_listen(const struct net_rules *r, uint16_t port, struct net_verdict *v);

/* A port stratum mining pools listen on (3333, 4444, 14444, ...) reached on a public
 * address (not loopback, private, link-local or shared address space): worth an
 * alert, never a block. */
bool net_mining_destination(const struct net_addr *a, uint16_t port);

/* "10.0.0.1" / "::1" */
void net_addr_text(const struct net_addr *a, char *buf, size_t len);

#endif
