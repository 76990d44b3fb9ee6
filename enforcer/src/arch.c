/* What is the same on every architecture, over the per-architecture tables. */
#include "arch.h"

bool arch_is_exec_syscall(uint32_t audit_arch, uint64_t nr, bool *is_execveat)
{
    for (size_t i = 0; i < arch_abi_count; i++) {
        const struct arch_abi *a = &arch_abis[i];
        if (a->audit_arch != audit_arch)
            continue;
        if (nr == (uint64_t)a->nr_execve + a->nr_bias) {
            *is_execveat = false;
            return true;
        }
        if (nr == (uint64_t)a->nr_execveat + a->nr_bias) {
            *is_execveat = true;
            return true;
        }
    }
    return false;
}

int arch_sc_of(uint32_t audit_arch, uint64_t nr)
{
    if (audit_arch != arch_abis[0].audit_arch)
        return -1;
    for (int sc = 0; sc < SC_COUNT; sc++)
        if (arch_native_nr[sc] >= 0 && (uint64_t)arch_native_nr[sc] == nr)
            return sc;
    return -1;
}

/* A refusal is a skipped call whose result is the error. */
int arch_deny_syscall(pid_t pid, int err)
{
    return arch_skip_syscall(pid, -err);
}
