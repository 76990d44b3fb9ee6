/* fd-exec [--path] PATH [ARGS...]: open PATH (O_RDONLY, or O_PATH with --path)
 * and run it by descriptor: execveat(fd, "", argv, envp, AT_EMPTY_PATH), as
 * fexecve does. No path reaches the exec call. On failure prints
 * `open errno=NAME` (exit 127/126) or `exec errno=NAME` (exit 126/127). */
#include "probe.h"
#include <fcntl.h>
#include <sys/syscall.h>

extern char **environ;

int main(int argc, char **argv)
{
	int arg = 1, flags = O_RDONLY | O_CLOEXEC;
	if (argc > 1 && strcmp(argv[1], "--path") == 0) {
		flags = O_PATH | O_CLOEXEC;
		arg++;
	}
	if (argc <= arg) {
		probe_say("usage: fd-exec [--path] PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	int fd = open(argv[arg], flags);
	if (fd < 0) {
		int e = errno;
		probe_say("open errno=%s", probe_errno_name(e));
		return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
	}
	syscall(SYS_execveat, fd, "", argv + arg, environ, AT_EMPTY_PATH);
	int e = errno;
	probe_say("exec errno=%s", probe_errno_name(e));
	return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
}
