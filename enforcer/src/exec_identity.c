#include "exec_identity.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pathres.h"
#include "procinfo.h"

/* Where the enforcer finds the file that `name` names for process `pid`: resolved as the
 * kernel resolves it for that process (its cwd and root, /proc/self and /dev/fd meaning
 * the process, symlinks to them included), as a path under /proc/PID/root; a descriptor
 * path whose file has no name left (deleted) as /proc/PID/fd/N. */
bool exec_path_in_view(pid_t pid, const char *name, char *out, size_t cap)
{
    char canon[PATH_MAX];
    if (path_resolve(pid, pid, AT_FDCWD, name, true, canon)) {
        int w = snprintf(out, cap, "/proc/%d/root%s", (int)pid, canon);
        return w > 0 && (size_t)w < cap;
    }
    static const char *const fd_dirs[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"};
    for (size_t i = 0; i < sizeof fd_dirs / sizeof fd_dirs[0]; i++) {
        size_t n = strlen(fd_dirs[i]);
        if (!strncmp(name, fd_dirs[i], n)) {
            int w = snprintf(out, cap, "/proc/%d/fd/%s", (int)pid, name + n);
            return w > 0 && (size_t)w < cap;
        }
    }
    return false;
}

/* For a program started through #! (or binfmt_misc), the file the caller named
 * (AT_EXECFN), when it is not the exe itself. A script run by descriptor (`exec 9< x.sh;
 * /dev/fd/9`, /proc/self/fd/9, a symlink to either, fexecve) is the file behind that
 * descriptor, which the new process still holds (the kernel refuses a script whose
 * descriptor closes on exec); with no name left it is given as /proc/PID/fd/N. */
/* Does the process see the file tree as the enforcer does (same mount namespace, same
 * root)? Then the kernel resolves a name for the enforcer as it does for the process. */
static bool same_view(pid_t pid)
{
    static int known; /* 0 not yet, 1 read, -1 unreadable */
    static dev_t ns_dev;
    static ino_t ns_ino;
    struct stat st;
    if (known == 0) {
        known = stat("/proc/self/ns/mnt", &st) == 0 ? 1 : -1;
        ns_dev = st.st_dev;
        ns_ino = st.st_ino;
    }
    char path[64], root[4];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    return known == 1 && stat(path, &st) == 0 && st.st_dev == ns_dev && st.st_ino == ns_ino &&
           proc_link(pid, "root", root, sizeof root) && !strcmp(root, "/");
}

/* The common case, cheaply: the name the caller gave is the program itself. Names
 * under /dev and /proc may mean the process's own descriptors: left to the full walk. */
static bool named_file_is_exe(pid_t pid, const char *execfn, const struct stat *exe_st)
{
    if (!strncmp(execfn, "/dev/", 5) || !strncmp(execfn, "/proc/", 6) || !same_view(pid))
        return false;
    char path[PATH_MAX + 64];
    int w = execfn[0] == '/' ? snprintf(path, sizeof path, "%s", execfn)
                             : snprintf(path, sizeof path, "/proc/%d/cwd/%s", (int)pid, execfn);
    struct stat st;
    return w > 0 && (size_t)w < sizeof path && stat(path, &st) == 0 && st.st_dev == exe_st->st_dev &&
           st.st_ino == exe_st->st_ino;
}

bool find_script(pid_t pid, const struct stat *exe_st, char *out)
{
    uint64_t addr;
    char execfn[PATH_MAX], where[PATH_MAX + 64];
    if (!proc_auxv(pid, AT_EXECFN, &addr) || !proc_read_string(pid, addr, execfn, sizeof execfn) || execfn[0] == '\0')
        return false;
    if (named_file_is_exe(pid, execfn, exe_st))
        return false;
    if (!exec_path_in_view(pid, execfn, where, sizeof where))
        return false;
    struct stat st;
    if (stat(where, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (st.st_dev == exe_st->st_dev && st.st_ino == exe_st->st_ino)
        return false; /* the common case: the named file is the program itself */
    if (realpath(where, out) != NULL)
        return true;
    size_t n = strnlen(where, PATH_MAX - 1); /* deleted: its descriptor still names it */
    memcpy(out, where, n);
    out[n] = '\0';
    return true;
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

/* What the options of shells and interpreters mean, in one table (struct interp_options,
 * exec_identity.h), matched on the program's basename prefix ("sh" exactly). */
#define SHELL_OPTS " -c -s - ", "cs", "oO"
static const struct interp_options families[] = {
    {"sh", " -c -s ", " -o -O ", " --rcfile --init-file ", SHELL_OPTS},
    {"bash", " -c -s ", " -o -O ", " --rcfile --init-file ", SHELL_OPTS},
    {"dash", " -c -s ", " -o ", "", SHELL_OPTS},
    {"ash", " -c -s ", " -o ", "", SHELL_OPTS},
    {"zsh", " -c -s ", " -o ", "", SHELL_OPTS},
    {"ksh", " -c -s ", " -o ", "", SHELL_OPTS},
    {"mksh", " -c -s ", " -o ", "", SHELL_OPTS},
    {"busybox", " -c -s ", " -o ", "", SHELL_OPTS},
    {"python", " -c -m - ", " -W -X --check-hash-based-pycs ", "", " -c - ", "c", "WX"},
    {"perl", " -e -E - ", " -I -M -m ", "", " -e -E - ", "eE", "IMmlx0CdDiF"},
    {"ruby", " -e - ", " -I -r -C -E ", "", " -e - ", "e", "IrCEFKTWx0"},
    {"node", " -e --eval -p --print - ", " --stack-size --title ", " -r --require --import --loader ",
     " -e -p --eval --print - ", "ep", "r"},
    {"php", " -r -a - ", " -c -d -z ", " -f ", " -r -a - ", "ra", "cdfz"},
    {"lua", " -e - ", " -l ", "", " -e - ", "e", "l"},
};
#undef SHELL_OPTS

const struct interp_options *interp_options_of(const char *exe_base)
{
    const struct interp_options *found = NULL;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strncmp(exe_base, families[i].prefix, strlen(families[i].prefix)) &&
            (strcmp(families[i].prefix, "sh") != 0 || !strcmp(exe_base, "sh")))
            found = &families[i];
    return found;
}

static bool is_shell_name(const char *name)
{
    static const char *const shells[] = {"sh", "dash", "bash", "ash", "hush", "zsh", "ksh", "mksh"};
    for (size_t i = 0; i < sizeof shells / sizeof shells[0]; i++)
        if (!strcmp(name, shells[i]))
            return true;
    return false;
}

/* The next NUL-terminated argument at *pos of args[0..n): false when there is none or it
 * runs past n (a cut command line). */
static bool next_arg(const char *args, size_t n, size_t *pos, const char **arg, size_t *len)
{
    if (*pos >= n)
        return false;
    *arg = args + *pos;
    *len = strnlen(*arg, n - *pos);
    if (*len == n - *pos)
        return false; /* no NUL before the end */
    *pos += *len + 1;
    return true;
}

static int take(const char *arg, size_t len, char *out, size_t cap)
{
    if (len >= cap)
        return -1; /* longer than any path: cannot judge it */
    memcpy(out, arg, len);
    out[len] = '\0';
    return 1;
}

int script_argument(const char *exe_base, const char *args, size_t n, bool cut, char *out, size_t cap)
{
    const struct interp_options *fam = interp_options_of(exe_base);
    if (!fam)
        return 0;
    size_t pos = 0, len;
    const char *a;
    if (!next_arg(args, n, &pos, &a, &len)) /* argv[0] */
        return cut ? -1 : 0;
    if (!strcmp(fam->prefix, "busybox")) {
        if (!next_arg(args, n, &pos, &a, &len))
            return cut ? -1 : 0;
        if (!is_shell_name(a))
            return 0; /* an applet that is not a shell */
    }
    while (next_arg(args, n, &pos, &a, &len)) {
        char key[64];
        snprintf(key, sizeof key, " %.*s ", (int)(len < 60 ? len : 60), a);
        if (!strcmp(a, "--"))
            return next_arg(args, n, &pos, &a, &len) ? take(a, len, out, cap) : (cut ? -1 : 0);
        if (a[0] != '-' && a[0] != '+')
            return take(a, len, out, cap);
        if (len < 60 && strstr(fam->command, key))
            return 0;
        if (len < 60 && strstr(fam->file, key))
            return next_arg(args, n, &pos, &a, &len) ? take(a, len, out, cap) : (cut ? -1 : 0);
        if (len < 60 && strstr(fam->value, key) && !next_arg(args, n, &pos, &a, &len))
            break;
    }
    return cut ? -1 : 0; /* a cut line may hide the script: the caller fails closed */
}

int shell_input(const char *args, size_t n)
{
    int mode = 1, skip = 1; /* argv[0] */
    bool from_stdin = false, operand = false;
    for (size_t pos = 0, len; pos < n && (len = strnlen(args + pos, n - pos)) < n - pos; pos += len + 1) {
        const char *a = args + pos;
        if (skip) {
            skip--; /* argv[0], an option's value */
        } else if (operand || (a[0] != '-' && a[0] != '+')) {
            return from_stdin ? mode : 0; /* a script operand (with -s: the arguments) */
        } else if (a[0] == '-' && (!a[1] || (a[1] == '-' && !a[2]))) {
            operand = true; /* "-" and "--" end the options */
        } else if (a[1] == '-') { /* a long option; two take a file */
            skip = !strcmp(a, "--rcfile") || !strcmp(a, "--init-file");
        } else {
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'c')
                    return 0;
                from_stdin |= *c == 's';
                mode = *c == 'i' ? 2 : mode;
                skip += *c == 'o' || *c == 'O';
            }
        }
    }
    return mode; /* no operand, or a line cut before one: standard input (fail closed) */
}

const char *const env_loader_vars[ENV_LOADER_VARS] = {"LD_PRELOAD=", "LD_AUDIT=", "LD_LIBRARY_PATH="};

bool env_scan_feed(struct env_scan *s, const char *data, size_t n, env_var_fn *on_var, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] != '\0') {
            if (s->len < sizeof s->entry)
                s->entry[s->len++] = data[i];
            else
                s->overflow = true;
            continue;
        }
        bool stop = false;
        for (int v = 0; v < ENV_LOADER_VARS && !stop; v++) {
            size_t k = strlen(env_loader_vars[v]);
            if (s->len >= k && !memcmp(s->entry, env_loader_vars[v], k))
                stop = on_var(ctx, v, s->entry + k, s->len - k, s->overflow);
        }
        s->len = 0;
        s->overflow = false;
        if (stop)
            return true;
    }
    return false;
}
