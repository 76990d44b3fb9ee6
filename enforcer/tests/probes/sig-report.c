/* sig-report: print `ready`, then `got SIGX` for each of TERM INT HUP QUIT
 * USR1 USR2 WINCH it receives; exit 0 right after reporting SIGTERM. */
#include "probe.h"

static const int watched[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
static volatile sig_atomic_t pending[NSIG];

static void on_signal(int sig)
{
	pending[sig] = 1;
}

int main(void)
{
	sigset_t block, old;
	sigemptyset(&block);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof watched / sizeof watched[0]; i++) {
		sigaction(watched[i], &sa, NULL);
		sigaddset(&block, watched[i]);
	}
	/* Handle signals only inside sigsuspend so reporting is race-free. */
	sigprocmask(SIG_BLOCK, &block, &old);
	sigset_t wait_mask = old;
	for (size_t i = 0; i < sizeof watched / sizeof watched[0]; i++)
		sigdelset(&wait_mask, watched[i]);
	probe_say("ready");
	for (;;) {
		sigsuspend(&wait_mask);
		for (size_t i = 0; i < sizeof watched / sizeof watched[0]; i++) {
			int s = watched[i];
			if (!pending[s])
				continue;
			pending[s] = 0;
			probe_say("got SIG%s", probe_signal_name(s));
			if (s == SIGTERM)
				return 0;
		}
	}
}
