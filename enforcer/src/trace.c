
#include "trace.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adopt_filter.h"
#include "outsiders.h"
#include "pathres.h"
#include "arch.h"
#include "events.h"
#include "exec_identity.h"
#include "follow.h"
#include "foreign.h"
#include "fswalk.h"
#include "log.h"
#include "pending.h"
#include "procinfo.h"
#include "protections.h"
#include "syscall_info.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

#define SEIZE_OPTIONS                                                                                          \
    (PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |                 \
     PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP)

int trace_seize(pid_t pid)
{
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)SEIZE_OPTIONS) < 0)
        return -errno;
    return 0;
}

/* Resume a stopped tracee: syscall by syscall while followed, else freely. */
static void resume(pid_t pid, int sig)
{
    int req = follow_find(pid, false) ? PTRACE_SYSCALL : PTRACE_CONT;
    if (ptrace(req, pid, 0, (void *)(long)sig) < 0 && errno != ESRCH)
        log_errno("cannot resume process %d", (int)pid);
}

static const char *verdict_word(const struct tracer *t, const struct verdict *v)
{
    return v->alert ? "alert" : v->allowed ? "allowed" : t->audit ? "alert" : "blocked";
}

/* The common process fields of an event. */
static void event_process_ids(struct event *e, pid_t pid, long ppid, long uid)
{
    event_int(e, "pid", pid);
    event_int(e, "ppid", ppid);
    event_int(e, "uid", uid);
}

static void event_process(struct event *e, pid_t pid)
{
    long ppid, uid;
    proc_ids(pid, &ppid, &uid, NULL);
    event_process_ids(e, pid, ppid, uid);
}

static void event_cwd(struct event *e, pid_t pid)
{
    char cwd[PATH_MAX];
    event_str(e, "cwd", proc_link(pid, "cwd", cwd, sizeof cwd) ? cwd : NULL);
}

/* Tell the blocked process why, on its stderr, when that is a pipe or a terminal
 * (opening anything else could have side effects; a regular file has an offset
 * we do not share, so our line would be overwritten). */
static void tell_process(pid_t pid, const char *msg)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/2", (int)pid);
    struct stat st;
    if (stat(path, &st) < 0)
        return;
    bool tty = S_ISCHR(st.st_mode) && (major(st.st_rdev) == 4 || major(st.st_rdev) == 5 ||
                                       (major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143));
    if (!S_ISFIFO(st.st_mode) && !tty)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t ignored = write(fd, msg, strlen(msg));
    (void)ignored;
    close(fd);
}

static const char *why_blocked(const struct verdict *v)
{
    static const struct {
        const char *rule, *why;
    } reasons[] = {
        {"exec.allow", "not in the allow list"},
        {"exec.drift", "the file appeared or changed after the container started"},
        {"exec.fileless", "the program has no file on disk (memfd or deleted)"},
        {"exec.loader", "a program run through the dynamic loader"},
        {"exec.reverseShell", "a shell or interpreter with its input or output on a network connection (a socket, or a relay through pipes)"},
    };
    if (v->pattern)
        return v->pattern;
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (!strcmp(v->key, reasons[i].rule))
            return reasons[i].why;
    return "policy";
}

static void block_message(pid_t pid, const char *path, const char *rule, const struct verdict *v)
{
    char msg[PATH_MAX + 512];
    snprintf(msg, sizeof msg, "vigil: blocked exec of %.4095s (%.63s: %.300s)\n", path, rule, why_blocked(v));
    tell_process(pid, msg);
}

/* One exec judged: the decision and what it was about, kept for its event. */
struct judgement {
    const char *mechanism;
    char exe[PATH_MAX], script[PATH_MAX], program[PATH_MAX];
    char subject[PATH_MAX]; /* the file the decision is about, for the message */
    char rule[64];
    char cwd[PATH_MAX];
    bool is_script, via_loader, have_cwd;
    struct verdict v;
    struct proc_snapshot proc; /* the command line is read before the process goes on */
};
static struct judgement judged; /* one at a time: the tracer is single-threaded */

/* Judge the program process `pid` runs now. Reads what the decision needs, the
 * command line (which the next exec would replace) and the cwd (gone once it has
 * exited); report_program writes the event.
 * Returns whether it may run. */
