/* exec-chain COUNT THREADS: start THREADS threads that only wait, then execv
 * itself from the leader with COUNT-1, until COUNT is 0: then print
 * `chain done` and exit 0. A process that spends most of its life in execve
 * (more so with a large environment, which every execve copies), and, with
 * THREADS > 0, in execve's wait for its other threads to be gone. */
#include "probe.h"
#include <pthread.h>
#include <stdlib.h>

static void *wait_forever(void *unused)
{
	(void)unused;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		probe_say("usage: exec-chain COUNT THREADS");
		return PROBE_EXIT_USAGE;
	}
	long count = strtol(argv[1], NULL, 10), threads = strtol(argv[2], NULL, 10);
	if (count <= 0) {
		probe_say("chain done");
		return 0;
	}
	for (long i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, wait_forever, NULL) != 0) {
			probe_say("pthread_create failed");
			return 125;
		}
	}
	char next[24];
	snprintf(next, sizeof next, "%ld", count - 1);
	char *args[] = {argv[0], next, argv[2], NULL};
	execv("/proc/self/exe", args);
	probe_say("exec errno=%s", probe_errno_name(errno));
	return PROBE_EXIT_REFUSED;
}
