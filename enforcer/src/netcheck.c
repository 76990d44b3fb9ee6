/* network.connect.* and network.listen.allow at seccomp stops. A destination
 * read from the process's memory is only a first answer (a sibling thread can
 * rewrite it after we read it): connect is verified again at its exit stop on
 * the kernel's own view of the socket, and listen/bind are judged on the port
 * the kernel holds. */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "event_proc.h"
#include "netcheck.h"
#include "events.h"
#include "lineage.h"
#include "procinfo.h"
#include "protections.h"

#include "pidfd.h"
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#define SOCKADDR_MAX 128
#define MMSG_MAX 1024 /* UIO_MAXIOV: the kernel sends at most this many */

/* A pidfd for the task without reading /proc: of the thread itself where the
 * kernel has PIDFD_THREAD (6.9), else of its thread group. Thread pidfds are
 * kept, one per slot: a pidfd names one task, so when that task has gone (its
 * tid maybe reused) pidfd_getfd fails with ESRCH and a fresh one is opened.
 * Thread-group pidfds are not kept: a reused tid would find another process. */
#define PIDFD_SLOTS 64
static struct {
    pid_t tid;
    int pidfd;
} kept[PIDFD_SLOTS];
static bool no_thread_pidfd;

static int open_pidfd(pid_t tid, bool *keep)
{
    *keep = false;
    if (!no_thread_pidfd) {
        int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
        if (pidfd >= 0 || errno != EINVAL) {
            *keep = pidfd >= 0;
            return pidfd;
        }
        no_thread_pidfd = true;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
    if (pidfd < 0 && (errno == EINVAL || errno == ENOENT)) /* not a thread-group leader (ENOENT: 6.15+) */
        pidfd = (int)syscall(SYS_pidfd_open, proc_tgid(tid), 0);
    return pidfd;
}

/* Is ours (from the thread group's pidfd, so from the main thread's
 * descriptor table) the file the thread tid has at fd? A thread may have a
 * table of its own (unshare(CLONE_FILES)), and once the main thread has
 * exited its table is gone (EBADF) while the thread's still holds fd. */
static bool thread_has(pid_t tid, int fd, int ours)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)tid, fd);
    struct stat theirs, mine;
    if (stat(link, &theirs) < 0)
        return ours < 0; /* the thread has no such descriptor: EBADF is right */
    return ours >= 0 && fstat(ours, &mine) == 0 && mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

int net_grab_fd(pid_t tid, int fd)
{
    size_t slot = (size_t)tid % PIDFD_SLOTS;
    if (tid > 0 && kept[slot].tid == tid) {
        int ours = (int)syscall(SYS_pidfd_getfd, kept[slot].pidfd, fd, 0);
        if (ours >= 0 || errno != ESRCH)
            return ours;
    }
    bool keep;
    int pidfd = open_pidfd(tid, &keep);
    int ours = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    int err = errno;
    if (!keep && proc_tgid(tid) != tid && !thread_has(tid, fd, ours)) {
        if (ours >= 0)
            close(ours);
        ours = -1;
        err = EXDEV; /* the thread's own descriptor is out of our reach */
    }
    if (pidfd < 0) {
        errno = err;
        return -1;
    }
    if (keep) {
        if (kept[slot].tid > 0) /* tid 0 is no task: a free slot */
            close(kept[slot].pidfd);
        kept[slot].tid = tid;
        kept[slot].pidfd = pidfd;
    } else {
        close(pidfd);
    }
    errno = err;
    return ours;
}

static const char *protocol_name(int sock)
{
    int proto = 0;
    socklen_t len = sizeof proto;
    if (sock < 0 || getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0)
        return "other";
    return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "other";
}

static const char *syscall_name(int sc)
{
    switch (sc) {
    case SC_CONNECT:
        return "connect";
    case SC_SENDTO:
        return "sendto";
    case SC_SENDMSG:
        return "sendmsg";
    case SC_SENDMMSG:
        return "sendmmsg";
    case SC_BIND:
        return "bind";
    default:
        return "listen";
    }
}

/* not_own: the index of an exception that names the program but did not apply (the
 * process is not the application's own), or -1. */
