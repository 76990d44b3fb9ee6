/* marker FILE: append `marker pid=P exe=PATH` to FILE and exit 0.
 * $VIGIL_MARKER, when set, names the file instead of FILE.
 * Stands in for "a program that must not run": a test asserts FILE is absent. */
#include "probe.h"
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: marker FILE");
		return PROBE_EXIT_USAGE;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n < 0 ? 0 : n] = '\0';
	const char *file = getenv("VIGIL_MARKER");
	if (!file || !*file)
		file = argv[1];
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		probe_say("marker open errno=%s", probe_errno_name(errno));
		return 1;
	}
	char line[PATH_MAX + 64];
	int len = snprintf(line, sizeof line, "marker pid=%d exe=%s\n", (int)getpid(), exe);
	if (write(fd, line, (size_t)len) != len) {
		probe_say("marker write errno=%s", probe_errno_name(errno));
		return 1;
	}
	close(fd);
	probe_say("marker ran");
	return 0;
}
