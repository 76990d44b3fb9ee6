/* Datagram sends with an address (sendto, sendmsg, sendmmsg on UDP and raw IP
 * sockets), made by the enforcer on the process's behalf. Judging the address in
 * the process's memory and letting the call run would leave a window: a sibling
 * thread can rewrite the address after our read, and once the datagram is out
 * there is no kernel state to verify. So the call is copied once (address,
 * payload, control messages, all bounded), the copy is judged, and the copy is
 * what we send, on our duplicate of the process's socket (pidfd_getfd: the same
 * open file, so bound address, options and corking are the process's own); the
 * process's call is skipped and returns our result.
 *
 * The tracer serves every process of the container, so it never blocks: it sends
 * with MSG_DONTWAIT. A non-blocking socket (O_NONBLOCK or MSG_DONTWAIT) gets
 * EAGAIN at once, as from the kernel; a blocking one whose send buffer is full is
 * given up to SEND_WAIT_MS for room (per call, all of sendmmsg's messages
 * together), then ENOBUFS, which the kernel also returns
 * when a datagram cannot be queued (a dropped datagram, as UDP allows).
 *
 * In audit mode the same copy is judged and reported (alerts), and the
 * process's own call runs. */
#include "netcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "dgram.h"
#include "procinfo.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#define SEND_WAIT_MS 10
#define MMSG_VLEN_MAX 1024 /* UIO_MAXIOV: the kernel sends at most this many */

static unsigned char payload[DGRAM_PAYLOAD_MAX];
static struct dgram msg;

static bool read_tracee(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return proc_read_mem(*(const pid_t *)ctx, addr, buf, len);
}

/* The kernel writes each message's byte count into msg_len (4 bytes, little
 * endian on both architectures): one word peeked and poked back. */
static bool write_msg_len(pid_t tid, uint64_t addr, uint32_t len)
{
    errno = 0;
    long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(uintptr_t)addr, 0);
    if (errno)
        return false;
    memcpy(&word, &len, sizeof len);
    return ptrace(PTRACE_POKEDATA, tid, (void *)(uintptr_t)addr, (void *)word) == 0;
}

struct sock_info {
    int sock, fd, domain, type;
    long deadline_ms; /* a blocking send waits for room until then (one budget per call) */
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send the copy in msg. dest: whether msg's address is to be used (1) or the
 * kernel is to use the connected peer (0). Returns bytes sent or -errno. */
static long send_copy(const struct sock_info *s, int dest, int flags)
{
    if (flags & MSG_ZEROCOPY) {
        /* the kernel ignores the flag unless SO_ZEROCOPY is on; when it is, the
         * completion would be about our buffer: ENOBUFS, zerocopy's own failure */
        int on = 0;
        socklen_t len = sizeof on;
        if (getsockopt(s->sock, SOL_SOCKET, SO_ZEROCOPY, &on, &len) == 0 && on)
            return -ENOBUFS;
        flags &= ~MSG_ZEROCOPY;
    }
    struct iovec iov = {payload, msg.len};
    struct msghdr h = {
        .msg_name = dest == 1 ? msg.name : NULL,
        .msg_namelen = dest == 1 ? (socklen_t)msg.namelen : 0,
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = msg.controllen ? msg.control : NULL,
        .msg_controllen = msg.controllen,
    };
    bool nonblocking = flags & MSG_DONTWAIT;
    flags |= MSG_DONTWAIT | MSG_NOSIGNAL;
    for (;;) {
        ssize_t n = sendmsg(s->sock, &h, flags);
        if (n >= 0)
            return n;
        int err = errno;
        if (err == EINTR)
            continue;
        if (err != EAGAIN || nonblocking)
            return -err;
        int fl = fcntl(s->sock, F_GETFL); /* the open file's flags: the process's own */
        if (fl < 0 || (fl & O_NONBLOCK))
            return -err;
        long left = s->deadline_ms - now_ms();
        if (left <= 0)
            return -ENOBUFS;
        struct pollfd p = {s->sock, POLLOUT, 0};
        poll(&p, 1, (int)left);
    }
}

/* Judge msg and send it (audit mode: only judge and report); bytes sent or -errno. */
static long judge_and_send(const struct checks *c, pid_t tid, int sc, const struct sock_info *s, int flags)
{
    struct net_addr a;
    uint16_t port = 0;
    int dest = dgram_destination(s->domain, s->type, &msg, &a, &port);
    if (dest < 0)
        return dest;
    if (dest == 1 && !net_judge_destination(c, tid, sc, s->sock, s->fd, &a, port))
        return -EPERM;
    int level = 0, type = 0;
    int rc = dgram_check_control(&msg, &level, &type);
    if (rc == -EPERM) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (dest == 1 || (getpeername(s->sock, (struct sockaddr *)&peer, &plen) == 0 &&
                          net_addr_from_sockaddr(&peer, plen, &a, &port)))
            net_report_control(c, tid, sc, s->sock, &a, port, level, type);
    }
    if (rc < 0 && !c->audit)
        return rc;
    return c->audit ? (long)msg.len : send_copy(s, dest, flags);
}

