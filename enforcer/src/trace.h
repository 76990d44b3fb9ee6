/* The trace loop: follows every descendant, decides every exec, reaps every
 * zombie and forwards signals, until the application's main process ends. */
#ifndef VIGIL_TRACE_H
#define VIGIL_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "checks.h"
#include "rules.h"

#define TRACE_OPTIONS_DESC "exitkill|tracesysgood|tracefork|tracevfork|traceclone|traceexec|traceseccomp"

struct tracer {
    const struct exec_rules *rules;
    bool audit;
    bool enforce_exec;    /* exec rules present and mode enforce */
    bool follow_forks;    /* report exec refusals taken by the kernel (Landlock) */
    bool traced;          /* false in fail-open mode: plain init, no ptrace */
    pid_t main_pid;
    struct checks checks; /* file and network rules, judged at seccomp stops */
    /* Called from the loop about every tick_ms (NULL: never), between stops: where
     * a policy fetched from the console replaces the one in force. */
    void (*tick)(struct tracer *t);
    int tick_ms;
};

/* PTRACE_SEIZE the (not yet started) main process with our options. 0 or -errno. */
int trace_seize(pid_t pid);

/* Attach to a process that entered the container from outside (see foreign.c). */
void trace_adopt(struct tracer *t, pid_t pid);

/* Runs until the main process has ended; returns the enforcer's exit code
 * (the application's status, 128+N for signal N). `forward` is the set of
 * signals to pass on; all of them and SIGCHLD must be blocked by the caller. */
/* Keep the tracer thread on the CPU it runs on now (see trace.c). */
void trace_pin_cpu(void);
int trace_run(struct tracer *t, const sigset_t *forward);

#endif
