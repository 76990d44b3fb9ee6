/* Which processes are the application's own, for network.connect exceptions
 * (docs/compiled-policy.md, "The application's own processes").
 *
 * The application's main process (the command the enforcer starts, and every
 * program it execs in place) is the application's own. A new process inherits
 * what its parent was; at each exec it stays the application's own only when
 * the new program runs from files of the image: no drifted or fileless
 * program, and a shell or interpreter runs a script file, not code from its
 * command line (-c, -e, --eval), its standard input or a data: URL. Once lost,
 * never regained, for the process and everything it starts. Processes that
 * came in from outside (docker exec, ECS Exec) and orphans whose chain to the
 * application is gone are not the application's own.
 *
 * Decided once per exec; a connect looks the answer up (its process, else its
 * nearest ancestor seen at an exec). Entries name a process by pid and start
 * time, so a reused pid never inherits a dead process's answer. */
#ifndef VIGIL_LINEAGE_H
#define VIGIL_LINEAGE_H

#include <stdbool.h>
#include <sys/types.h>

/* The application's main process, before it starts. */
void lineage_start(pid_t main_pid);

/* At PTRACE_EVENT_EXEC of process pid: own_program says whether the program
 * it runs now is the image's own (see above). */
void lineage_exec(pid_t pid, bool own_program);

/* Is process tgid the application's own? */
bool lineage_own(pid_t tgid);

#endif