static bool judge_program(struct tracer *t, pid_t pid, const char *mechanism, struct judgement *j)
{
    char link[64];
    struct stat st;
    j->mechanism = mechanism;
    proc_snapshot_begin(&j->proc, pid);
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    bool have_exe = proc_link(pid, "exe", j->exe, sizeof j->exe);
    bool have_id = stat(link, &st) == 0;
    j->is_script = have_id && find_script(pid, &st, j->script);

    j->have_cwd = proc_link(pid, "cwd", j->cwd, sizeof j->cwd); /* gone once it has exited */
    const char *args;
    ssize_t n = proc_snapshot_args(&j->proc, &args, NULL);
    j->via_loader = have_exe && is_loader(j->exe) && n > 0 && loader_program(pid, args, (size_t)n, j->program);

    struct verdict v = {true, false, "default", -1, NULL};
    const char *subject = j->exe;
    struct stat sst, named;
    bool sid = false;
    if (!strcmp(mechanism, "attach") && have_exe && have_id && j->exe[0] == '/' && stat(j->exe, &named) == 0 &&
        !S_ISREG(named.st_mode)) {
        /* The container runtime's exec helper (runc init) before it runs the command: its program
         * is outside the container, and its exe names "/". Nothing of the image runs yet; the
         * command it execs next is judged at that exec, under the filter it has now. */
        v = (struct verdict){true, false, "attach.runtime", -1, NULL};
    } else if (!have_exe) {
        /* cannot tell what runs: fail closed when there are rules to apply */
        v = (struct verdict){rules_empty(t->rules), false, "default", -1, NULL};
        strcpy(j->exe, "?");
    } else {
        rules_decide(t->rules, j->exe, have_id, st.st_dev, st.st_ino, &v);
        if (v.allowed && j->is_script) {
            sid = stat(j->script, &sst) == 0;
            rules_decide(t->rules, j->script, sid, sst.st_dev, sst.st_ino, &v);
            subject = j->script;
        }
        if (v.allowed && j->via_loader) {
            /* the loader maps and runs this file itself: judge it as if it were exec'd */
            struct stat pst;
            bool pid_ok = stat(j->program, &pst) == 0;
            rules_decide(t->rules, j->program, pid_ok, pst.st_dev, pst.st_ino, &v);
            subject = j->program;
        }
        struct exec_facts facts = {pid,
                                   j->exe,
                                   have_id ? &st : NULL,
                                   j->is_script ? j->script : NULL,
                                   j->is_script && sid ? &sst : NULL,
                                   j->via_loader,
                                   &j->proc};
        protections_judge(t->rules->policy, &facts, &v);
        if (!strcmp(v.key, "exec.loader") || !strcmp(v.key, "exec.fileless") || !strcmp(v.key, "exec.reverseShell"))
            subject = j->exe;
    }
    snprintf(j->subject, sizeof j->subject, "%s", subject);
    verdict_rule_name(&v, j->rule, sizeof j->rule);
    j->v = v;
    return v.allowed || t->audit;
}

/* The exec event of a judgement (one per exec). For an allowed program this runs
 * after the process went on: its ids are read then, off its path (/proc/PID/status
 * stays readable until the enforcer reaps the process). */
static void report_program(struct tracer *t, pid_t pid, struct judgement *j)
{
    const char *args;
    bool cut = false;
    ssize_t n = proc_snapshot_args(&j->proc, &args, &cut);
    long ppid, uid;
    proc_snapshot_ids(&j->proc, &ppid, &uid, NULL);
    struct event e;
    event_begin(&e, "exec", verdict_word(t, &j->v));
    event_str(&e, "rule", j->rule);
    event_str(&e, "pattern", j->v.pattern);
    event_process_ids(&e, pid, ppid, uid);
    event_str(&e, "exe", j->exe);
    event_argv(&e, args, n > 0 ? (size_t)n : 0, cut);
    event_str(&e, "cwd", j->have_cwd ? j->cwd : NULL);
    event_str(&e, "script", j->is_script ? j->script : NULL);
    event_str(&e, "program", j->via_loader ? j->program : NULL);
    event_str(&e, "mechanism", j->mechanism);
    adopt_filter_note(&e, j->mechanism);
    event_emit(&e);
}