static long send_sendto(const struct checks *c, pid_t tid, const uint64_t a[6], const struct sock_info *s)
{
    struct dgram_mem m = {read_tracee, &tid};
    int rc = dgram_read_sendto(&m, a[1], a[2], a[4], a[5], &msg, payload);
    if (rc < 0)
        return rc;
    return judge_and_send(c, tid, SC_SENDTO, s, (int)a[3]);
}

static long send_one_msghdr(const struct checks *c, pid_t tid, int sc, uint64_t addr, int flags,
                            const struct sock_info *s)
{
    struct dgram_mem m = {read_tracee, &tid};
    struct dgram_khdr h;
    if (!proc_read_mem(tid, addr, &h, sizeof h))
        return -EFAULT;
    int rc = dgram_read_msghdr(&m, &h, &msg, payload);
    if (rc < 0)
        return rc;
    return judge_and_send(c, tid, sc, s, flags);
}

/* As the kernel's __sys_sendmmsg: message by message; the first failure ends
 * the call, which returns the count sent so far, or the error if none was. */
static long send_sendmmsg(const struct checks *c, pid_t tid, const uint64_t a[6], const struct sock_info *s)
{
    uint64_t vlen = a[2] > MMSG_VLEN_MAX ? MMSG_VLEN_MAX : a[2];
    long sent = 0, err = 0;
    for (uint64_t i = 0; i < vlen; i++) {
        uint64_t entry = a[1] + i * sizeof(struct dgram_kmmsg);
        err = send_one_msghdr(c, tid, SC_SENDMMSG, entry, (int)a[3], s);
        if (err < 0)
            break;
        if (!c->audit && !write_msg_len(tid, entry + DGRAM_KMMSG_LEN_OFFSET, (uint32_t)err)) {
            err = -EFAULT;
            break;
        }
        sent++;
        err = 0;
    }
    return sent ? sent : err;
}

bool net_send_entry(const struct checks *c, pid_t tid, int sc, const uint64_t a[6], struct check_outcome *out)
{
    struct sock_info s = {.fd = (int)a[0]};
    s.sock = net_grab_fd(tid, s.fd);
    if (s.sock < 0 && (c->audit || errno == EXDEV))
        return false; /* judged as it stands (EXDEV: see net_grab_fd, the race stays open) */
    if (s.sock < 0) {
        /* no such descriptor: answer so ourselves (letting the call run would let a
         * sibling open a socket there first); else the socket cannot be seen: refuse */
        out->done = errno == EBADF;
        out->rval = -EBADF;
        out->deny = out->done ? 0 : EPERM;
        return true;
    }
    socklen_t len = sizeof s.domain;
    if (getsockopt(s.sock, SOL_SOCKET, SO_DOMAIN, &s.domain, &len) < 0) {
        out->done = !c->audit; /* not a socket (ENOTSOCK): our duplicate is the same file */
        out->rval = -errno;
        close(s.sock);
        return true;
    }
    len = sizeof s.type;
    if ((s.domain != AF_INET && s.domain != AF_INET6) ||
        getsockopt(s.sock, SOL_SOCKET, SO_TYPE, &s.type, &len) < 0 || (s.type != SOCK_DGRAM && s.type != SOCK_RAW)) {
        close(s.sock);
        return false; /* TCP (the address is ignored), UNIX sockets: judged as they stand */
    }
    s.deadline_ms = now_ms() + SEND_WAIT_MS;
    long rval = sc == SC_SENDTO    ? send_sendto(c, tid, a, &s)
                : sc == SC_SENDMSG ? send_one_msghdr(c, tid, SC_SENDMSG, a[1], (int)a[2], &s)
                                   : send_sendmmsg(c, tid, a, &s);
    close(s.sock);
    out->done = !c->audit; /* audit: judged and reported, the process's own call runs */
    out->rval = rval;
    return true;
}
