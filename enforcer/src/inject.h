/* Running one system call in a traced task on the tracer's behalf, at the
 * syscall-exit stop of one of its own calls: close the descriptor a refused
 * open returned, before the program sees it; install the seccomp filter in an
 * adopted process (adopt_filter.c). */
#ifndef VIGIL_INJECT_H
#define VIGIL_INJECT_H

#include <stdint.h>
#include <sys/types.h>

/* Task tid sits at a syscall-exit stop. Make it run nr(args) now, wait for
 * that call's exit stop, and put every register back as it was (the caller
 * then sets the result it wants). While the call runs, every signal but
 * SIGKILL and SIGSTOP is blocked in the task, so none is taken early: they
 * stay pending and are delivered after, as if they had come a moment later;
 * a SIGSTOP (or group-stop) that comes in between is sent again afterwards,
 * and a fault (the instruction before the stop was no system call) fails at once.
 * Returns 0 with the call's result in *result; -ESRCH when the task died
 * meanwhile (its wait status is left for the trace loop to collect); another
 * -errno when the call could not be run as asked (then the task has been
 * killed: the caller must not count on it). */
int inject_syscall(pid_t tid, long nr, const uint64_t args[6], long *result);
/* Why the last inject_syscall that killed its task gave up (for an event). */
const char *inject_failure(void);

/* Wait for the next stop of tid until deadline_ms (CLOCK_MONOTONIC, inject_now_ms).
 * 1: *status as from waitpid; 0: it exited or was killed (left for the trace
 * loop); -1: no stop in time. */
int inject_next_stop(pid_t tid, int *status, long deadline_ms);
long inject_now_ms(void);

#endif
