/* exit-with N [IGNORED...]: exit with status N (0..255). */
#include "probe.h"
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		probe_say("usage: exit-with N");
		return PROBE_EXIT_USAGE;
	}
	exit(atoi(argv[1]) & 0xff);
}
