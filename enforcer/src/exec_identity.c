#include "exec_identity.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procinfo.h"

/* For a program started through #! (or binfmt_misc), the file the caller named:
 * AT_EXECFN resolved against the caller's cwd, when it is not the exe itself. */
bool find_script(pid_t pid, const struct stat *exe_st, char *out)
{
    uint64_t addr;
    char execfn[PATH_MAX], joined[PATH_MAX + 64];
    if (!proc_auxv(pid, AT_EXECFN, &addr) || !proc_read_string(pid, addr, execfn, sizeof execfn))
        return false;
    if (!strncmp(execfn, "/dev/fd/", 8) || !strncmp(execfn, "/proc/", 6) || execfn[0] == '\0')
        return false; /* fexecve/execveat by descriptor: the exe is what ran */
    if (execfn[0] == '/')
        snprintf(joined, sizeof joined, "/proc/%d/root%s", (int)pid, execfn);
    else
        snprintf(joined, sizeof joined, "/proc/%d/cwd/%s", (int)pid, execfn);
    struct stat st;
    if (stat(joined, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (st.st_dev == exe_st->st_dev && st.st_ino == exe_st->st_ino)
        return false; /* the common case: the named file is the program itself */
    return realpath(joined, out) != NULL;
}

/* Is this exe a dynamic loader (ld-linux*.so*, ld-musl-*.so*) run as a program? */
bool is_loader(const char *exe)
{
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    return !strncmp(base, "ld-", 3) && strstr(base, ".so") != NULL;
}

/* `ld.so [OPTIONS] PROGRAM ARGS`: the program the loader will map and run,
 * resolved against the process's cwd. Returns false when there is none. */
bool loader_program(pid_t pid, const char *args, size_t len, char *out)
{
    static const char *const with_value[] = {"--library-path", "--preload", "--argv0", "--audit",
                                             "--inhibit-rpath", "--glibc-hwcaps-prepend",
                                             "--glibc-hwcaps-mask"};
    size_t pos = strnlen(args, len) + 1; /* skip argv[0] */
    while (pos < len) {
        const char *a = args + pos;
        size_t n = strnlen(a, len - pos);
        if (n == len - pos)
            return false; /* cut argument: cannot tell */
        pos += n + 1;
        if (strncmp(a, "--", 2) != 0) {
            char joined[PATH_MAX + 64];
            snprintf(joined, sizeof joined, a[0] == '/' ? "/proc/%d/root%s" : "/proc/%d/cwd/%s", (int)pid, a);
            if (!realpath(joined, out))
                snprintf(out, PATH_MAX, "%s", a); /* judged by name: matches no allow glob */
            return true;
        }
        if (!strcmp(a, "--"))
            continue;
        for (size_t i = 0; i < sizeof with_value / sizeof with_value[0]; i++)
            if (!strcmp(a, with_value[i]) && pos < len)
                pos += strnlen(args + pos, len - pos) + 1;
    }
    return false;
}

/* Programs that commonly exec another program without forking first (a shell
 * running `sh -c cmd` or `exec cmd`, env, nice, timeout...). In Landlock mode they
 * are followed so that the kernel's refusal of that exec is still reported. */
bool execs_directly(const char *exe)
{
    static const char *const names[] = {"sh", "dash", "bash", "ash", "zsh", "ksh", "mksh", "busybox",
                                        "env", "nice", "nohup", "stdbuf", "setsid", "chrt", "taskset",
                                        "ionice", "timeout", "sudo", "su", "runuser", "chroot", "flock",
                                        "unshare", "nsenter", "setpriv", "xargs", "find", "tini", "dumb-init"};
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(base, names[i]))
            return true;
    return false;
}


bool script_interpreter(const char *path, char *out)
{
    char head[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    ssize_t n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n < 3 || head[0] != '#' || head[1] != '!')
        return false;
    head[n] = '\0';
    char *p = head + 2;
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t\n");
    if (len == 0)
        return false;
    p[len] = '\0';
    return realpath(p, out) != NULL;
}
