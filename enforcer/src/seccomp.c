#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ptrace.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "arch.h"

#ifndef CLONE_UNTRACED
#define CLONE_UNTRACED 0x00800000
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* Generated program:
 *
 *   switch (arch) {
 *   case native (and x32, same audit arch):
 *       if (traces && nr >= X32 bit) return ERRNO(ENOSYS);        // x32: not checked, so refused
 *       for each ABI of this arch:
 *           if (nr == clone3) return ERRNO(ENOSYS);               // flags in memory
 *           if (nr == clone) return flags & CLONE_UNTRACED ? ERRNO(EPERM) : ALLOW;
 *       // only with file or network checks (traces):
 *       if (nr == seccomp) return op == SET_MODE_FILTER && flags & NEW_LISTENER ? ERRNO(EPERM) : ALLOW;
 *       if (nr == io_uring_setup) return ERRNO(ENOSYS);          // io_uring bypasses syscall checks
 *       // files:
 *       if (nr == openat/open) return flags & WRITE ? TRACE : ALLOW;  // read-only opens never stop
 *       if (nr == creat) return TRACE;
 *       if (nr == openat2 || nr == setxattrat || nr == removexattrat) return ERRNO(ENOSYS);
 *       if (nr == open_by_handle_at) return flags & WRITE ? ERRNO(EPERM) : ALLOW;
 *       if (nr == unlink, rename, chmod, ... every call that changes a path) return TRACE;
 *       // connect rules:
 *       if (nr == connect) return TRACE;
 *       if (nr == sendto) return flags & MSG_FASTOPEN ? ERRNO(EOPNOTSUPP) : addr ? TRACE : ALLOW;
 *       if (nr == sendmsg/sendmmsg) return flags & MSG_FASTOPEN ? ERRNO(EOPNOTSUPP) : TRACE;
 *       // listen rules:
 *       if (nr == listen || nr == bind) return TRACE;
 *       return ALLOW;
 *   case other arches (i386, AArch32):
 *       traces ? return ERRNO(ENOSYS) : the clone checks as above;
 *   }
 *   return ALLOW;
 *
 * Every TRACE carries SECCOMP_TAG | SC_*. Blocks are tested on nr before any
 * argument is loaded, so the kernel's per-syscall cache still skips the filter
 * for the calls that are always allowed (read, write, ...).
 */
#define MAX_INSNS SECCOMP_MAX_INSNS

struct prog {
    struct sock_filter insn[MAX_INSNS];
    unsigned short n;
};

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->n < MAX_INSNS)
        p->insn[p->n++] = f;
}

#define STMT(code, k) emit(p, (struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) emit(p, (struct sock_filter)BPF_JUMP(code, k, jt, jf))

static uint32_t arg_lo(int i)
{
    return (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (size_t)i);
}

static uint32_t trace(int sc)
{
    return SECCOMP_RET_TRACE | SECCOMP_TAG | (uint32_t)sc;
}

static bool has(int sc)
{
    return arch_native_nr[sc] >= 0;
}

static uint32_t nr(int sc)
{
    return (uint32_t)arch_native_nr[sc];
}

/* if (nr == sc) return ret; */
static void on_nr_return(struct prog *p, int sc, uint32_t ret)
{
    if (!has(sc))
        return;
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(sc), 0, 1);
    STMT(BPF_RET | BPF_K, ret);
}

/* if (nr == sc) return args[arg] & mask ? if_set : if_clear; (low word: the flags fit in it) */
static void on_flags_else(struct prog *p, int sc, int arg, uint32_t mask, uint32_t if_set, uint32_t if_clear)
{
    if (!has(sc))
        return;
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(sc), 0, 4);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(arg));
    JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
    STMT(BPF_RET | BPF_K, if_set);
    STMT(BPF_RET | BPF_K, if_clear);
}

static void on_flags(struct prog *p, int sc, int arg, uint32_t mask, uint32_t ret)
{
    on_flags_else(p, sc, arg, mask, ret, SECCOMP_RET_ALLOW);
}

static void clone_checks(struct prog *p, const struct arch_abi *a)
{
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->nr_clone3 + a->nr_bias, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->nr_clone + a->nr_bias, 0, 4);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(a->clone_flags_arg)); /* low word (little endian) */
    JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

