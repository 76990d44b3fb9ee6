/* Shipping events to the Vigil console and fetching its policy
 * (docs/console-protocol.md), on a thread of its own: the tracer only queues
 * lines (ship_queue.h) and picks up new policies when it has a moment. */
#ifndef VIGIL_SHIP_H
#define VIGIL_SHIP_H

#include <stdbool.h>
#include <stddef.h>

struct ship_options {
    const char *console;    /* VIGIL_CONSOLE */
    const char *token;      /* VIGIL_TOKEN */
    const char *ca_path;    /* VIGIL_CONSOLE_CA, default /vigil/ca.pem */
    bool insecure;          /* VIGIL_CONSOLE_INSECURE: allow http:// */
    size_t queue_events;    /* VIGIL_CONSOLE_QUEUE: events kept while the console is away */
};

/* Reads VIGIL_CONSOLE* and VIGIL_TOKEN and removes them from the environment so
 * the application never sees the token. Returns false when no console is set. */
bool ship_options_from_env(struct ship_options *o);

/* Validate the options and start the thread. digest/mode: the policy in force
 * (the one the enforcer starts with). 0, or -1 after saying why on stderr. */
int ship_start(const struct ship_options *o, const char *digest, const char *mode, const char *arch);
bool ship_active(void);

/* Queue one event line (no newline) for the console; never waits. */
void ship_offer(const char *line, size_t len);

/* Before the application starts, with no local policy: wait up to wait_ms for the
 * console's. 1: *text (malloc'd) is the compiled policy; 0: the console has none
 * for this group; -1: no answer in time (err says why). */
int ship_initial_policy(int wait_ms, char **text, size_t *len, char *err, size_t errlen);

/* A policy fetched by the thread and not handed over yet: true with *text
 * (malloc'd) and its digest. */
bool ship_take_policy(char **text, size_t *len, char digest[65]);
/* What the enforcer did with it: applied (now in force) or refused (not fetched
 * again until the console assigns another). */
void ship_policy_result(const char *digest, bool applied, const char *mode);

/* Flush what can be sent within wait_ms, then stop. */
void ship_stop(int wait_ms);

#endif
