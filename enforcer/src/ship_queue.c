#include "ship_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static struct ship_rec **ring;
static size_t cap_events, cap_bytes, head, count, bytes, want_now;
static uint64_t next_seq = 1;
static unsigned long long lost; /* numbers dropped and not yet accounted for by a queued dropped record */
static sq_dropped_fn make_dropped;
static bool woken;

long long sq_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sq_init(size_t max_events, size_t max_bytes, sq_dropped_fn dropped)
{
    ring = calloc(max_events, sizeof *ring);
    if (!ring)
        return -1;
    cap_events = max_events;
    cap_bytes = max_bytes;
    make_dropped = dropped;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

static struct ship_rec *rec_new(const char *line, size_t len)
{
    struct ship_rec *r = malloc(sizeof *r + len);
    if (r) {
        memcpy(r->line, line, len);
        r->len = len;
        r->lost = 0;
        r->queued_ms = sq_now_ms();
    }
    return r;
}

/* Locked. The oldest record goes; its number (and those a dropped record
 * accounted for) are lost. */
static void drop_oldest(void)
{
    struct ship_rec *r = ring[head];
    ring[head] = NULL;
    head = (head + 1) % cap_events;
    count--;
    bytes -= r->len;
    lost += 1 + r->lost;
    free(r);
}

static void append(struct ship_rec *r)
{
    r->seq = next_seq++;
    ring[(head + count) % cap_events] = r;
    count++;
    bytes += r->len;
}

/* Locked. Queue a dropped record for what was lost, if there is room for it
 * without dropping anything else (else the count keeps growing). */
static void account_lost(void)
{
    if (!lost || !make_dropped || count + 1 >= cap_events)
        return;
    char line[256];
    size_t n = make_dropped(lost, line, sizeof line);
    if (n == 0 || n > sizeof line || bytes + n > cap_bytes)
        return;
    struct ship_rec *r = rec_new(line, n);
    if (!r)
        return;
    r->lost = lost;
    lost = 0;
    append(r);
}

void sq_push(const char *line, size_t len)
{
    if (!ring)
        return;
    struct ship_rec *r = len <= cap_bytes ? rec_new(line, len) : NULL;
    pthread_mutex_lock(&lock);
    account_lost();
    if (r) {
        while (count > 0 && (count == cap_events || bytes + len > cap_bytes))
            drop_oldest();
        append(r);
        if (want_now && count >= want_now)
            pthread_cond_signal(&cond);
    } else {
        next_seq++; /* the line cannot be queued: its number is lost */
        lost++;
    }
    pthread_mutex_unlock(&lock);
}

size_t sq_take(struct ship_rec **out, size_t max_events, size_t max_bytes)
{
    size_t n = 0, taken_bytes = 0;
    pthread_mutex_lock(&lock);
    while (n < max_events && count > 0) {
        struct ship_rec *r = ring[head];
        if (n > 0 && (r->seq != out[n - 1]->seq + 1 || taken_bytes + r->len > max_bytes))
            break;
        ring[head] = NULL;
        head = (head + 1) % cap_events;
        count--;
        bytes -= r->len;
        taken_bytes += r->len;
        out[n++] = r;
    }
    account_lost(); /* room again: say what was lost before the queue fills up anew */
    pthread_mutex_unlock(&lock);
    return n;
}

void sq_wait(size_t want, long long deadline_ms)
{
    pthread_mutex_lock(&lock);
    want_now = want;
    while (count < want && !woken) {
        long long now = sq_now_ms();
        if (now >= deadline_ms)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long left = deadline_ms - now;
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
            break;
    }
    woken = false;
    want_now = 0;
    pthread_mutex_unlock(&lock);
}

size_t sq_peek(long long *oldest_ms)
{
    pthread_mutex_lock(&lock);
    size_t n = count;
    *oldest_ms = count ? ring[head]->queued_ms : -1;
    pthread_mutex_unlock(&lock);
    return n;
}

void sq_wake(void)
{
    pthread_mutex_lock(&lock);
    woken = true;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}
