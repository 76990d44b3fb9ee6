/* no-landlock ARGS...: run $NO_LANDLOCK_EXEC with ARGS (its argv[0] kept) on "a kernel
 * without Landlock", as on Fargate: landlock_create_ruleset fails with ENOSYS (a seccomp
 * filter of this process and everything it starts), so the enforcer falls back to its
 * ptrace checks alone. Prints `no-landlock errno=NAME` and exits 126 when it cannot. */
#include "probe.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	(void)argc;
	const char *target = getenv("NO_LANDLOCK_EXEC");
	if (!target) {
		probe_say("usage: NO_LANDLOCK_EXEC=PROGRAM no-landlock ARGS...");
		return PROBE_EXIT_USAGE;
	}
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 444 /* landlock_create_ruleset, every arch */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof f / sizeof f[0], f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		probe_say("no-landlock errno=%s", probe_errno_name(errno));
		return PROBE_EXIT_REFUSED;
	}
	execv(target, argv);
	probe_say("no-landlock errno=%s", probe_errno_name(errno));
	return PROBE_EXIT_REFUSED;
}
