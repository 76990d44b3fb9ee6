
#include "spawn.h"

#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <termios.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "arch.h"
#include "landlock.h"
#include "log.h"
#include "seccomp.h"

static void child_fail(const char *what, int err)
{
    errno = err;
    log_errno("%s", what);
    _exit(1);
}

/* Remove the capabilities in `mask` from the bounding, inheritable and ambient
 * sets, so that no exec gives them back (root's exec takes inheritable | bounding).
 * -1 when one could not be removed from the bounding set (no CAP_SETPCAP). */
static int drop_capabilities(uint64_t mask)
{
    int rc = 0;
    for (int cap = 0; cap < 64; cap++) {
        if (!(mask & ((uint64_t)1 << cap)))
            continue;
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0)
            continue; /* not in the set, or beyond this kernel's last capability */
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0);
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            rc = -1;
    }
    struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &head, data) == 0) {
        data[0].inheritable &= ~(uint32_t)mask;
        data[1].inheritable &= ~(uint32_t)(mask >> 32);
        syscall(SYS_capset, &head, data);
    }
    return rc;
}

/* The application's own CPU mask, taken before the fork when the child is to
 * add its half of the Landlock rules on another CPU than the enforcer: a new
 * child is woken on its parent's CPU, where the two halves would run one after
 * the other. The enforcer moves it (spawn_start); it takes the mask back once
 * the gate opens, which is after that move. */
static cpu_set_t app_cpus;
static bool moved_off;

static void child(const struct spawn_plan *plan, int gate_rd, pid_t parent)
{
    /* Die with the enforcer: a tracer crash must never leave the app unwatched. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);

    /* The child's half of the exec grants first (the enforcer started on its
     * half at the fork, and attaches after it); the gate opens once both are in. */
    if (plan->landlock_fd >= 0) {
        if (landlock_deferred_parts() == 2 && !landlock_add_deferred(plan->landlock_fd, 1, 2))
            _exit(1);
        landlock_deferred_close(); /* now, while the enforcer may still be at work; the memory goes with exec */
    }

    /* Own process group, and the terminal's foreground if there is one (as tini). */
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
        signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(STDIN_FILENO, getpgrp());
    }
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);

    char go = 0;
    ssize_t n;
    do
        n = read(gate_rd, &go, 1);
    while (n < 0 && errno == EINTR);
    close(gate_rd);
    if (n != 1 || go != 'g')
        _exit(1);
    if (moved_off && sched_setaffinity(0, sizeof app_cpus, &app_cpus) < 0)
        child_fail("sched_setaffinity (giving the application back its CPUs)", errno);

    /* SYS_PTRACE is added to the task for the enforcer only: the application must
     * not use it to attach to the enforcer or to processes it does not own. */
    uint64_t drop = plan->drop_caps | (plan->keep_ptrace_cap ? 0 : (uint64_t)1 << CAP_SYS_PTRACE);
    bool nnp = plan->no_new_privs;
    if (drop && drop_capabilities(drop) < 0)
        nnp = true; /* some stay in the bounding set: at least no file capability may grant them */

    if (nnp || plan->landlock_fd >= 0 || plan->seccomp) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            child_fail("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    }
    if (plan->landlock_fd >= 0) {
        int err = landlock_enter(plan->landlock_fd);
        if (err < 0)
            child_fail("landlock_restrict_self", -err);
        close(plan->landlock_fd);
    }
    if (plan->seccomp) {
        int err = seccomp_install_filter(&plan->needs);
        if (err < 0)
            child_fail("installing the seccomp filter", -err);
    }
    if (plan->no_namespaces) {
        int err = seccomp_install_ns_filter();
        if (err < 0)
            child_fail("installing the namespace filter", -err);
    }
    sigprocmask(SIG_SETMASK, &plan->child_mask, NULL);
    execvp(plan->argv[0], plan->argv);
    int err = errno;
    log_msg("cannot run %s: %s", plan->argv[0], strerror(err));
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

pid_t spawn_start(const struct spawn_plan *plan, int *gate)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        log_errno("pipe");
        return -1;
    }
    pid_t parent = getpid();
    int cpu = sched_getcpu();
    cpu_set_t others;
    moved_off = plan->landlock_fd >= 0 && landlock_deferred_parts() == 2 && cpu >= 0 &&
                sched_getaffinity(0, sizeof app_cpus, &app_cpus) == 0 && CPU_COUNT(&app_cpus) >= 2 &&
                CPU_ISSET(cpu, &app_cpus);
    if (moved_off) {
        others = app_cpus;
        CPU_CLR(cpu, &others);
    }
    pid_t pid = fork();
    if (pid < 0) {
        log_errno("fork");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[1]);
        child(plan, fds[0], parent);
    }
    close(fds[0]);
    if (moved_off)
        sched_setaffinity(pid, sizeof others, &others); /* if refused, the halves only take turns */
    *gate = fds[1];
    return pid;
}

void spawn_release(int gate, bool go)
{
    if (go) {
        ssize_t ignored = write(gate, "g", 1);
        (void)ignored;
    }
    close(gate);
}

static bool executable_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

bool spawn_resolve(const char *argv0, char *out, size_t cap)
{
    if (strchr(argv0, '/')) {
        if ((size_t)snprintf(out, cap, "%s", argv0) >= cap)
            return false;
        return executable_file(out);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        int w = snprintf(out, cap, "%.*s%s%s", (int)n, path, n ? "/" : "", argv0);
        if (w > 0 && (size_t)w < cap && executable_file(out))
            return true;
        if (!end)
            break;
        path = end + 1;
    }
    return false;
}
