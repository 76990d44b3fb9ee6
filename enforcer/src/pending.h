/* What the tracer must do at the syscall-exit stop of a task it resumed with
 * PTRACE_SYSCALL from a seccomp stop: make a refused call return its error, or
 * verify what the kernel did (the peer a connect reached, the port a bind took). */
#ifndef VIGIL_PENDING_H
#define VIGIL_PENDING_H

#include <stdbool.h>
#include <sys/types.h>

#define PENDING_SLOTS 1024

enum pending_kind { PENDING_DENY, PENDING_CONNECT, PENDING_BIND };

struct pending {
    pid_t tid;
    enum pending_kind kind;
    int err;  /* PENDING_DENY: the errno to return */
    int fd;   /* PENDING_CONNECT/BIND: the tracee's descriptor */
    int sc;   /* SC_* of the call */
};

/* false when the table is full (the caller then fails closed). */
bool pending_put(const struct pending *p);
/* Take the entry of tid out of the table; false if none. */
bool pending_take(pid_t tid, struct pending *out);
void pending_drop(pid_t tid);

#endif
