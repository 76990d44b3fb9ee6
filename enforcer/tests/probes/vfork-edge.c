/* vfork-edge MODE: a vfork child that does not simply exec.
 *   exit:   the child _exits(7) without exec.
 *   thread: the child starts a thread (sleeps 2 s, then ends the process with
 *           status 5) and its leader thread ends at once: the kernel releases
 *           the parent when that leader ends, not when the process does.
 * Prints `released ms=N` (time the parent spent in vfork), then
 * `vfork status exited=N|signaled=SIG`. */
#include "probe.h"

#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

static char thread_stack[64 * 1024] __attribute__((aligned(16)));

static long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int late_thread(void *arg)
{
	(void)arg;
	struct timespec two = {2, 0};
	syscall(SYS_nanosleep, &two, NULL);
	syscall(SYS_exit_group, 5);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "exit") && strcmp(argv[1], "thread"))) {
		probe_say("usage: vfork-edge exit|thread");
		return PROBE_EXIT_USAGE;
	}
	bool thread = !strcmp(argv[1], "thread");
	long start = ms_now();
	pid_t pid = vfork();
	if (pid < 0) {
		probe_say("vfork errno=%s", probe_errno_name(errno));
		return 125;
	}
	if (pid == 0) {
		if (!thread)
			_exit(7);
		/* clone(2) runs late_thread on its own stack; raw system calls only in it */
		int tid = clone(late_thread, thread_stack + sizeof thread_stack,
				CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
		syscall(SYS_exit, tid < 0 ? 124 : 0); /* this thread only */
	}
	probe_say("released ms=%ld", ms_now() - start);
	return probe_wait("vfork", pid);
}
