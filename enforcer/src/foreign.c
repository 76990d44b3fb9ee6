#include "foreign.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

/* TracerPid of a live process, or -1 (gone, zombie, unreadable). */
static long tracer_of(pid_t pid)
{
    char text[2048];
    ssize_t n = proc_read(pid, "status", text, sizeof text - 1, NULL);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    const char *state = strstr(text, "\nState:");
    if (state) {
        state += strlen("\nState:");
        state += strspn(state, " \t");
        if (*state == 'Z' || *state == 'X')
            return -1;
    }
    const char *tp = strstr(text, "\nTracerPid:");
    return tp ? strtol(tp + 11, NULL, 10) : -1;
}

/* Processes the previous scan found traced by the enforcer, in the ascending order
 * /proc lists them: only the others are read again, so a scan of a quiet container
 * is one directory listing. A process the enforcer traces stays traced until it ends
 * (one traced by another tracer may be let go: it is read every time), and a pid is
 * given again only after the kernel's cyclic allocation has gone round pid_max, far
 * longer than a scan period. Past SEEN_MAX, processes are read every time (nothing
 * is skipped wrongly). */
#define SEEN_MAX 4096
static pid_t seen[2][SEEN_MAX];
static size_t n_seen[2];
static int cur;

static bool seen_before(pid_t pid, size_t *at)
{
    const pid_t *old = seen[cur];
    while (*at < n_seen[cur] && old[*at] < pid)
        (*at)++;
    return *at < n_seen[cur] && old[*at] == pid;
}

static void remember(pid_t pid)
{
    int next = !cur;
    if (n_seen[next] < SEEN_MAX)
        seen[next][n_seen[next]++] = pid;
}

struct scan {
    struct tracer *t;
    pid_t self;
    size_t at;     /* position in the previous scan's list */
    bool all_ours; /* every process listed is traced by the enforcer */
};

static bool look_at(long n, void *ctx)
{
    struct scan *c = ctx;
    pid_t pid = (pid_t)n;
    if (pid <= 0 || pid == c->self)
        return true;
    if (seen_before(pid, &c->at)) {
        remember(pid);
        return true;
    }
    long tracer = tracer_of(pid);
    if (tracer == 0) {
        trace_adopt(c->t, pid);
        tracer = tracer_of(pid); /* not adopted (gone, refused): looked at again */
    }
    if (tracer == c->self)
        remember(pid);
    else if (tracer != -1)
        c->all_ours = false;
    return true;
}

/* The last pid the kernel gave out in the enforcer's PID namespace: the last field of
 * /proc/loadavg, which the kernel computes for the reader's namespace. Unchanged since the
 * last scan, no process can have entered it, and the scan is skipped: a quiet container costs
 * one pread per period. -1 when unreadable (then every scan lists /proc). */
static long last_pid_given(void)
{
    static int fd = -2;
    if (fd == -2)
        fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    char text[128];
    ssize_t n = fd >= 0 ? pread(fd, text, sizeof text - 1, 0) : -1;
    if (n <= 0)
        return -1;
    text[n] = '\0';
    const char *last = strrchr(text, ' ');
    return last ? strtol(last + 1, NULL, 10) : -1;
}

void foreign_scan(struct tracer *t)
{
    /* A process the last scan left alone (traced by another tracer, or adoption refused) is
     * read again at every scan, pid allocations or not. */
    static long last_pid = -1;
    static bool all_ours;
    long now = last_pid_given();
    if (now >= 0 && now == last_pid && all_ours)
        return;
    last_pid = now;
    struct scan c = {t, getpid(), 0, true};
    n_seen[!cur] = 0;
    if (proc_each_number("/proc", look_at, &c)) {
        cur = !cur;
        all_ours = c.all_ours;
    } else {
        all_ours = false;
    }
}
