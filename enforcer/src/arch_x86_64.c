#if defined(__x86_64__)
#include "arch.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

const char *const arch_name = "amd64";

/* x32 numbers are the x86_64 ones with __X32_SYSCALL_BIT set; clone3 keeps its
 * number. execve/execveat have their own x32 numbers (520, 545). */
#define X32_BIT 0x40000000u
const struct arch_abi arch_abis[] = {
    {AUDIT_ARCH_X86_64, 0, 56, 435, 59, 322, 0},
    {AUDIT_ARCH_X86_64, X32_BIT, 56, 435, 520, 545, 0},
    {AUDIT_ARCH_I386, 0, 120, 435, 11, 358, 0},
};
const size_t arch_abi_count = sizeof arch_abis / sizeof arch_abis[0];

const int arch_native_nr[SC_COUNT] = {
    [SC_OPEN] = 2, [SC_CREAT] = 85, [SC_OPENAT] = 257, [SC_OPENAT2] = 437, [SC_OPEN_BY_HANDLE_AT] = 304,
    [SC_TRUNCATE] = 76, [SC_FTRUNCATE] = 77,
    [SC_UNLINK] = 87, [SC_UNLINKAT] = 263, [SC_RMDIR] = 84,
    [SC_RENAME] = 82, [SC_RENAMEAT] = 264, [SC_RENAMEAT2] = 316,
    [SC_LINK] = 86, [SC_LINKAT] = 265, [SC_SYMLINK] = 88, [SC_SYMLINKAT] = 266,
    [SC_CHMOD] = 90, [SC_FCHMOD] = 91, [SC_FCHMODAT] = 268, [SC_FCHMODAT2] = 452,
    [SC_CHOWN] = 92, [SC_FCHOWN] = 93, [SC_LCHOWN] = 94, [SC_FCHOWNAT] = 260,
    [SC_UTIME] = 132, [SC_UTIMES] = 235, [SC_UTIMENSAT] = 280, [SC_FUTIMESAT] = 261,
    [SC_MKNOD] = 133, [SC_MKNODAT] = 259, [SC_MKDIR] = 83, [SC_MKDIRAT] = 258,
    [SC_SETXATTR] = 188, [SC_LSETXATTR] = 189, [SC_FSETXATTR] = 190,
    [SC_REMOVEXATTR] = 197, [SC_LREMOVEXATTR] = 198, [SC_FREMOVEXATTR] = 199,
    [SC_SETXATTRAT] = 463, [SC_REMOVEXATTRAT] = 466,
    [SC_IO_URING_SETUP] = 425,
    [SC_CONNECT] = 42, [SC_SENDTO] = 44, [SC_SENDMSG] = 46, [SC_SENDMMSG] = 307, [SC_BIND] = 49, [SC_LISTEN] = 50,
    [SC_SECCOMP] = 317,
};

static int get_regs(pid_t pid, struct user_regs_struct *regs)
{
    struct iovec iov = {regs, sizeof *regs};
    return ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

static int set_regs(pid_t pid, struct user_regs_struct *regs)
{
    struct iovec iov = {regs, sizeof *regs};
    return ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0 ? -errno : 0;
}

/* orig_rax = -1 skips the call; rax, left alone by a skipped call, is its result. */
int arch_skip_syscall(pid_t pid, long rval)
{
    struct user_regs_struct regs;
    int rc = get_regs(pid, &regs);
    if (rc < 0)
        return rc;
    regs.orig_rax = (unsigned long long)-1;
    regs.rax = (unsigned long long)rval;
    return set_regs(pid, &regs);
}

int arch_set_return(pid_t pid, long rval)
{
    struct user_regs_struct regs;
    int rc = get_regs(pid, &regs);
    if (rc < 0)
        return rc;
    regs.rax = (unsigned long long)rval;
    return set_regs(pid, &regs);
}

static int poke_bytes(pid_t pid, unsigned long addr, const unsigned char *bytes, size_t n)
{
    for (size_t off = 0; off < n; off += sizeof(long)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)(addr + off), 0);
        if (errno)
            return -errno;
        size_t chunk = n - off < sizeof(long) ? n - off : sizeof(long);
        memcpy(&word, bytes + off, chunk);
        if (ptrace(PTRACE_POKETEXT, pid, (void *)(addr + off), (void *)word) < 0)
            return -errno;
    }
    return 0;
}

int arch_plant_exit_stub(pid_t pid, int status)
{
    struct user_regs_struct regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    unsigned char code[12];
    unsigned char st = (unsigned char)status;
    if (regs.cs == 0x23) {
        /* 32-bit program: mov ebx, status; mov eax, 252 (exit_group); int 0x80 */
        const unsigned char stub[12] = {0xbb, st, 0, 0, 0, 0xb8, 0xfc, 0, 0, 0, 0xcd, 0x80};
        memcpy(code, stub, sizeof code);
    } else {
        /* mov edi, status; mov eax, 231 (exit_group); syscall */
        const unsigned char stub[12] = {0xbf, st, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05};
        memcpy(code, stub, sizeof code);
    }
    return poke_bytes(pid, regs.rip, code, sizeof code);
}
/* Injection (inject.c) */
const int arch_nr_close = 3;
_Static_assert(sizeof(struct user_regs_struct) <= sizeof(struct arch_regs), "arch_regs too small");

int arch_get_regs(pid_t pid, struct arch_regs *r)
{
    return get_regs(pid, (struct user_regs_struct *)r->words);
}

int arch_set_regs(pid_t pid, const struct arch_regs *r)
{
    struct user_regs_struct regs;
    memcpy(&regs, r->words, sizeof regs);
    return set_regs(pid, &regs);
}

static void load_args(struct user_regs_struct *regs, const uint64_t a[6])
{
    regs->rdi = a[0];
    regs->rsi = a[1];
    regs->rdx = a[2];
    regs->r10 = a[3];
    regs->r8 = a[4];
    regs->r9 = a[5];
}

int arch_rewrite_call(pid_t pid, long nr, const uint64_t args[6])
{
    struct user_regs_struct regs;
    int rc = get_regs(pid, &regs);
    if (rc < 0)
        return rc;
    regs.orig_rax = (unsigned long long)nr;
    load_args(&regs, args);
    return set_regs(pid, &regs);
}

/* rax holds the result; every argument register is preserved by `syscall`. */
int arch_restore_call(pid_t pid, long nr, const uint64_t args[6])
{
    return arch_rewrite_call(pid, nr, args);
}

int arch_prepare_injection(pid_t pid, const struct arch_regs *at_exit, long nr, const uint64_t args[6])
{
    struct user_regs_struct regs;
    memcpy(&regs, at_exit->words, sizeof regs);
    regs.rip -= 2; /* 0f 05: syscall */
    regs.rax = (unsigned long long)nr;
    regs.orig_rax = (unsigned long long)nr;
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
    return set_regs(pid, &regs);
}
#endif
