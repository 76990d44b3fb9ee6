/* files.readOnly and files.watch at the seccomp stop of a call that changes a
 * path (the filter lets read-only opens through without a stop). The path is
 * resolved as the kernel will resolve it and matched on its canonical form. */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "arch.h"
#include "event_proc.h"
#include "events.h"
#include "pathres.h"
#include "procinfo.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
/* The kernel's __O_TMPFILE bit alone (glibc's __O_TMPFILE includes O_DIRECTORY) */
#define O_TMPFILE_BIT 020000000

/* One name a call changes: a path (relative to dirfd), or an open descriptor. */
struct target {
    bool used;
    bool by_fd;      /* fd names the file */
    int dirfd;       /* AT_FDCWD or a descriptor; the fd when by_fd */
    uint64_t path;   /* address of the path in the tracee */
    bool follow;     /* follow a symlink in the last component */
    bool subtree;    /* the call moves or removes the name: every path below changes too */
    int flags;       /* AT_EMPTY_PATH and the like, for the *at forms */
};

struct call {
    const char *op;
    struct target t[2];
};

static struct target at(uint64_t dirfd, uint64_t path, bool follow)
{
    return (struct target){true, false, (int)dirfd, path, follow, false, 0};
}

static struct target cwd(uint64_t path, bool follow)
{
    return at((uint64_t)(int64_t)AT_FDCWD, path, follow);
}

static struct target by_fd(uint64_t fd)
{
    return (struct target){true, true, (int)fd, 0, true, false, 0};
}

static struct target removing(struct target t)
{
    t.subtree = true;
    return t;
}

static struct target with_flags(struct target t, uint64_t flags)
{
    t.flags = (int)flags;
    if (flags & AT_SYMLINK_NOFOLLOW)
        t.follow = false;
    return t;
}

/* open(2) flags: the last component is not followed with O_NOFOLLOW, nor with
 * O_CREAT|O_EXCL (which fails on any existing name). O_TMPFILE creates no name. */
static bool open_call(struct call *c, struct target t, uint64_t flags)
{
    if (flags & O_TMPFILE_BIT)
        return false;
    t.follow = !(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL));
    c->op = "open-write";
    c->t[0] = t;
    return true;
}

static bool describe(int sc, const uint64_t a[6], struct call *c)
{
    memset(c, 0, sizeof *c);
    switch (sc) {
    case SC_OPEN:
        return open_call(c, cwd(a[0], true), a[1]);
    case SC_OPENAT:
        return open_call(c, at(a[0], a[1], true), a[2]);
    case SC_CREAT:
        return open_call(c, cwd(a[0], true), O_CREAT | O_WRONLY | O_TRUNC);
    case SC_TRUNCATE:
        *c = (struct call){"truncate", {cwd(a[0], true)}};
        return true;
    case SC_FTRUNCATE:
        *c = (struct call){"truncate", {by_fd(a[0])}};
        return true;
    case SC_UNLINK:
        *c = (struct call){"unlink", {cwd(a[0], false)}};
        return true;
    case SC_RMDIR:
        *c = (struct call){"rmdir", {removing(cwd(a[0], false))}};
        return true;
    case SC_UNLINKAT:
        *c = (a[2] & AT_REMOVEDIR) ? (struct call){"rmdir", {removing(at(a[0], a[1], false))}}
                                   : (struct call){"unlink", {at(a[0], a[1], false)}};
        return true;
    case SC_RENAME:
        *c = (struct call){"rename", {removing(cwd(a[0], false)), removing(cwd(a[1], false))}};
        return true;
    case SC_RENAMEAT:
    case SC_RENAMEAT2:
        *c = (struct call){"rename", {removing(at(a[0], a[1], false)), removing(at(a[2], a[3], false))}};
        return true;
    case SC_LINK:
        /* the new name, and the file itself: a second name for a read-only file
         * would be a way to write it */
        *c = (struct call){"link", {cwd(a[1], false), cwd(a[0], false)}};
        return true;
    case SC_LINKAT: {
        struct target old = at(a[0], a[1], (a[4] & AT_SYMLINK_FOLLOW) != 0);
        old.flags = (int)a[4];
        *c = (struct call){"link", {at(a[2], a[3], false), old}};
        return true;
    }
    case SC_SYMLINK:
        *c = (struct call){"symlink", {cwd(a[1], false)}};
        return true;
    case SC_SYMLINKAT:
        *c = (struct call){"symlink", {at(a[1], a[2], false)}};
        return true;
    case SC_CHMOD:
        *c = (struct call){"chmod", {cwd(a[0], true)}};
        return true;
    case SC_FCHMOD:
        *c = (struct call){"chmod", {by_fd(a[0])}};
        return true;
    case SC_FCHMODAT:
        *c = (struct call){"chmod", {at(a[0], a[1], true)}};
        return true;
    case SC_FCHMODAT2:
        *c = (struct call){"chmod", {with_flags(at(a[0], a[1], true), a[3])}};
        return true;
    case SC_CHOWN:
        *c = (struct call){"chown", {cwd(a[0], true)}};
        return true;
    case SC_LCHOWN:
        *c = (struct call){"chown", {cwd(a[0], false)}};
        return true;
    case SC_FCHOWN:
        *c = (struct call){"chown", {by_fd(a[0])}};
        return true;
    case SC_FCHOWNAT:
        *c = (struct call){"chown", {with_flags(at(a[0], a[1], true), a[4])}};
        return true;
    case SC_UTIME:
    case SC_UTIMES:
        *c = (struct call){"utimes", {cwd(a[0], true)}};
        return true;
    case SC_FUTIMESAT:
        *c = (struct call){"utimes", {a[1] ? at(a[0], a[1], true) : by_fd(a[0])}};
        return true;
    case SC_UTIMENSAT:
        *c = (struct call){"utimes", {a[1] ? with_flags(at(a[0], a[1], true), a[3]) : by_fd(a[0])}};
        return true;
    case SC_MKNOD:
        *c = (struct call){"mknod", {cwd(a[0], false)}};
        return true;
    case SC_MKNODAT:
        *c = (struct call){"mknod", {at(a[0], a[1], false)}};
        return true;
    case SC_MKDIR:
        *c = (struct call){"mkdir", {cwd(a[0], false)}};
        return true;
    case SC_MKDIRAT:
        *c = (struct call){"mkdir", {at(a[0], a[1], false)}};
        return true;
    case SC_SETXATTR:
    case SC_REMOVEXATTR:
        *c = (struct call){"xattr", {cwd(a[0], true)}};
        return true;
    case SC_LSETXATTR:
    case SC_LREMOVEXATTR:
        *c = (struct call){"xattr", {cwd(a[0], false)}};
        return true;
    case SC_FSETXATTR:
    case SC_FREMOVEXATTR:
        *c = (struct call){"xattr", {by_fd(a[0])}};
        return true;
    default:
        return false;
    }
}

