#include "ship.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "events.h"
#include "http_client.h"
#include "json_scan.h"
#include "log.h"
#include "policy.h"
#include "sha256.h"
#include "ship_queue.h"
#include "trust.h"
#include "url.h"
#include "version.h"

#define DEFAULT_CA "/vigil/ca.pem"
#define DEFAULT_QUEUE_EVENTS 10000
#define QUEUE_BYTES_PER_EVENT 1024 /* byte budget: events * this (a typical line is 300-600 bytes) */
#define MAX_BATCH_EVENTS 1000
#define MAX_BATCH_BYTES (1u << 20)
#define CONNECT_MS 5000
#define IO_MS 10000
#define BACKOFF_MAX_MS 60000
#define BATCH_DELAY_MS 1000

/* Everything below is the thread's own, except what `lock` guards. */
static struct ship_options opts;
static struct url url;
static struct trust trust;
static struct http_client client;
static pthread_t thread;
static bool active;
static char instance[40], arch_name_[8], token_header[512];
static char meta_task[1025], meta_container[257], meta_image[1025];

/* Registration. */
static bool registered;
static char key_header[512];
static int poll_ms = 30000;
static size_t batch_events = MAX_BATCH_EVENTS, batch_bytes = MAX_BATCH_BYTES;

/* Failures and backoff: one schedule for the whole console. */
static int fail_streak;
static long long retry_at;
static bool given_up; /* the console refused us for good (bad token, protocol): events are discarded */

/* The batch in flight: recs[off .. n) still to send, `span` of them per request. */
static struct ship_rec *recs[MAX_BATCH_EVENTS];
static size_t rec_n, rec_off, rec_span;

/* Shared with the main thread. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static char digest_in_force[65], digest_refused[65], mode_in_force[8];
static char *pending_text;
static size_t pending_len;
static char pending_digest[65];
static int initial_state = -2; /* -2: waiting; 1: policy; 0: none assigned; -1: failed, see initial_err */
static char initial_err[256];
static bool stopping, done;
static long long stop_deadline;

static long long jitter(long long ms)
{
    unsigned r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned)sq_now_ms();
    return ms * 8 / 10 + (long long)(r % (unsigned)(ms * 4 / 10 + 1));
}

/* A request failed: back off (1 s doubling to 60 s, jittered; longer if the
 * console asked for it with Retry-After). */
static void failed_after(const char *what, const char *why, int retry_after_s)
{
    long long delay = 1000LL << (fail_streak < 6 ? fail_streak : 6), now = sq_now_ms();
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    if (fail_streak++ == 0) /* said once per outage; succeeded() says when it is over */
        log_msg("console: %s: %s (retrying with backoff; events wait in a queue of %zu)", what, why,
                opts.queue_events);
    retry_at = now + jitter(delay);
    if (retry_after_s > 0 && retry_after_s <= 3600 && now + retry_after_s * 1000LL > retry_at)
        retry_at = now + retry_after_s * 1000LL;
}

static void failed(const char *what, const char *why)
{
    failed_after(what, why, -1);
}

static void succeeded(void)
{
    if (fail_streak > 0)
        log_msg("console: reachable again");
    fail_streak = 0;
    retry_at = 0;
}

static bool retryable(int status)
{
    return status == 429 || status >= 500 || status == 408;
}

/* The console's {"error": "..."} message, for the log. */
static const char *error_of(const struct http_response *r, char *buf, size_t len)
{
    if (json_get_string(r->body, r->body_len, "error", buf, len) < 0)
        snprintf(buf, len, "HTTP %d", r->status);
    return buf;
}

static void read_metadata(void)
{
    const char *base = getenv("ECS_CONTAINER_METADATA_URI_V4");
    if (!base || !*base)
        return;
    struct url mu;
    char err[256];
    int bad = url_parse(base, &mu, err, sizeof err);
    if (bad < 0 || mu.tls) {
        log_msg("ECS_CONTAINER_METADATA_URI_V4 %s: %s", base, bad < 0 ? err : "expected an http:// URL");
        return;
    }
    struct http_client mc;
    if (http_client_init(&mc, &mu, NULL, 2000, 2000) < 0)
        return;
    struct http_response r;
    if (http_request(&mc, "GET", "", NULL, NULL, 0, 256 * 1024, &r, err, sizeof err) == 0 && r.status == 200) {
        json_get_string(r.body, r.body_len, "Name", meta_container, sizeof meta_container);
        json_get_string(r.body, r.body_len, "Image", meta_image, sizeof meta_image);
    } else {
        log_msg("ECS task metadata (container): %s", r.status ? "unexpected answer" : err);
    }
    if (http_request(&mc, "GET", "/task", NULL, NULL, 0, 512 * 1024, &r, err, sizeof err) == 0 && r.status == 200)
        json_get_string(r.body, r.body_len, "TaskARN", meta_task, sizeof meta_task);
    else
        log_msg("ECS task metadata (task): %s", r.status ? "unexpected answer" : err);
    http_client_free(&mc);
}

