#include "protections.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_identity.h"
#include "procinfo.h"

static struct timespec started;

void protections_start_clock(void)
{
    clock_gettime(CLOCK_REALTIME, &started);
}

static bool apply(enum policy_action action, const char *rule, struct verdict *v)
{
    if (action == ACTION_OFF)
        return false;
    *v = (struct verdict){action != ACTION_BLOCK, action == ACTION_ALERT, rule, -1, NULL};
    return true;
}

/* memfd_create, O_TMPFILE, or a file deleted since: no name on any file system. */
static bool fileless(const struct exec_facts *f)
{
    return !strncmp(f->exe, "/memfd:", 7) || (f->exe_st && f->exe_st->st_nlink == 0) ||
           strstr(f->exe, " (deleted)") != NULL;
}

/* Written, created, renamed into place or chmod'ed after the container started:
 * any of these sets the inode's ctime, which no process can set back. */
static bool drifted(const struct stat *st)
{
    if (!st)
        return false;
    return st->st_ctim.tv_sec > started.tv_sec ||
           (st->st_ctim.tv_sec == started.tv_sec && st->st_ctim.tv_nsec >= started.tv_nsec);
}

static bool shell_or_interpreter(const char *exe)
{
    static const char *const exact[] = {"sh", "dash", "bash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh",
                                        "fish", "busybox", "node", "nodejs", "socat"};
    static const char *const prefix[] = {"python", "perl", "ruby", "php", "lua", "tclsh", "pwsh"};
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcmp(base, exact[i]))
            return true;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
        if (!strncmp(base, prefix[i], strlen(prefix[i])))
            return true;
    return false;
}

/* Is the socket inode listed in one of the process's /proc/net tables? */
static bool inet_socket_inode(pid_t pid, unsigned long inode)
{
    static const char *const tables[] = {"net/tcp", "net/tcp6", "net/udp", "net/udp6"};
    static char text[256 * 1024];
    char needle[32];
    snprintf(needle, sizeof needle, " %lu ", inode);
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        ssize_t n = proc_read(pid, tables[i], text, sizeof text - 1, NULL);
        if (n <= 0)
            continue;
        text[n] = '\0';
        if (strstr(text, needle))
            return true;
    }
    return false;
}

/* A network socket on stdin, stdout or stderr. */
static bool stdio_on_network(pid_t pid)
{
    for (int fd = 0; fd <= 2; fd++) {
        char name[16], target[64];
        snprintf(name, sizeof name, "fd/%d", fd);
        if (!proc_link(pid, name, target, sizeof target))
            continue;
        unsigned long inode;
        if (sscanf(target, "socket:[%lu]", &inode) == 1 && inet_socket_inode(pid, inode))
            return true;
    }
    return false;
}

void protections_judge(const struct policy *p, const struct exec_facts *f, struct verdict *v)
{
    if (!v->allowed)
        return;
    if (fileless(f) && apply(p->fileless, "exec.fileless", v))
        return;
    if ((f->via_loader || is_loader(f->exe)) && apply(p->loader, "exec.loader", v))
        return;
    if ((drifted(f->exe_st) || drifted(f->script_st)) && apply(p->drift, "exec.drift", v))
        return;
    if (p->reverse_shell != ACTION_OFF && shell_or_interpreter(f->exe) && stdio_on_network(f->pid))
        apply(p->reverse_shell, "exec.reverseShell", v);
}