/* The canonical path the target names; false when there is nothing to judge.
 * *err: an unreadable path is refused (EFAULT/ENAMETOOLONG) rather than guessed. */
static bool target_path(pid_t tgid, pid_t tid, const struct target *t, char *out, int *err)
{
    if (t->by_fd)
        return path_of_fd(tid, t->dirfd, out);
    char path[PATH_MAX];
    if (!proc_read_string(tid, t->path, path, sizeof path)) {
        *err = t->path == 0 ? 0 : strlen(path) == sizeof path - 1 ? ENAMETOOLONG : EFAULT;
        return false;
    }
    if (path[0] == '\0') {
        if (!(t->flags & AT_EMPTY_PATH))
            return false; /* ENOENT from the kernel */
        if (t->dirfd == AT_FDCWD)
            return path_resolve(tgid, tid, AT_FDCWD, ".", true, out);
        return path_of_fd(tid, t->dirfd, out);
    }
    return path_resolve(tgid, tid, t->dirfd, path, t->follow, out);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void report(const struct checks *c, pid_t tid, const char *op, const char *path,
                   const struct file_verdict *v)
{
    char rule[64];
    struct event e;
    event_begin(&e, "file", v->allowed ? "allowed" : c->audit ? "alert" : "blocked");
    event_str(&e, "rule", event_rule_name(v->key, v->index, rule, sizeof rule));
    event_process_fields(&e, tid);
    event_str(&e, "path", path);
    event_str(&e, "operation", op);
    event_str(&e, "pattern", v->pattern);
    event_emit(&e);
}

void file_check_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out)
{
    struct call call;
    if (!describe(sc, args, &call))
        return;
    long ppid, uid, tgid;
    proc_ids(tid, &ppid, &uid, &tgid);
    if (tgid <= 0)
        tgid = tid;
    char path[PATH_MAX], watched[PATH_MAX];
    struct file_verdict watch = {true, NULL, -1, NULL};
    for (int i = 0; i < 2 && call.t[i].used; i++) {
        int err = 0;
        if (!target_path((pid_t)tgid, tid, &call.t[i], path, &err)) {
            if (err && !c->audit) {
                out->deny = err;
                return;
            }
            continue;
        }
        struct file_verdict v;
        if (!file_rules_decide(c->files, path, call.t[i].subtree && is_dir(path), &v))
            continue;
        if (!v.allowed) {
            report(c, tid, call.op, path, &v);
            if (!c->audit)
                out->deny = EPERM;
            return;
        }
        if (!watch.key) {
            watch = v;
            strcpy(watched, path);
        }
    }
    if (watch.key)
        report(c, tid, call.op, watched, &watch);
}
