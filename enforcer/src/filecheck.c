/* files.readOnly and files.watch at the seccomp stop of a call that changes a
 * path (the filter lets read-only opens through without a stop). The path is
 * resolved as the kernel will resolve it and matched on its canonical form.
 *
 * Without a Landlock layer under the rules (checks.verify_opens) that answer
 * can be made stale by a sibling thread rewriting the path or a symlink being
 * swapped before the kernel's own lookup; write-opens are therefore judged a
 * second time at their exit stop, on the file the kernel really opened. So
 * that nothing irreversible happens before that second judgement, O_TRUNC is
 * taken out of the call at the seccomp stop and done afterwards, on the
 * allowed file; a refused file is closed in the process (inject.c), and a
 * name the call created on a read-only path is removed. */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "event_proc.h"
#include "events.h"
#include "inject.h"
#include "log.h"
#include "outsiders.h"
#include "pathres.h"
#include "procinfo.h"
#include "seccomp.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

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

/* Stop the open at its exit too, to judge the file the kernel opened
 * (file_check_exit); returns the record to fill in further. */
static struct pending_open *judge_at_exit(int sc, const uint64_t a[6], struct check_outcome *out)
{
    struct pending_open *o = &out->open;
    memset(o, 0, sizeof *o);
    o->nr = arch_native_nr[sc];
    memcpy(o->args, a, sizeof o->args);
    out->verify = true;
    out->kind = PENDING_OPEN;
    out->fd = -1;
    return o;
}

