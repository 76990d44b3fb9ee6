#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "events.h"
#include "exec_call.h"
#include "exec_identity.h"
#include "landlock.h"
#include "log.h"
#include "pathres.h"
#include "procinfo.h"
#include "rules.h"
#include "trace.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

bool notify_send_listener(int sock, int listener)
{
    char byte = 'n';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

int notify_receive_listener(int sock)
{
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    close(sock);
    struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
        log_msg("notify: the application's filter listener did not arrive (its start failed)");
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

/* Set once a process of the application changed its root (chroot, setns): until
 * then an absolute path names what it names for the enforcer, and is resolved
 * without a /proc/PID lookup. */
static bool roots_diverged;

/* The caller's memory, read with process_vm_readv (or /proc/PID/mem). */
static ssize_t read_caller(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return proc_read_some(*(pid_t *)ctx, addr, buf, len);
}

/* What the kernel will run, opened the way it will open it (O_PATH: nothing is
 * read, no device reacts): its canonical path and identity. A race may change it
 * before the kernel's own walk; the kernel's Landlock check decides then. False
 * when it names nothing that can run. */
static bool resolve_fully(pid_t pid, const struct exec_call *c, const char *path, char *real, struct stat *st)
{
    char joined[PATH_MAX + 64];
    if (path[0] == '/' && !roots_diverged)
        snprintf(joined, sizeof joined, "%s", path);
    else
        exec_target_path(pid, c->execveat, c->dirfd, c->flags, path, joined);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, joined, O_PATH | O_CLOEXEC); /* musl's open adds an fcntl */
    if (fd < 0)
        return false;
    bool ok = fstat(fd, st) == 0 && S_ISREG(st->st_mode);
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = ok ? readlink(link, real, PATH_MAX - 1) : -1;
    close(fd);
    if (!ok)
        return false;
    real[n > 0 ? n : 0] = '\0';
    if (n <= 0 || real[0] != '/' || strstr(real, " (deleted)")) /* a memfd or a deleted file */
        snprintf(real, PATH_MAX, "%.4000s", n > 0 ? real : joined);
    return true;
}

/* Absolute paths resolved lately, by their text: when a stat of the same text finds
 * the same file unchanged (identity and change times), its canonical path is taken
 * from here instead of opening and reading the link again. A shell loop execs the
 * same few programs over and over. */
#define RESOLVED_SLOTS 64
#define RESOLVED_NAME_MAX 256
static struct {
    char path[RESOLVED_NAME_MAX], real[RESOLVED_NAME_MAX];
    dev_t dev;
    ino_t ino;
    struct timespec mtime, ctime;
} resolved[RESOLVED_SLOTS];

static size_t path_slot(const char *path)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % RESOLVED_SLOTS;
}

static bool same_file(const struct stat *a, dev_t dev, ino_t ino, struct timespec mtime, struct timespec ctime)
{
    return a->st_dev == dev && a->st_ino == ino && a->st_mtim.tv_sec == mtime.tv_sec &&
           a->st_mtim.tv_nsec == mtime.tv_nsec && a->st_ctim.tv_sec == ctime.tv_sec &&
           a->st_ctim.tv_nsec == ctime.tv_nsec;
}

static bool resolve(pid_t pid, const struct exec_call *c, const char *path, char *real, struct stat *st)
{
    bool cacheable = path[0] == '/' && !roots_diverged && strlen(path) < RESOLVED_NAME_MAX;
    size_t slot = cacheable ? path_slot(path) : 0;
    if (cacheable && !strcmp(resolved[slot].path, path) && stat(path, st) == 0 && S_ISREG(st->st_mode) &&
        same_file(st, resolved[slot].dev, resolved[slot].ino, resolved[slot].mtime, resolved[slot].ctime)) {
        memcpy(real, resolved[slot].real, strlen(resolved[slot].real) + 1);
        return true;
    }
    if (!resolve_fully(pid, c, path, real, st))
        return false;
    if (cacheable && real[0] == '/' && strlen(real) < RESOLVED_NAME_MAX) {
        memcpy(resolved[slot].path, path, strlen(path) + 1);
        memcpy(resolved[slot].real, real, strlen(real) + 1);
        resolved[slot].dev = st->st_dev;
        resolved[slot].ino = st->st_ino;
        resolved[slot].mtime = st->st_mtim;
        resolved[slot].ctime = st->st_ctim;
    }
    return true;
}

