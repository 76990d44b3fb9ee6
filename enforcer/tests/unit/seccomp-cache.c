/* The seccomp filter and the kernel's action cache (kernel/seccomp.c,
 * seccomp_cache_prepare, Linux 5.11+): a system call whose result the kernel can
 * compute from arch and nr alone, as ALLOW, skips the filter from then on. This
 * replays that computation (seccomp_is_const_allow) on the generated program for
 * every native system call number, for each combination of needs, and fails if
 * the filter loads an argument for a call that is not one of the few it must
 * look into, or if a hot call (read, write, close, futex...) is not cached.
 * Prints one line per combination: `needs files=F connect=C listen=L: insns=N
 * args=[nr,...] refused-or-traced=[nr,...]`; exits 1 on a failure. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "../../src/arch.h"
#include "../../src/seccomp.h"

/* CACHED: decided ALLOW on arch and nr (cached); CONST: decided on them as
 * something else (refused or traced, by number); ARGS: the filter runs. */
enum kind { ARGS, CACHED, CONST };

static enum kind classify(const struct sock_filter *f, unsigned short len, unsigned int nr, unsigned int arch)
{
    unsigned int reg = 0;
    for (unsigned int pc = 0; pc < len; pc++) {
        const struct sock_filter *insn = &f[pc];
        switch (insn->code) {
        case BPF_LD | BPF_W | BPF_ABS:
            if (insn->k == offsetof(struct seccomp_data, nr))
                reg = nr;
            else if (insn->k == offsetof(struct seccomp_data, arch))
                reg = arch;
            else
                return ARGS;
            break;
        case BPF_RET | BPF_K:
            return insn->k == SECCOMP_RET_ALLOW ? CACHED : CONST;
        case BPF_JMP | BPF_JA:
            pc += insn->k;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            pc += reg == insn->k ? insn->jt : insn->jf;
            break;
        case BPF_JMP | BPF_JGE | BPF_K:
            pc += reg >= insn->k ? insn->jt : insn->jf;
            break;
        case BPF_JMP | BPF_JGT | BPF_K:
            pc += reg > insn->k ? insn->jt : insn->jf;
            break;
        case BPF_JMP | BPF_JSET | BPF_K:
            pc += (reg & insn->k) ? insn->jt : insn->jf;
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg &= insn->k;
            break;
        default:
            return ARGS;
        }
    }
    return ARGS;
}

/* The calls whose arguments the filter may read: flags and addresses it decides on. */
static const int may_read_args[] = {
    __NR_clone, __NR_seccomp, __NR_openat, __NR_open_by_handle_at, __NR_sendto, __NR_sendmsg, __NR_sendmmsg,
#ifdef __NR_open
    __NR_open,
#endif
};

/* Calls a busy program makes all the time: always cached. */
static const int hot[] = {
    __NR_read, __NR_write, __NR_close, __NR_fstat, __NR_lseek, __NR_mmap, __NR_mprotect, __NR_munmap,
    __NR_brk, __NR_rt_sigaction, __NR_rt_sigprocmask, __NR_ioctl, __NR_pread64, __NR_writev, __NR_readv,
    __NR_futex, __NR_getpid, __NR_accept4, __NR_recvfrom, __NR_recvmsg, __NR_epoll_pwait, __NR_nanosleep,
    __NR_clock_nanosleep, __NR_getdents64, __NR_newfstatat, __NR_exit_group, __NR_wait4, __NR_execve,
#ifdef __NR_poll
    __NR_poll, __NR_epoll_wait, __NR_stat, __NR_select,
#endif
};

static bool in(const int *list, size_t n, unsigned int nr)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned int)list[i] == nr)
            return true;
    return false;
}

int main(void)
{
    int failed = 0;
    for (int mask = 0; mask < 8; mask++) {
        struct filter_needs n = {mask & 1, (mask >> 1) & 1, (mask >> 2) & 1};
        struct sock_filter insn[SECCOMP_MAX_INSNS];
        unsigned short len;
        if (seccomp_build_filter(&n, insn, &len) < 0) {
            printf("needs files=%d connect=%d listen=%d: build failed\n", n.files, n.connect, n.listen);
            return 1;
        }
        char args[4096] = "", other[4096] = "";
        size_t na = 0, no = 0;
        for (unsigned int nr = 0; nr < 1024; nr++) {
            enum kind k = classify(insn, len, nr, arch_abis[0].audit_arch);
            if (k == CACHED)
                continue;
            char *buf = k == ARGS ? args : other;
            size_t *used = k == ARGS ? &na : &no;
            int w = snprintf(buf + *used, 4096 - *used, "%s%u", *used ? "," : "", nr);
            if (w > 0 && (size_t)w < 4096 - *used)
                *used += (size_t)w;
            if (k == ARGS && !in(may_read_args, sizeof may_read_args / sizeof may_read_args[0], nr)) {
                printf("FAIL: needs %d%d%d: the filter reads the arguments of call %u\n", n.files, n.connect, n.listen, nr);
                failed = 1;
            }
            if (in(hot, sizeof hot / sizeof hot[0], nr)) {
                printf("FAIL: needs %d%d%d: hot call %u is not cached as ALLOW\n", n.files, n.connect, n.listen, nr);
                failed = 1;
            }
        }
        printf("needs files=%d connect=%d listen=%d: insns=%u args=[%s] refused-or-traced=[%s]\n", n.files, n.connect,
               n.listen, len, args, other);
    }
    return failed;
}
