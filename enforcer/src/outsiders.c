#include "outsiders.h"

#include <stdlib.h>
#include <unistd.h>

#include "procinfo.h"

/* Sessions are few: an unsorted small array, grown on demand. Past OUTSIDERS_MAX
 * (or with no memory) every process counts as one: checks cost more, none is lost. */
#define OUTSIDERS_MAX 65536
static pid_t *tgids;
static size_t n, cap;
static bool everyone;

static bool known(pid_t tgid)
{
    for (size_t i = 0; i < n; i++)
        if (tgids[i] == tgid)
            return true;
    return false;
}

void outsider_add(pid_t tgid)
{
    if (tgid <= 0 || everyone || known(tgid))
        return;
    if (n == cap) {
        size_t cap2 = cap ? cap * 2 : 16;
        pid_t *grown = cap2 <= OUTSIDERS_MAX ? realloc(tgids, cap2 * sizeof *tgids) : NULL;
        if (!grown) {
            everyone = true;
            return;
        }
        tgids = grown;
        cap = cap2;
    }
    tgids[n++] = tgid;
}

bool outsiders_any(void)
{
    return n > 0 || everyone;
}

bool outsider(pid_t tgid)
{
    return everyone || (n > 0 && known(tgid));
}

void outsider_created(pid_t creator, pid_t child)
{
    if (n > 0 && !everyone && outsider(proc_tgid(creator)))
        outsider_add(child);
}

void outsider_new_task(pid_t pid)
{
    if (n == 0 || everyone)
        return;
    long ppid = -1, uid, tgid = -1;
    proc_ids(pid, &ppid, &uid, &tgid);
    if (tgid != pid)
        return; /* a thread: its group decides */
    if (ppid == 0 || (ppid > 0 && outsider((pid_t)ppid)))
        outsider_add(pid);
}

void outsider_forget(pid_t pid)
{
    for (size_t i = 0; i < n; i++) {
        if (tgids[i] == pid) {
            tgids[i] = tgids[--n];
            return;
        }
    }
}
