#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>

#include "arch.h"

#ifndef CLONE_UNTRACED
#define CLONE_UNTRACED 0x00800000
#endif

/* Generated program, for every syscall ABI of this architecture (native, x32, compat):
 *
 *   switch (arch) {
 *   case ABI.audit_arch:
 *       if (nr == ABI.clone3 + bias) return ERRNO(ENOSYS);   // flags in memory: BPF cannot see them
 *       if (nr == ABI.clone + bias)
 *           return (args[flags] & CLONE_UNTRACED) ? ERRNO(EPERM) : ALLOW;
 *       ...next ABI with the same audit arch...
 *       return ALLOW;
 *   }
 *   return ALLOW;
 *
 * No SECCOMP_RET_TRACE anywhere: exec is decided at PTRACE_EVENT_EXEC, so the filter
 * never stops a process; its only cost is running it on each syscall.
 */
#define MAX_INSNS 128

struct prog {
    struct sock_filter insn[MAX_INSNS];
    unsigned short n;
};

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->n < MAX_INSNS)
        p->insn[p->n++] = f;
}

static unsigned short abis_of(uint32_t audit_arch)
{
    unsigned short n = 0;
    for (size_t i = 0; i < arch_abi_count; i++)
        n += arch_abis[i].audit_arch == audit_arch;
    return n;
}

int seccomp_install_escape_filter(void)
{
    struct prog p = {.n = 0};
    emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    for (size_t i = 0; i < arch_abi_count; i++) {
        uint32_t arch = arch_abis[i].audit_arch;
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first &= arch_abis[k].audit_arch != arch;
        if (!first)
            continue;
        /* block: LD nr, 7 per ABI, RET ALLOW */
        unsigned short block = (unsigned short)(1 + 7 * abis_of(arch) + 1);
        emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, (unsigned char)block));
        emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
        for (size_t k = 0; k < arch_abi_count; k++) {
            const struct arch_abi *a = &arch_abis[k];
            if (a->audit_arch != arch)
                continue;
            uint32_t flags_off = (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (size_t)a->clone_flags_arg);
            emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->nr_clone3 + a->nr_bias, 0, 1));
            emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
            emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->nr_clone + a->nr_bias, 0, 4));
            emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, flags_off)); /* low word (little endian) */
            emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_UNTRACED, 0, 1));
            emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
            emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
        }
        emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
    emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    if (p.n >= MAX_INSNS)
        return -E2BIG;
    struct sock_fprog prog = {p.n, p.insn};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -errno;
    return 0;
}
