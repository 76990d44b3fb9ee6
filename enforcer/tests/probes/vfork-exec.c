/* vfork-exec PATH [ARGS...]: vfork, execv in the child, wait.
 * Prints `exec errno=NAME` if the child's execv failed, then
 * `vfork status exited=N|signaled=SIG`; exits with the child's code. */
#include "probe.h"

static volatile int child_errno;

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: vfork-exec PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	pid_t pid = vfork();
	if (pid < 0) {
		probe_say("vfork errno=%s", probe_errno_name(errno));
		return 125;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		child_errno = errno; /* shared memory: the parent reads it */
		_exit(child_errno == ENOENT ? 127 : PROBE_EXIT_REFUSED);
	}
	if (child_errno)
		probe_say("exec errno=%s", probe_errno_name(child_errno));
	return probe_wait("vfork", pid);
}
