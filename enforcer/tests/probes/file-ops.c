/* file-ops OP ARGS... [OP ARGS...]
 *
 * Tries each file operation in turn and prints `OP ok` or `OP errno=NAME` for
 * each: every way of changing a path the files.readOnly rules must block, plus
 * read-only opens. Paths are used as given (relative ones against the cwd).
 *   write PATH            open(O_WRONLY|O_CREAT|O_TRUNC) and write "x"
 *   append PATH           open(O_WRONLY|O_APPEND)
 *   openat DIR NAME       openat(open(DIR), NAME, O_RDWR)
 *   creat PATH | truncate PATH | ftruncate PATH (opened O_RDWR first)
 *   unlink PATH | unlinkat DIR NAME | rmdir PATH | mkdir PATH | mkdirat DIR NAME | mknod PATH
 *   rename OLD NEW | renameat2 DIR OLD NEW | link OLD NEW | symlink TARGET NEW
 *   tmpfile-link TMPDIR NEWPATH   open(TMPDIR, O_TMPFILE) then linkat(AT_EMPTY_PATH) to NEWPATH
 *   chmod PATH | fchmod PATH | fchmodat DIR NAME | chown PATH | lchown PATH | fchownat DIR NAME
 *   utimes PATH | utimensat PATH | futimens PATH
 *   setxattr PATH | lsetxattr PATH | fsetxattr PATH | removexattr PATH
 *   openat2 PATH          openat2 for writing (expected ENOSYS under file rules)
 *   read PATH             open(O_RDONLY) + read
 *   reads PATH N          N read-only opens (for counting trace stops)
 *   reopen PATH           open(O_RDONLY), then open("/proc/self/fd/N", O_RDWR)
 *   race-write OK BAD N   a thread flips a path buffer between OK and BAD while
 *                         the main thread opens it N times for appending and
 *                         writes "x"; prints `race-write n=N ok=K refused=R`
 */
#include "probe.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int say(const char *op, int rc)
{
	if (rc < 0)
		probe_say("%s errno=%s", op, probe_errno_name(errno));
	else
		probe_say("%s ok", op);
	return rc;
}

static char race_paths[2][4096];
static char race_buf[4096];
static atomic_int race_stop;

static void *flipper(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load(&race_stop); i++)
		memcpy(race_buf, race_paths[i & 1], sizeof race_buf);
	return NULL;
}

