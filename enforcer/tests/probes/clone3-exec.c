/* clone3-exec [--untraced] PATH [ARGS...]: raw clone3 (fork-like: no stack,
 * exit_signal SIGCHLD, flags 0 or CLONE_UNTRACED), the child execs PATH.
 * Prints `clone3 errno=NAME` (exit 100) or `clone3 ok`, the child's
 * `exec errno=NAME` if its exec failed, then `clone3 status ...`. */
#include "probe.h"
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

int main(int argc, char **argv)
{
	int arg = 1;
	uint64_t flags = 0;
	if (argc > 1 && strcmp(argv[1], "--untraced") == 0) {
		flags = CLONE_UNTRACED;
		arg++;
	}
	if (argc <= arg) {
		probe_say("usage: clone3-exec [--untraced] PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	struct clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = flags;
	ca.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid < 0) {
		probe_say("clone3 errno=%s", probe_errno_name(errno));
		return 100;
	}
	if (pid == 0) {
		execv(argv[arg], argv + arg);
		int e = errno;
		probe_say("exec errno=%s", probe_errno_name(e));
		_exit(e == ENOENT ? 127 : PROBE_EXIT_REFUSED);
	}
	probe_say("clone3 ok");
	return probe_wait("clone3", (pid_t)pid);
}
