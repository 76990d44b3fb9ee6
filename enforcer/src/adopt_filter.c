#include "adopt_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "event_proc.h"
#include "inject.h"
#include "log.h"
#include "procinfo.h"
#include "syscall_info.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC 1UL
#endif

/* What is written into the process (an anonymous mapping made in it for the
 * time of the installation, not its stack: a Go goroutine's stack may be a few
 * KiB, with other live memory right below it). The layout of struct
 * sock_fprog is the same in the tracee: one architecture, 64-bit only. */
static struct image {
    struct sock_fprog prog[3];
    struct sock_filter insns[SECCOMP_MAX_INSNS + SECCOMP_NS_MAX_INSNS + SECCOMP_GUARD_MAX_INSNS];
} img;

static struct {
    bool on, ns, guard, no_raw, built;
    int n_progs;
    struct filter_needs needs;
    bool installed; /* for the attach event of the process being adopted */
} cfg;

void adopt_filter_configure(const struct filter_needs *needs, bool namespaces, bool guard, bool no_raw_sockets)
{
    cfg.on = true;
    cfg.needs = *needs;
    cfg.ns = namespaces;
    cfg.guard = guard || no_raw_sockets;
    cfg.no_raw = no_raw_sockets;
}

/* The enforcer's own tasks (its threads: the tracer, the event shipper), for the guard. */
struct own_tasks {
    int pids[SECCOMP_GUARD_MAX_PIDS];
    size_t n;
};

static bool own_task(long n, void *ctx)
{
    struct own_tasks *t = ctx;
    if (t->n == SECCOMP_GUARD_MAX_PIDS)
        return false;
    t->pids[t->n++] = (int)n;
    return true;
}

/* The programs, once: the application's filter, then those asked for. False when
 * one cannot be built. */
static bool build_image(void)
{
    unsigned short n[3] = {0, 0, 0};
    if (seccomp_build_filter(&cfg.needs, img.insns, &n[0]) < 0)
        return false;
    int k = 1;
    unsigned used = n[0];
    if (cfg.ns) {
        if (seccomp_build_ns_filter(img.insns + used, &n[k]) < 0)
            return false;
        used += n[k++];
    }
    if (cfg.guard) {
        struct own_tasks t = {.n = 0};
        if (!proc_each_number("/proc/self/task", own_task, &t) || t.n == SECCOMP_GUARD_MAX_PIDS ||
            seccomp_build_guard_filter(t.pids, t.n, cfg.no_raw, img.insns + used, &n[k]) < 0)
            return false;
        used += n[k++];
    }
    for (int i = 0; i < k; i++)
        img.prog[i].len = n[i];
    cfg.n_progs = k;
    return true;
}

/* Run nr(a) in tid, at a syscall-exit stop. 0 with *res, or <0 (task gone, or
 * killed by inject_syscall: then *why says why). */
static int run(pid_t tid, const char **why, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, long *res)
{
    uint64_t a[6] = {a0, a1, a2, a3, nr == SYS_mmap ? (uint64_t)-1 : 0, 0}; /* mmap's fd: -1 */
    int rc = inject_syscall(tid, nr, a, res);
    if (rc < 0 && rc != -ESRCH)
        *why = inject_failure();
    return rc;
}

/* At a syscall-exit stop of tid: map a scratch area, write the programs, set
 * no_new_privs, install them with TSYNC (every thread), unmap. 0, -ESRCH (gone),
 * or another -errno with *why. */
