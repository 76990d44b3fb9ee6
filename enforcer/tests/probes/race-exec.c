/* race-exec ALLOWED DENIED N MARKER [fork|vfork]
 *
 * Path TOCTOU race: N exec attempts of a path buffer that a sibling thread
 * flips between ALLOWED and DENIED in a tight loop. Every attempt execs with
 * argv = [path, MARKER], so a `marker` program as DENIED appends a line to
 * MARKER each time it really runs.
 *
 * fork (default): per attempt, fork; the child starts its own flipper thread
 *   and execs the shared buffer (the racing thread is in the exec'ing process).
 * vfork: one flipper thread in this process; per attempt vfork, and the child
 *   execs the buffer the parent's thread keeps flipping (shared memory).
 *
 * Give ALLOWED and DENIED the same length, differing in one byte, so every
 * read of the buffer is one of the two paths (a torn mix would just fail).
 *
 * Prints `race attempts=N exited0=A refused=R killed126=K other=O denied_ran=D`
 * where denied_ran counts the lines in MARKER; exits 0 iff D == 0. */
#include "probe.h"
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

static char path_buf[PATH_MAX];
static const char *paths[2];
static size_t path_len[2];
static atomic_int stop_flipping;
static atomic_uint flips;
static char *exec_argv[3];

static void *flipper(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load_explicit(&stop_flipping, memory_order_relaxed); i++) {
		unsigned k = i & 1;
		/* Byte-wise, volatile: the kernel may copy a torn mix; fine. */
		volatile char *dst = path_buf;
		for (size_t j = 0; j <= path_len[k]; j++)
			dst[j] = paths[k][j];
		atomic_store_explicit(&flips, i + 1, memory_order_relaxed);
	}
	return NULL;
}

static long count_lines(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	long lines = 0;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		probe_say("usage: race-exec ALLOWED DENIED N MARKER [fork|vfork]");
		return PROBE_EXIT_USAGE;
	}
	paths[0] = argv[1];
	paths[1] = argv[2];
	path_len[0] = strlen(argv[1]);
	path_len[1] = strlen(argv[2]);
	if (path_len[0] >= PATH_MAX || path_len[1] >= PATH_MAX)
		return PROBE_EXIT_USAGE;
	long n = atol(argv[3]);
	/* marker prefers VIGIL_MARKER, which the race cannot tear. */
	setenv("VIGIL_MARKER", argv[4], 1);
	int use_vfork = argc == 6 && strcmp(argv[5], "vfork") == 0;
	memcpy(path_buf, paths[0], path_len[0] + 1);
	/* argv[0] is not the racing buffer: a torn argv would hide MARKER. */
	exec_argv[0] = "race-target";
	exec_argv[1] = argv[4];
	exec_argv[2] = NULL;

	pthread_t t;
	if (use_vfork && pthread_create(&t, NULL, flipper, NULL) != 0) {
		probe_say("race pthread_create failed");
		return 125;
	}
	long exited0 = 0, refused = 0, killed126 = 0, other = 0;
	for (long i = 0; i < n; i++) {
		pid_t pid = use_vfork ? vfork() : fork();
		if (pid < 0) {
			other++;
			continue;
		}
		if (pid == 0) {
			pthread_t ct;
			if (!use_vfork && pthread_create(&ct, NULL, flipper, NULL) != 0)
				_exit(124);
			/* Let the flipper run a varying number of rounds first. */
			unsigned start = atomic_load(&flips);
			while (atomic_load(&flips) - start < 1 + (unsigned)(i % 8))
				sched_yield();
				;
			execv(path_buf, exec_argv);
			_exit(100); /* the kernel refused this exec */
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			exited0++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
			refused++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
			killed126++;
		else
			other++;
	}
	if (use_vfork) {
		atomic_store(&stop_flipping, 1);
		pthread_join(t, NULL);
	}
	long denied_ran = count_lines(argv[4]);
	probe_say("race attempts=%ld exited0=%ld refused=%ld killed126=%ld other=%ld denied_ran=%ld", n,
		  exited0, refused, killed126, other, denied_ran);
	return denied_ran == 0 ? 0 : 1;
}
