#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ship.h"

#define QUEUE_BYTES (256 * 1024)

static int sink_fd = -1;
static bool sink_is_socket;
static char queue[QUEUE_BYTES];
static size_t q_head, q_len; /* bytes queue[q_head .. q_head+q_len) are waiting */
static unsigned long long dropped;

static void put(struct event *e, const char *s, size_t n)
{
    if (e->n + n >= sizeof e->buf - 4) { /* keep room for the closing brace */
        n = e->n < sizeof e->buf - 4 ? sizeof e->buf - 4 - e->n : 0;
    }
    memcpy(e->buf + e->n, s, n);
    e->n += n;
}

static void puts_(struct event *e, const char *s)
{
    put(e, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
        return 0; /* overlong */
    if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
        return 0; /* surrogate */
    if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
        return 0;
    if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
        return 0;
    return n;
}

static void put_json_string(struct event *e, const char *s, size_t len)
{
    put(e, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(e, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(e, esc, 6);
            i++;
        } else {
            size_t n = utf8_len(p + i, len - i);
            if (n == 0) {
                put(e, "\\ufffd", 6);
                i++;
            } else {
                put(e, (const char *)p + i, n);
                i += n;
            }
        }
    }
    put(e, "\"", 1);
}

static void key(struct event *e, const char *k)
{
    if (!e->first)
        put(e, ",", 1);
    e->first = false;
    put(e, "\"", 1);
    puts_(e, k);
    put(e, "\":", 2);
}

void event_begin(struct event *e, const char *kind, const char *verdict)
{
    e->n = 0;
    e->first = true;
    put(e, "{", 1);
    event_int(e, "vigil", 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[96];
    snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    event_str(e, "time", t);
    event_str(e, "kind", kind);
    if (verdict)
        event_str(e, "verdict", verdict);
}

void event_begin_object(struct event *e)
{
    e->n = 0;
    e->first = true;
    put(e, "{", 1);
}

void event_end(struct event *e)
{
    puts_(e, "}");
    e->buf[e->n] = '\0';
}

void event_strn(struct event *e, const char *k, const char *value, size_t len)
{
    key(e, k);
    put_json_string(e, value, len);
}

void event_str(struct event *e, const char *k, const char *value)
{
    if (!value) {
        key(e, k);
        puts_(e, "null");
        return;
    }
    event_strn(e, k, value, strlen(value));
}

void event_int(struct event *e, const char *k, long long value)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", value);
    key(e, k);
    puts_(e, num);
}

void event_bool(struct event *e, const char *k, bool value)
{
    key(e, k);
    puts_(e, value ? "true" : "false");
}

void event_raw(struct event *e, const char *k, const char *json)
{
    key(e, k);
    puts_(e, json);
}

void event_argv(struct event *e, const char *args, size_t len, bool cut)
{
    key(e, "argv");
    put(e, "[", 1);
    size_t pos = 0, count = 0, bytes = 0;
    while (pos < len) {
        const char *end = memchr(args + pos, '\0', len - pos);
        size_t n = end ? (size_t)(end - (args + pos)) : len - pos;
        if (count == EVENT_ARGV_MAX_ARGS || bytes + n > EVENT_ARGV_MAX_BYTES) {
            cut = true;
            if (count < EVENT_ARGV_MAX_ARGS && bytes < EVENT_ARGV_MAX_BYTES) {
                /* keep the start of a long argument rather than dropping it whole */
                n = EVENT_ARGV_MAX_BYTES - bytes;
                while (n > 0 && (((unsigned char)args[pos + n]) & 0xc0) == 0x80)
                    n--; /* do not split a UTF-8 sequence */
                if (count)
                    put(e, ",", 1);
                put_json_string(e, args + pos, n);
            }
            break;
        }
        if (count)
            put(e, ",", 1);
        put_json_string(e, args + pos, n);
        count++;
        bytes += n;
        pos += n + 1;
    }
    put(e, "]", 1);
    event_bool(e, "argvTruncated", cut);
}

void event_str_array(struct event *e, const char *k, const char *const *items, size_t n)
{
    key(e, k);
    put(e, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(e, ",", 1);
        put_json_string(e, items[i], strlen(items[i]));
    }
    put(e, "]", 1);
}

/* Try to write queued bytes; never blocks (the sink is non-blocking or a socket
 * written with MSG_DONTWAIT). Returns false when the sink is full. */
static bool drain(void)
{
    while (q_len > 0) {
        ssize_t w = sink_is_socket ? send(sink_fd, queue + q_head, q_len, MSG_DONTWAIT | MSG_NOSIGNAL)
                                   : write(sink_fd, queue + q_head, q_len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (w <= 0) { /* sink gone (EPIPE...): events are lost, the application is not */
            dropped += 1;
            q_head = q_len = 0;
            return true;
        }
        q_head += (size_t)w;
        q_len -= (size_t)w;
    }
    q_head = 0;
    return true;
}

static bool enqueue(const char *line, size_t n)
{
    if (q_head + q_len + n > QUEUE_BYTES) {
        memmove(queue, queue + q_head, q_len);
        q_head = 0;
    }
    if (q_len + n > QUEUE_BYTES)
        return false;
    memcpy(queue + q_head + q_len, line, n);
    q_len += n;
    return true;
}

void event_emit(struct event *e)
{
    puts_(e, "}\n");
    ship_offer(e->buf, e->n - 1);
    if (sink_fd < 0)
        return;
    drain();
    if (dropped && q_len == 0) {
        struct event d;
        event_begin(&d, "dropped", NULL);
        event_int(&d, "count", (long long)dropped);
        puts_(&d, "}\n");
        if (enqueue(d.buf, d.n))
            dropped = 0;
    }
    if (!enqueue(e->buf, e->n))
        dropped++;
    drain();
}

int events_pending_fd(void)
{
    return q_len > 0 ? sink_fd : -1;
}

void events_flush(int wait_ms)
{
    if (sink_fd < 0)
        return;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!drain() && wait_ms > 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (spent >= wait_ms)
            break;
        struct pollfd p = {sink_fd, POLLOUT, 0};
        poll(&p, 1, (int)(wait_ms - spent));
    }
}

/* A descriptor of our own on the same file, so O_NONBLOCK does not leak into the
 * application's stderr (flags live in the shared open file description). */
static int reopen_nonblocking(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    if (S_ISSOCK(st.st_mode)) {
        sink_is_socket = true;
        return fcntl(fd, F_DUPFD_CLOEXEC, 3);
    }
    /* A regular file never blocks; share its offset with the application so
     * neither overwrites the other's lines. */
    if (S_ISREG(st.st_mode))
        return fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int nfd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (nfd >= 0)
        return nfd;
    /* no /proc, or a file we may not reopen: share the description, blocking */
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int events_open(const char *spec)
{
    if (!spec || !strcmp(spec, "stderr")) {
        sink_fd = reopen_nonblocking(STDERR_FILENO);
    } else if (!strncmp(spec, "fd:", 3)) {
        char *end;
        long fd = strtol(spec + 3, &end, 10);
        if (*end || fd < 0 || fd > 65535) {
            log_msg("--events %s: expected fd:N with N a descriptor number", spec);
            return -1;
        }
        sink_fd = reopen_nonblocking((int)fd);
        /* the application must not inherit (and forge events on) the event descriptor */
        if (sink_fd >= 0 && fd > 2)
            close((int)fd);
    } else {
        sink_fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
    }
    if (sink_fd < 0) {
        log_errno("cannot open the event sink %s", spec ? spec : "stderr");
        return -1;
    }
    return 0;
}
