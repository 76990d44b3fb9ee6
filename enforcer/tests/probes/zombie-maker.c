/* zombie-maker N: make N orphans and check that someone reaps them.
 *
 * For each i: fork a middle child, which forks a grandchild and exits at once;
 * the grandchild waits until it has been re-parented, reports
 * `PID NEWPPID` through a pipe, and exits. The probe reaps the middle
 * children itself; the grandchildren must be reaped by whoever adopted them
 * (PID 1 of the namespace, or the nearest PR_SET_CHILD_SUBREAPER).
 *
 * Prints one `orphan pid=P reparented-to=Q` line per grandchild, then polls
 * /proc/P/stat for up to 5 s and prints `zombies=K` (grandchildren still in
 * state Z); exits 0 iff K == 0. */
#include "probe.h"
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>

static char proc_state(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone: reaped */
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		probe_say("usage: zombie-maker N");
		return PROBE_EXIT_USAGE;
	}
	int n = atoi(argv[1]);
	if (n <= 0 || n > 10000)
		return PROBE_EXIT_USAGE;
	pid_t *orphans = calloc((size_t)n, sizeof *orphans);
	int fds[2];
	if (!orphans || pipe(fds) < 0)
		return 125;
	for (int i = 0; i < n; i++) {
		pid_t mid = fork();
		if (mid < 0) {
			probe_say("fork errno=%s", probe_errno_name(errno));
			return 125;
		}
		if (mid == 0) {
			pid_t me = getpid();
			pid_t gc = fork();
			if (gc == 0) {
				close(fds[0]);
				for (int t = 0; t < 2000 && getppid() == me; t++)
					sleep_ms(1);
				int rec[2] = { (int)getpid(), (int)getppid() };
				if (write(fds[1], rec, sizeof rec) != (ssize_t)sizeof rec)
					_exit(2);
				_exit(0);
			}
			_exit(gc < 0 ? 1 : 0);
		}
		probe_wait("middle", mid);
	}
	close(fds[1]);
	for (int i = 0; i < n; i++) {
		int rec[2];
		ssize_t r;
		while ((r = read(fds[0], rec, sizeof rec)) < 0 && errno == EINTR)
			;
		if (r != (ssize_t)sizeof rec) {
			probe_say("orphan report missing (%d of %d)", i, n);
			return 125;
		}
		orphans[i] = rec[0];
		probe_say("orphan pid=%d reparented-to=%d", rec[0], rec[1]);
	}
	int zombies = 0;
	for (int t = 0; t < 500; t++) {
		zombies = 0;
		for (int i = 0; i < n; i++)
			zombies += proc_state(orphans[i]) == 'Z';
		if (zombies == 0)
			break;
		sleep_ms(10);
	}
	probe_say("zombies=%d", zombies);
	return zombies == 0 ? 0 : 1;
}
