/* Everything that differs between CPU architectures lives here and in arch_*.c:
 * syscall numbers, seccomp audit arches, register access and the exit stub. */
#ifndef VIGIL_ARCH_H
#define VIGIL_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One syscall ABI the kernel accepts on this architecture (native, compat, x32). */
struct arch_abi {
    uint32_t audit_arch;   /* AUDIT_ARCH_* as seen in seccomp_data.arch */
    uint32_t nr_bias;      /* added to every number (x32: __X32_SYSCALL_BIT) */
    int nr_clone;          /* -1 when the ABI has no such syscall */
    int nr_clone3;
    int nr_execve;
    int nr_execveat;
    int clone_flags_arg;   /* which argument holds clone's flags */
};

extern const char *const arch_name;          /* "amd64" / "arm64" */
extern const struct arch_abi arch_abis[];    /* native first */
extern const size_t arch_abi_count;

/* Is (audit arch, nr) an execve or execveat of one of this machine's ABIs? */
bool arch_is_exec_syscall(uint32_t audit_arch, uint64_t nr, bool *is_execveat);

/* Make the stopped tracee `pid`, sitting at its first instruction after exec,
 * run exit_group(status) instead of its own code. Returns 0 or -errno. */
int arch_plant_exit_stub(pid_t pid, int status);

#endif
