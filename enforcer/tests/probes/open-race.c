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
 *   unshared-trunc A B      the main thread holds A open O_WRONLY; a thread with
 *                           its own descriptor table (unshare(CLONE_FILES)) puts
 *                           B, opened O_WRONLY|O_TRUNC, at the same number; prints
 *                           `unshared-trunc same-fd=yes|no a=SIZE b=SIZE`
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
 *   OPEN_RACE_TRAP_FTRUNCATE=1 (every mode) first install a seccomp filter of the
 *                            program's own that answers ftruncate(2) with SIGSYS
 *                            (RET_TRAP), caught: the call does not run
 *   OPEN_RACE_SIBLING_WRITE=1  a third thread writes "W" at offset 0 through any
 *                            descriptor 3-15 that is the BAD file, as soon as it
 *                            appears in the table; prints `sibling writes=W`
 *   OPEN_RACE_CODE_SWAP=1    the opens are made by a system call instruction
 *                            in a writable code page, and a thread replaces that
 *                            instruction by a jump to itself whenever the opener
 *                            sits in a ptrace stop during the call (put back once
 *                            the call returned): a tracer that runs a call in the
 *                            process by rewinding to the instruction the task has
 *                            just run makes it spin in user code instead; the
 *                            opens go on past N rounds (for at most 15 s) until
 *                            the process is ended; prints `code-swap swaps=S`
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
#include <sched.h>

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

/* OPEN_RACE_CODE_SWAP: fn(a0, a1, a2, a3, nr) = syscall nr(a0..a3), from a
 * page the swapper thread rewrites. */
#include <stdint.h>
#include <sys/mman.h>
typedef long (*call_fn)(long, long, long, long, long);
static unsigned char *code;
static size_t insn_at, insn_len;
static unsigned char insn[4], spin[4];
static atomic_int in_call, swapped;
static atomic_long swaps;

static void code_setup(void)
{
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) {
		probe_say("mmap errno=%s", probe_errno_name(errno));
		exit(1);
	}
#if defined(__x86_64__)
	/* mov rax, r8; mov r10, rcx; syscall; ret */
	static const unsigned char fn[] = {0x4c, 0x89, 0xc0, 0x49, 0x89, 0xca, 0x0f, 0x05, 0xc3};
	static const unsigned char jmp_self[] = {0xeb, 0xfe};
	insn_at = 6;
	insn_len = 2;
#else
	/* mov x8, x4; svc #0; ret */
	static const uint32_t fn32[] = {0xaa0403e8u, 0xd4000001u, 0xd65f03c0u};
	static const uint32_t b_self = 0x14000000u;
	unsigned char fn[sizeof fn32], jmp_self[4];
	memcpy(fn, fn32, sizeof fn);
	memcpy(jmp_self, &b_self, sizeof jmp_self);
	insn_at = 4;
	insn_len = 4;
#endif
	memcpy(code, fn, sizeof fn);
	memcpy(insn, code + insn_at, insn_len);
	memcpy(spin, jmp_self, insn_len);
	__builtin___clear_cache((char *)code, (char *)code + sizeof fn);
}

static void put_insn(const unsigned char *bytes)
{
	memcpy(code + insn_at, bytes, insn_len);
	__builtin___clear_cache((char *)code + insn_at, (char *)code + insn_at + insn_len);
}

static char opener_state(void)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)opener_tid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, line, sizeof line - 1);
	close(fd);
	if (n <= 0)
		return '?';
	line[n] = '\0';
	char *end = strrchr(line, ')');
	return end && end[1] == ' ' ? end[2] : '?';
}

static bool opener_stopped(void)
{
	return opener_state() == 't';
}

/* Dekker-style: the opener calls only while swapped is 0, and the swapper
 * rewrites only while in_call is 1 and the opener is stopped (so it has run the
 * instruction already: its only system call in a call is the open). */
static void *swap_code(void *unused)
{
	(void)unused;
	while (!atomic_load(&stop)) {
		if (atomic_load(&swapped)) {
			if (!atomic_load(&in_call)) {
				put_insn(insn);
				atomic_store(&swapped, 0);
			}
			continue;
		}
		atomic_store(&swapped, 1);
		if (atomic_load(&in_call) && opener_stopped()) {
			put_insn(spin);
			atomic_fetch_add(&swaps, 1);
		} else {
			atomic_store(&swapped, 0);
		}
	}
	return NULL;
}

static int open_swapped(const char *path, int flags)
{
	for (;;) {
		while (atomic_load(&swapped))
			;
		atomic_store(&in_call, 1);
		if (atomic_load(&swapped)) {
			atomic_store(&in_call, 0);
			continue;
		}
		long r = ((call_fn)(void *)code)(AT_FDCWD, (long)path, flags, 0644, SYS_openat);
		atomic_store(&in_call, 0);
		if (r < 0) {
			errno = (int)-r;
			return -1;
		}
		return (int)r;
	}
}

