/* listener-exec [--untraced] PATH [ARGS...]
 *
 * The seccomp-notify preemption attack: install our own seccomp filter that
 * returns SECCOMP_RET_USER_NOTIF for execve/execveat, with a supervisor thread
 * that answers every notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE, then
 * exec PATH. USER_NOTIF outranks a tracer's RET_TRACE, so a seccomp-stop based
 * tracer never sees the exec; the enforcer must still decide.
 * With --untraced the whole thing happens in a clone(CLONE_UNTRACED) child.
 *
 * Prints `seccomp errno=NAME` (exit 101) if the listener cannot be installed,
 * `clone errno=NAME` (exit 100), `exec errno=NAME` (exit 126/127) on failure. */
#include "probe.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define PROBE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define PROBE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "listener-exec: unsupported architecture"
#endif

static int listener_fd = -1;

static void *supervisor(void *unused)
{
	(void)unused;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	for (;;) {
		memset(&req, 0, sizeof req);
		if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static int install_listener(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROBE_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	listener_fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return listener_fd < 0 ? -1 : 0;
}

static int listen_and_exec(char **target)
{
	if (install_listener() < 0) {
		probe_say("seccomp errno=%s", probe_errno_name(errno));
		return 101;
	}
	pthread_t t;
	int rc = pthread_create(&t, NULL, supervisor, NULL);
	if (rc != 0) {
		probe_say("pthread_create errno=%s", probe_errno_name(rc));
		return 125;
	}
	probe_say("listener ok");
	execv(target[0], target);
	int e = errno;
	probe_say("exec errno=%s", probe_errno_name(e));
	return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
}

int main(int argc, char **argv)
{
	int arg = 1, untraced = 0;
	if (argc > 1 && strcmp(argv[1], "--untraced") == 0) {
		untraced = 1;
		arg++;
	}
	if (argc <= arg) {
		probe_say("usage: listener-exec [--untraced] PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	if (!untraced)
		return listen_and_exec(argv + arg);
	long pid = syscall(SYS_clone, (unsigned long)(CLONE_UNTRACED | SIGCHLD), NULL, NULL, NULL, NULL);
	if (pid < 0) {
		probe_say("clone errno=%s", probe_errno_name(errno));
		return 100;
	}
	if (pid == 0)
		_exit(listen_and_exec(argv + arg));
	probe_say("clone ok");
	return probe_wait("untraced", (pid_t)pid);
}
