#include "foreign.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

void foreign_scan(struct tracer *t)
{
    int dfd = (int)syscall(SYS_openat, AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    pid_t self = getpid();
    static char buf[8192];
    size_t at = 0;
    n_seen[!cur] = 0;
    long got;
    while ((got = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + off);
            off += de->d_reclen;
            char *end;
            long pid = strtol(de->d_name, &end, 10);
            if (*end || pid <= 0 || pid == self)
                continue;
            if (seen_before((pid_t)pid, &at)) {
                remember((pid_t)pid);
                continue;
            }
            long tracer = tracer_of((pid_t)pid);
            if (tracer == 0) {
                trace_adopt(t, (pid_t)pid);
                tracer = tracer_of((pid_t)pid); /* not adopted (gone, refused): looked at again */
            }
            if (tracer == self)
                remember((pid_t)pid);
        }
    }
    close(dfd);
    cur = !cur;
}
