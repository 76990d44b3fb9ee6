#if defined(__aarch64__)
#include "arch.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <asm/ptrace.h>

const char *const arch_name = "arm64";

/* AArch32 compat tasks use the ARM EABI numbers. */
const struct arch_abi arch_abis[] = {
    {AUDIT_ARCH_AARCH64, 0, 220, 435, 221, 281, 0},
    {AUDIT_ARCH_ARM, 0, 120, 435, 11, 387, 0},
};
const size_t arch_abi_count = sizeof arch_abis / sizeof arch_abis[0];

/* asm-generic numbers: no open, creat, unlink, rename, link, symlink, chmod,
 * chown, lchown, utime(s), futimesat, mknod, mkdir or rmdir (only the *at forms). */
const int arch_native_nr[SC_COUNT] = {
    [SC_OPEN] = -1, [SC_CREAT] = -1, [SC_OPENAT] = 56, [SC_OPENAT2] = 437, [SC_OPEN_BY_HANDLE_AT] = 265,
    [SC_TRUNCATE] = 45, [SC_FTRUNCATE] = 46,
    [SC_UNLINK] = -1, [SC_UNLINKAT] = 35, [SC_RMDIR] = -1,
    [SC_RENAME] = -1, [SC_RENAMEAT] = 38, [SC_RENAMEAT2] = 276,
    [SC_LINK] = -1, [SC_LINKAT] = 37, [SC_SYMLINK] = -1, [SC_SYMLINKAT] = 36,
    [SC_CHMOD] = -1, [SC_FCHMOD] = 52, [SC_FCHMODAT] = 53, [SC_FCHMODAT2] = 452,
    [SC_CHOWN] = -1, [SC_FCHOWN] = 55, [SC_LCHOWN] = -1, [SC_FCHOWNAT] = 54,
    [SC_UTIME] = -1, [SC_UTIMES] = -1, [SC_UTIMENSAT] = 88, [SC_FUTIMESAT] = -1,
    [SC_MKNOD] = -1, [SC_MKNODAT] = 33, [SC_MKDIR] = -1, [SC_MKDIRAT] = 34,
    [SC_SETXATTR] = 5, [SC_LSETXATTR] = 6, [SC_FSETXATTR] = 7,
    [SC_REMOVEXATTR] = 14, [SC_LREMOVEXATTR] = 15, [SC_FREMOVEXATTR] = 16,
    [SC_SETXATTRAT] = 463, [SC_REMOVEXATTRAT] = 466,
    [SC_IO_URING_SETUP] = 425,
    [SC_CONNECT] = 203, [SC_SENDTO] = 206, [SC_SENDMSG] = 211, [SC_SENDMMSG] = 269, [SC_BIND] = 200, [SC_LISTEN] = 201,
    [SC_SECCOMP] = 277,
};

#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif

static int set_x0(pid_t pid, long value)
{
    struct user_pt_regs regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    regs.regs[0] = (unsigned long long)value;
    if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    return 0;
}

/* The syscall number lives outside the GPRs (NT_ARM_SYSTEM_CALL); -1 skips the
 * call and x0 is then its result (arch/arm64/kernel/syscall.c). */
int arch_skip_syscall(pid_t pid, long rval)
{
    int nr = -1;
    struct iovec iov = {&nr, sizeof nr};
    if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_ARM_SYSTEM_CALL, &iov) < 0)
        return -errno;
    return set_x0(pid, rval);
}

int arch_set_return(pid_t pid, long rval)
{
    return set_x0(pid, rval);
}

int arch_plant_exit_stub(pid_t pid, int status)
{
    struct user_pt_regs regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    if (regs.pstate & 0x10) /* AArch32 task: no stub, the caller falls back to SIGKILL */
        return -ENOTSUP;
    /* movz x0, #status; movz x8, #94 (exit_group); svc #0 */
    uint32_t code[4] = {0xd2800000u | ((uint32_t)(status & 0xffff) << 5), 0xd2800bc8u, 0xd4000001u,
                        0xd4000001u};
    for (size_t off = 0; off < sizeof code; off += sizeof(long)) {
        long word;
        memcpy(&word, (const char *)code + off, sizeof word);
        if (ptrace(PTRACE_POKETEXT, pid, (void *)(regs.pc + off), (void *)word) < 0)
            return -errno;
    }
    return 0;
}
/* Injection (inject.c) */
const int arch_nr_close = 57;
_Static_assert(sizeof(struct user_pt_regs) <= sizeof(struct arch_regs), "arch_regs too small");

int arch_get_regs(pid_t pid, struct arch_regs *r)
{
    struct iovec iov = {r->words, sizeof(struct user_pt_regs)};
    return ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

int arch_set_regs(pid_t pid, const struct arch_regs *r)
{
    struct user_pt_regs regs;
    memcpy(&regs, r->words, sizeof regs);
    struct iovec iov = {&regs, sizeof regs};
    return ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

static int set_nr(pid_t pid, long nr)
{
    int n = (int)nr;
    struct iovec iov = {&n, sizeof n};
    return ptrace(PTRACE_SETREGSET, pid, (void *)NT_ARM_SYSTEM_CALL, &iov) < 0 ? -errno : 0;
}

/* x0..x5 are the arguments; the number lives in NT_ARM_SYSTEM_CALL (x8 is only
 * read at the svc). first: the first register to load (x0 holds the result at
 * an exit stop). */
static int load_call(pid_t pid, long nr, const uint64_t a[6], int first)
{
    struct user_pt_regs regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    for (int i = first; i < 6; i++)
        regs.regs[i] = a[i];
    if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    return set_nr(pid, nr);
}

int arch_rewrite_call(pid_t pid, long nr, const uint64_t args[6])
{
    return load_call(pid, nr, args, 0);
}

int arch_restore_call(pid_t pid, long nr, const uint64_t args[6])
{
    return load_call(pid, nr, args, 1);
}

int arch_prepare_injection(pid_t pid, const struct arch_regs *at_exit, long nr, const uint64_t args[6])
{
    struct user_pt_regs regs;
    memcpy(&regs, at_exit->words, sizeof regs);
    regs.pc -= 4; /* svc #0 */
    regs.regs[8] = (unsigned long long)nr;
    for (int i = 0; i < 6; i++)
        regs.regs[i] = args[i];
    struct iovec iov = {&regs, sizeof regs};
    return ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}
#endif