/* The commonest filtered calls first: a read-only open decides after a few instructions. */
static void open_checks(struct prog *p)
{
    on_flags(p, SC_OPENAT, 2, OPEN_WRITE_FLAGS, trace(SC_OPENAT));
    on_flags(p, SC_OPEN, 1, OPEN_WRITE_FLAGS, trace(SC_OPEN));
}

static void file_checks(struct prog *p)
{
    static const int path_calls[] = {
        SC_TRUNCATE, SC_FTRUNCATE, SC_UNLINK, SC_UNLINKAT, SC_RMDIR, SC_RENAME, SC_RENAMEAT, SC_RENAMEAT2,
        SC_LINK, SC_LINKAT, SC_SYMLINK, SC_SYMLINKAT, SC_CHMOD, SC_FCHMOD, SC_FCHMODAT, SC_FCHMODAT2,
        SC_CHOWN, SC_FCHOWN, SC_LCHOWN, SC_FCHOWNAT, SC_UTIME, SC_UTIMES, SC_UTIMENSAT, SC_FUTIMESAT,
        SC_MKNOD, SC_MKNODAT, SC_MKDIR, SC_MKDIRAT, SC_SETXATTR, SC_LSETXATTR, SC_FSETXATTR,
        SC_REMOVEXATTR, SC_LREMOVEXATTR, SC_FREMOVEXATTR,
    };
    on_nr_return(p, SC_CREAT, trace(SC_CREAT));
    on_nr_return(p, SC_OPENAT2, SECCOMP_RET_ERRNO | ENOSYS);
    on_nr_return(p, SC_SETXATTRAT, SECCOMP_RET_ERRNO | ENOSYS);
    on_nr_return(p, SC_REMOVEXATTRAT, SECCOMP_RET_ERRNO | ENOSYS);
    on_flags(p, SC_OPEN_BY_HANDLE_AT, 2, OPEN_WRITE_FLAGS, SECCOMP_RET_ERRNO | EPERM);
    for (size_t i = 0; i < sizeof path_calls / sizeof path_calls[0]; i++)
        on_nr_return(p, path_calls[i], trace(path_calls[i]));
}

static void connect_checks(struct prog *p)
{
    on_nr_return(p, SC_CONNECT, trace(SC_CONNECT));
    /* sendto(fd, buf, len, flags, addr, addrlen): only with an address */
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_SENDTO), 0, 9);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(3));
    JUMP(BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(4));
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(4) + 4);
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
    STMT(BPF_RET | BPF_K, trace(SC_SENDTO));
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    /* sendmsg(fd, msg, flags), sendmmsg(fd, vec, vlen, flags): the address is in memory */
    on_flags_else(p, SC_SENDMSG, 2, MSG_FASTOPEN, SECCOMP_RET_ERRNO | EOPNOTSUPP, trace(SC_SENDMSG));
    on_flags_else(p, SC_SENDMMSG, 3, MSG_FASTOPEN, SECCOMP_RET_ERRNO | EOPNOTSUPP, trace(SC_SENDMMSG));
}

static void native_checks(struct prog *p, const struct filter_needs *n)
{
    /* seccomp(SECCOMP_SET_MODE_FILTER, flags & NEW_LISTENER): a USER_NOTIF filter
     * of the application's own would outrank our RET_TRACE (anchors §2 row 9) */
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_SECCOMP), 0, 6);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(0));
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 3);
    STMT(BPF_LD | BPF_W | BPF_ABS, arg_lo(1));
    JUMP(BPF_JMP | BPF_JSET | BPF_K, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    on_nr_return(p, SC_IO_URING_SETUP, SECCOMP_RET_ERRNO | ENOSYS);
    if (n->files)
        file_checks(p);
    if (n->connect)
        connect_checks(p);
    if (n->listen) {
        on_nr_return(p, SC_LISTEN, trace(SC_LISTEN));
        on_nr_return(p, SC_BIND, trace(SC_BIND));
    }
}

bool filter_traces(const struct filter_needs *n)
{
    return n->files || n->connect || n->listen;
}