/* Files seen not to be #! scripts, by identity and change times: a program run
 * again and again (a shell loop's /bin/true) is not opened and read every time. */
#define NOT_SCRIPT_SLOTS 64
static struct {
    dev_t dev;
    ino_t ino;
    struct timespec mtime, ctime;
} not_script[NOT_SCRIPT_SLOTS];

static bool same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool interpreter_of(const char *real, const struct stat *st, char *interp)
{
    size_t slot = (size_t)(st->st_ino ^ st->st_dev) % NOT_SCRIPT_SLOTS;
    if (not_script[slot].dev == st->st_dev && not_script[slot].ino == st->st_ino &&
        same_time(not_script[slot].mtime, st->st_mtim) && same_time(not_script[slot].ctime, st->st_ctim))
        return false;
    if (script_interpreter(real, interp))
        return true;
    not_script[slot].dev = st->st_dev;
    not_script[slot].ino = st->st_ino;
    not_script[slot].mtime = st->st_mtim;
    not_script[slot].ctime = st->st_ctim;
    return false;
}

/* What one exec call is judged on, and what its event names. */
struct judged {
    char real[PATH_MAX];    /* the file the call names, canonical */
    char interp[PATH_MAX];  /* its #! interpreter, or "" */
    char program[PATH_MAX]; /* the program a dynamic loader run directly is to load, or "" */
    char subject[PATH_MAX]; /* the file the decision is about */
    struct stat st;
    struct verdict v;
};

/* The policy's verdict, then the kernel's: a file the Landlock layer does not grant
 * (no name at all, or created after the start where files were granted one by one)
 * is refused, and reported so, even when an allow glob matches its name. A script's
 * interpreter is judged first, as at the exec; a program the loader is asked to run
 * is judged as if it were exec'd (the loader maps it itself, Landlock never sees it). */
static void decide(const struct exec_rules *rules, pid_t pid, const char *args, size_t n_args, struct judged *j)
{
    struct verdict *v = &j->v;
    snprintf(j->subject, PATH_MAX, "%s", j->real);
    j->interp[0] = j->program[0] = '\0';
    rules_decide(rules, j->real, true, j->st.st_dev, j->st.st_ino, v);
    bool granted = j->real[0] == '/' && strncmp(j->real, "/proc/", 6) && landlock_exec_granted(j->real, &j->st);
    struct stat ist;
    if (interpreter_of(j->real, &j->st, j->interp) && stat(j->interp, &ist) == 0) {
        struct verdict iv;
        rules_decide(rules, j->interp, true, ist.st_dev, ist.st_ino, &iv);
        if (!iv.allowed) {
            *v = iv;
            snprintf(j->subject, PATH_MAX, "%s", j->interp);
            return;
        }
        granted = granted && landlock_exec_granted(j->interp, &ist);
    } else {
        j->interp[0] = '\0';
    }
    if (v->allowed && !granted) {
        *v = (struct verdict){false, false, "exec.allow", -1, NULL};
        return;
    }
    if (v->allowed && is_loader(j->real) && loader_program(pid, args, n_args, j->program)) {
        struct stat pst;
        bool have = stat(j->program, &pst) == 0;
        rules_decide(rules, j->program, have, pst.st_dev, pst.st_ino, v);
        snprintf(j->subject, PATH_MAX, "%s", j->program);
    }
}

/* The parent and user of a process: from its pidfd (Linux 6.13's PIDFD_GET_INFO),
 * which renders nothing, else from /proc/PID/status. */
