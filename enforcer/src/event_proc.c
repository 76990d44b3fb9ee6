#include "event_proc.h"

#include <limits.h>
#include <stdio.h>

#include "procinfo.h"

void event_process_fields(struct event *e, pid_t tid)
{
    long ppid, uid, tgid;
    proc_ids(tid, &ppid, &uid, &tgid);
    pid_t pid = tgid > 0 ? (pid_t)tgid : tid;
    event_int(e, "pid", pid);
    event_int(e, "ppid", ppid);
    event_int(e, "uid", uid);
    char exe[PATH_MAX], cwd[PATH_MAX], args[EVENT_ARGV_MAX_BYTES + 512];
    event_str(e, "exe", proc_link(pid, "exe", exe, sizeof exe) ? exe : "?");
    bool cut = false;
    ssize_t n = proc_read(pid, "cmdline", args, sizeof args, &cut);
    event_argv(e, args, n > 0 ? (size_t)n : 0, cut);
    event_str(e, "cwd", proc_link(tid, "cwd", cwd, sizeof cwd) ? cwd : NULL);
}

const char *event_rule_name(const char *key, int index, char *buf, size_t len)
{
    if (index < 0)
        snprintf(buf, len, "%s", key);
    else
        snprintf(buf, len, "%s[%d]", key, index);
    return buf;
}