/* Write-opens judged again at their exit stop (see the top of this file). */
static void verify_open(pid_t tid, int sc, const uint64_t a[6], const char *resolved, struct check_outcome *out)
{
    struct pending_open *o = judge_at_exit(sc, a, out);
    int flags_arg = sc == SC_OPEN ? 1 : 2;
    uint64_t flags = sc == SC_CREAT ? (uint64_t)(O_CREAT | O_WRONLY | O_TRUNC) : a[flags_arg];
    o->create = (flags & O_CREAT) != 0;
    struct stat st;
    bool special = false; /* a FIFO, device or socket file at the call */
    if (resolved && lstat(resolved, &st) == 0) {
        o->existed = true;
        o->dev = st.st_dev;
        o->ino = st.st_ino;
        special = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    o->since_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    clock_gettime(CLOCK_REALTIME, &now);
    o->since_fine_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (!(flags & O_TRUNC) || (flags & O_PATH))
        return; /* O_PATH: the kernel ignores O_TRUNC */
    /* Truncate only once the file is judged. O_RDONLY|O_TRUNC asks the kernel
     * for the same permissions as O_RDWR (read and write): open it so, to be
     * able to truncate it after. Not a FIFO or a device, where the kernel
     * ignores O_TRUNC: a FIFO opened read-write never blocks for a writer and
     * never reads EOF, since the reader then holds a write end itself. */
    uint64_t rewritten[6], no_trunc = flags & ~(uint64_t)O_TRUNC;
    if ((no_trunc & O_ACCMODE) == O_RDONLY && !special)
        no_trunc |= O_RDWR;
    long nr = o->nr;
    memcpy(rewritten, a, sizeof rewritten);
    if (sc == SC_CREAT) { /* creat(path, mode) = open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) */
        nr = arch_native_nr[SC_OPEN];
        rewritten[1] = no_trunc;
        rewritten[2] = a[1];
    } else {
        rewritten[flags_arg] = no_trunc;
    }
    if (arch_rewrite_call(tid, nr, rewritten) < 0) {
        out->deny = EPERM; /* cannot take O_TRUNC out: refuse rather than truncate unjudged */
        return;
    }
    o->rewritten = o->truncate = true;
}

/* open/openat without a write flag: the application's filter lets them through; only a
 * session's guard (seccomp_build_guard_filter) stops them. */
static bool read_only_open(int sc, const uint64_t a[6])
{
    return (sc == SC_OPEN && !(a[1] & OPEN_WRITE_FLAGS)) || (sc == SC_OPENAT && !(a[2] & OPEN_WRITE_FLAGS));
}

/* A session's read-only open: of the enforcer's /proc entries (its memory, its environment)
 * refused at once, and judged again at the exit on the file the kernel opened. */
static void check_read_open(const struct checks *c, pid_t tgid, pid_t tid, int sc, const uint64_t a[6],
                            const struct call *call, struct check_outcome *out)
{
    char path[PATH_MAX];
    int err = 0;
    if (target_path(tgid, tid, &call->t[0], path, &err) && file_rules_enforcer_entry(c->files, path)) {
        struct file_verdict v = {false, "selfProtection", -1, NULL};
        report(c, tid, "open-read", path, &v);
        if (!c->audit)
            out->deny = EPERM;
        return;
    }
    if (!c->audit)
        judge_at_exit(sc, a, out);
}

void file_check_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out)
{
    struct call call;
    if (!describe(sc, args, &call))
        return;
    pid_t tgid = proc_tgid(tid);
    if (read_only_open(sc, args)) {
        if (outsider(tgid))
            check_read_open(c, tgid, tid, sc, args, &call, out);
        return;
    }
    char path[PATH_MAX], watched[PATH_MAX], first[PATH_MAX];
    bool have_first = false;
    struct file_verdict watch = {true, NULL, -1, NULL};
    for (int i = 0; i < 2 && call.t[i].used; i++) {
        int err = 0;
        if (!target_path(tgid, tid, &call.t[i], path, &err)) {
            if (err && !c->audit) {
                out->deny = err;
                return;
            }
            continue;
        }
        if (i == 0) {
            strcpy(first, path);
            have_first = true;
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
    if (c->audit || (sc != SC_OPEN && sc != SC_OPENAT && sc != SC_CREAT))
        return;
    if (c->verify_opens || outsider(tgid)) {
        /* an outsider (outsiders.h) never entered the Landlock layer that lets
         * the others go unverified */
        verify_open(tid, sc, args, have_first ? first : NULL, out);
    } else if (!c->files->policy->self_protection_off) {
        /* A Landlock layer settles files.readOnly, but cannot name the enforcer's /proc
         * entries: a path or symlink swapped after this check could reach one. The file the
         * kernel opened is judged at the exit (closed before the program can write to it). */
        judge_at_exit(sc, args, out);
    }
}

/* The prefix of the kernel's struct statx (linux/stat.h), for the birth time;
 * declared here because libc headers disagree on whether they provide it. */
struct file_times {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare;
    uint64_t ino, size, blocks, attributes_mask;
    struct {
        int64_t sec;
        uint32_t nsec;
        int32_t reserved;
    } atime, btime, ctime, mtime;
    uint64_t rest[16];
};
#define TIMES_BTIME 0x800u /* STATX_BTIME */
#ifndef SYS_statx
#define SYS_statx (arch_native_nr[SC_OPENAT] == 56 ? 291 : 332)
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#include "pidfd.h"

/* Did the open create the file `st` (then removing its name undoes the call)?
 * An O_EXCL open that succeeded did. Otherwise: not if the name resolved at
 * the seccomp stop was this file then; else if the file was born after that
 * stop. File times are coarse (the clock tick's start) unless the kernel made
 * them fine: a birth time after the fine time of the stop is certain; one in
 * the stop's tick is taken only for an empty file, so that a file with content
 * born in the same tick just before the call (a test's set-up, say) is never
 * removed. Without a birth time: ctime in that tick or later, size 0. */
static bool created_by_call(const struct pending_open *o, uint64_t flags, const struct stat *st, const char *link)
{
    if (!o->create || !S_ISREG(st->st_mode) || st->st_nlink != 1)
        return false;
    if (flags & O_EXCL)
        return true;
    if (o->existed && o->dev == (uint64_t)st->st_dev && o->ino == (uint64_t)st->st_ino)
        return false;
    struct file_times t;
    memset(&t, 0, sizeof t);
    if (syscall(SYS_statx, AT_FDCWD, link, 0, TIMES_BTIME, &t) == 0 && (t.mask & TIMES_BTIME)) {
        int64_t born = t.btime.sec * 1000000000 + t.btime.nsec;
        return born > o->since_fine_ns || (born >= o->since_ns && st->st_size == 0);
    }
    return st->st_size == 0 && (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec >= o->since_ns;
}

/* Open the directory `dir` without following any symlink on the way, so the
 * name removed is the one judged. */
static int open_dir_nofollow(const char *dir)
{
    struct {
        uint64_t flags, mode, resolve;
    } how = {O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0x04 /* RESOLVE_NO_SYMLINKS */};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

/* Remove the name `path` if it still is the file `st`. */
static void remove_created(const char *path, const struct stat *st)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || !slash[1])
        return;
    const char *base = path + (slash - dir) + 1;
    if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    int dfd = open_dir_nofollow(dir);
    if (dfd < 0)
        return;
    struct stat now;
    if (fstatat(dfd, base, &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
        unlinkat(dfd, base, 0);
    close(dfd);
}

/* Close the process's descriptor fd. A close the process refuses (its own
 * seccomp filter) leaves the file open in it: kill it (fail closed). */
static void close_in_process(pid_t tid, int fd)
{
    long res = 0;
    uint64_t args[6] = {(uint64_t)fd};
    pid_t tgid = proc_tgid(tid);
    int rc = inject_syscall(tid, arch_nr_close, args, &res);
    if (rc == 0 && res != 0) {
        log_msg("process %d: cannot close a refused file (close: %s); killed", (int)tgid, strerror((int)-res));
        kill(tgid, SIGKILL);
    } else if (rc == -ESRCH && tgid != tid && kill(tgid, 0) == 0) {
        /* the thread died before its close ran while its process lives on: it was
         * killed by an execve in another thread (a whole-process kill would take
         * the process too). The descriptor lives on in the table the new program
         * inherits: fail closed. */
        log_msg("process %d: a thread died while a refused file was being closed in it; killed", (int)tgid);
        kill(tgid, SIGKILL);
    }
}

/* ftruncate(fd, 0) as the process asked with O_TRUNC: on our duplicate of its
 * open file when the kernel gives one, else run in the process. 0 or -errno.
 * The duplicate comes from the thread group's pidfd, so from the main
 * thread's descriptor table: a thread with a table of its own
 * (unshare(CLONE_FILES), clone without CLONE_FILES) may have another file
 * at that number there. It is used only when it is the very file the call
 * opened (`st`) and open for writing. */
static int truncate_in_process(pid_t tid, int fd, const struct stat *st)
{
    int pidfd = (int)syscall(SYS_pidfd_open, proc_tgid(tid), 0);
    int ours = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (pidfd >= 0)
        close(pidfd);
    struct stat mine;
    if (ours >= 0 && fstat(ours, &mine) == 0 && mine.st_dev == st->st_dev && mine.st_ino == st->st_ino &&
        (fcntl(ours, F_GETFL) & O_ACCMODE) != O_RDONLY) {
        int rc = ftruncate(ours, 0) < 0 ? -errno : 0;
        close(ours);
        return rc;
    }
    if (ours >= 0)
        close(ours);
    long res = 0;
    uint64_t args[6] = {(uint64_t)fd};
    int rc = inject_syscall(tid, arch_native_nr[SC_FTRUNCATE], args, &res);
    return rc < 0 ? rc : (int)res;
}

bool file_check_exit(const struct checks *c, pid_t tid, const struct pending *p, long rval_in, long *rval)
{
    const struct pending_open *o = &p->open;
    if (o->rewritten && arch_restore_call(tid, o->nr, o->args) < 0 && errno != ESRCH) {
        log_errno("cannot restore the registers of process %d", (int)proc_tgid(tid));
        kill(proc_tgid(tid), SIGKILL);
        return false;
    }
    if (rval_in < 0)
        return false;
    int fd = (int)rval_in;
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)tid, fd);
    struct stat st;
    if (stat(link, &st) < 0)
        return false; /* the process is gone (or closed it already: it cannot have) */
    struct file_verdict v = {true, NULL, -1, NULL};
    if (read_only_open(p->sc, o->args)) { /* a session's (check_read_open) */
        if (path_of_fd(tid, fd, path) && file_rules_enforcer_entry(c->files, path)) {
            close_in_process(tid, fd);
            v = (struct file_verdict){false, "selfProtection", -1, NULL};
            report(c, tid, "open-read", path, &v);
            *rval = -EPERM;
            return true;
        }
        return false;
    }
    if (path_of_fd(tid, fd, path)) {
        file_rules_decide(c->files, path, false, &v);
    } else if (st.st_nlink > 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        /* a file that still has a name we cannot read (too long, unlinked name
         * of a file with other links): cannot be judged, refuse */
        v = (struct file_verdict){false, "files.readOnly", -1, NULL};
        snprintf(path, sizeof path, "?");
    }
    if (!v.allowed) {
        uint64_t flags = p->sc == SC_CREAT ? (uint64_t)(O_CREAT | O_WRONLY | O_TRUNC) : o->args[p->sc == SC_OPEN ? 1 : 2];
        /* first close it: until then a thread sharing the descriptor table can
         * write through it (docs/compiled-policy.md, "Races") */
        bool created = path[0] == '/' && created_by_call(o, flags, &st, link);
        close_in_process(tid, fd);
        if (created)
            remove_created(path, &st);
        report(c, tid, "open-write", path, &v);
        *rval = -EPERM;
        return true;
    }
    if (o->truncate && S_ISREG(st.st_mode)) {
        int rc = truncate_in_process(tid, fd, &st);
        if (rc < 0 && rc != -ESRCH) {
            close_in_process(tid, fd);
            *rval = rc;
            return true;
        }
    }
    return false;
}