static void report_connect(const struct checks *c, pid_t tid, int sc, const struct net_addr *a, uint16_t port,
                           const char *protocol, const struct net_verdict *v, int not_own)
{
    char rule[64], addr[64];
    struct event e;
    net_addr_text(a, addr, sizeof addr);
    bool alert = !v->allowed ? c->audit : strcmp(v->key, "network.connect.exception") != 0;
    event_begin(&e, "connect", alert ? "alert" : v->allowed ? "allowed" : "blocked");
    event_str(&e, "rule", event_rule_name(v->key, v->index, rule, sizeof rule));
    event_process_fields(&e, tid);
    event_str(&e, "address", addr);
    event_int(&e, "port", port);
    event_str(&e, "family", a->family == AF_INET ? "ipv4" : "ipv6");
    event_str(&e, "protocol", protocol);
    event_str(&e, "syscall", syscall_name(sc));
    event_str(&e, "pattern", v->pattern);
    if (not_own >= 0)
        event_str(&e, "exceptionNotOwn", event_rule_name("network.connect.exception", not_own, rule, sizeof rule));
    event_emit(&e);
}

/* A refused connect of a program an exception names: that exception's index. */
static int exception_not_own(const struct checks *c, bool have_exe, const char *exe, const struct net_addr *a,
                             const struct net_verdict *v)
{
    return v->allowed || !have_exe || strncmp(v->key, "network.", 8) ? -1 : net_exception_naming(c->net, exe, a);
}

static void report_listen(const struct checks *c, pid_t tid, const struct net_addr *a, uint16_t port,
                          const char *protocol, const struct net_verdict *v)
{
    char rule[64], addr[64];
    struct event e;
    net_addr_text(a, addr, sizeof addr);
    event_begin(&e, "listen", v->allowed ? "allowed" : c->audit ? "alert" : "blocked");
    event_str(&e, "rule", event_rule_name(v->key, v->index, rule, sizeof rule));
    event_process_fields(&e, tid);
    event_str(&e, "address", addr);
    event_int(&e, "port", port);
    event_str(&e, "protocol", protocol);
    event_emit(&e);
}

bool net_judge_destination(const struct checks *c, pid_t tid, int sc, int sock, int fd, const struct net_addr *a,
                           uint16_t port)
{
    char exe[PATH_MAX];
    pid_t tgid = proc_tgid(tid);
    /* the program matters only to exceptions */
    bool have_exe = c->net->n_exception && proc_link(tgid, "exe", exe, sizeof exe);
    struct net_subject who = {have_exe ? exe : NULL, lineage_own, tgid};
    struct net_verdict v;
    net_decide_connect(c->net, &who, a, port, &v);
    bool report = !v.allowed;
    if (v.allowed && v.index >= 0 && !strcmp(v.key, "network.connect.exception")) {
        struct net_verdict without;
        net_decide_connect(c->net, NULL, a, port, &without);
        report = !without.allowed;
    }
    if (!report && net_mining_destination(a, port)) { /* allowed, but reported as an alert */
        v = (struct net_verdict){true, "network.miningPort", -1, NULL};
        report = true;
    }
    if (v.allowed && sc == SC_CONNECT && c->reverse_shell != ACTION_OFF &&
        (protections_relays_for_shell(tgid) || protections_fed_by_shell(tgid))) {
        /* the relay of a reverse shell: a shell that reads its commands from a pipe writes into its
         * stdin, or it started such a shell and feeds it itself */
        v = (struct net_verdict){c->reverse_shell == ACTION_ALERT, "exec.reverseShell", -1, NULL};
        report = true;
    }
    if (report) {
        int own = sock < 0 ? net_grab_fd(tid, fd) : -1; /* only a report needs the socket */
        int s = sock >= 0 ? sock : own;
        const char *proto = s >= 0 ? protocol_name(s) : sc == SC_CONNECT ? "tcp" : "udp";
        report_connect(c, tid, sc, a, port, proto, &v, exception_not_own(c, have_exe, exe, a, &v));
        if (own >= 0)
            close(own);
    }
    return v.allowed || c->audit;
}

void net_report_control(const struct checks *c, pid_t tid, int sc, int sock, const struct net_addr *a, uint16_t port,
                        int level, int type)
{
    char what[64];
    snprintf(what, sizeof what, "control message level %d type %d", level, type);
    struct net_verdict v = {false, "network.controlMessage", -1, what};
    report_connect(c, tid, sc, a, port, sock >= 0 ? protocol_name(sock) : "udp", &v, -1);
}

/* Read a sockaddr of the tracee and judge it. false: refuse the call. *err is
 * set when the address cannot be read (refused rather than guessed). */
static bool judge_sockaddr(const struct checks *c, pid_t tid, int sc, int fd, uint64_t addr, uint64_t len, int *err)
{
    unsigned char sa[SOCKADDR_MAX];
    if (!addr || len < sizeof(sa_family_t))
        return true; /* no address: the kernel uses the connected peer or fails */
    if (len > sizeof sa)
        len = sizeof sa;
    if (!proc_read_mem(tid, addr, sa, len)) {
        *err = EFAULT;
        return false;
    }
    struct net_addr a;
    uint16_t port;
    if (!net_addr_from_sockaddr(sa, len, &a, &port))
        return true; /* not IP: AF_UNIX and the like */
    return net_judge_destination(c, tid, sc, -1, fd, &a, port);
}