int seccomp_build_filter(const struct filter_needs *n, struct sock_filter *out, unsigned short *len)
{
    struct prog prog_buf = {.n = 0};
    struct prog *p = &prog_buf;
    bool traces = filter_traces(n);
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    for (size_t i = 0; i < arch_abi_count; i++) {
        uint32_t arch = arch_abis[i].audit_arch;
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first &= arch_abis[k].audit_arch != arch;
        if (!first)
            continue;
        bool native = arch == arch_abis[0].audit_arch;
        if (!native && traces) {
            /* another ABI's numbers are not checked: refuse all of its calls */
            JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 1);
            STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
            continue;
        }
        /* the block's length is known only once emitted: patch the jump after */
        unsigned short jump_at = p->n;
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 0);
        STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        /* native numbers never carry the x32 bit, so these cannot match another ABI's calls */
        if (native && n->files)
            open_checks(p);
        for (size_t k = 0; k < arch_abi_count; k++) {
            const struct arch_abi *a = &arch_abis[k];
            if (a->audit_arch != arch)
                continue;
            if (a->nr_bias && traces) {
                JUMP(BPF_JMP | BPF_JGE | BPF_K, a->nr_bias, 0, 1);
                STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
            } else {
                clone_checks(p, a);
            }
        }
        if (native && traces)
            native_checks(p, n);
        STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        unsigned block = (unsigned)(p->n - jump_at - 1);
        if (block > 255)
            return -E2BIG;
        p->insn[jump_at].jf = (unsigned char)block;
    }
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (p->n >= MAX_INSNS)
        return -E2BIG;
    memcpy(out, p->insn, p->n * sizeof *out);
    *len = p->n;
    return 0;
}

int seccomp_install_filter(const struct filter_needs *n)
{
    struct sock_filter insn[SECCOMP_MAX_INSNS];
    unsigned short len;
    int err = seccomp_build_filter(n, insn, &len);
    if (err < 0)
        return err;
    struct sock_fprog fprog = {len, insn};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0)
        return -errno;
    return 0;
}

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/* No private mount namespace for the application. In one (`unshare -Urm`, where user
 * namespaces are allowed) a bind mount gives any file any path: /proc/PID/exe then names the
 * bind mount, and a read-only file is written through a path no glob names, which the ptrace
 * checks (all there is without Landlock, as on Fargate) cannot tell. unshare/clone with
 * CLONE_NEWUSER or CLONE_NEWNS, setns and the mount calls fail with EPERM, as Docker's
 * default profile makes them fail without CAP_SYS_ADMIN. Register arguments only: no stop.
 * Calls of other ABIs are left to the main filter. */
int seccomp_build_ns_filter(struct sock_filter *f, unsigned short *len)
{
    enum { ALLOW = 99, DENY = 100 }; /* placeholders, patched below */
    const struct arch_abi *abi = &arch_abis[0];
    static const long plain[] = {SYS_setns, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_open_tree, SYS_move_mount,
                                 SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_mount_setattr};
    unsigned n = 0;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, abi->audit_arch, 0, ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)plain[i], DENY, 0);
    /* unshare(flags), clone(flags, ...): the flags argument, low 32 bits */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_unshare, 2, 0);
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)abi->nr_clone, 3, 0);
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, ALLOW, 0, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, args[0]) + 8 * (unsigned)abi->clone_flags_arg);
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER | CLONE_NEWNS, DENY, ALLOW);
    unsigned allow = n, deny = n + 1;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    /* resolve the placeholders into relative jumps */
    for (unsigned i = 0; i < allow; i++) {
        if (BPF_CLASS(f[i].code) != BPF_JMP)
            continue;
        if (BPF_OP(f[i].code) == BPF_JA) {
            if (f[i].k == ALLOW)
                f[i].k = allow - i - 1;
            continue;
        }
        if (f[i].jt == ALLOW || f[i].jt == DENY)
            f[i].jt = (unsigned char)((f[i].jt == ALLOW ? allow : deny) - i - 1);
        if (f[i].jf == ALLOW || f[i].jf == DENY)
            f[i].jf = (unsigned char)((f[i].jf == ALLOW ? allow : deny) - i - 1);
    }
    *len = (unsigned short)n;
    return 0;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Jump targets written as labels while the guard is emitted, resolved after. */
enum { G_ALLOW = 244, G_DENY, G_NOSYS, G_PID_ARG0, G_PID_ARG1, G_OPEN, G_OPENAT, G_CREAT, G_SOCKET, G_SOCKTYPE };