static void str_or_null(struct event *e, const char *k, const char *v)
{
    event_str(e, k, v && *v ? v : NULL);
}

/* POST /register. 0 registered, -1 failed (backoff set), -2 refused for good. */
static int do_register(void)
{
    struct event body;
    char host[257] = "", digest[65], mode[8];
    gethostname(host, sizeof host - 1);
    pthread_mutex_lock(&lock);
    memcpy(digest, digest_in_force, sizeof digest);
    memcpy(mode, mode_in_force, sizeof mode);
    pthread_mutex_unlock(&lock);
    event_begin_object(&body);
    event_int(&body, "protocol", 1);
    event_str(&body, "instance", instance);
    str_or_null(&body, "taskArn", meta_task);
    str_or_null(&body, "container", meta_container);
    str_or_null(&body, "image", meta_image);
    event_str(&body, "version", VIGIL_VERSION);
    event_str(&body, "arch", arch_name_);
    event_str(&body, "mode", mode);
    str_or_null(&body, "policyDigest", digest);
    str_or_null(&body, "hostname", host);
    event_end(&body);

    struct http_response r;
    char err[256], msg[200];
    if (http_request(&client, "POST", "/api/v1/enforcer/register", token_header, body.buf, body.n, 64 * 1024, &r,
                     err, sizeof err) < 0) {
        failed("cannot register", err);
        return -1;
    }
    if (retryable(r.status)) {
        failed_after("cannot register", error_of(&r, msg, sizeof msg), r.retry_after);
        return -1;
    }
    if (r.status != 200) {
        log_msg("console: registration refused (%s)%s; events go to stderr only", error_of(&r, msg, sizeof msg),
                r.status == 401 ? ": check VIGIL_TOKEN (wrong or revoked enrollment token)" : "");
        return -2;
    }
    char key[300];
    long long v;
    if (json_get_string(r.body, r.body_len, "enforcerKey", key, sizeof key) < 0) {
        failed("cannot register", "the answer has no enforcerKey");
        return -1;
    }
    snprintf(key_header, sizeof key_header, "Authorization: Bearer %s\r\n", key);
    if (json_get_int(r.body, r.body_len, "policy.pollSeconds", &v) == 0 && v >= 1 && v <= 3600)
        poll_ms = (int)v * 1000;
    if (json_get_int(r.body, r.body_len, "events.maxBatchEvents", &v) == 0 && v >= 1)
        batch_events = v < MAX_BATCH_EVENTS ? (size_t)v : MAX_BATCH_EVENTS;
    if (json_get_int(r.body, r.body_len, "events.maxBatchBytes", &v) == 0 && v >= 4096)
        batch_bytes = v < MAX_BATCH_BYTES ? (size_t)v : MAX_BATCH_BYTES;
    registered = true;
    succeeded();
    return 0;
}

