/* Copy a datagram send out of the tracee, with the kernel's own bounds and
 * errors (net/socket.c, net/ipv4/udp.c, net/ipv6/udp.c, raw.c), so that what the
 * enforcer judges is exactly what it hands to the kernel. */
#include "dgram.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SO_TXTIME
#define SO_TXTIME 61
#endif
#ifndef SO_TIMESTAMPING_OLD
#define SO_TIMESTAMPING_OLD 37
#endif
#ifndef IPV6_2292PKTINFO
#define IPV6_2292PKTINFO 2
#endif

static int read_name(const struct dgram_mem *m, uint64_t addr, size_t len, struct dgram *d)
{
    d->has_name = true;
    d->namelen = len;
    memset(d->name, 0, sizeof d->name);
    if (len && !m->read(m->ctx, addr, d->name, len))
        return -EFAULT;
    return 0;
}

int dgram_read_sendto(const struct dgram_mem *m, uint64_t buf, uint64_t len, uint64_t addr, uint64_t addrlen,
                      struct dgram *d, unsigned char *payload)
{
    d->has_name = false;
    d->namelen = 0;
    d->controllen = 0;
    d->len = 0;
    if (len > DGRAM_PAYLOAD_MAX)
        return -EMSGSIZE;
    if (addr) {
        /* the kernel takes addrlen as an int: negative or above 128 is EINVAL */
        int32_t alen = (int32_t)(uint32_t)addrlen;
        if (alen < 0 || alen > DGRAM_NAME_MAX)
            return -EINVAL;
        int rc = read_name(m, addr, (size_t)alen, d);
        if (rc < 0)
            return rc;
    }
    if (len && !m->read(m->ctx, buf, payload, (size_t)len))
        return -EFAULT;
    d->len = (size_t)len;
    return 0;
}

/* struct iovec of a 64-bit process */
struct kiov {
    uint64_t base, len;
};

static int gather(const struct dgram_mem *m, uint64_t iov, uint64_t iovlen, unsigned char *payload, size_t *out)
{
    static struct kiov v[DGRAM_IOV_MAX];
    *out = 0;
    if (iovlen > DGRAM_IOV_MAX)
        return -EMSGSIZE;
    if (iovlen && !m->read(m->ctx, iov, v, (size_t)iovlen * sizeof v[0]))
        return -EFAULT;
    uint64_t total = 0;
    for (uint64_t i = 0; i < iovlen; i++) {
        if (v[i].len > (uint64_t)SSIZE_MAX)
            return -EINVAL;
        total += v[i].len;
        if (total > DGRAM_PAYLOAD_MAX)
            return -EMSGSIZE;
    }
    size_t at = 0;
    for (uint64_t i = 0; i < iovlen; i++) {
        if (v[i].len && !m->read(m->ctx, v[i].base, payload + at, (size_t)v[i].len))
            return -EFAULT;
        at += (size_t)v[i].len;
    }
    *out = at;
    return 0;
}

int dgram_read_msghdr(const struct dgram_mem *m, const struct dgram_khdr *h, struct dgram *d, unsigned char *payload)
{
    d->has_name = false;
    d->namelen = 0;
    d->controllen = 0;
    d->len = 0;
    if (h->name && h->namelen < 0) /* without a name the kernel ignores the length */
        return -EINVAL;
    if (h->controllen > INT_MAX || h->controllen > DGRAM_CONTROL_MAX)
        return -ENOBUFS;
    int rc = gather(m, h->iov, h->iovlen, payload, &d->len);
    if (rc < 0)
        return rc;
    if (h->name && h->namelen) {
        /* the kernel cuts a longer name to sizeof(struct sockaddr_storage) */
        rc = read_name(m, h->name, h->namelen > DGRAM_NAME_MAX ? DGRAM_NAME_MAX : (size_t)h->namelen, d);
        if (rc < 0)
            return rc;
    }
    if (h->controllen) {
        if (!m->read(m->ctx, h->control, d->control, (size_t)h->controllen))
            return -EFAULT;
        d->controllen = (size_t)h->controllen;
    }
    return 0;
}