static int install_at_exit(pid_t tid, const char **why)
{
    long res, at;
    int rc = run(tid, why, SYS_mmap, 0, sizeof img, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, &at);
    if (rc < 0)
        return rc;
    if ((unsigned long)at > -4096UL) {
        *why = "mmap refused in it";
        return -EPERM;
    }
    uint64_t base = (uint64_t)at, insns = base + offsetof(struct image, insns);
    for (int i = 0, before = 0; i < cfg.n_progs; before += img.prog[i++].len)
        img.prog[i].filter = (struct sock_filter *)(uintptr_t)(insns + (uint64_t)before * sizeof img.insns[0]);
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", (int)tid);
    int fd = open(mem, O_WRONLY | O_CLOEXEC);
    bool written = fd >= 0 && pwrite(fd, &img, sizeof img, (off_t)base) == (ssize_t)sizeof img;
    if (fd >= 0)
        close(fd);
    const char *failed = written ? NULL : "cannot write the filter into it";
    if (!failed && (rc = run(tid, why, SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, &res)) == 0 && res != 0)
        failed = "prctl(PR_SET_NO_NEW_PRIVS) failed in it";
    for (int i = 0; i < cfg.n_progs && !failed && rc == 0; i++)
        if ((rc = run(tid, why, SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
                      base + (uint64_t)i * sizeof img.prog[0], 0, &res)) == 0 && res != 0)
            failed = "seccomp(SECCOMP_SET_MODE_FILTER, TSYNC) failed in it";
    if (rc == 0)
        rc = run(tid, why, SYS_munmap, base, sizeof img, 0, 0, &res);
    if (rc == 0 && failed)
        *why = failed;
    return rc < 0 ? rc : failed ? -EPERM : 0;
}

/* Collect a thread of the process that has ended. A traced thread stays a zombie
 * until its tracer collects it, and an execve in another thread waits (in
 * de_thread, where no interrupt stops it) until every other thread is collected:
 * the trace loop, which would do it, does not run while we wait for that thread.
 * These threads were seized a moment ago: nothing else in the enforcer knows them. */
static bool collect_ended(long n, void *ctx)
{
    siginfo_t si;
    if (n > 0 && n != *(const pid_t *)ctx)
        waitid(P_PID, (id_t)n, &si, WEXITED | WNOHANG | __WALL);
    return true;
}

/* The next stop of leader tid until deadline (as inject_next_stop), collecting
 * the process's ended threads every 10 ms meanwhile. */
static int next_stop(pid_t tid, int *status, long deadline)
{
    char task_dir[64];
    snprintf(task_dir, sizeof task_dir, "/proc/%d/task", (int)tid);
    for (;;) {
        long now = inject_now_ms(), until = now + 10 < deadline ? now + 10 : deadline;
        int got = inject_next_stop(tid, status, until);
        if (got >= 0 || until == deadline)
            return got;
        proc_each_number(task_dir, collect_ended, &tid);
    }
}

/* Stop task tid (a process's leader) of a seized process, let it run to its next
 * system call (a call it is blocked in is restarted at once), skip that call,
 * install at its exit stop, put the call back to run again (through the filter
 * now), resume. Only the exit of the call skipped will do: there the instruction
 * before the stop is the system call the injection runs again, whereas the exit
 * of a call that ran may be anywhere (an execve's is the new program's entry
 * point). 0, -ESRCH (gone) or another -errno with *why. */
static int install(pid_t tid, const char **why, int depth)
{
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
        return -ESRCH;
    long deadline = inject_now_ms() + 2000;
    struct syscall_info call, ci;
    bool skipped = false;
    for (;;) {
        int status, got = next_stop(tid, &status, deadline);
        if (got == 0)
            return -ESRCH;
        if (got < 0) {
            *why = "it made no system call within 2 s";
            return -ETIMEDOUT;
        }
        int sig = WSTOPSIG(status), event = (unsigned)status >> 16, pass = 0;
        if (event == 0 && sig == (SIGTRAP | 0x80)) {
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof ci, &ci) <= 0)
                return -ESRCH;
            if (ci.arch != arch_abis[0].audit_arch) {
                *why = "a system call of another ABI (32-bit): the injected calls would not be ours";
                return -EPERM;
            }
            if (ci.op == SYSCALL_INFO_EXIT && skipped)
                break;
            if (ci.op == SYSCALL_INFO_ENTRY && !skipped) {
                call = ci;
                skipped = true;
                if (arch_skip_syscall(tid, -ENOSYS) < 0)
                    return -ESRCH;
            }
        } else if (event == PTRACE_EVENT_VFORK && depth == 0) {
            /* the parent waits for the child's exec or exit: the child first */
            unsigned long child = 0;
            ptrace(PTRACE_GETEVENTMSG, tid, 0, &child);
            int rc = child ? install((pid_t)child, why, 1) : 0;
            if (rc < 0 && rc != -ESRCH) {
                kill((pid_t)child, SIGKILL);
                return rc;
            }
        } else if (event == 0) {
            pass = sig; /* signal-delivery stop: deliver it */
        }
        /* our interrupt, a group-stop, an exec or fork event that came first, the
         * exit of a call that was under way (execve, vfork): run on to the next
         * system call stop */
        if (ptrace(PTRACE_SYSCALL, tid, 0, (void *)(long)pass) < 0)
            return -ESRCH;
    }
    struct arch_regs regs;
    int rc = arch_get_regs(tid, &regs);
    if (rc == 0)
        rc = install_at_exit(tid, why);
    if (rc == 0)
        rc = arch_prepare_injection(tid, &regs, (long)call.entry.nr, call.entry.args);
    if (rc == 0)
        rc = ptrace(PTRACE_CONT, tid, 0, 0) < 0 ? -ESRCH : 0;
    return rc;
}

