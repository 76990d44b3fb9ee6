
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/capability.h>
#include <termios.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"
#include "seccomp.h"

static void child_fail(const char *what, int err)
{
    errno = err;
    log_errno("%s", what);
    _exit(1);
}

static void child(const struct spawn_plan *plan, int gate_rd, pid_t parent)
{
    /* Die with the enforcer: a tracer crash must never leave the app unwatched. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);

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

    /* SYS_PTRACE is added to the task for the enforcer only: the application must
     * not use it to attach to the enforcer or to processes it does not own. */
    if (!plan->keep_ptrace_cap) {
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SYS_PTRACE, 0, 0);
        prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
    }

    if (plan->landlock_fd >= 0 || plan->files_landlock_fd >= 0 || plan->seccomp) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            child_fail("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    }
    if (plan->landlock_fd >= 0) {
        int err = landlock_enter(plan->landlock_fd);
        if (err < 0)
            child_fail("landlock_restrict_self", -err);
        close(plan->landlock_fd);
    }
    if (plan->files_landlock_fd >= 0) {
        int err = landlock_enter(plan->files_landlock_fd);
        if (err < 0)
            child_fail("landlock_restrict_self (files)", -err);
        close(plan->files_landlock_fd);
    }
    if (plan->seccomp) {
        int err = seccomp_install_filter(&plan->needs);
        if (err < 0)
            child_fail("installing the seccomp filter", -err);
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
