/* untraced-exec PATH [ARGS...]: raw clone(CLONE_UNTRACED|SIGCHLD) (fork-like,
 * no new stack), the child execs PATH. A tracer's auto-attach does not follow
 * such a child.
 * Prints `clone errno=NAME` (exit 100) or, from the child, `exec errno=NAME`,
 * then `untraced status exited=N|signaled=SIG`; exits with the child's code. */
#include "probe.h"
#include <sched.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: untraced-exec PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	long pid = syscall(SYS_clone, (unsigned long)(CLONE_UNTRACED | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid < 0) {
		probe_say("clone errno=%s", probe_errno_name(errno));
		return 100;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		int e = errno;
		probe_say("exec errno=%s", probe_errno_name(e));
		_exit(e == ENOENT ? 127 : PROBE_EXIT_REFUSED);
	}
	probe_say("clone ok");
	return probe_wait("untraced", (pid_t)pid);
}
