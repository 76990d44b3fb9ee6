/* Shared helpers for the enforcer test probes.
 *
 * Every probe tries one thing and prints one result line per step, in a fixed
 * shape the tests parse: `STEP ok`, `STEP errno=NAME` or `STEP status exited=N`
 * / `STEP status signaled=SIGNAME`. Output goes through write(2) so it is never
 * lost in a stdio buffer when the process execs or _exits. */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit code a probe uses when the thing it tried was refused by the kernel. */
#define PROBE_EXIT_REFUSED 126
/* Exit code for bad usage of a probe (distinct from every expected result). */
#define PROBE_EXIT_USAGE 64

static inline const char *probe_errno_name(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "UNKNOWN";
}

static inline const char *probe_signal_name(int s)
{
	const char *n = sigabbrev_np(s);
	return n ? n : "UNKNOWN";
}

/* printf to stdout with a single write(2): async-signal and fork/exec safe
 * enough for probes (no shared stdio buffer). */
__attribute__((format(printf, 1, 2))) static inline void probe_say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	ssize_t off = 0;
	while (off < n) {
		ssize_t w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += w;
	}
}

/* Print `STEP status exited=N` or `STEP status signaled=SIG`; return the
 * shell-style code (N or 128+SIG). */
static inline int probe_report_status(const char *step, int status)
{
	if (WIFEXITED(status)) {
		probe_say("%s status exited=%d", step, WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status)) {
		probe_say("%s status signaled=SIG%s", step, probe_signal_name(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	probe_say("%s status other=%#x", step, status);
	return 125;
}

static inline int probe_wait(const char *step, pid_t pid)
{
	int status;
	while (waitpid(pid, &status, __WALL) < 0) {
		if (errno != EINTR) {
			probe_say("%s wait errno=%s", step, probe_errno_name(errno));
			return 125;
		}
	}
	return probe_report_status(step, status);
}

#endif
