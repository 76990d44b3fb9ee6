#include "lineage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

struct entry {
    pid_t pid; /* 0: a free slot */
    bool own;
    unsigned long long start; /* clock ticks after boot (/proc/PID/stat field 22) */
};

static struct entry *table;
static size_t cap, used; /* cap: a power of two, or 0 before the first entry */
static pid_t main_pid;

void lineage_start(pid_t pid)
{
    main_pid = pid;
}

/* Parent and start time from /proc/PID/stat: after the command name (which may
 * hold spaces and parentheses: the last ')' ends it), field 4 and field 22. */
static bool stat_of(pid_t pid, pid_t *ppid, unsigned long long *start)
{
    char buf[1024];
    ssize_t n = proc_read(pid, "stat", buf, sizeof buf - 1, NULL);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    long parent;
    if (!p || sscanf(p + 1, " %*c %ld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                     &parent, start) != 2)
        return false;
    *ppid = (pid_t)parent;
    return true;
}

static struct entry *slot(struct entry *t, size_t c, pid_t pid)
{
    size_t i = (size_t)pid * 2654435761u & (c - 1);
    while (t[i].pid != 0 && t[i].pid != pid)
        i = (i + 1) & (c - 1);
    return &t[i];
}

/* Keep the entries of live processes (same pid, same start) in a table of
 * new_cap slots. False when out of memory (the old table stays). */
static bool rebuild(size_t new_cap)
{
    struct entry *t = calloc(new_cap, sizeof *t);
    if (!t)
        return false;
    size_t kept = 0;
    for (size_t i = 0; i < cap; i++) {
        pid_t parent;
        unsigned long long start;
        if (table[i].pid != 0 && stat_of(table[i].pid, &parent, &start) && start == table[i].start) {
            *slot(t, new_cap, table[i].pid) = table[i];
            kept++;
        }
    }
    free(table);
    table = t;
    cap = new_cap;
    used = kept;
    return true;
}

static void put(pid_t pid, unsigned long long start, bool own)
{
    if (cap == 0 || (used + 1) * 4 > cap * 3) {
        if (!rebuild(cap ? cap : 256)) /* first drop the dead */
            return;
        if ((used + 1) * 2 > cap && !rebuild(cap * 2))
            return;
    }
    struct entry *e = slot(table, cap, pid);
    if (e->pid == 0)
        used++;
    *e = (struct entry){pid, own, start};
}

/* The answer for process pid (started at start, child of ppid): its own entry,
 * else its nearest ancestor's. Not found (an orphan, a process from outside,
 * a chain longer than any application's): not the application's own. */
static bool own_of(pid_t pid, pid_t ppid, unsigned long long start)
{
    for (int depth = 0; depth < 64; depth++) {
        if (pid == main_pid && main_pid > 0)
            return true;
        if (cap) {
            struct entry *e = slot(table, cap, pid);
            if (e->pid == pid && e->start == start)
                return e->own;
        }
        if (ppid <= 0 || ppid == getpid())
            return false;
        pid = ppid;
        if (!stat_of(pid, &ppid, &start))
            return false;
    }
    return false;
}

void lineage_exec(pid_t pid, bool own_program)
{
    pid_t ppid;
    unsigned long long start;
    if (!stat_of(pid, &ppid, &start))
        return; /* gone: nothing of it will connect */
    put(pid, start, pid == main_pid || (own_program && own_of(pid, ppid, start)));
}

bool lineage_own(pid_t tgid)
{
    pid_t ppid;
    unsigned long long start;
    if (!stat_of(tgid, &ppid, &start))
        return false;
    bool own = own_of(tgid, ppid, start);
    if (tgid != main_pid)
        put(tgid, start, own); /* a forked process: its next connect is a lookup */
    return own;
}