#define PIDFD_INFO_CREDS_BIT 2u
struct pidfd_info_v0 {
    uint64_t mask, cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define PIDFD_THREAD_FLAG O_EXCL /* a pidfd for a thread: the caller of exec may be one */

static void process_ids(pid_t pid, long *ppid, long *uid)
{
    static bool no_info;
    int fd = no_info ? -1 : (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD_FLAG);
    if (fd >= 0) {
        struct pidfd_info_v0 info = {.mask = PIDFD_INFO_CREDS_BIT};
        bool ok = ioctl(fd, PIDFD_GET_INFO_V0, &info) == 0;
        close(fd);
        if (ok) {
            *ppid = info.ppid;
            *uid = info.ruid;
            return;
        }
        no_info = errno == ENOTTY || errno == EINVAL; /* an older kernel: not again */
    } else if (errno == EINVAL) {
        no_info = true; /* no PIDFD_THREAD (before 6.9) */
    }
    proc_ids(pid, ppid, uid, NULL);
}

static bool root_call(const struct seccomp_data *d)
{
    for (size_t i = 0; i < arch_abi_count; i++)
        if (arch_abis[i].audit_arch == d->arch && ((uint64_t)(uint32_t)d->nr == (uint64_t)arch_abis[i].nr_chroot + arch_abis[i].nr_bias ||
                                                  (uint64_t)(uint32_t)d->nr == (uint64_t)arch_abis[i].nr_setns + arch_abis[i].nr_bias))
            return true;
    return false;
}

void notify_handle(struct tracer *t, int listener)
{
    static union {
        struct seccomp_notif n;
        char room[512]; /* a later kernel's larger struct (SECCOMP_GET_NOTIF_SIZES) */
    } req;
    static union {
        struct seccomp_notif_resp r;
        char room[512];
    } resp;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req.n) < 0)
        return; /* ENOENT: the caller is gone */
    pid_t pid = (pid_t)req.n.pid;
    memset(&resp, 0, sizeof resp);
    resp.r.id = req.n.id;
    resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    struct exec_call c;
    uint64_t call_args[6];
    memcpy(call_args, req.n.data.args, sizeof call_args);
    if (!exec_call_describe(req.n.data.arch, (uint64_t)(uint32_t)req.n.data.nr, call_args, &c)) {
        roots_diverged |= root_call(&req.n.data); /* before it runs: its next exec is seen after */
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp.r);
        return;
    }
    static char path[PATH_MAX], args[EVENT_ARGV_MAX_BYTES];
    static struct judged j;
    static struct caller_mem mem = {.read = read_caller};
    mem.ctx = &pid;
    bool cut = false, known = exec_call_path(&mem, &c, path, sizeof path);
    size_t n_args = known ? exec_call_argv(&mem, &c, EVENT_ARGV_MAX_ARGS, args, sizeof args, &cut) : 0;
    known = known && resolve(pid, &c, path, j.real, &j.st);
    /* No NOTIF_ID_VALID check: the caller waits in the kernel until answered, so its pid
     * cannot be given again meanwhile; if it was killed, the answer below fails and
     * nothing read is used. */
    j.v = (struct verdict){true, false, "default", -1, NULL};
    j.interp[0] = j.program[0] = '\0';
    if (known)
        decide(t->rules, pid, args, n_args, &j);
    const struct verdict *v = &j.v;
    bool go = v->allowed || t->audit;
    if (!go) {
        resp.r.flags = 0;
        resp.r.error = -EPERM;
    }
    char rule[64], cwd[PATH_MAX];
    bool have_cwd = false;
    if (!go) { /* while it waits: a refused process may end at once */
        trace_tell_blocked(pid, j.subject, v);
        have_cwd = proc_link(pid, "cwd", cwd, sizeof cwd);
    }
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp.r) < 0 || !known)
        return; /* gone meanwhile; or nothing runs (the kernel will fail the call) */
    /* A PATH lookup goes on after EPERM: through /bin and /usr/bin of a merged-/usr system
     * the same file is refused twice to the same process. One event. */
    static struct {
        pid_t pid;
        dev_t dev;
        ino_t ino;
    } last_refused;
    if (!go && last_refused.pid == pid && last_refused.dev == j.st.st_dev && last_refused.ino == j.st.st_ino)
        return;
    if (!go)
        last_refused.pid = pid, last_refused.dev = j.st.st_dev, last_refused.ino = j.st.st_ino;
    if (go) /* off the critical path: the program is on its way */
        have_cwd = proc_link(pid, "cwd", cwd, sizeof cwd);
    long ppid, uid;
    process_ids(pid, &ppid, &uid);
    struct event e;
    event_begin(&e, "exec", v->allowed ? "allowed" : t->audit ? "alert" : "blocked");
    event_str(&e, "rule", verdict_rule_name(v, rule, sizeof rule));
    event_str(&e, "pattern", v->pattern);
    event_int(&e, "pid", pid);
    event_int(&e, "ppid", ppid);
    event_int(&e, "uid", uid);
    event_str(&e, "exe", j.interp[0] ? j.interp : j.real); /* as /proc/PID/exe will name it */
    event_argv(&e, args, n_args, cut);
    event_str(&e, "cwd", have_cwd ? cwd : NULL);
    event_str(&e, "script", j.interp[0] ? j.real : NULL);
    event_str(&e, "program", j.program[0] ? j.program : NULL);
    event_str(&e, "mechanism", "notify");
    event_emit(&e);
}
