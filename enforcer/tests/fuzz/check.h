/* CHECK(cond): abort with the failed condition, for libFuzzer to keep the input. */
#ifndef VIGIL_FUZZ_CHECK_H
#define VIGIL_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s: check failed: %s (%s:%d)\n", __func__, #cond, __FILE__, \
				__LINE__);                                                        \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

#endif
