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
 *   loop trunc|append PATH N  no race: N allowed opens (O_WRONLY|O_TRUNC or
 *                           O_WRONLY|O_APPEND) + write + close; prints
 *                           `loop n=N ns-per-open=T` (for measuring the cost)
 * Prints `open-race n=N ok=K refused=R last=I` (I: index of the last success, -1
 * for none) and each distinct errno of a refusal as `errno=NAME`.
 * Environment, for link/buffer/create:
 *   OPEN_RACE_DENY_CLOSE=1   (every mode) first install a seccomp filter of the
 *                            program's own that refuses close(2) (EPERM): the probe
 *                            closes with close_range(2); a tracer closing a
 *                            refused file in the process fails
 *   OPEN_RACE_SIBLING_WRITE=1  a third thread writes "W" at offset 0 through any
 *                            descriptor 3-15 that is the BAD file, as soon as it
 *                            appears in the table; prints `sibling writes=W`
 *   OPEN_RACE_SIGNALS=1      a thread queues real-time signals (SIGRTMIN, each one
 *                            delivered on its own) to the opening thread all along;
 *                            prints `signals sent=S got=G` (G < S: some were lost)
 */
#include "probe.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static char link_path[4096], alt_path[4096];
static char paths[2][4096], buf[4096];
static atomic_int stop;

static dev_t bad_dev;
static ino_t bad_ino;
static atomic_long sibling_writes;

/* The residual window: between the kernel installing the descriptor and the
 * tracer closing it, another thread of the process can use it. */
static void *write_through(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		for (int fd = 3; fd < 16; fd++) {
			struct stat st;
			if (fstat(fd, &st) == 0 && st.st_ino == bad_ino && st.st_dev == bad_dev && pwrite(fd, "W", 1, 0) == 1)
				atomic_fetch_add(&sibling_writes, 1);
		}
	}
	return NULL;
}

static pid_t opener_tid;
static atomic_long signals_sent, signals_got;

static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_got, 1);
}

static void *send_signals(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		if (syscall(SYS_tgkill, getpid(), opener_tid, SIGRTMIN) == 0)
			atomic_fetch_add(&signals_sent, 1);
		usleep(50); /* under ptrace each signal is a stop: a storm would starve the opener */
	}
	return NULL;
}

static void deny_close(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		probe_say("deny-close errno=%s", probe_errno_name(errno));
}

static void close_fd(int fd)
{
	syscall(SYS_close_range, fd, fd, 0);
}

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
	const char *env_deny = getenv("OPEN_RACE_DENY_CLOSE");
	if (env_deny && !strcmp(env_deny, "1"))
		deny_close();
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
	if (argc == 5 && !strcmp(argv[1], "loop")) {
		int lflags = O_WRONLY | (strcmp(argv[2], "trunc") ? O_APPEND : O_TRUNC);
		long ln = atol(argv[4]);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < ln; i++) {
			int fd = open(argv[3], lflags);
			if (fd < 0 || write(fd, "x", 1) != 1) {
				probe_say("loop errno=%s", probe_errno_name(errno));
				return 1;
			}
			close_fd(fd);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
		probe_say("loop n=%ld ns-per-open=%lld", ln, ln ? ns / ln : 0);
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
	const char *env_sibling = getenv("OPEN_RACE_SIBLING_WRITE");
	bool sibling = env_sibling && !strcmp(env_sibling, "1");
	pthread_t writer, sender;
	struct stat bst;
	const char *env_signals = getenv("OPEN_RACE_SIGNALS");
	bool signals = env_signals && !strcmp(env_signals, "1");
	if (signals) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_rt;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGRTMIN, &sa, NULL);
		opener_tid = (pid_t)syscall(SYS_gettid);
		pthread_create(&sender, NULL, send_signals, NULL);
	}
	if (sibling && stat(bad, &bst) == 0) {
		bad_dev = bst.st_dev;
		bad_ino = bst.st_ino;
		pthread_create(&writer, NULL, write_through, NULL);
	} else {
		sibling = false;
	}

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
		close_fd(fd);
		if (create)
			unlink(good);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	if (signals) {
		pthread_join(sender, NULL);
		/* every queued signal is delivered before the next instruction once
		 * unblocked; give stragglers a moment anyway */
		for (int i = 0; i < 100 && atomic_load(&signals_got) < atomic_load(&signals_sent); i++)
			usleep(10000);
		probe_say("signals sent=%ld got=%ld", atomic_load(&signals_sent), atomic_load(&signals_got));
	}
	if (sibling) {
		pthread_join(writer, NULL);
		probe_say("sibling writes=%ld", atomic_load(&sibling_writes));
	}
	if (is_link) {
		unlink(link_path);
		unlink(alt_path);
	}
	probe_say("open-race n=%ld ok=%ld refused=%ld last=%ld", n, ok, refused, last);
	return 0;
}