static void report_failure(pid_t pid, const char *why)
{
    log_msg("process %d: cannot install the seccomp filter (%s); killed", (int)pid, why);
    struct event e;
    event_begin(&e, "exec", "blocked");
    event_str(&e, "rule", "attach.filter");
    event_str(&e, "pattern", NULL);
    event_process_fields(&e, pid);
    kill(pid, SIGKILL);
    event_str(&e, "script", NULL);
    event_str(&e, "mechanism", "attach");
    event_bool(&e, "filter", false);
    event_str(&e, "reason", why);
    event_emit(&e);
}

bool adopt_process_ended(pid_t pid)
{
    /* /proc/PID/exe: ENOENT once the process has no memory (exiting, or a zombie: a
     * traced one stays until the enforcer reaps it, so kill(pid, 0) still succeeds),
     * or when it is gone; a live one always has its exe (a path too long to name
     * fails with ENAMETOOLONG, and a deleted file is still named) */
    char exe[16];
    return !proc_link(pid, "exe", exe, sizeof exe) && errno == ENOENT;
}

/* One process: install, or kill it and say why. true when it runs on with the filter. */
static bool install_process(pid_t pid, int depth)
{
    const char *why = "it could not be stopped";
    int rc = install(pid, &why, depth);
    if (rc == 0)
        return true;
    /* Gone, or ending: killing it would only replace the status it exits with by SIGKILL's. */
    if (rc == -ESRCH && adopt_process_ended(pid))
        return false;
    report_failure(pid, why);
    return false;
}

/* A process it forked between our attach and the filter (TSYNC and fork serialise
 * on the sighand lock: a child made before the filter is in the children list by
 * then) is still at its first stop: it gets the filter too. */
struct forked {
    pid_t parent;
    long filters; /* the parent's Seccomp_filters now */
    pid_t self;
};

static bool filter_forked_child(long n, void *ctx)
{
    const struct forked *c = ctx;
    pid_t child = (pid_t)n;
    long ppid, uid, tgid;
    if (child <= 0)
        return true;
    proc_ids(child, &ppid, &uid, &tgid);
    if (ppid == c->parent && tgid == child && proc_status_field(child, "\nTracerPid:") == c->self &&
        (c->filters < 0 || proc_status_field(child, "\nSeccomp_filters:") < c->filters))
        install_process(child, 1);
    return true;
}

bool adopt_filter_install(pid_t pid)
{
    cfg.installed = false;
    if (!cfg.on)
        return true;
    if (!cfg.built) {
        if (!build_image()) {
            report_failure(pid, "the filter could not be built");
            return false;
        }
        cfg.built = true;
    }
    if (!install_process(pid, 0))
        return false;
    struct forked c = {pid, proc_status_field(pid, "\nSeccomp_filters:"), getpid()};
    proc_each_number("/proc", filter_forked_child, &c);
    cfg.installed = true;
    return true;
}

void adopt_filter_note(struct event *e, const char *mechanism)
{
    if (cfg.on && !strcmp(mechanism, "attach"))
        event_bool(e, "filter", cfg.installed);
}
