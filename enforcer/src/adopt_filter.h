/* The application's seccomp filter for processes the enforcer adopts (`docker
 * exec`, ECS Exec: foreign.c). They are not descendants of the enforcer, so they
 * never got the filter(s) spawn.c installs before the application's exec: the
 * same ones are installed into them from outside, by running
 * prctl(PR_SET_NO_NEW_PRIVS) and seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) in them
 * (inject.c), before they run on. What they start inherits the filter. */
#ifndef VIGIL_ADOPT_FILTER_H
#define VIGIL_ADOPT_FILTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "events.h"
#include "seccomp.h"

/* The running mechanism has a seccomp filter for these needs; namespaces: the
 * second filter (no private mount/user namespaces, no mounts) too; guard: the
 * third, that keeps the session away from the enforcer's tasks (selfProtection:
 * the session kept the CAP_SYS_PTRACE the application starts without;
 * seccomp_build_guard_filter). Not called: adoption installs nothing. */
void adopt_filter_configure(const struct filter_needs *needs, bool namespaces, bool guard, bool no_raw_sockets);

/* Process pid (every thread seized, none stopped by us) gets the filter(s).
 * true: installed, or nothing to install, and the process runs on; false: it is
 * gone, or it could not be done and it was killed (an exec event says why). */
bool adopt_filter_install(pid_t pid);

/* Process pid has ended or is ending (no memory left: it runs nothing more), or
 * is gone. Such a process needs no decision, and no event. */
bool adopt_process_ended(pid_t pid);

/* For the `attach` exec event: whether the filter was installed (absent when
 * the mechanism has none). */
void adopt_filter_note(struct event *e, const char *mechanism);

#endif
