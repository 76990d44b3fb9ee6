/* The common fields of an event about a process (docs/events.md). */
#ifndef VIGIL_EVENT_PROC_H
#define VIGIL_EVENT_PROC_H

#include <sys/types.h>

#include "events.h"

/* pid (the process, i.e. the thread group of task tid), ppid, uid, exe, argv, argvTruncated, cwd. */
void event_process_fields(struct event *e, pid_t tid);

/* "network.connect.deny[1]" or "files.readOnly" into buf. */
const char *event_rule_name(const char *key, int index, char *buf, size_t len);

#endif
