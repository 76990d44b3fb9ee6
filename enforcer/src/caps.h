/* Linux capability names as policies write them (NET_RAW, SYS_ADMIN, ... or ALL). */
#ifndef VIGIL_CAPS_H
#define VIGIL_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#define CAPS_ALL UINT64_MAX

/* The capability's bit (1 << number), CAPS_ALL for "ALL", 0 when unknown. */
uint64_t cap_bit(const char *name);

/* Make the enforcer's resource limits unchangeable by the application (prlimit), even when both
 * are root: its saved group id is set apart. Call after the application is forked. */
bool caps_guard_limits(void);

#endif
