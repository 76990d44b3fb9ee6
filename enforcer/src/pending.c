#include "pending.h"

#include <stddef.h>

/* Few tasks sit between a seccomp stop and their exit stop at once: a plain
 * array scanned linearly is enough. */
static struct pending table[PENDING_SLOTS];
static size_t used;

bool pending_put(const struct pending *p)
{
    pending_drop(p->tid);
    if (used == PENDING_SLOTS)
        return false;
    table[used++] = *p;
    return true;
}

bool pending_take(pid_t tid, struct pending *out)
{
    for (size_t i = 0; i < used; i++) {
        if (table[i].tid == tid) {
            *out = table[i];
            table[i] = table[--used];
            return true;
        }
    }
    return false;
}

void pending_drop(pid_t tid)
{
    struct pending ignored;
    pending_take(tid, &ignored);
}
