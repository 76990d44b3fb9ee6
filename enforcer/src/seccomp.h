/* The seccomp filter, generated from what the policy needs: the escape routes
 * out of the traced tree are closed with errno returns (no trace stop), and only
 * the file and network checks the policy has add SECCOMP_RET_TRACE, narrowed in
 * BPF to the calls whose register arguments cannot settle the question. */
#ifndef VIGIL_SECCOMP_H
#define VIGIL_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

/* The open flags that make an open a write-open, for the filter and for the checks
 * (O_TMPFILE by its own bit: the constant includes O_DIRECTORY). */
#define O_TMPFILE_BIT 020000000
#define OPEN_WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE_BIT)

/* RET_TRACE data: SECCOMP_TAG | SC_* (arch.h). */
#define SECCOMP_TAG 0x5600u
#define SECCOMP_TAG_MASK 0xff00u

struct filter_needs {
    bool files;   /* files.readOnly / files.watch: writes to paths */
    bool connect; /* network.connect.*: destinations */
    bool listen;  /* network.listen.allow: ports */
};

bool filter_traces(const struct filter_needs *n);

#define SECCOMP_MAX_INSNS 512
struct sock_filter;

/* The program for these needs into out (SECCOMP_MAX_INSNS entries). 0 or -errno.
 * Every call it always allows is decided on arch and nr alone, before any
 * argument is loaded, so the kernel's per-syscall action cache (5.11+) lets it
 * through without running the filter (tests/unit/seccomp-cache.c checks it). */
int seccomp_build_filter(const struct filter_needs *n, struct sock_filter *out, unsigned short *len);

/* In the child, after PR_SET_NO_NEW_PRIVS. 0 or -errno. */
int seccomp_install_filter(const struct filter_needs *n);

/* The second filter of an enforcing filter-only start (no private mount or user
 * namespaces, no mounts): its program (SECCOMP_NS_MAX_INSNS entries), and its
 * installation in the child. */
#define SECCOMP_NS_MAX_INSNS 64
int seccomp_build_ns_filter(struct sock_filter *out, unsigned short *len);
int seccomp_install_ns_filter(void);

/* The guard a session entered from outside gets (docker exec, ECS Exec; adopt_filter.c):
 * it keeps the container's capabilities, CAP_SYS_PTRACE among them, which the application
 * starts without (selfProtection). ptrace(PTRACE_ATTACH/PTRACE_SEIZE), process_vm_readv,
 * process_vm_writev and pidfd_open (the way to pidfd_getfd) naming one of `pids` (the
 * enforcer's tasks) fail with EPERM; calls of another ABI, whose numbers it does not
 * check, with ENOSYS; every open stops (SECCOMP_RET_TRACE: the enforcer's /proc/N/mem
 * and environ, readable with CAP_SYS_PTRACE, are refused by path and judged again on the
 * file opened), and openat2 and open_by_handle_at, which would get around that, return
 * ENOSYS. SECCOMP_GUARD_MAX_INSNS entries. */
#define SECCOMP_GUARD_MAX_PIDS 16
#define SECCOMP_GUARD_MAX_INSNS (48 + 2 * SECCOMP_GUARD_MAX_PIDS)
/* no_raw_sockets (capabilities.drop NET_RAW): raw IPv4/IPv6 and packet sockets fail with
 * EPERM too, as the application's do without the capability. */
int seccomp_build_guard_filter(const int *pids, size_t n_pids, bool no_raw_sockets, struct sock_filter *out,
                               unsigned short *len);

#endif
