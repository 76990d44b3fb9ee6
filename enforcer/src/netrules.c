#include "netrules.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fswalk.h"
#include "glob.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* "a.b.c.d[/n]" or "v6[/n]"; validated by policy.c already. */
static bool parse_cidr(const char *s, size_t n, struct net_cidr *out)
{
    char text[64];
    if (n >= sizeof text)
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    char *slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->addr.bytes) == 1) {
        out->addr.family = AF_INET;
        out->bits = slash ? atoi(slash + 1) : 32;
    } else if (inet_pton(AF_INET6, text, out->addr.bytes) == 1) {
        out->addr.family = AF_INET6;
        out->bits = slash ? atoi(slash + 1) : 128;
        if (out->bits >= 96 && !memcmp(out->addr.bytes, v4_mapped_prefix, 12)) {
            /* ::ffff:a.b.c.d/n is an IPv4 rule */
            memmove(out->addr.bytes, out->addr.bytes + 12, 4);
            memset(out->addr.bytes + 4, 0, 12);
            out->addr.family = AF_INET;
            out->bits -= 96;
        }
    } else {
        return false;
    }
    return true;
}

static bool parse_ports(const char *s, uint16_t *lo, uint16_t *hi)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-')
        b = strtoul(end + 1, &end, 10);
    if (*end || a > 65535 || b > 65535 || a > b)
        return false;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return true;
}

static int add(struct net_rule **list, size_t *n, const struct policy_rule *pr, bool exception)
{
    struct net_rule r = {.port_lo = 0, .port_hi = 65535, .index = pr->index, .text = pr->glob};
    const char *v = pr->glob;
    const char *cidr = v;
    size_t cidr_len;
    if (exception) {
        const char *sp = strrchr(v, ' ');
        if (!sp)
            return -1;
        size_t glen = (size_t)(sp - v);
        if (!(r.exe_glob = strndup(v, glen)))
            return -1;
        char canon[PATH_MAX];
        if (fs_canonical_glob(r.exe_glob, canon) && !(r.exe_canon = strdup(canon)))
            return -1;
        cidr = sp + 1;
        cidr_len = strlen(cidr);
    } else {
        const char *sp = strchr(v, ' ');
        cidr_len = sp ? (size_t)(sp - v) : strlen(v);
        if (sp && !parse_ports(sp + 1, &r.port_lo, &r.port_hi))
            return -1;
    }
    if (!parse_cidr(cidr, cidr_len, &r.cidr) || cidr_len >= sizeof r.cidr_text)
        return -1;
    memcpy(r.cidr_text, cidr, cidr_len);
    r.cidr_text[cidr_len] = '\0';
    struct net_rule *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    grown[(*n)++] = r;
    return 0;
}

int net_rules_build(const struct policy *p, struct net_rules *r)
{
    memset(r, 0, sizeof *r);
    r->exceptions_any = p->exceptions_any;
    for (size_t i = 0; i < p->n_connect_deny; i++)
        if (add(&r->deny, &r->n_deny, &p->connect_deny[i], false) < 0)
            return -1;
    for (size_t i = 0; i < p->n_connect_allow; i++)
        if (add(&r->allow, &r->n_allow, &p->connect_allow[i], false) < 0)
            return -1;
    for (size_t i = 0; i < p->n_connect_exception; i++)
        if (add(&r->exception, &r->n_exception, &p->connect_exception[i], true) < 0)
            return -1;
    if (p->n_listen_allow) {
        r->listen = calloc(p->n_listen_allow, sizeof *r->listen);
        if (!r->listen)
            return -1;
        for (size_t i = 0; i < p->n_listen_allow; i++)
            if (!parse_ports(p->listen_allow[i].glob, &r->listen[i].lo, &r->listen[i].hi))
                return -1;
        r->n_listen = p->n_listen_allow;
    }
    return 0;
}

void net_rules_free(struct net_rules *r)
{
    for (size_t i = 0; i < r->n_exception; i++) {
        free(r->exception[i].exe_glob);
        free(r->exception[i].exe_canon);
    }
    free(r->deny);
    free(r->allow);
    free(r->exception);
    free(r->listen);
    memset(r, 0, sizeof *r);
}

bool net_rules_connect(const struct net_rules *r)
{
    return r->n_deny || r->n_allow;
}

bool net_rules_listen(const struct net_rules *r)
{
    return r->n_listen > 0;
}

