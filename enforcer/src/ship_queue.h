/* The bounded queue between the tracer (producer) and the shipping thread
 * (consumer). Pushing never waits for the network: the lock is held only to
 * move pointers. When the queue is full the oldest events are dropped; their
 * sequence numbers are never reused, and a `dropped` event with the number of
 * sequence numbers lost is queued as soon as there is room, so the console can
 * account for every number (stored, or counted by a dropped event). */
#ifndef VIGIL_SHIP_QUEUE_H
#define VIGIL_SHIP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ship_rec {
    uint64_t seq;
    long long queued_ms;     /* CLOCK_MONOTONIC */
    unsigned long long lost; /* a `dropped` record: the numbers it accounts for; 0 otherwise */
    size_t len;
    char line[];             /* one JSON object, no newline */
};

/* Writes the `dropped` event line for `count` lost numbers into buf; its length. */
typedef size_t (*sq_dropped_fn)(unsigned long long count, char *buf, size_t cap);

/* max_events >= 2, max_bytes >= one line. */
int sq_init(size_t max_events, size_t max_bytes, sq_dropped_fn dropped);

/* Producer. Copies line in with the next sequence number, dropping the oldest
 * events if it must. Never waits for the consumer's network. */
void sq_push(const char *line, size_t len);

/* Consumer. Moves up to max_events consecutive-sequence records, together at
 * most max_bytes of lines, into out (the caller frees them with free()).
 * Returns how many. */
size_t sq_take(struct ship_rec **out, size_t max_events, size_t max_bytes);

/* Consumer. Wait until the queue holds at least `want` events, or until
 * deadline_ms (CLOCK_MONOTONIC), or sq_wake(). */
void sq_wait(size_t want, long long deadline_ms);

/* Consumer. The queued count and the oldest record's queue time (or -1). */
size_t sq_peek(long long *oldest_ms);

/* Wake a waiting consumer (stopping). */
void sq_wake(void);

long long sq_now_ms(void);

#endif
