/* The notify mechanism (--mechanism notify): the application is not followed. Its
 * seccomp filter hands each execve/execveat to the enforcer as a user notification;
 * the enforcer attaches to the caller (PTRACE_SEIZE, exec events only) and lets the
 * call go on; at PTRACE_EVENT_EXEC the program is judged as under ptrace, on the
 * file the kernel really runs, and the process is let go (PTRACE_DETACH). Forks,
 * exits and signals of the application cost nothing; an exec costs two round trips. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdbool.h>

struct tracer;

/* The listener the child sends over `sock` once its filter is in (spawn.c); -1 after
 * saying why. Closes sock. */
int notify_receive_listener(int sock);

/* Send the listener to the enforcer (in the child). False when it could not be sent. */
bool notify_send_listener(int sock, int listener);

/* Answer one pending notification on `listener`: attach to an exec's caller and let
 * it go on (or EPERM, with an event, when it cannot be attached). */
void notify_handle(struct tracer *t, int listener);

/* Is pid attached at an exec call and not yet seen at a stop? Forget it. */
#include <sys/types.h>
bool notify_visiting(pid_t pid);
void notify_forget(pid_t pid);

#endif
