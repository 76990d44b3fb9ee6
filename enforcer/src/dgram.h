/* A datagram send (sendto, sendmsg, one message of sendmmsg) copied out of the
 * tracee's memory once, bounded, so that the enforcer can judge the copy and send
 * exactly that copy itself: a sibling thread rewriting the address afterwards
 * changes nothing. Pure parsing over a memory reader (fuzzed: tests/fuzz). */
#ifndef VIGIL_DGRAM_H
#define VIGIL_DGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netrules.h"

#define DGRAM_PAYLOAD_MAX 65535 /* an IP datagram's length field: the kernel refuses more (EMSGSIZE) */
#define DGRAM_NAME_MAX 128      /* sizeof(struct sockaddr_storage), the kernel's own bound */
#define DGRAM_CONTROL_MAX 4096  /* ancillary data; the kernel's bound is optmem_max (ENOBUFS above) */
#define DGRAM_IOV_MAX 1024      /* UIO_MAXIOV (EMSGSIZE above) */

/* The kernel's struct user_msghdr and struct mmsghdr of a 64-bit process
 * (libc headers differ: musl pads msg_iovlen and msg_controllen). */
struct dgram_khdr {
    uint64_t name;
    int32_t namelen;
    uint32_t pad1;
    uint64_t iov;
    uint64_t iovlen;
    uint64_t control;
    uint64_t controllen;
    uint32_t flags;
    uint32_t pad2;
};
struct dgram_kmmsg {
    struct dgram_khdr hdr;
    uint32_t len; /* written back: bytes sent for this message */
    uint32_t pad;
};
#define DGRAM_KMMSG_LEN_OFFSET 56

/* Reads len bytes at addr of the tracee; false when any of them cannot be read. */
struct dgram_mem {
    bool (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    void *ctx;
};

struct dgram {
    bool has_name;
    size_t namelen;
    unsigned char name[DGRAM_NAME_MAX];
    size_t controllen;
    unsigned char control[DGRAM_CONTROL_MAX];
    size_t len;             /* payload bytes in the caller's buffer */
};

/* sendto(fd, buf, len, flags, addr, addrlen): copy the address (when addr is
 * not NULL) and the payload into d and payload (DGRAM_PAYLOAD_MAX bytes).
 * 0, or the -errno the kernel would return (EINVAL, EFAULT, EMSGSIZE). */
int dgram_read_sendto(const struct dgram_mem *m, uint64_t buf, uint64_t len, uint64_t addr, uint64_t addrlen,
                      struct dgram *d, unsigned char *payload);

/* sendmsg: the message header h (already copied) and what it points to. */
int dgram_read_msghdr(const struct dgram_mem *m, const struct dgram_khdr *h, struct dgram *d, unsigned char *payload);

/* Control messages of d the enforcer may pass on unchanged (see dgram.c). 0,
 * -EINVAL when malformed as the kernel sees it, or -EPERM with *level and *type
 * of the first one refused. */
int dgram_check_control(const struct dgram *d, int *level, int *type);

/* Where the kernel sends d on a socket of `domain` (AF_INET/AF_INET6) and `type`
 * (SOCK_DGRAM/SOCK_RAW), read as the kernel reads the address: 1 and *a, *port
 * for an IP destination; 0 when d carries no address (the connected peer, or
 * EDESTADDRREQ); -errno when the kernel would refuse the address. */
int dgram_destination(int domain, int type, const struct dgram *d, struct net_addr *a, uint16_t *port);

#endif
