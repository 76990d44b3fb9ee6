/* spawn-exec PATH [ARGS...]: posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK),
 * clone3 first where available) and wait. Prints `spawn errno=NAME` when
 * posix_spawn fails, else `spawn status exited=N|signaled=SIG`. */
#include "probe.h"
#include <spawn.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: spawn-exec PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	pid_t pid;
	int rc = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
	if (rc != 0) {
		probe_say("spawn errno=%s", probe_errno_name(rc));
		return rc == ENOENT ? 127 : PROBE_EXIT_REFUSED;
	}
	return probe_wait("spawn", pid);
}
