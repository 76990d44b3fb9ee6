/* fork-loop N PATH [ARGS...]: N times fork + execv(PATH) + wait.
 * A child that does not exit 0 counts as a failure.
 * Prints `fork-loop n=N failures=F` (and the first failure); exits 0 iff F == 0. */
#include "probe.h"
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		probe_say("usage: fork-loop N PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	long n = atol(argv[1]);
	long failures = 0;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			if (failures++ == 0)
				probe_say("fork-loop first failure i=%ld fork errno=%s", i, probe_errno_name(errno));
			continue;
		}
		if (pid == 0) {
			execv(argv[2], argv + 2);
			_exit(errno == ENOENT ? 127 : PROBE_EXIT_REFUSED);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			if (failures++ == 0)
				probe_report_status("fork-loop first failure", status);
		}
	}
	probe_say("fork-loop n=%ld failures=%ld", n, failures);
	return failures == 0 ? 0 : 1;
}
