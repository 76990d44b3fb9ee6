/* thread-exec PATH [ARGS...]: execv from a second (non-leader) thread while the
 * leader waits in pthread_join. On failure print `exec errno=NAME`, exit 126. */
#include "probe.h"
#include <pthread.h>

static char **target;

static void *exec_thread(void *unused)
{
	(void)unused;
	execv(target[0], target);
	int e = errno;
	probe_say("exec errno=%s", probe_errno_name(e));
	_exit(e == ENOENT ? 127 : PROBE_EXIT_REFUSED);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: thread-exec PATH [ARGS...]");
		return PROBE_EXIT_USAGE;
	}
	target = argv + 1;
	pthread_t t;
	int rc = pthread_create(&t, NULL, exec_thread, NULL);
	if (rc != 0) {
		probe_say("pthread_create errno=%s", probe_errno_name(rc));
		return 125;
	}
	pthread_join(t, NULL);
	probe_say("thread-exec join returned");
	return 125;
}