static bool judge_msghdr(const struct checks *c, pid_t tid, int sc, int fd, const struct msghdr *m, int *err)
{
    return judge_sockaddr(c, tid, sc, fd, (uint64_t)(uintptr_t)m->msg_name, m->msg_namelen, err);
}

static void entry_connect(const struct checks *c, pid_t tid, int sc, const uint64_t a[6], struct check_outcome *out)
{
    int err = 0, fd = (int)a[0];
    bool ok = true;
    /* a datagram leaves during the call, with no kernel state to verify after
     * it: such sends are made by the enforcer itself with the address it judged */
    if (sc != SC_CONNECT && net_send_entry(c, tid, sc, a, out))
        return;
    if (sc == SC_CONNECT) {
        ok = judge_sockaddr(c, tid, sc, fd, a[1], a[2], &err);
    } else if (sc == SC_SENDTO) {
        ok = judge_sockaddr(c, tid, sc, fd, a[4], a[5], &err);
    } else if (sc == SC_SENDMSG) {
        struct msghdr m;
        if (!proc_read_mem(tid, a[1], &m, sizeof m))
            return; /* EFAULT from the kernel */
        ok = judge_msghdr(c, tid, sc, fd, &m, &err);
    } else {
        uint64_t n = a[2] > MMSG_MAX ? MMSG_MAX : a[2];
        for (uint64_t i = 0; i < n && ok; i++) {
            struct mmsghdr m;
            if (!proc_read_mem(tid, a[1] + i * sizeof m, &m, sizeof m))
                break;
            ok = judge_msghdr(c, tid, sc, fd, &m.msg_hdr, &err);
        }
    }
    if (!ok) {
        out->deny = err ? err : EPERM;
        return;
    }
    if (sc == SC_CONNECT && !c->audit) {
        /* what the kernel really connected to is checked at the exit stop */
        out->verify = true;
        out->kind = PENDING_CONNECT;
        out->fd = fd;
    }
}

static bool sockname(int sock, bool peer, struct net_addr *a, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if ((peer ? getpeername(sock, (struct sockaddr *)&ss, &len) : getsockname(sock, (struct sockaddr *)&ss, &len)) < 0)
        return false;
    return net_addr_from_sockaddr(&ss, len, a, port);
}

static void entry_listen(const struct checks *c, pid_t tid, int sc, const uint64_t a[6], struct check_outcome *out)
{
    int fd = (int)a[0];
    if (sc == SC_BIND) {
        unsigned char sa[SOCKADDR_MAX];
        uint64_t len = a[2] > sizeof sa ? sizeof sa : a[2];
        struct net_addr addr;
        uint16_t port;
        if (a[1] && proc_read_mem(tid, a[1], sa, len) && net_addr_from_sockaddr(sa, len, &addr, &port) && port == 0)
            return; /* any port: a client choosing its source address */
        out->verify = true; /* a UDP port is judged on the kernel's state, at the exit */
        out->kind = PENDING_BIND;
        out->fd = fd;
        return;
    }
    int sock = net_grab_fd(tid, fd);
    if (sock < 0) {
        out->deny = c->audit ? 0 : EPERM; /* cannot see the socket: fail closed */
        return;
    }
    struct net_addr addr;
    uint16_t port;
    if (sockname(sock, false, &addr, &port)) {
        struct net_verdict v;
        net_decide_listen(c->net, port, &v);
        if (!v.allowed) {
            report_listen(c, tid, &addr, port, protocol_name(sock), &v);
            if (!c->audit)
                out->deny = EPERM;
        }
    }
    close(sock);
}

void net_check_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out)
{
    if ((sc == SC_CONNECT || sc == SC_SENDTO || sc == SC_SENDMSG || sc == SC_SENDMMSG) && net_rules_connect(c->net))
        entry_connect(c, tid, sc, args, out);
    else if ((sc == SC_LISTEN || sc == SC_BIND) && net_rules_listen(c->net))
        entry_listen(c, tid, sc, args, out);
}

/* The remote end of socket `inode` from /proc/PID/net/{tcp,tcp6,udp,udp6}: a TCP
 * socket still in SYN_SENT has no peer for getpeername but is listed there. */