static void set_initial(int state, const char *why)
{
    pthread_mutex_lock(&lock);
    if (initial_state == -2) {
        initial_state = state;
        if (why)
            snprintf(initial_err, sizeof initial_err, "%s", why);
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
}

/* GET /policy. 0 done (whatever the answer), -1 failed (backoff set). */
static int poll_policy(void)
{
    char headers[700], digest[65], refused[65];
    pthread_mutex_lock(&lock);
    memcpy(digest, digest_in_force, sizeof digest);
    memcpy(refused, digest_refused, sizeof refused);
    pthread_mutex_unlock(&lock);
    snprintf(headers, sizeof headers, "%sIf-None-Match: \"%s\"\r\n", key_header, digest);
    struct http_response r;
    char err[256], msg[200];
    if (http_request(&client, "GET", "/api/v1/enforcer/policy", headers, NULL, 0, POLICY_MAX_BYTES, &r, err,
                     sizeof err) < 0) {
        failed("cannot fetch the policy", err);
        return -1;
    }
    if (r.poll_seconds >= 1 && r.poll_seconds <= 3600)
        poll_ms = r.poll_seconds * 1000;
    if (r.status == 401) {
        registered = false;
        failed("cannot fetch the policy", "the enforcer key was refused (401): registering again");
        return -1;
    }
    if (retryable(r.status)) {
        failed_after("cannot fetch the policy", error_of(&r, msg, sizeof msg), r.retry_after);
        return -1;
    }
    succeeded();
    if (r.status == 304 || r.status == 204) {
        set_initial(0, NULL);
        return 0;
    }
    if (r.status != 200) {
        log_msg("console: unexpected answer to the policy request: %s", error_of(&r, msg, sizeof msg));
        return 0;
    }
    char got[65];
    sha256_hex(r.body, r.body_len, got);
    if (strcmp(got, r.etag)) {
        log_msg("console: the policy's ETag is not the SHA-256 of its body: ignored");
        return 0;
    }
    if (!strcmp(got, digest) || !strcmp(got, refused)) {
        set_initial(0, NULL);
        return 0;
    }
    char *copy = malloc(r.body_len + 1);
    if (!copy)
        return 0;
    memcpy(copy, r.body, r.body_len);
    copy[r.body_len] = '\0';
    pthread_mutex_lock(&lock);
    free(pending_text);
    pending_text = copy;
    pending_len = r.body_len;
    memcpy(pending_digest, got, sizeof got);
    if (initial_state == -2) {
        initial_state = 1;
        pthread_cond_broadcast(&changed);
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

/* How many of recs[off ..) the next request takes: within the batch limits (the
 * byte limit shrinks after a 413). */
static size_t fit_span(void)
{
    size_t n = 0, total = 0;
    while (rec_off + n < rec_n && n < batch_events) {
        total += recs[rec_off + n]->len + 1;
        if (n > 0 && total > batch_bytes)
            break;
        n++;
    }
    return n;
}

static void free_batch(size_t upto)
{
    for (size_t i = rec_off; i < upto; i++)
        free(recs[i]);
    rec_off = upto;
    if (rec_off == rec_n)
        rec_n = rec_off = rec_span = 0;
    else
        rec_span = fit_span();
}

/* POST /events with recs[off .. off+span). */
static void send_batch(void)
{
    size_t total = 64;
    for (size_t i = rec_off; i < rec_off + rec_span; i++)
        total += recs[i]->len + 1;
    char *body = malloc(total);
    if (!body)
        return;
    int n = snprintf(body, total, "{\"seq\":%llu,\"events\":[", (unsigned long long)recs[rec_off]->seq);
    size_t len = (size_t)n;
    for (size_t i = rec_off; i < rec_off + rec_span; i++) {
        if (i > rec_off)
            body[len++] = ',';
        memcpy(body + len, recs[i]->line, recs[i]->len);
        len += recs[i]->len;
    }
    memcpy(body + len, "]}", 2);
    len += 2;
    struct http_response r;
    char err[256], msg[200];
    int rc = http_request(&client, "POST", "/api/v1/enforcer/events", key_header, body, len, 64 * 1024, &r, err,
                          sizeof err);
    free(body);
    unsigned long long first = recs[rec_off]->seq, last = recs[rec_off + rec_span - 1]->seq;
    if (rc < 0) {
        failed("cannot send events", err);
    } else if (r.status == 200) {
        succeeded();
        free_batch(rec_off + rec_span);
    } else if (r.status == 401) {
        registered = false;
        failed("cannot send events", "the enforcer key was refused (401): registering again");
    } else if (r.status == 413 && rec_span > 1) { /* too large for the console (or a proxy): halve, and remember */
        rec_span /= 2;
        size_t bytes = 64;
        for (size_t i = rec_off; i < rec_off + rec_span; i++)
            bytes += recs[i]->len + 1;
        batch_bytes = bytes;
    } else if (retryable(r.status)) {
        failed_after("cannot send events", error_of(&r, msg, sizeof msg), r.retry_after);
    } else { /* refused as it is: resending cannot help; the console shows the gap */
        log_msg("console: events %llu-%llu refused (%s): not resent", first, last, error_of(&r, msg, sizeof msg));
        succeeded();
        free_batch(rec_off + rec_span);
    }
}

static void take_batch(void)
{
    rec_n = sq_take(recs, batch_events, batch_bytes);
    rec_off = 0;
    rec_span = fit_span();
}

static bool stop_requested(long long *deadline)
{
    pthread_mutex_lock(&lock);
    bool s = stopping;
    *deadline = stop_deadline;
    pthread_mutex_unlock(&lock);
    return s;
}

static void finish(void)
{
    pthread_mutex_lock(&lock);
    done = true;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

/* Until when to sleep, and for how many queued events to wake early. Nothing is
 * sent before retry_at (backoff), so no wake-up is earlier than that. */
static long long next_wake(long long next_poll, bool stop, size_t *want)
{
    long long now = sq_now_ms(), oldest, due;
    *want = (size_t)-1;
    if (stop)
        return now;
    if (given_up) {
        *want = 1;
        return now + 60000;
    }
    if (!registered || rec_n > 0) {
        due = now;
    } else if (sq_peek(&oldest) == 0) {
        due = next_poll;
        *want = 1; /* the first event starts the batch clock */
    } else {
        due = oldest + BATCH_DELAY_MS < next_poll ? oldest + BATCH_DELAY_MS : next_poll;
        *want = batch_events;
    }
    if (retry_at > due) {
        due = retry_at;
        *want = (size_t)-1; /* new events cannot be sent before then anyway */
    }
    return due;
}

static void *run(void *arg)
{
    (void)arg;
    read_metadata();
    long long next_poll = 0;
    for (;;) {
        long long now = sq_now_ms(), stop_at, oldest;
        bool stop = stop_requested(&stop_at);
        if (stop && (now >= stop_at || given_up || (rec_n == 0 && sq_peek(&oldest) == 0)))
            break;
        if (given_up) { /* discard, so the queue does not hold memory for nothing */
            take_batch();
            free_batch(rec_n);
        } else if (now >= retry_at || stop) {
            if (!registered) {
                int rc = do_register();
                if (rc == -2) {
                    given_up = true;
                    set_initial(-1, "the console refused the registration");
                    continue;
                }
                if (rc < 0) {
                    if (stop)
                        break;
                    continue;
                }
            }
            if (!stop && now >= next_poll) {
                if (poll_policy() == 0)
                    next_poll = sq_now_ms() + jitter(poll_ms);
                continue;
            }
            if (rec_n == 0) {
                size_t queued = sq_peek(&oldest);
                if (queued && (queued >= batch_events || stop || now - oldest >= BATCH_DELAY_MS))
                    take_batch();
            }
            if (rec_n > 0) {
                send_batch();
                if (stop && fail_streak)
                    break; /* the console is away: stop trying */
                continue;
            }
        }
        size_t want;
        long long wake = next_wake(next_poll, stop, &want);
        if (wake > sq_now_ms())
            sq_wait(want, wake);
    }
    finish();
    return NULL;
}

bool ship_options_from_env(struct ship_options *o)
{
    memset(o, 0, sizeof *o);
    const char *console = getenv("VIGIL_CONSOLE");
    if (!console || !*console)
        return false;
    static char keep[5][1100];
    const char *names[] = {"VIGIL_CONSOLE", "VIGIL_TOKEN", "VIGIL_CONSOLE_CA", "VIGIL_CONSOLE_INSECURE",
                           "VIGIL_CONSOLE_QUEUE"};
    for (size_t i = 0; i < 5; i++) {
        char *v = getenv(names[i]);
        snprintf(keep[i], sizeof keep[i], "%s", v ? v : "");
        /* The application must not see the token: not in its environment, and not in
         * ours either (/proc/1/environ shows the original strings, which a process
         * with CAP_SYS_PTRACE could read: selfProtection off keeps it). */
        if (v)
            memset(v, 0, strlen(v));
        unsetenv(names[i]);
    }
    o->console = keep[0];
    o->token = keep[1];
    o->ca_path = *keep[2] ? keep[2] : DEFAULT_CA;
    o->insecure = !strcmp(keep[3], "1") || !strcmp(keep[3], "true");
    o->queue_events = DEFAULT_QUEUE_EVENTS;
    if (*keep[4]) {
        char *end;
        long q = strtol(keep[4], &end, 10);
        o->queue_events = *end || q < 1 || q > 1000000 ? 0 : (size_t)q;
    }
    return true;
}

static size_t dropped_line(unsigned long long n, char *buf, size_t cap)
{
    struct event d;
    event_begin(&d, "dropped", NULL);
    event_int(&d, "count", (long long)n);
    event_end(&d);
    if (d.n >= cap)
        return 0;
    memcpy(buf, d.buf, d.n);
    return d.n;
}

static void make_instance(void)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        long long t = sq_now_ms() ^ (long long)getpid() << 32;
        memcpy(b, &t, sizeof t);
        memcpy(b + 8, &t, sizeof t);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(instance, sizeof instance, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int ship_start(const struct ship_options *o, const char *digest, const char *mode, const char *arch)
{
    char err[300];
    opts = *o;
    if (url_parse(o->console, &url, err, sizeof err) < 0) {
        log_msg("VIGIL_CONSOLE %s: %s", o->console, err);
        return -1;
    }
    if (!url.tls && !o->insecure) {
        log_msg("VIGIL_CONSOLE %s: plain http sends the token and events unencrypted; use https://, or set "
                "VIGIL_CONSOLE_INSECURE=1 to allow it (tests, a local demo)",
                o->console);
        return -1;
    }
    if (!url.tls)
        log_msg("console: plain http to %s (VIGIL_CONSOLE_INSECURE=1)", url.host);
    if (url.tls && url.host_is_ip) {
        log_msg("VIGIL_CONSOLE %s: HTTPS needs the console's DNS name (the one in its certificate), not an IP "
                "address",
                o->console);
        return -1;
    }
    if (!*o->token) {
        log_msg("VIGIL_CONSOLE is set but VIGIL_TOKEN is not: create an enrollment token in the console (Tokens) "
                "and pass it as VIGIL_TOKEN (an ECS secrets entry)");
        return -1;
    }
    if (strlen(o->token) > 400 || strpbrk(o->token, "\r\n ")) {
        log_msg("VIGIL_TOKEN: not an enrollment token (expected vgt_<id>_<secret>)");
        return -1;
    }
    if (o->queue_events == 0) {
        log_msg("VIGIL_CONSOLE_QUEUE: expected a number of events from 1 to 1000000");
        return -1;
    }
    if (url.tls && trust_load(o->ca_path, &trust, err, sizeof err) < 0) {
        log_msg("console CA bundle (VIGIL_CONSOLE_CA): %s", err);
        return -1;
    }
    snprintf(token_header, sizeof token_header, "Authorization: Bearer %s\r\n", o->token);
    snprintf(digest_in_force, sizeof digest_in_force, "%s", digest ? digest : "");
    snprintf(mode_in_force, sizeof mode_in_force, "%s", mode);
    snprintf(arch_name_, sizeof arch_name_, "%s", arch);
    make_instance();
    if (sq_init(o->queue_events + 1, o->queue_events * QUEUE_BYTES_PER_EVENT + EVENT_MAX_LINE, dropped_line) < 0 ||
        http_client_init(&client, &url, url.tls ? &trust : NULL, CONNECT_MS, IO_MS) < 0) {
        log_msg("console: out of memory");
        return -1;
    }
    /* the thread takes no signal: they are all for the tracer */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&thread, &attr, run, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        errno = rc;
        log_errno("console: cannot start the shipping thread");
        return -1;
    }
    active = true;
    return 0;
}

bool ship_active(void)
{
    return active;
}

void ship_offer(const char *line, size_t len)
{
    if (active)
        sq_push(line, len);
}

/* With `lock` held: wait for `changed`, at most ms (< 1000) milliseconds. */
static void wait_changed(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&changed, &lock, &ts);
}

int ship_initial_policy(int wait_ms, char **text, size_t *len, char *err, size_t errlen)
{
    long long deadline = sq_now_ms() + wait_ms;
    pthread_mutex_lock(&lock);
    while (initial_state == -2 && sq_now_ms() < deadline) {
        wait_changed(50);
    }
    int state = initial_state;
    if (state == -2) {
        state = -1;
        snprintf(err, errlen, "no answer from the console within %d s", wait_ms / 1000);
    } else if (state == -1) {
        snprintf(err, errlen, "%s", initial_err);
    } else if (state == 1) {
        *text = pending_text;
        *len = pending_len;
        pending_text = NULL;
    }
    pthread_mutex_unlock(&lock);
    return state;
}

bool ship_take_policy(char **text, size_t *len, char digest[65])
{
    if (!active)
        return false;
    pthread_mutex_lock(&lock);
    bool got = pending_text != NULL;
    if (got) {
        *text = pending_text;
        *len = pending_len;
        memcpy(digest, pending_digest, 65);
        pending_text = NULL;
    }
    pthread_mutex_unlock(&lock);
    return got;
}

void ship_policy_result(const char *digest, bool applied, const char *mode)
{
    pthread_mutex_lock(&lock);
    if (applied) {
        snprintf(digest_in_force, sizeof digest_in_force, "%s", digest);
        snprintf(mode_in_force, sizeof mode_in_force, "%s", mode);
    } else {
        snprintf(digest_refused, sizeof digest_refused, "%s", digest);
    }
    pthread_mutex_unlock(&lock);
}

void ship_stop(int wait_ms)
{
    if (!active)
        return;
    long long deadline = sq_now_ms() + wait_ms;
    pthread_mutex_lock(&lock);
    stopping = true;
    stop_deadline = deadline;
    pthread_mutex_unlock(&lock);
    sq_wake();
    pthread_mutex_lock(&lock);
    while (!done && sq_now_ms() < deadline) {
        wait_changed(20);
    }
    pthread_mutex_unlock(&lock);
}