/* vfork parents held at their PTRACE_EVENT_VFORK stop until the child execs or
 * exits. The kernel would block such a parent until then anyway (vfork): resuming
 * it at the event only to have it sleep again in the kernel costs one more
 * wake-up, which on a VM is a cross-CPU interrupt of tens of microseconds. It is
 * released at the child's exec event, the child's exit, or the first clone/fork
 * event of the child (then its leader could end before the rest: the kernel
 * would release the parent at once, without a wait status for us to see).
 * A parent is held only while its child still sits at its first stop, not yet
 * reported to us: wait statuses of different tasks come in no fixed order, and a
 * child resumed before its parent's vfork event was seen may already have exec'd
 * and exited, leaving nothing that would release the parent. */
#define PARKED_SLOTS 256
static struct {
    pid_t parent, child;
} parked[PARKED_SLOTS];

/* Is `child` stopped at its first stop (PTRACE_EVENT_STOP, SIGTRAP), which we have
 * not collected yet? Then it has run nothing and cannot have released its parent.
 * WNOWAIT leaves the stop to be collected by the loop as usual. */
static bool at_first_stop(pid_t child)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)child, &si, WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0)
        return false;
    return si.si_pid == child && si.si_code == CLD_TRAPPED && si.si_status == (SIGTRAP | PTRACE_EVENT_STOP << 8);
}

static void on_vfork(pid_t parent)
{
    unsigned long child = 0;
    bool got = ptrace(PTRACE_GETEVENTMSG, parent, 0, &child) == 0 && child > 0;
    if (got)
        outsider_created(parent, (pid_t)child);
    if (got && at_first_stop((pid_t)child)) {
        for (size_t i = 0; i < PARKED_SLOTS; i++) {
            if (parked[i].parent == 0) {
                parked[i].parent = parent;
                parked[i].child = (pid_t)child;
                return;
            }
        }
    }
    resume(parent, 0); /* table full or no child pid: as before, resume now */
}

/* The vfork child `child` has exec'd, exited or made a task: its parent goes on. */
static void unpark_child(pid_t child)
{
    for (size_t i = 0; i < PARKED_SLOTS; i++) {
        if (parked[i].parent != 0 && parked[i].child == child) {
            pid_t parent = parked[i].parent;
            parked[i].parent = parked[i].child = 0;
            resume(parent, 0);
        }
    }
}

/* A task has ended: forget it as a parked parent (its pid may be reused). */
static void park_forget(pid_t pid)
{
    for (size_t i = 0; i < PARKED_SLOTS; i++)
        if (parked[i].parent == pid)
            parked[i].parent = parked[i].child = 0;
}

/* PTRACE_EVENT_EXEC: the new program is loaded and has not run one instruction. */
static void on_exec(struct tracer *t, pid_t pid)
{
    unsigned long former = 0;
    if (ptrace(PTRACE_GETEVENTMSG, pid, 0, &former) == 0 && (pid_t)former != pid)
        follow_drop((pid_t)former); /* exec from a non-leader thread took over the leader's pid */
    follow_drop(pid);

    struct judgement *j = &judged;
    if (judge_program(t, pid, "ptrace", j)) {
        if (t->follow_forks && j->v.allowed && execs_directly(j->subject))
            follow_find(pid, true); /* `sh -c cmd`, `env cmd`: their exec comes early */
        resume(pid, 0);
        unpark_child(pid); /* after the child: it is the one the caller waits for */
        report_program(t, pid, j);
        return;
    }
    block_message(pid, j->subject, j->rule, &j->v);
    if (arch_plant_exit_stub(pid, 126) < 0)
        kill(pid, SIGKILL);
    report_program(t, pid, j);
    resume(pid, 0);
    unpark_child(pid);
}

/* A process in our PID namespace we did not start: `docker exec`, ECS Exec.
 * Attach to every thread so what it runs from now on is decided like the rest,
 * give it the application's seccomp filter (adopt_filter.c), judge what it runs
 * already, and kill it if the policy forbids that. */
static bool seize_task(long tid, void *attached)
{
    if (tid > 0 && trace_seize((pid_t)tid) == 0)
        *(bool *)attached = true;
    return true;
}