int seccomp_build_guard_filter(const int *pids, size_t n_pids, bool no_raw_sockets, struct sock_filter *f,
                               unsigned short *len)
{
    if (n_pids == 0 || n_pids > SECCOMP_GUARD_MAX_PIDS)
        return -EINVAL;
    const struct arch_abi *abi = &arch_abis[0];
    unsigned n = 0, at[G_SOCKTYPE - G_ALLOW + 1] = {0};
#define G(insn) (f[n++] = (struct sock_filter)insn)
    G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, abi->audit_arch, 0, G_NOSYS));
    G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    for (size_t k = 1; k < arch_abi_count; k++) /* x32: the native arch, numbers with a bias */
        if (arch_abis[k].audit_arch == abi->audit_arch && arch_abis[k].nr_bias)
            G(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, arch_abis[k].nr_bias, G_NOSYS, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_process_vm_readv, G_PID_ARG0, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_process_vm_writev, G_PID_ARG0, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_pidfd_open, G_PID_ARG0, 0));
    /* every open stops (the enforcer's /proc/N/mem and environ are refused, a write-open is
     * judged on the file opened); openat2 and open_by_handle_at would get around that */
    if (has(SC_OPEN))
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_OPEN), G_OPEN, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_OPENAT), G_OPENAT, 0));
    if (has(SC_CREAT))
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_CREAT), G_CREAT, 0));
    if (has(SC_OPENAT2))
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_OPENAT2), G_NOSYS, 0));
    if (has(SC_OPEN_BY_HANDLE_AT))
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(SC_OPEN_BY_HANDLE_AT), G_NOSYS, 0));
    if (no_raw_sockets) /* capabilities.drop NET_RAW, which a session kept */
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_socket, G_SOCKET, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)SYS_ptrace, 0, G_ALLOW));
    G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))); /* the request */
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PTRACE_ATTACH, G_PID_ARG1, 0));
    G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4206 /* PTRACE_SEIZE */, G_PID_ARG1, G_ALLOW));
    at[G_PID_ARG1 - G_ALLOW] = n; /* a pid is an int: its low word */
    G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
    G(BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0));
    at[G_PID_ARG0 - G_ALLOW] = n;
    G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
    for (size_t i = 0; i < n_pids; i++)
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)pids[i], G_DENY, 0));
    G(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    /* BPF jumps only forward: every block that jumps to the returns below comes first */
    if (no_raw_sockets) {
        at[G_SOCKET - G_ALLOW] = n; /* socket(domain, type, protocol): as without CAP_NET_RAW */
        G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])));
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_PACKET, G_DENY, 0));
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, G_SOCKTYPE, 0));
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, G_SOCKTYPE, G_ALLOW));
        at[G_SOCKTYPE - G_ALLOW] = n;
        G(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])));
        G(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf)); /* the type without SOCK_NONBLOCK, SOCK_CLOEXEC */
        G(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_RAW, G_DENY, G_ALLOW));
    }
    at[G_ALLOW - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    at[G_DENY - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    at[G_NOSYS - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
    at[G_OPEN - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, trace(SC_OPEN)));
    at[G_OPENAT - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, trace(SC_OPENAT)));
    at[G_CREAT - G_ALLOW] = n;
    G(BPF_STMT(BPF_RET | BPF_K, trace(SC_CREAT)));
#undef G
    for (unsigned i = 0; i < n; i++) { /* labels into relative jumps */
        if (BPF_CLASS(f[i].code) != BPF_JMP || BPF_OP(f[i].code) == BPF_JA)
            continue;
        unsigned char *t[2] = {&f[i].jt, &f[i].jf};
        for (int k = 0; k < 2; k++) {
            if (*t[k] < G_ALLOW)
                continue;
            unsigned to = at[*t[k] - G_ALLOW];
            if (to <= i)
                return -EINVAL; /* a jump backwards: BPF refuses the program */
            *t[k] = (unsigned char)(to - i - 1);
        }
    }
    *len = (unsigned short)n;
    return 0;
}

int seccomp_install_ns_filter(void)
{
    struct sock_filter f[SECCOMP_NS_MAX_INSNS];
    unsigned short n;
    seccomp_build_ns_filter(f, &n);
    struct sock_fprog prog = {n, f};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -errno : 0;
}