static int race_write(char **a)
{
	snprintf(race_paths[0], sizeof race_paths[0], "%s", a[0]);
	snprintf(race_paths[1], sizeof race_paths[1], "%s", a[1]);
	memcpy(race_buf, race_paths[0], sizeof race_buf);
	long n = atol(a[2]), ok = 0, refused = 0;
	pthread_t t;
	pthread_create(&t, NULL, flipper, NULL);
	for (long i = 0; i < n; i++) {
		int fd = open(race_buf, O_WRONLY | O_APPEND);
		if (fd >= 0) {
			ok += write(fd, "x", 1) == 1;
			close(fd);
		} else {
			refused++;
		}
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	probe_say("race-write n=%ld ok=%ld refused=%ld", n, ok, refused);
	return 0;
}

static int dirfd_of(const char *dir)
{
	return open(dir, O_RDONLY | O_DIRECTORY);
}

static int run(const char *op, char **a)
{
	int fd, dfd, rc;
	if (!strcmp(op, "write")) {
		fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0 && write(fd, "x", 1) < 0)
			fd = -1;
		return say(op, fd);
	}
	if (!strcmp(op, "append"))
		return say(op, open(a[0], O_WRONLY | O_APPEND));
	if (!strcmp(op, "openat")) {
		dfd = dirfd_of(a[0]);
		return say(op, openat(dfd, a[1], O_RDWR));
	}
	if (!strcmp(op, "creat"))
		return say(op, creat(a[0], 0644));
	if (!strcmp(op, "truncate"))
		return say(op, truncate(a[0], 0));
	if (!strcmp(op, "ftruncate")) {
		fd = open(a[0], O_RDWR);
		return say(op, fd < 0 ? fd : ftruncate(fd, 0));
	}
	if (!strcmp(op, "unlink"))
		return say(op, unlink(a[0]));
	if (!strcmp(op, "unlinkat"))
		return say(op, unlinkat(dirfd_of(a[0]), a[1], 0));
	if (!strcmp(op, "rmdir"))
		return say(op, rmdir(a[0]));
	if (!strcmp(op, "mkdir"))
		return say(op, mkdir(a[0], 0755));
	if (!strcmp(op, "mkdirat"))
		return say(op, mkdirat(dirfd_of(a[0]), a[1], 0755));
	if (!strcmp(op, "mknod"))
		return say(op, mknod(a[0], S_IFIFO | 0644, 0));
	if (!strcmp(op, "rename"))
		return say(op, rename(a[0], a[1]));
	if (!strcmp(op, "renameat2"))
		return say(op, (int)syscall(SYS_renameat2, dirfd_of(a[0]), a[1], AT_FDCWD, a[2], 0));
	if (!strcmp(op, "link"))
		return say(op, link(a[0], a[1]));
	if (!strcmp(op, "symlink"))
		return say(op, symlink(a[0], a[1]));
	if (!strcmp(op, "tmpfile-link")) {
		fd = open(a[0], O_TMPFILE | O_WRONLY, 0644);
		if (fd < 0)
			return say(op, fd);
		rc = write(fd, "dropped", 7) < 0 ? -1 : linkat(fd, "", AT_FDCWD, a[1], AT_EMPTY_PATH);
		return say(op, rc);
	}
	if (!strcmp(op, "chmod"))
		return say(op, chmod(a[0], 0777));
	if (!strcmp(op, "fchmod")) {
		fd = open(a[0], O_RDONLY);
		return say(op, fd < 0 ? fd : fchmod(fd, 0777));
	}
	if (!strcmp(op, "fchmodat"))
		return say(op, fchmodat(dirfd_of(a[0]), a[1], 0777, 0));
	if (!strcmp(op, "chown"))
		return say(op, chown(a[0], 1, 1));
	if (!strcmp(op, "lchown"))
		return say(op, lchown(a[0], 1, 1));
	if (!strcmp(op, "fchownat"))
		return say(op, fchownat(dirfd_of(a[0]), a[1], 1, 1, 0));
	if (!strcmp(op, "utimes"))
		return say(op, utimes(a[0], NULL));
	if (!strcmp(op, "utimensat"))
		return say(op, utimensat(AT_FDCWD, a[0], NULL, 0));
	if (!strcmp(op, "futimens")) {
		fd = open(a[0], O_RDONLY);
		return say(op, fd < 0 ? fd : futimens(fd, NULL));
	}
	if (!strcmp(op, "setxattr"))
		return say(op, setxattr(a[0], "user.vigil", "1", 1, 0));
	if (!strcmp(op, "lsetxattr"))
		return say(op, lsetxattr(a[0], "user.vigil", "1", 1, 0));
	if (!strcmp(op, "fsetxattr")) {
		fd = open(a[0], O_RDONLY);
		return say(op, fd < 0 ? fd : fsetxattr(fd, "user.vigil", "1", 1, 0));
	}
	if (!strcmp(op, "removexattr"))
		return say(op, removexattr(a[0], "user.vigil"));
	if (!strcmp(op, "openat2")) {
		struct { uint64_t flags, mode, resolve; } how = {O_WRONLY, 0, 0};
		return say(op, (int)syscall(SYS_openat2, AT_FDCWD, a[0], &how, sizeof how));
	}
	if (!strcmp(op, "read")) {
		char buf[64];
		fd = open(a[0], O_RDONLY);
		return say(op, fd < 0 ? fd : (int)read(fd, buf, sizeof buf));
	}
	if (!strcmp(op, "reads")) {
		long n = atol(a[1]);
		for (long i = 0; i < n; i++) {
			fd = open(a[0], O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return say(op, fd);
			close(fd);
		}
		return say(op, 0);
	}
	if (!strcmp(op, "reopen")) {
		char path[64];
		fd = open(a[0], O_RDONLY);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		return say(op, fd < 0 ? fd : open(path, O_RDWR));
	}
	if (!strcmp(op, "race-write"))
		return race_write(a);
	probe_say("unknown op %s", op);
	exit(PROBE_EXIT_USAGE);
}

static int arity(const char *op)
{
	static const char *const two[] = {"openat", "unlinkat", "mkdirat", "rename", "link", "symlink", "tmpfile-link",
					  "fchmodat", "fchownat", "reads"};
	if (!strcmp(op, "renameat2") || !strcmp(op, "race-write"))
		return 3;
	for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
		if (!strcmp(op, two[i]))
			return 2;
	return 1;
}

int main(int argc, char **argv)
{
	int i = 1;
	while (i < argc) {
		int n = arity(argv[i]);
		if (i + n >= argc) {
			probe_say("usage: file-ops OP ARGS... (missing arguments for %s)", argv[i]);
			return PROBE_EXIT_USAGE;
		}
		run(argv[i], argv + i + 1);
		i += n + 1;
	}
	return 0;
}
