/* JSON Lines events (docs/events.md) and the sink they go to. Writing never
 * blocks the tracer: lines wait in a bounded queue; overflow is counted and
 * reported with a `dropped` event. */
#ifndef VIGIL_EVENTS_H
#define VIGIL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#define EVENT_MAX_LINE 16384
#define EVENT_ARGV_MAX_ARGS 64
#define EVENT_ARGV_MAX_BYTES 4096

struct event {
    char buf[EVENT_MAX_LINE];
    size_t n;
    bool first;
};

/* Starts {"vigil":1,"time":...,"kind":...,"verdict":...  (verdict may be NULL: omitted) */
void event_begin(struct event *e, const char *kind, const char *verdict);
void event_str(struct event *e, const char *key, const char *value); /* NULL => null */
/* A bare JSON object built with the same helpers (a request body): begin, fields, end
 * (closes it and NUL-terminates buf; n excludes the NUL). */
void event_begin_object(struct event *e);
void event_end(struct event *e);
void event_strn(struct event *e, const char *key, const char *value, size_t len);
void event_int(struct event *e, const char *key, long long value);
void event_bool(struct event *e, const char *key, bool value);
/* key: raw JSON value written as is (caller guarantees it is valid JSON). */
void event_raw(struct event *e, const char *key, const char *json);
/* NUL-separated arguments as read from /proc/PID/cmdline; adds argv and argvTruncated. */
void event_argv(struct event *e, const char *args, size_t len, bool cut);
/* JSON array of strings. */
void event_str_array(struct event *e, const char *key, const char *const *items, size_t n);
void event_emit(struct event *e);

/* spec: "stderr", "fd:N" or a file path. Returns 0, or -1 after logging why. */
int events_open(const char *spec);
/* Descriptor to poll for POLLOUT while lines are queued, else -1. */
int events_pending_fd(void);
/* Write what the sink takes now; with wait_ms > 0, keep trying up to that long. */
void events_flush(int wait_ms);

#endif
