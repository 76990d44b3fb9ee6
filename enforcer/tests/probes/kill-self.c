/* kill-self SIG: die of signal SIG (a number or a name such as TERM). */
#include "probe.h"
#include <stdlib.h>
#include <sys/resource.h>

static int parse_signal(const char *s)
{
	if (s[0] >= '0' && s[0] <= '9')
		return atoi(s);
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *n = sigabbrev_np(i);
		if (n && strcmp(n, s) == 0)
			return i;
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		probe_say("usage: kill-self SIG");
		return PROBE_EXIT_USAGE;
	}
	int sig = parse_signal(argv[1]);
	if (sig <= 0 || sig >= NSIG) {
		probe_say("kill-self bad signal %s", argv[1]);
		return PROBE_EXIT_USAGE;
	}
	/* No core files from SIGQUIT/SIGSEGV/SIGABRT in the test tree. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	/* Ignored or stopping signals land here; a blocked one cannot. */
	probe_say("kill-self survived SIG%s", probe_signal_name(sig));
	return 125;
}
