/* The file and network checks taken at seccomp stops (filecheck.c, netcheck.c):
 * what the tracer must do with the stopped system call. */
#ifndef VIGIL_CHECKS_H
#define VIGIL_CHECKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "filerules.h"
#include "netrules.h"
#include "pending.h"
#include "policy.h"

struct checks {
    const struct file_rules *files;
    const struct net_rules *net;
    bool audit;
    /* files.readOnly has no kernel layer (Landlock) under it: write-opens are
     * judged again at their exit stop, on the file the kernel opened */
    bool verify_opens;
    /* exec.reverseShell: a connect by the relay of a shell reading commands from a pipe */
    enum policy_action reverse_shell;
};

struct check_outcome {
    int deny;               /* errno the call must return without running; 0: let it run */
    bool verify;            /* stop at its exit too (kind, fd) */
    enum pending_kind kind;
    int fd;
    bool done;              /* the check made the call itself: skip it, it returns rval */
    long rval;
    struct pending_open open; /* kind PENDING_OPEN */
};

/* At the seccomp stop of call sc (SC_*) of task tid. */
void file_check_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out);
void net_check_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out);

/* At the exit stop of a call net_check_entry asked to verify: returns true and
 * sets *rval when the call must return something else (-EPERM). */
bool net_check_exit(const struct checks *c, pid_t tid, const struct pending *p, long rval_in, long *rval);

/* At the exit stop of a write-open file_check_entry asked to verify: same contract. */
bool file_check_exit(const struct checks *c, pid_t tid, const struct pending *p, long rval_in, long *rval);

#endif