void trace_adopt(struct tracer *t, pid_t pid)
{
    char task_dir[64];
    snprintf(task_dir, sizeof task_dir, "/proc/%d/task", (int)pid);
    bool attached = false;
    if (!proc_each_number(task_dir, seize_task, &attached))
        return;
    if (attached)
        outsider_add(pid); /* before the install lets it (and what it forks meanwhile) run */
    if (!attached || !adopt_filter_install(pid))
        return; /* gone, or killed: no filter could be installed */
    struct judgement *j = &judged;
    bool allowed = judge_program(t, pid, "attach", j);
    /* adopt2: one that ended right after the filter went in (its exe unreadable, "?")
     * runs nothing more: no decision to report, nothing to kill */
    if (!strcmp(j->exe, "?") && adopt_process_ended(pid))
        return;
    report_program(t, pid, j);
    if (!allowed) {
        block_message(pid, j->subject, j->rule, &j->v);
        kill(pid, SIGKILL);
    }
}

/* Exit of a followed execve/execveat that failed: if the policy refuses that
 * file, the kernel (Landlock) took our decision; report it. */
static void report_refused_exec(struct tracer *t, pid_t pid, struct follow *f, long rval)
{
    if (!f->path || (rval != -EACCES && rval != -EPERM))
        return;
    char joined[PATH_MAX + 64], real[PATH_MAX];
    exec_target_path(pid, f->execveat, f->dirfd, f->flags, f->path, joined);
    struct stat st;
    if (!realpath(joined, real) || stat(real, &st) < 0)
        return;
    struct verdict v;
    rules_decide(t->rules, real, true, st.st_dev, st.st_ino, &v);
    char interp[PATH_MAX];
    struct stat ist;
    struct verdict iv;
    if (script_interpreter(real, interp) && stat(interp, &ist) == 0) {
        /* a #! script: the interpreter is judged first, as at PTRACE_EVENT_EXEC */
        rules_decide(t->rules, interp, true, ist.st_dev, ist.st_ino, &iv);
        if (!iv.allowed) {
            v = iv;
            snprintf(real, sizeof real, "%s", interp);
            st = ist;
        }
    }
    if (v.allowed)
        return; /* refused for another reason (e.g. not executable): not ours to report */
    if (f->reported_dev == st.st_dev && f->reported_ino == st.st_ino)
        return; /* the same refusal again, as PATH lookups through symlinked dirs do */
    f->reported_dev = st.st_dev;
    f->reported_ino = st.st_ino;

    char args[EVENT_ARGV_MAX_BYTES], rule[64];
    size_t len = 0;
    bool cut = false;
    for (int i = 0; i < EVENT_ARGV_MAX_ARGS && f->argv_addr; i++) {
        uint64_t ptr = 0;
        if (!proc_read_mem(pid, f->argv_addr + 8 * (uint64_t)i, &ptr, sizeof ptr) || ptr == 0)
            break;
        if (len >= sizeof args - 1 || !proc_read_string(pid, ptr, args + len, sizeof args - len)) {
            cut = true;
            break;
        }
        len += strlen(args + len) + 1;
    }
    struct event e;
    event_begin(&e, "exec", "blocked");
    event_str(&e, "rule", verdict_rule_name(&v, rule, sizeof rule));
    event_str(&e, "pattern", v.pattern);
    event_process(&e, pid);
    event_str(&e, "exe", real);
    event_argv(&e, args, len, cut);
    event_cwd(&e, pid);
    event_str(&e, "script", NULL);
    event_str(&e, "mechanism", "landlock");
    event_str(&e, "errno", rval == -EACCES ? "EACCES" : "EPERM");
    event_emit(&e);
}

/* A seccomp stop (SECCOMP_RET_TRACE): one of the file or network checks the
 * filter asked for. The call is judged by its number, not by the RET_TRACE
 * data: a filter of the application's own, installed later, would win a tie
 * between two RET_TRACE and could hide our tag. Any other call (a RET_TRACE of
 * the application's filter) is simply resumed. */
