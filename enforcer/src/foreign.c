#include "foreign.h"

#include <dirent.h>
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

void foreign_scan(struct tracer *t)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *ent;
    while ((ent = readdir(d))) {
        char *end;
        long pid = strtol(ent->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        if (tracer_of((pid_t)pid) == 0)
            trace_adopt(t, (pid_t)pid);
    }
    closedir(d);
}
