/* Processes the enforcer did not start but that live in its PID namespace:
 * `docker exec` and ECS Exec sessions enter the container from outside and are
 * not descendants of PID 1. As PID 1, the enforcer looks for them periodically
 * and adopts them (trace_adopt): traced from then on, their program judged. */
#ifndef VIGIL_FOREIGN_H
#define VIGIL_FOREIGN_H

#include "trace.h"

#define FOREIGN_SCAN_MS 5

void foreign_scan(struct tracer *t);

#endif