static void on_seccomp(struct tracer *t, pid_t pid)
{
    struct syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info) <= 0 || info.op != SYSCALL_INFO_SECCOMP) {
        resume(pid, 0);
        return;
    }
    int sc = arch_sc_of(info.arch, info.seccomp.nr);
    struct check_outcome out = {0};
    if (sc >= 0 && t->checks.files && (!file_rules_empty(t->checks.files) || outsiders_any()))
        file_check_entry(&t->checks, pid, sc, info.seccomp.args, &out); /* outsiders: their guard stops opens */
    if (sc >= 0 && !out.deny && t->checks.net)
        net_check_entry(&t->checks, pid, sc, info.seccomp.args, &out);
    if (out.done) {
        /* made on the process's behalf: the skipped call returns its result */
        if (arch_skip_syscall(pid, out.rval) < 0 && errno != ESRCH) {
            log_errno("cannot return the result of a system call to process %d", (int)pid);
            kill(pid, SIGKILL);
        }
        resume(pid, 0);
        return;
    }
    if (!out.deny && !out.verify) {
        resume(pid, 0);
        return;
    }
    struct pending p = {pid, out.deny ? PENDING_DENY : out.kind, out.deny, out.fd, sc, out.open};
    if (!pending_put(&p) && !out.deny) {
        p.err = out.deny = EPERM; /* no room to verify the result: refuse */
        if (out.kind == PENDING_OPEN && out.open.rewritten)
            arch_rewrite_call(pid, out.open.nr, out.open.args); /* as the program made it */
    }
    if (out.deny && arch_deny_syscall(pid, out.deny) < 0 && errno != ESRCH) {
        log_errno("cannot refuse a system call of process %d", (int)pid);
        kill(pid, SIGKILL);
    }
    if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0 && errno != ESRCH)
        log_errno("cannot resume process %d", (int)pid);
}

/* The exit stop of a call on_seccomp kept an eye on. */
static void on_checked_exit(struct tracer *t, pid_t pid, const struct pending *p, long rval)
{
    long set = rval;
    bool change = p->kind == PENDING_DENY   ? (set = -p->err, true)
                  : p->kind == PENDING_OPEN ? file_check_exit(&t->checks, pid, p, rval, &set)
                                            : net_check_exit(&t->checks, pid, p, rval, &set);
    if (change && arch_set_return(pid, set) < 0 && errno != ESRCH) {
        log_errno("cannot set the result of a system call of process %d", (int)pid);
        kill(pid, SIGKILL);
    }
}

static void on_syscall_stop(struct tracer *t, pid_t pid)
{
    struct syscall_info info;
    bool have_info = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof info, &info) > 0;
    struct pending p;
    if (have_info && info.op == SYSCALL_INFO_EXIT && pending_take(pid, &p))
        on_checked_exit(t, pid, &p, (long)info.exit.rval);
    struct follow *f = follow_find(pid, false);
    if (!f || !have_info) {
        follow_drop(pid);
        resume(pid, 0);
        return;
    }
    if (info.op == SYSCALL_INFO_ENTRY) {
        bool at = false;
        f->in_exec = arch_is_exec_syscall(info.arch, info.entry.nr, &at);
        if (f->in_exec) {
            /* the path is read only if the exec fails (its report); most succeed */
            f->path_addr = at ? info.entry.args[1] : info.entry.args[0];
            f->execveat = at;
            f->dirfd = at ? (int)info.entry.args[0] : AT_FDCWD;
            f->flags = at ? (int)info.entry.args[4] : 0;
            f->argv_addr = info.arch == arch_abis[0].audit_arch ? (at ? info.entry.args[2] : info.entry.args[1]) : 0;
        }
        if (++f->syscalls > FOLLOW_MAX_SYSCALLS && !f->in_exec) {
            follow_drop(pid); /* a long-lived process, not a fork about to exec */
        }
    } else if (info.op == SYSCALL_INFO_EXIT) {
        long rval = (long)info.exit.rval;
        if (f->in_exec && info.exit.is_error && (rval == -EACCES || rval == -EPERM)) {
            char path[PATH_MAX];
            free(f->path);
            f->path = proc_read_string(pid, f->path_addr, path, sizeof path) ? strdup(path) : NULL;
            report_refused_exec(t, pid, f, rval);
        }
        f->in_exec = false;
    }
    resume(pid, 0);
}

/* A new task's first stop (PTRACE_EVENT_STOP with SIGTRAP): start following
 * new processes (not threads) until their first exec when asked to. */
static void on_new_task(struct tracer *t, pid_t pid)
{
    outsider_new_task(pid);
    if (t->follow_forks) {
        /* a thread group's leader (a process, not a thread): tgkill with signal 0 checks
         * that pid leads its group, one system call instead of reading /proc/PID/status */
        if (syscall(SYS_tgkill, pid, pid, 0) == 0)
            follow_find(pid, true);
    }
    resume(pid, 0);
}

