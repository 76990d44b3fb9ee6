/* no-landlock COMMAND [ARGS...]
 * NO_LANDLOCK_EXEC=PROGRAM no-landlock ARGS...   (PROGRAM gets this argv, argv[0] kept:
 *                                                  a stand-in for the enforcer binary)
 *
 * Runs COMMAND as on a kernel without Landlock (Fargate's): a seccomp filter
 * makes landlock_create_ruleset, landlock_add_rule and landlock_restrict_self
 * fail with ENOSYS, for COMMAND and everything it starts. Lets a test run the
 * enforcer's ptrace-only file checks (mechanisms.files "ptrace") on a machine
 * that has Landlock.
 * With NO_LANDLOCK_OLD_PIDFD=1 pidfd_open(..., PIDFD_THREAD) also fails with
 * EINVAL, as on kernels before 6.9 (Fargate's): only thread-group pidfds. */
#include "probe.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>

int main(int argc, char **argv)
{
	const char *stand_in = getenv("NO_LANDLOCK_EXEC");
	if (argc < 2 && !stand_in) {
		fprintf(stderr, "usage: no-landlock COMMAND [ARGS...]\n");
		return PROBE_EXIT_USAGE;
	}
	/* the three Landlock calls are 444-446 on every architecture, pidfd_open
	 * 434; PIDFD_THREAD is O_EXCL (0200 on both) */
	const char *old_pidfd = getenv("NO_LANDLOCK_OLD_PIDFD");
	unsigned pidfd_nr = old_pidfd && !strcmp(old_pidfd, "1") ? 434 : 0xffffffffu;
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 444, 0, 2),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 446, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, pidfd_nr, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0200, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		/* without CAP_SYS_ADMIN the kernel wants no_new_privs first */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
			perror("no-landlock: seccomp");
			return 1;
		}
	}
	if (stand_in)
		execv(stand_in, argv);
	else
		execvp(argv[1], argv + 1);
	perror("no-landlock: exec");
	return 127;
}
