/* What the tracer must do at the syscall-exit stop of a task it resumed with
 * PTRACE_SYSCALL from a seccomp stop: make a refused call return its error, or
 * verify what the kernel did (the peer a connect reached, the port a bind took). */
#ifndef VIGIL_PENDING_H
#define VIGIL_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PENDING_SLOTS 1024

enum pending_kind { PENDING_DENY, PENDING_CONNECT, PENDING_BIND, PENDING_OPEN };

/* PENDING_OPEN: a write-open let through at its seccomp stop, judged again on
 * the file the kernel opened (filecheck.c). */
struct pending_open {
    long nr;             /* the call as the program made it, to put back at the exit */
    uint64_t args[6];
    bool rewritten;      /* its registers were changed at the seccomp stop */
    bool truncate;       /* O_TRUNC was taken out: truncate once the file is allowed */
    bool create;         /* O_CREAT */
    bool existed;        /* the name resolved at the seccomp stop existed then... */
    uint64_t dev, ino;   /* ...as this file */
    int64_t since_ns;    /* coarse real time at the seccomp stop (the clock file times come from) */
    int64_t since_fine_ns; /* real time at the seccomp stop */
};

struct pending {
    pid_t tid;
    enum pending_kind kind;
    int err;  /* PENDING_DENY: the errno to return */
    int fd;   /* PENDING_CONNECT/BIND: the tracee's descriptor */
    int sc;   /* SC_* of the call */
    struct pending_open open; /* PENDING_OPEN */
};

/* false when the table is full (the caller then fails closed). */
bool pending_put(const struct pending *p);
/* Take the entry of tid out of the table; false if none. */
bool pending_take(pid_t tid, struct pending *out);
void pending_drop(pid_t tid);

#endif
