/* Starting the application: a child that sets up its own restrictions and waits
 * until the enforcer has attached before it runs the command. */
#ifndef VIGIL_SPAWN_H
#define VIGIL_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "seccomp.h"

struct spawn_plan {
    char *const *argv;      /* the command, argv[0] looked up in PATH */
    int landlock_fd;        /* -1: no Landlock ruleset (exec and/or files.readOnly) */
    bool seccomp;           /* install the seccomp filter */
    struct filter_needs needs; /* what the filter must trace */
    bool keep_ptrace_cap;   /* selfProtection off: leave CAP_SYS_PTRACE to the application */
    uint64_t drop_caps;     /* capabilities.drop (1 << CAP_*) */
    bool no_new_privs;      /* noNewPrivileges on */
    sigset_t child_mask;    /* the signal mask the application starts with */
    bool no_namespaces;     /* refuse private mount/user namespaces and mounts (enforce mode) */
};

/* Forks the child, which stops before exec until spawn_release(). Returns the
 * pid, or -1 after logging. *gate receives the descriptor spawn_release uses. */
pid_t spawn_start(const struct spawn_plan *plan, int *gate);

/* Let the child go on to exec (true), or make it exit without running (false). */
void spawn_release(int gate, bool go);

/* The path execvp would run for argv0, or false when none is found. */
bool spawn_resolve(const char *argv0, char *out, size_t cap);

#endif
