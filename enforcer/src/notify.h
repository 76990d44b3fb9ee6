/* The notify mechanism (--mechanism notify): the application is not traced. Its
 * Landlock layer refuses every program the policy does not allow, in the kernel,
 * and its seccomp filter hands each execve/execveat to the enforcer as a user
 * notification, which the enforcer answers (go on, or EPERM) and reports. Forks,
 * exits and signals of the application cost nothing; an exec costs one round trip. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdbool.h>

struct tracer;

/* The listener the child sends over `sock` once its filter is in (spawn.c); -1 after
 * saying why. Closes sock. */
int notify_receive_listener(int sock);

/* Send the listener to the enforcer (in the child). False when it could not be sent. */
bool notify_send_listener(int sock, int listener);

/* Answer one pending notification on `listener` and write its event. False once
 * the listener has no more processes behind it (POLLHUP). */
void notify_handle(struct tracer *t, int listener);

#endif