static bool peer_from_proc(pid_t tgid, unsigned long inode, struct net_addr *a, uint16_t *port, const char **proto)
{
    static const struct {
        const char *name;
        int family;
        const char *proto;
    } tables[] = {{"net/tcp", AF_INET, "tcp"}, {"net/tcp6", AF_INET6, "tcp"},
                  {"net/udp", AF_INET, "udp"}, {"net/udp6", AF_INET6, "udp"}};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)tgid, tables[t].name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f)) {
            char rem[64];
            unsigned long ino;
            if (sscanf(line, "%*s %*s %63s %*s %*s %*s %*s %*s %*s %lu", rem, &ino) != 2 || ino != inode)
                continue;
            fclose(f);
            char *colon = strchr(rem, ':');
            if (!colon)
                return false;
            *colon = '\0';
            unsigned p;
            if (sscanf(colon + 1, "%x", &p) != 1)
                return false;
            /* the address is printed as host-order 32-bit words */
            unsigned char sa_bytes[16];
            size_t words = tables[t].family == AF_INET ? 1 : 4;
            if (strlen(rem) != 8 * words)
                return false;
            for (size_t w = 0; w < words; w++) {
                char hex[9];
                memcpy(hex, rem + 8 * w, 8);
                hex[8] = '\0';
                unsigned v;
                if (sscanf(hex, "%x", &v) != 1)
                    return false;
                uint32_t v32 = v;
                memcpy(sa_bytes + 4 * w, &v32, 4);
            }
            struct sockaddr_storage ss;
            memset(&ss, 0, sizeof ss);
            size_t len;
            if (tables[t].family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t)p);
                memcpy(&in->sin_addr, sa_bytes, 4);
                len = sizeof *in;
                if (in->sin_addr.s_addr == 0)
                    return false; /* no remote end yet */
            } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)p);
                memcpy(&in6->sin6_addr, sa_bytes, 16);
                len = sizeof *in6;
                if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
                    return false;
            }
            *proto = tables[t].proto;
            return net_addr_from_sockaddr(&ss, len, a, port);
        }
        fclose(f);
    }
    return false;
}

static bool exit_connect(const struct checks *c, pid_t tid, const struct pending *p, long *rval)
{
    char name[32], target[64];
    unsigned long inode;
    snprintf(name, sizeof name, "fd/%d", p->fd);
    if (!proc_link(tid, name, target, sizeof target) || sscanf(target, "socket:[%lu]", &inode) != 1)
        return false;
    int sock = net_grab_fd(tid, p->fd);
    struct net_addr a;
    uint16_t port;
    const char *proto = NULL;
    bool have = sock >= 0 && sockname(sock, true, &a, &port);
    if (have)
        proto = protocol_name(sock);
    else
        have = peer_from_proc(proc_tgid(tid), inode, &a, &port, &proto);
    bool refused = false;
    if (have) {
        char exe[PATH_MAX];
        pid_t tgid = proc_tgid(tid);
        bool have_exe = c->net->n_exception && proc_link(tgid, "exe", exe, sizeof exe);
        struct net_subject who = {have_exe ? exe : NULL, lineage_own, tgid};
        struct net_verdict v;
        net_decide_connect(c->net, &who, &a, port, &v);
        if (!v.allowed) {
            /* the kernel reached a forbidden peer (the address changed after our
             * check): cut the connection before the process can use it */
            report_connect(c, tid, SC_CONNECT, &a, port, proto, &v, exception_not_own(c, have_exe, exe, &a, &v));
            if (sock < 0 || shutdown(sock, SHUT_RDWR) < 0)
                kill(proc_tgid(tid), SIGKILL);
            *rval = -EPERM;
            refused = true;
        }
    }
    if (sock >= 0)
        close(sock);
    return refused;
}

static bool exit_bind(const struct checks *c, pid_t tid, const struct pending *p, long rval_in, long *rval)
{
    if (rval_in != 0)
        return false;
    int sock = net_grab_fd(tid, p->fd);
    if (sock < 0)
        return false;
    int type = 0;
    socklen_t len = sizeof type;
    struct net_addr a;
    uint16_t port;
    bool refused = false;
    if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM &&
        sockname(sock, false, &a, &port)) {
        struct net_verdict v;
        net_decide_listen(c->net, port, &v);
        if (!v.allowed) {
            report_listen(c, tid, &a, port, protocol_name(sock), &v);
            if (!c->audit) {
                *rval = -EPERM; /* the socket stays bound, but the process was told no */
                refused = true;
            }
        }
    }
    close(sock);
    return refused;
}

bool net_check_exit(const struct checks *c, pid_t tid, const struct pending *p, long rval_in, long *rval)
{
    if (p->kind == PENDING_CONNECT)
        return exit_connect(c, tid, p, rval);
    if (p->kind == PENDING_BIND)
        return exit_bind(c, tid, p, rval_in, rval);
    return false;
}
