/* open-race MODE ... N
 *
 * Races write-opens against a change of what their path names, to show that a
 * read-only file stays untouched whoever wins (files.readOnly without Landlock).
 * Each open that succeeds writes its index ("17\n") and closes the file.
 *   link LINK GOOD BAD N    LINK is a symlink that a thread flips between GOOD
 *                           and BAD (rename-exchange with LINK~) while the main
 *                           thread opens LINK O_WRONLY|O_CREAT|O_TRUNC, N times
 *   buffer GOOD BAD N       a thread rewrites the path string between GOOD and
 *                           BAD while the main thread opens it O_WRONLY|O_TRUNC
 *   create LINK GOOD BAD N  as link, where GOOD and BAD do not exist: the main
 *                           thread opens LINK O_WRONLY|O_CREAT, and removes GOOD
 *                           after each success
 *   rdonly-trunc PATH       open(PATH, O_RDONLY|O_TRUNC): prints the access mode
 *                           the descriptor got and the file's size after
 * Prints `open-race n=N ok=K refused=R last=I` (I: index of the last success, -1
 * for none) and each distinct errno of a refusal as `errno=NAME`.
 */
#include "probe.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static char link_path[4096], alt_path[4096];
static char paths[2][4096], buf[4096];
static atomic_int stop;

static void *flip_link(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop))
		syscall(SYS_renameat2, AT_FDCWD, link_path, AT_FDCWD, alt_path, RENAME_EXCHANGE);
	return NULL;
}

static void *flip_buffer(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		memcpy(buf, paths[i & 1], sizeof buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "rdonly-trunc")) {
		int fd = open(argv[2], O_RDONLY | O_TRUNC);
		if (fd < 0) {
			probe_say("rdonly-trunc errno=%s", probe_errno_name(errno));
			return 0;
		}
		struct stat st;
		fstat(fd, &st);
		int mode = fcntl(fd, F_GETFL) & O_ACCMODE;
		probe_say("rdonly-trunc ok mode=%s size=%lld", mode == O_RDONLY ? "rdonly" : mode == O_RDWR ? "rdwr" : "wronly",
			  (long long)st.st_size);
		return 0;
	}
	bool is_buffer = argc == 5 && !strcmp(argv[1], "buffer");
	bool is_link = argc == 6 && (!strcmp(argv[1], "link") || !strcmp(argv[1], "create"));
	if (!is_buffer && !is_link) {
		fprintf(stderr, "usage: open-race link|create LINK GOOD BAD N | buffer GOOD BAD N | rdonly-trunc PATH\n");
		return PROBE_EXIT_USAGE;
	}
	bool create = !strcmp(argv[1], "create");
	const char *good = argv[is_buffer ? 2 : 3], *bad = argv[is_buffer ? 3 : 4];
	long n = atol(argv[is_buffer ? 4 : 5]), ok = 0, refused = 0, last = -1;
	pthread_t t;
	int flags = O_WRONLY | O_TRUNC;
	const char *target = buf;
	if (is_buffer) {
		snprintf(paths[0], sizeof paths[0], "%s", good);
		snprintf(paths[1], sizeof paths[1], "%s", bad);
		memcpy(buf, paths[0], sizeof buf);
		pthread_create(&t, NULL, flip_buffer, NULL);
	} else {
		snprintf(link_path, sizeof link_path, "%s", argv[2]);
		snprintf(alt_path, sizeof alt_path, "%s~", argv[2]);
		unlink(link_path);
		unlink(alt_path);
		if (symlink(good, link_path) < 0 || symlink(bad, alt_path) < 0) {
			probe_say("setup errno=%s", probe_errno_name(errno));
			return 1;
		}
		flags = create ? O_WRONLY | O_CREAT : O_WRONLY | O_CREAT | O_TRUNC;
		target = link_path;
		pthread_create(&t, NULL, flip_link, NULL);
	}
	int seen[256] = {0};
	for (long i = 0; i < n; i++) {
		int fd = open(target, flags, 0644);
		if (fd < 0) {
			refused++;
			if (errno < 256 && !seen[errno]++)
				probe_say("errno=%s", probe_errno_name(errno));
			continue;
		}
		char line[32];
		int len = snprintf(line, sizeof line, "%ld\n", i);
		if (write(fd, line, (size_t)len) == len) {
			ok++;
			last = i;
		}
		close(fd);
		if (create)
			unlink(good);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	if (is_link) {
		unlink(link_path);
		unlink(alt_path);
	}
	probe_say("open-race n=%ld ok=%ld refused=%ld last=%ld", n, ok, refused, last);
	return 0;
}
