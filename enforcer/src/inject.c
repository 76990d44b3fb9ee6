#include "inject.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "log.h"
#include "procinfo.h"
#include "syscall_info.h"

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif
#ifndef PTRACE_EVENT_SECCOMP
#define PTRACE_EVENT_SECCOMP 7
#endif

static bool call_info(pid_t tid, struct syscall_info *ci)
{
    memset(ci, 0, sizeof *ci);
    return ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof *ci, ci) > 0;
}

long inject_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long the injected call may take to come back (the tracer serves every
 * process meanwhile): a close or ftruncate takes microseconds; a task that
 * does not stop again runs code of its own (the instruction we rewound to was
 * changed under it) or is stuck in the call. */
#define INJECT_WAIT_MS 2000

/* Wait for the next stop of tid until deadline_ms. 1: *status as from waitpid;
 * 0: it exited or was killed (its status is left for the trace loop: only a
 * stop is collected here, WEXITED left out, so an exit that comes between the
 * two waitids stays uncollected); -1: no stop in time. */
int inject_next_stop(pid_t tid, int *status, long deadline_ms)
{
    long nap_us = 0;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOWAIT | WNOHANG | __WALL) < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (si.si_pid == 0) {
            if (inject_now_ms() >= deadline_ms)
                return -1;
            nap_us = nap_us == 0 ? 10 : nap_us < 1000 ? nap_us * 2 : 1000;
            struct timespec nap = {0, nap_us * 1000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED)
            return 0;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WNOHANG | __WALL) < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (si.si_pid == 0)
            continue; /* no longer stopped (killed meanwhile): look again */
        /* si_status is the whole stop code (signal | event << 8) */
        *status = (si.si_status << 8) | 0x7f;
        return 1;
    }
}

static const char *last_failure;

const char *inject_failure(void)
{
    return last_failure;
}

/* The task ran something other than the call we loaded (its code was changed
 * under it) or could not be driven: fail closed. */
static int give_up(pid_t tid, const char *why)
{
    last_failure = why;
    log_msg("process %d: %s; killed", (int)proc_tgid(tid), why);
    kill(proc_tgid(tid), SIGKILL);
    return -EPERM;
}

int inject_syscall(pid_t tid, long nr, const uint64_t args[6], long *result)
{
    struct arch_regs saved;
    struct syscall_info at;
    int rc = arch_get_regs(tid, &saved);
    if (rc < 0)
        return rc == -ESRCH ? rc : give_up(tid, "cannot read its registers to run a system call in it");
    if (!call_info(tid, &at) || at.op != SYSCALL_INFO_EXIT)
        return give_up(tid, "not at a system call exit");
    uint64_t mask = 0, all = ~(uint64_t)0;
    bool masked = ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof mask, &mask) == 0 &&
                  ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof all, &all) == 0;
    if (!masked)
        return errno == ESRCH ? -ESRCH : give_up(tid, "cannot block signals to run a system call in it");
    if ((rc = arch_prepare_injection(tid, &saved, nr, args)) < 0 || ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
        return errno == ESRCH ? -ESRCH : give_up(tid, "cannot run a system call");

    bool entered = false;
    int again = 0;
    long deadline = inject_now_ms() + INJECT_WAIT_MS;
    for (;;) {
        int status, got = inject_next_stop(tid, &status, deadline);
        if (got == 0)
            return -ESRCH;
        if (got < 0)
            return give_up(tid, "did not come back from a system call run in it");
        int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
        struct syscall_info ci;
        if (event == 0 && sig == (SIGTRAP | 0x80) && call_info(tid, &ci)) {
            if (ci.op == 1) {
                /* our call, from the instruction the task just ran: anything
                 * else means user code ran in between */
                if (entered || ci.entry.nr != (uint64_t)nr || ci.entry.args[0] != args[0] ||
                    ci.instruction_pointer != at.instruction_pointer)
                    return give_up(tid, "ran another system call than the one injected");
                entered = true;
            } else if (ci.op == 2 && entered) {
                *result = (long)ci.exit.rval;
                break;
            } else {
                return give_up(tid, "unexpected stop while running a system call in it");
            }
        } else if (event == 0 && sig != SIGSTOP) {
            /* every blockable signal is blocked: only a fault the instruction
             * raised itself is delivered now (the instruction before the stop
             * was not a system call): resumed, it would fault again until the
             * deadline, every other process waiting on the tracer meanwhile */
            return give_up(tid, "faulted instead of running a system call in it");
        } else if (event == PTRACE_EVENT_SECCOMP && entered) {
            /* a RET_TRACE filter (ours for ftruncate, or the program's): go on */
        } else if (event == 0 || (event == PTRACE_EVENT_STOP && sig != SIGTRAP)) {
            /* SIGSTOP (it cannot be blocked), or a group-stop: not
             * taken now (resumed with 0 below), sent again afterwards */
            again = sig;
        } else {
            return give_up(tid, "unexpected event while running a system call in it");
        }
        if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
            return errno == ESRCH ? -ESRCH : give_up(tid, "cannot resume");
    }
    if (arch_set_regs(tid, &saved) < 0 || ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof mask, &mask) < 0)
        return errno == ESRCH ? -ESRCH : give_up(tid, "cannot restore registers");
    if (again)
        syscall(SYS_tgkill, proc_tgid(tid), tid, again);
    return 0;
}
