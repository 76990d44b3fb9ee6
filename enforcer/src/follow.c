#include "follow.h"

#include <stdlib.h>
#include <string.h>

static struct follow follows[FOLLOW_SLOTS];

struct follow *follow_find(pid_t pid, bool create)
{
    size_t h = (size_t)pid % FOLLOW_SLOTS;
    for (size_t i = 0; i < FOLLOW_SLOTS; i++) {
        struct follow *f = &follows[(h + i) % FOLLOW_SLOTS];
        if (f->pid == pid)
            return f;
        if (f->pid == 0) {
            if (!create)
                return NULL;
            memset(f, 0, sizeof *f);
            f->pid = pid;
            return f;
        }
    }
    return NULL; /* full: this process is simply not followed */
}

void follow_drop(pid_t pid)
{
    struct follow *f = follow_find(pid, false);
    if (!f)
        return;
    free(f->path);
    /* re-insert the rest of the cluster so lookups keep working (backward shift) */
    size_t i = (size_t)(f - follows);
    f->pid = 0;
    f->path = NULL;
    for (size_t j = (i + 1) % FOLLOW_SLOTS; follows[j].pid != 0; j = (j + 1) % FOLLOW_SLOTS) {
        struct follow moved = follows[j];
        follows[j].pid = 0;
        struct follow *slot = follow_find(moved.pid, true);
        *slot = moved;
    }
}