/* What a datagram send may carry: its source address and interface, TOS/TTL and
 * their IPv6 peers, don't-fragment, GSO segment size, transmit timestamps and
 * times. Everything else is refused: IP options and IPv6 routing headers can
 * route the datagram through another destination (source routing), SO_MARK and
 * SO_PRIORITY are checked against the capabilities of the sender, which would
 * be the enforcer's, and SCM_RIGHTS/SCM_CREDENTIALS would carry the enforcer's
 * descriptors or identity. */
static bool control_allowed(int level, int type)
{
    switch (level) {
    case SOL_IP:
        return type == IP_PKTINFO || type == IP_TOS || type == IP_TTL;
    case SOL_IPV6:
        return type == IPV6_PKTINFO || type == IPV6_2292PKTINFO || type == IPV6_HOPLIMIT || type == IPV6_TCLASS ||
               type == IPV6_DONTFRAG;
    case SOL_UDP:
        return type == UDP_SEGMENT;
    case SOL_SOCKET:
        return type == SO_TIMESTAMPING_OLD || type == SO_TXTIME;
    default:
        return false;
    }
}

/* The kernel's struct cmsghdr of a 64-bit process and its walk
 * (for_each_cmsghdr, CMSG_OK in include/linux/socket.h). */
struct kcmsg {
    uint64_t len;
    int32_t level, type;
};
#define KCMSG_ALIGN(n) (((n) + 7) & ~(uint64_t)7)

int dgram_check_control(const struct dgram *d, int *level, int *type)
{
    size_t size = d->controllen;
    size_t at = 0;
    while (size >= sizeof(struct kcmsg) && at <= size - sizeof(struct kcmsg)) {
        struct kcmsg c;
        memcpy(&c, d->control + at, sizeof c);
        if (c.len < sizeof c || c.len > size - at)
            return -EINVAL;
        if (!control_allowed(c.level, c.type)) {
            *level = c.level;
            *type = c.type;
            return -EPERM;
        }
        uint64_t step = KCMSG_ALIGN(c.len);
        if (step > size - at)
            break;
        at += (size_t)step;
    }
    return 0;
}

static int judge_v4(const struct dgram *d, struct net_addr *a, uint16_t *port)
{
    struct sockaddr_in in;
    if (d->namelen < sizeof in)
        return -EINVAL;
    memcpy(&in, d->name, sizeof in);
    in.sin_family = AF_INET; /* AF_UNSPEC is taken as AF_INET */
    return net_addr_from_sockaddr(&in, sizeof in, a, port) ? 1 : -EINVAL;
}

static int judge_v6(const struct dgram *d, struct net_addr *a, uint16_t *port)
{
    struct sockaddr_in6 in6;
    if (d->namelen < 24) /* SIN6_LEN_RFC2133: the scope id is optional */
        return -EINVAL;
    memcpy(&in6, d->name, sizeof in6); /* name is zero-filled past namelen */
    in6.sin6_family = AF_INET6;
    return net_addr_from_sockaddr(&in6, sizeof in6, a, port) ? 1 : -EINVAL;
}

int dgram_destination(int domain, int type, const struct dgram *d, struct net_addr *a, uint16_t *port)
{
    if (!d->has_name)
        return 0;
    sa_family_t family = 0;
    if (d->namelen >= sizeof family)
        memcpy(&family, d->name, sizeof family);
    if (domain == AF_INET) {
        /* udp_sendmsg, raw_sendmsg: length first, then AF_INET or AF_UNSPEC */
        if (d->namelen < sizeof(struct sockaddr_in))
            return -EINVAL;
        if (family != AF_INET && family != AF_UNSPEC)
            return -EAFNOSUPPORT;
        return judge_v4(d, a, port);
    }
    if (domain != AF_INET6)
        return -EAFNOSUPPORT;
    if (type == SOCK_RAW) {
        /* rawv6_sendmsg: AF_INET6, or 0 taken as AF_INET6 */
        if (d->namelen < 24)
            return -EINVAL;
        if (family != AF_INET6 && family != AF_UNSPEC)
            return -EAFNOSUPPORT;
        return judge_v6(d, a, port);
    }
    /* udpv6_sendmsg: AF_INET6; AF_INET goes to the IPv4 code; AF_UNSPEC is no address */
    if (d->namelen < 2)
        return -EINVAL;
    switch (family) {
    case AF_INET6:
        return judge_v6(d, a, port);
    case AF_INET:
        return judge_v4(d, a, port);
    case AF_UNSPEC:
        return 0;
    default:
        return -EINVAL;
    }
}