bool net_addr_from_sockaddr(const void *sa, size_t len, struct net_addr *out, uint16_t *port)
{
    sa_family_t family;
    if (len < sizeof family)
        return false;
    memcpy(&family, sa, sizeof family);
    memset(out, 0, sizeof *out);
    if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        out->family = AF_INET;
        memcpy(out->bytes, &in.sin_addr, 4);
        *port = ntohs(in.sin_port);
        if (in.sin_addr.s_addr == htonl(INADDR_ANY))
            out->bytes[0] = 127, out->bytes[3] = 1; /* connect(0.0.0.0) reaches 127.0.0.1 */
        return true;
    }
    if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        *port = ntohs(in6.sin6_port);
        if (!memcmp(in6.sin6_addr.s6_addr, v4_mapped_prefix, 12)) {
            out->family = AF_INET;
            memcpy(out->bytes, in6.sin6_addr.s6_addr + 12, 4);
            if (!memcmp(out->bytes, "\0\0\0\0", 4))
                out->bytes[0] = 127, out->bytes[3] = 1;
            return true;
        }
        out->family = AF_INET6;
        memcpy(out->bytes, in6.sin6_addr.s6_addr, 16);
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr))
            out->bytes[15] = 1; /* :: reaches ::1 */
        return true;
    }
    return false;
}

static bool in_cidr(const struct net_cidr *c, const struct net_addr *a)
{
    if (c->addr.family != a->family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr.bytes, a->bytes, (size_t)full))
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

static bool rule_matches(const struct net_rule *r, const struct net_addr *a, uint16_t port)
{
    return in_cidr(&r->cidr, a) && port >= r->port_lo && port <= r->port_hi;
}

static bool exception_names(const struct net_rule *e, const char *exe, const struct net_addr *a)
{
    return in_cidr(&e->cidr, a) && (glob_match(e->exe_glob, exe) || (e->exe_canon && glob_match(e->exe_canon, exe)));
}

int net_exception_naming(const struct net_rules *r, const char *exe, const struct net_addr *a)
{
    for (size_t i = 0; exe && i < r->n_exception; i++)
        if (exception_names(&r->exception[i], exe, a))
            return r->exception[i].index;
    return -1;
}

void net_decide_connect(const struct net_rules *r, const struct net_subject *s, const struct net_addr *a,
                        uint16_t port, struct net_verdict *v)
{
    const char *exe = s ? s->exe : NULL;
    int own = r->exceptions_any ? 1 : -1; /* -1: not asked yet */
    for (size_t i = 0; exe && i < r->n_exception; i++) {
        const struct net_rule *e = &r->exception[i];
        if (exception_names(e, exe, a)) {
            if (own < 0)
                own = s->own && s->own(s->tgid);
            if (!own)
                break; /* the program, run by a process that is not the application's own */
            *v = (struct net_verdict){true, "network.connect.exception", e->index, e->cidr_text};
            return;
        }
    }
    for (size_t i = 0; i < r->n_deny; i++) {
        if (rule_matches(&r->deny[i], a, port)) {
            *v = (struct net_verdict){false, "network.connect.deny", r->deny[i].index, r->deny[i].cidr_text};
            return;
        }
    }
    if (r->n_allow) {
        for (size_t i = 0; i < r->n_allow; i++)
            if (rule_matches(&r->allow[i], a, port)) {
                *v = (struct net_verdict){true, "network.connect.allow", r->allow[i].index, r->allow[i].cidr_text};
                return;
            }
        *v = (struct net_verdict){false, "network.connect.allow", -1, NULL};
        return;
    }
    *v = (struct net_verdict){true, "default", -1, NULL};
}

void net_decide_listen(const struct net_rules *r, uint16_t port, struct net_verdict *v)
{
    for (size_t i = 0; i < r->n_listen; i++)
        if (port >= r->listen[i].lo && port <= r->listen[i].hi) {
            *v = (struct net_verdict){true, "network.listen.allow", (int)i, NULL};
            return;
        }
    *v = (struct net_verdict){!r->n_listen, r->n_listen ? "network.listen.allow" : "default", -1, NULL};
}

void net_addr_text(const struct net_addr *a, char *buf, size_t len)
{
    if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

/* Stratum ports of the common pools (Falco's miner_ports without the ports every
 * web service uses: 25, 80, 443, 8000-8888, 9999). */
static const uint16_t mining_ports[] = {3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730,
                                        6099, 6666, 7777, 7778, 9332, 14433, 14444, 45560, 45700};

static bool public_v4(const uint8_t *b)
{
    return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || (b[0] == 169 && b[1] == 254) ||
             (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
             (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] >= 224);
}

bool net_mining_destination(const struct net_addr *a, uint16_t port)
{
    bool listed = false;
    for (size_t i = 0; i < sizeof mining_ports / sizeof mining_ports[0]; i++)
        listed |= mining_ports[i] == port;
    if (!listed)
        return false;
    if (a->family == AF_INET)
        return public_v4(a->bytes);
    if (!memcmp(a->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix))
        return public_v4(a->bytes + 12);
    /* IPv6: global unicast only (2000::/3) */
    return (a->bytes[0] & 0xe0) == 0x20;
}