static int unshared_a, unshared_b = -1, unshared_errno;
static const char *unshared_b_path;

static void *unshared_open(void *unused)
{
	(void)unused;
	if (unshare(CLONE_FILES) == 0) {
		close(unshared_a);
		unshared_b = open(unshared_b_path, O_WRONLY | O_TRUNC);
		unshared_errno = errno;
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

static void on_sigsys(int sig)
{
	(void)sig;
}

static void trap_ftruncate(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ftruncate, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigsys;
	sigaction(SIGSYS, &sa, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		probe_say("trap-ftruncate errno=%s", probe_errno_name(errno));
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

/* OPEN_RACE_EXEC_ON_SWAP=1 (with OPEN_RACE_CODE_SWAP=1, link mode): the opens
 * run in a second thread; the main thread execs this probe again as
 * `open-race exec-check BAD` once the opener has spun for a while in the
 * instruction swapped under a tracer's close (the exec kills the opener),
 * and the new program prints `exec-check leaked=K`: how many of its
 * descriptors are BAD's file. */
static int run_main(int argc, char **argv);
static int main_argc;
static char **main_argv;

static void *run_main_thread(void *unused)
{
	(void)unused;
	exit(run_main(main_argc, main_argv));
}

static int exec_check(const char *bad)
{
	struct stat b, st;
	int leaked = 0;
	if (stat(bad, &b) == 0)
		for (int fd = 3; fd < 64; fd++)
			if (fstat(fd, &st) == 0 && st.st_dev == b.st_dev && st.st_ino == b.st_ino)
				leaked++;
	probe_say("exec-check leaked=%d", leaked);
	return 0;
}

int main(int argc, char **argv)
{
	const char *env_exec = getenv("OPEN_RACE_EXEC_ON_SWAP");
	if (argc == 3 && !strcmp(argv[1], "exec-check"))
		return exec_check(argv[2]);
	if (!env_exec || strcmp(env_exec, "1") || argc != 6)
		return run_main(argc, argv);
	main_argc = argc;
	main_argv = argv;
	pthread_t opener;
	pthread_create(&opener, NULL, run_main_thread, NULL);
	for (int spinning = 0; spinning < 20;) {
		usleep(1000);
		spinning = atomic_load(&swapped) && atomic_load(&in_call) && opener_state() == 'R' ? spinning + 1 : 0;
	}
	char *args[] = {argv[0], "exec-check", argv[4], NULL};
	execv(argv[0], args);
	probe_say("exec errno=%s", probe_errno_name(errno));
	return 1;
}

static int run_main(int argc, char **argv)
{
	const char *env_deny = getenv("OPEN_RACE_DENY_CLOSE");
	if (env_deny && !strcmp(env_deny, "1"))
		deny_close();
	const char *env_trap = getenv("OPEN_RACE_TRAP_FTRUNCATE");
	if (env_trap && !strcmp(env_trap, "1"))
		trap_ftruncate();
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
	if (argc == 4 && !strcmp(argv[1], "unshared-trunc")) {
		unshared_a = open(argv[2], O_WRONLY);
		unshared_b_path = argv[3];
		pthread_t th;
		if (unshared_a < 0 || pthread_create(&th, NULL, unshared_open, NULL) != 0) {
			probe_say("unshared-trunc errno=%s", probe_errno_name(errno));
			return 1;
		}
		pthread_join(th, NULL);
		struct stat a, b;
		stat(argv[2], &a);
		stat(argv[3], &b);
		if (unshared_b < 0)
			probe_say("unshared-trunc errno=%s a=%lld b=%lld", probe_errno_name(unshared_errno),
				  (long long)a.st_size, (long long)b.st_size);
		else
			probe_say("unshared-trunc same-fd=%s a=%lld b=%lld", unshared_b == unshared_a ? "yes" : "no",
				  (long long)a.st_size, (long long)b.st_size);
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
	const char *env_swap = getenv("OPEN_RACE_CODE_SWAP");
	bool swap = env_swap && !strcmp(env_swap, "1");
	pthread_t swapper;
	if (swap) {
		code_setup();
		opener_tid = (pid_t)syscall(SYS_gettid);
		pthread_create(&swapper, NULL, swap_code, NULL);
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
	/* with the code swap the point is to catch a tracer's close: the swapper
	 * only wins when it reads the opener stopped at the right moment, which
	 * may take more than N rounds on a busy machine; go on (at most 15 s)
	 * until the tracer ends the process */
	struct timespec t_start, t_now;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (long i = 0;; i++) {
		if (i >= n) {
			if (!swap)
				break;
			clock_gettime(CLOCK_MONOTONIC, &t_now);
			if (t_now.tv_sec - t_start.tv_sec >= 15)
				break;
		}
		int fd = swap ? open_swapped(target, flags) : open(target, flags, 0644);
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
	if (swap) {
		pthread_join(swapper, NULL);
		probe_say("code-swap swaps=%ld", atomic_load(&swaps));
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
