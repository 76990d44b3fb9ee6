/* Processes that came into the container from outside the application (docker
 * exec, ECS Exec: adopted by the scan, foreign.c) and every process they start.
 * The application runs inside its Landlock layer from its first instruction;
 * these never entered it. What the layer settles for the application
 * (files.readOnly against a path swapped between the check and the call) must
 * be settled for them by the ptrace checks: write-opens judged again at their
 * exit (filecheck.c). Empty, and free, unless a session was adopted. */
#ifndef VIGIL_OUTSIDERS_H
#define VIGIL_OUTSIDERS_H

#include <stdbool.h>
#include <sys/types.h>

/* An adopted process (by its thread group id), before anything it starts is let run. */
void outsider_add(pid_t tgid);

/* Are there any (else nothing needs looking up)? */
bool outsiders_any(void);

/* Is this thread group an outsider? */
bool outsider(pid_t tgid);

/* At a fork, vfork or clone event of `creator` (any thread of it): a new task of an
 * outsider is one. */
void outsider_created(pid_t creator, pid_t child);

/* At a new task's first stop (which may come before its creator's event): a
 * process whose parent is an outsider, or outside the container's PID namespace
 * (ppid 0: only the enforcer, PID 1, has no parent there), is one. */
void outsider_new_task(pid_t pid);

/* The task `pid` has ended. */
void outsider_forget(pid_t pid);

#endif
