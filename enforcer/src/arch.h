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

/* The system calls the file and network checks look at. Their native numbers are
 * in arch_native_nr (-1 where the architecture has no such call, as arm64 has
 * no open/unlink/rename...). Only the native ABI is checked: while such checks
 * are active the seccomp filter refuses every call of the other ABIs. */
enum sc {
    SC_OPEN, SC_CREAT, SC_OPENAT, SC_OPENAT2, SC_OPEN_BY_HANDLE_AT,
    SC_TRUNCATE, SC_FTRUNCATE,
    SC_UNLINK, SC_UNLINKAT, SC_RMDIR,
    SC_RENAME, SC_RENAMEAT, SC_RENAMEAT2,
    SC_LINK, SC_LINKAT, SC_SYMLINK, SC_SYMLINKAT,
    SC_CHMOD, SC_FCHMOD, SC_FCHMODAT, SC_FCHMODAT2,
    SC_CHOWN, SC_FCHOWN, SC_LCHOWN, SC_FCHOWNAT,
    SC_UTIME, SC_UTIMES, SC_UTIMENSAT, SC_FUTIMESAT,
    SC_MKNOD, SC_MKNODAT, SC_MKDIR, SC_MKDIRAT,
    SC_SETXATTR, SC_LSETXATTR, SC_FSETXATTR, SC_REMOVEXATTR, SC_LREMOVEXATTR, SC_FREMOVEXATTR,
    SC_SETXATTRAT, SC_REMOVEXATTRAT,
    SC_IO_URING_SETUP,
    SC_CONNECT, SC_SENDTO, SC_SENDMSG, SC_SENDMMSG, SC_BIND, SC_LISTEN,
    SC_SECCOMP,
    SC_COUNT
};
extern const int arch_native_nr[SC_COUNT];

/* SC_* of a native system call, or -1. */
int arch_sc_of(uint32_t audit_arch, uint64_t nr);

/* At a seccomp stop: skip the system call and make it return -err. 0 or -errno. */
int arch_deny_syscall(pid_t pid, int err);

/* At a seccomp stop: skip the system call and make it return rval (a result
 * the tracer produced itself). 0 or -errno. */
int arch_skip_syscall(pid_t pid, long rval);

/* At a syscall-exit stop: make the system call return rval. 0 or -errno. */
int arch_set_return(pid_t pid, long rval);

/* Make the stopped tracee `pid`, sitting at its first instruction after exec,
 * run exit_group(status) instead of its own code. Returns 0 or -errno. */
int arch_plant_exit_stub(pid_t pid, int status);

/* Running a system call in a stopped tracee on the tracer's behalf (inject.c).
 * The registers of a task, opaque: big enough for every architecture's set. */
struct arch_regs {
    uint64_t words[48];
};
extern const int arch_nr_close;

int arch_get_regs(pid_t pid, struct arch_regs *r);
int arch_set_regs(pid_t pid, const struct arch_regs *r);

/* At a seccomp stop: make the call system call nr with these arguments
 * instead (the kernel runs the filter again on the new call). */
int arch_rewrite_call(pid_t pid, long nr, const uint64_t args[6]);

/* At the syscall-exit stop of a call rewritten at its seccomp stop: put back
 * its number and the argument registers the program may rely on after the
 * call (all but the one that holds the result), for a restart or for the
 * program's own code. */
int arch_restore_call(pid_t pid, long nr, const uint64_t args[6]);

/* At a syscall-exit stop whose registers are `at_exit`: rewind to the system
 * call instruction the task has just run and load nr(args) into it, so that
 * PTRACE_SYSCALL makes the task run that call (x86_64 `syscall` is 2 bytes,
 * arm64 `svc #0` 4). Also how adopt_filter.c puts back a call it skipped. */
int arch_prepare_injection(pid_t pid, const struct arch_regs *at_exit, long nr, const uint64_t args[6]);

#endif
