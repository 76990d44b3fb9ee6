#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int quiet;

void log_set_quiet(int q)
{
    quiet = q;
}

static void emit(const char *text, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        text += w;
        n -= (size_t)w;
    }
}

void log_msg(const char *fmt, ...)
{
    if (quiet)
        return;
    int saved = errno;
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "vigil-enforcer: ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    emit(buf, (size_t)n);
    errno = saved;
}

void log_errno(const char *what, ...)
{
    int saved = errno;
    char buf[512];
    va_list ap;
    va_start(ap, what);
    vsnprintf(buf, sizeof buf, what, ap);
    va_end(ap);
    const char *hint = "";
    if (saved == EPERM || saved == EACCES)
        hint = " (if this is ptrace: add the SYS_PTRACE capability to the container; on ECS set "
               "linuxParameters.capabilities.add = [\"SYS_PTRACE\"])";
    else if (saved == ENOSYS)
        hint = " (the kernel or a seccomp profile does not offer this system call)";
    log_msg("%s: %s%s", buf, strerror(saved), hint);
    errno = saved;
}