static void on_stop(struct tracer *t, pid_t pid, int status)
{
    int sig = WSTOPSIG(status);
    int event = (unsigned)status >> 16;
    switch (event) {
    case 0:
        if (sig == (SIGTRAP | 0x80))
            on_syscall_stop(t, pid);
        else
            resume(pid, sig); /* signal-delivery-stop: deliver it */
        return;
    case PTRACE_EVENT_EXEC:
        on_exec(t, pid);
        return;
    case PTRACE_EVENT_SECCOMP:
        on_seccomp(t, pid);
        return;
    case PTRACE_EVENT_STOP:
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            /* group-stop: stay stopped (job control works) but keep listening */
            if (ptrace(PTRACE_LISTEN, pid, 0, 0) < 0 && errno != ESRCH)
                resume(pid, 0);
        } else {
            on_new_task(t, pid);
        }
        return;
    case PTRACE_EVENT_VFORK:
        on_vfork(pid);
        return;
    default: { /* fork/clone events: nothing to decide */
        unsigned long child = 0;
        if (outsiders_any() && ptrace(PTRACE_GETEVENTMSG, pid, 0, &child) == 0 && child > 0)
            outsider_created(pid, (pid_t)child);
        unpark_child(pid); /* a vfork child making threads or processes: no longer simple */
        resume(pid, 0);
        return;
    }
    }
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

static volatile sig_atomic_t main_pid_for_signals;
static volatile sig_atomic_t flush_due;

/* Forwarding happens in the handler itself (kill is async-signal-safe), so a
 * signal is passed on at once even while the loop sleeps in waitpid. */
static void forward_signal(int sig)
{
    if (main_pid_for_signals > 0)
        kill((pid_t)main_pid_for_signals, sig);
}

static void flush_timer(int sig)
{
    (void)sig;
    flush_due = 1;
}

/* One interval timer serves two needs: retrying a slow event sink (50 ms) and,
 * as PID 1, looking for processes entered from outside (FOREIGN_SCAN_MS). */
static void arm_timer(long ms)
{
    static long armed_ms;
    if (ms == armed_ms)
        return;
    struct itimerval it = {{ms / 1000, (ms % 1000) * 1000}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    armed_ms = ms;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every stop is a hand-over: the traced process stops, the tracer wakes, decides,
 * resumes it. Left to itself the scheduler wakes the tracer on an idle CPU, which on
 * a VM is an inter-processor interrupt (tens of microseconds, paid twice per stop);
 * kept on one CPU, the tracer mostly runs where the stopped process just was. Only
 * the tracer's thread is pinned (the application keeps every CPU it had). */
void trace_pin_cpu(void)
{
    cpu_set_t set;
    int cpu = sched_getcpu();
    if (cpu < 0 || sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) < 2 || !CPU_ISSET(cpu, &set))
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        log_errno("cannot keep the tracer on CPU %d", cpu);
}

int trace_run(struct tracer *t, const sigset_t *forward)
{
    main_pid_for_signals = t->main_pid;
    struct sigaction sa = {0};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(forward, sig))
            sigaction(sig, &sa, NULL);
    struct sigaction timer = {0};
    timer.sa_handler = flush_timer; /* no SA_RESTART: interrupts waitpid */
    sigaction(SIGALRM, &timer, NULL);
    sigset_t unblock = *forward;
    sigaddset(&unblock, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);

    bool scan = getpid() == 1 && t->traced;
    long last_scan = now_ms(), last_tick = now_ms();
    for (;;) {
        if (flush_due) {
            flush_due = 0;
            events_flush(0);
        }
        if (scan && now_ms() - last_scan >= FOREIGN_SCAN_MS) {
            last_scan = now_ms();
            foreign_scan(t);
        }
        if (t->tick && now_ms() - last_tick >= t->tick_ms) {
            last_tick = now_ms();
            t->tick(t);
        }
        int every = scan ? FOREIGN_SCAN_MS : events_pending_fd() >= 0 ? 50 : 0;
        if (t->tick && (every == 0 || every > t->tick_ms))
            every = t->tick_ms;
        arm_timer(every);
        int status;
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            log_errno("waitpid");
            return 1;
        }
        if (WIFSTOPPED(status)) {
            on_stop(t, pid, status);
        } else if (WIFEXITED(status) || WIFSIGNALED(status)) {
            follow_drop(pid);
            pending_drop(pid);
            outsider_forget(pid);
            protections_forget(pid);
            park_forget(pid);
            unpark_child(pid);
            if (pid == t->main_pid) {
                arm_timer(0);
                return exit_code(status);
            }
        }
    }
}
