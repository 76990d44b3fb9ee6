/* try-exec PATH [ARGS...]: execv(PATH, [PATH, ARGS...]) (no PATH lookup).
 * On failure print `exec errno=NAME` and exit 127 for ENOENT, 126 otherwise. */
#include "probe.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: try-exec PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	execv(argv[1], argv + 1);
	int e = errno;
	probe_say("exec errno=%s", probe_errno_name(e));
	return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
}
