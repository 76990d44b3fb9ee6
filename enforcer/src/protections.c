#include "protections.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_identity.h"
#include "lineage.h"
#include "procinfo.h"

#include "pidfd.h"

static struct timespec started;

/* File systems stamp ctime with the coarse clock (the time of the last tick), which runs up to a
 * tick (4-10 ms) behind CLOCK_REALTIME: a file written in the first milliseconds after a precise
 * start had an older ctime than the start, and passed as part of the image. */
void protections_start_clock(void)
{
    clock_gettime(CLOCK_REALTIME_COARSE, &started);
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

/* A file the loader would map, named as the process's environment names it (absolute, or
 * relative to its working directory), that appeared or changed after the start or has no
 * name left. A library name without a '/' is looked up by the loader in its own directories;
 * a directory is relative to the working directory even without one, and an empty one is
 * the working directory. A dynamic string token ($ORIGIN, $LIB, $PLATFORM) makes the loader
 * look somewhere the enforcer does not compute: it counts as drift (fail closed). */
static bool drifted_path(pid_t pid, const char *name, size_t len, bool dir)
{
    if (len >= PATH_MAX || (!dir && (len == 0 || memchr(name, '/', len) == NULL)))
        return false;
    if (memchr(name, '$', len))
        return true;
    char name0[PATH_MAX], path[PATH_MAX + 64];
    memcpy(name0, len ? name : ".", len ? len : 1);
    name0[len ? len : 1] = '\0';
    struct stat st;
    if (!exec_path_in_view(pid, name0, path, sizeof path) || stat(path, &st) < 0)
        return false; /* nothing there: the loader skips it too */
    if (!dir)
        return drifted(&st) || st.st_nlink == 0;
    if (!S_ISDIR(st.st_mode))
        return false;
    /* The libraries in it, not the directory: its ctime moves with any file written there (a
     * trailing ':' makes the working directory, often where the application writes, part of
     * the path), and a library written over in place leaves it alone. */
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool found = false;
    int seen = 0;
    struct dirent *de;
    while (!found && seen++ < 4096 && (de = readdir(d)) != NULL) {
        struct stat fst;
        if (strstr(de->d_name, ".so") && fstatat(dirfd(d), de->d_name, &fst, 0) == 0 && S_ISREG(fst.st_mode))
            found = drifted(&fst);
    }
    closedir(d);
    return found;
}

/* One LD_PRELOAD / LD_AUDIT / LD_LIBRARY_PATH value: any element drifted? */
static bool drifted_list(pid_t pid, const char *value, size_t len, const char *seps, bool dirs)
{
    size_t i = 0;
    while (i <= len) { /* <=: a trailing separator leaves an empty element (the cwd, for dirs) */
        size_t n = 0;
        while (i + n < len && !strchr(seps, value[i + n]))
            n++;
        if (drifted_path(pid, value + i, n, dirs))
            return true;
        i += n + 1;
    }
    return false;
}

struct env_ctx {
    pid_t pid;
};

static bool env_var_drifted(void *vctx, int var, const char *value, size_t len, bool overflow)
{
    static const char *const seps[ENV_LOADER_VARS] = {": \t", ":", ":;"};
    const struct env_ctx *ctx = vctx;
    return overflow || drifted_list(ctx->pid, value, len, seps[var], var == 2);
}

/* The loader's environment asks it to map code that appeared after the start: LD_PRELOAD or
 * LD_AUDIT naming such a file, LD_LIBRARY_PATH a directory holding one. /proc/PID/environ is
 * read whole (a padding of other variables must not push LD_PRELOAD out of sight); a loader
 * variable longer than the enforcer keeps counts as drift (fail closed). */
static bool loader_env_drifted(pid_t pid)
{
    int fd = proc_open(pid, "environ");
    if (fd < 0)
        return false;
    static char chunk[16384];
    static struct env_scan scan;
    memset(&scan, 0, sizeof scan);
    struct env_ctx ctx = {pid};
    bool found = false;
    ssize_t n;
    while (!found && ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0)
            found = env_scan_feed(&scan, chunk, (size_t)n, env_var_drifted, &ctx);
    close(fd);
    return found;
}

/* /etc/ld.so.preload in the process's root: glibc's loader maps every library it lists into
 * every dynamic program before the program's first instruction. A listed library that appeared
 * or changed after the start is drift, as LD_PRELOAD's; so is the file itself written after the
 * start, whatever it says now (its content could change between this read and the loader's).
 * Larger than the enforcer reads, or unreadable: drift (fail closed). */
static bool preload_file_drifted(pid_t pid)
{
    char path[PATH_MAX + 64];
    if (!exec_path_in_view(pid, "/etc/ld.so.preload", path, sizeof path))
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return errno != ENOENT && errno != ENOTDIR;
    static char text[8192];
    struct stat st;
    ssize_t n = 0;
    bool found = fstat(fd, &st) < 0;
    if (!found && S_ISREG(st.st_mode)) { /* the loader maps regular files only */
        found = drifted(&st);
        while (!found && (n = read(fd, text, sizeof text)) < 0 && errno == EINTR)
            ;
        found = found || n < 0 || (size_t)n == sizeof text || drifted_list(pid, text, (size_t)n, " \t\n:", false);
    }
    close(fd);
    return found;
}

static const char *base_name(const char *path)
{
    const char *base = strrchr(path, '/');
    return base ? base + 1 : path;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i]))
            return true;
    return false;
}

static const char *const shells[] = {"sh", "dash", "bash", "ash", "hush", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"};
#define N_SHELLS (sizeof shells / sizeof shells[0])

static bool shell_or_interpreter(const char *exe)
{
    static const char *const exact[] = {"busybox", "node", "nodejs", "socat"};
    static const char *const prefix[] = {"python", "perl", "ruby", "php", "lua", "tclsh", "pwsh"};
    const char *base = base_name(exe);
    if (in_list(base, shells, N_SHELLS) || in_list(base, exact, sizeof exact / sizeof exact[0]))
        return true;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++)
        if (!strncmp(base, prefix[i], strlen(prefix[i])))
            return true;
    return false;
}

/* The applet busybox runs with the command line args[0..n) (NUL-terminated, n > 0): argv[0]'s
 * name (a link named sh), or argv[1] after "busybox". Points into args. */
static const char *applet_of(const char *args, size_t n)
{
    const char *a = base_name(args);
    return !strcmp(a, "busybox") && strnlen(args, n) + 1 < n ? args + strlen(args) + 1 : a;
}

/* Programs that never hold a network connection while they start others, unless as a relay for
 * a remote operator: shells (`exec 3<>/dev/tcp/...`), socat (`exec:sh`, whose child gets a UNIX
 * socketpair), awk (gawk's /inet/tcp and `cmd |& getline`). busybox counts when it runs one of
 * these applets (not httpd, whose CGI children it starts holding its listening socket). */
static bool relay_capable(pid_t pid, const char *exe)
{
    static const char *const others[] = {"socat", "awk", "gawk", "mawk", "nawk"};
    const char *base = base_name(exe);
    if (in_list(base, shells, N_SHELLS) || in_list(base, others, sizeof others / sizeof others[0]))
        return true;
    if (strcmp(base, "busybox") != 0)
        return false;
    char args[256];
    ssize_t n = proc_read(pid, "cmdline", args, sizeof args - 1, NULL);
    if (n <= 0)
        return true; /* cannot tell which applet: count it */
    args[n] = '\0';
    const char *applet = applet_of(args, (size_t)n);
    return in_list(applet, shells, N_SHELLS) || !strcmp(applet, "awk");
}

enum sock_answer { SOCK_NOT_NET, SOCK_NET, SOCK_UNKNOWN };

/* The kernel's own answer for the socket behind fd `fd` of process `pid`: its domain on a
 * duplicate of the descriptor (pidfd_getfd, Linux 5.6), and whether it listens. */
static enum sock_answer socket_domain(pid_t pid, int fd, bool *listening)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0)
        return SOCK_UNKNOWN;
    int ours = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    close(pidfd);
    if (ours < 0)
        return SOCK_UNKNOWN;
    int domain = -1, acc = 0;
    socklen_t len = sizeof domain, alen = sizeof acc;
    int rc = getsockopt(ours, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    if (getsockopt(ours, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) == 0)
        *listening = acc != 0;
    close(ours);
    if (rc < 0)
        return SOCK_UNKNOWN;
    return domain == AF_INET || domain == AF_INET6 ? SOCK_NET : SOCK_NOT_NET;
}

/* Fallback where pidfd_getfd is refused: is the socket inode listed in one of the process's
 * /proc/net tables? Read whole, in chunks (a busy server's table is megabytes: a cut read
 * would miss the entry), carrying a needle's length across chunk boundaries. */
static enum sock_answer inet_socket_inode(pid_t pid, unsigned long inode)
{
    static const char *const tables[] = {"net/tcp", "net/tcp6", "net/udp", "net/udp6"};
    static char chunk[64 * 1024 + 32];
    char needle[32];
    int nl = snprintf(needle, sizeof needle, " %lu ", inode);
    bool all_read = true;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, tables[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            all_read = false;
            continue;
        }
        size_t keep = 0;
        for (;;) {
            ssize_t n = read(fd, chunk + keep, sizeof chunk - 1 - keep);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                all_read = false;
            if (n <= 0)
                break;
            size_t have = keep + (size_t)n;
            chunk[have] = '\0';
            if (strstr(chunk, needle)) {
                close(fd);
                return SOCK_NET;
            }
            keep = have < (size_t)nl ? have : (size_t)nl;
            memmove(chunk, chunk + have - keep, keep);
        }
        close(fd);
    }
    return all_read ? SOCK_NOT_NET : SOCK_UNKNOWN;
}

/* Is descriptor `fd` of `pid` a TCP/UDP (IPv4/IPv6) socket? What cannot be told (no
 * descriptor left to the enforcer, tables unreadable) counts as one: fail closed. */
static bool network_fd(pid_t pid, int fd, bool skip_listening)
{
    char name[32], target[64];
    snprintf(name, sizeof name, "fd/%d", fd);
    unsigned long inode;
    if (!proc_link(pid, name, target, sizeof target) || sscanf(target, "socket:[%lu]", &inode) != 1)
        return false;
    bool listening = false;
    enum sock_answer a = socket_domain(pid, fd, &listening);
    if (a == SOCK_UNKNOWN)
        a = inet_socket_inode(pid, inode);
    return a != SOCK_NOT_NET && !(skip_listening && listening);
}

/* A network socket on stdin, stdout or stderr. */
static bool stdio_on_network(pid_t pid)
{
    for (int fd = 0; fd <= 2; fd++)
        if (network_fd(pid, fd, false))
            return true;
    return false;
}

/* A connected (not listening) network socket on any descriptor of a relay-capable program:
 * `exec 3<>/dev/tcp/HOST/PORT` and commands read from it; with `stdio_any`, any network socket
 * on stdin, stdout or stderr too (what stdio_on_network looks for, in the same pass). More
 * descriptors than such a program ever has count as one (fail closed). */
struct fd_scan {
    pid_t pid;
    bool stdio_any, found;
    int seen;
};

static bool fd_holds_connection(long fd, void *ctx)
{
    struct fd_scan *c = ctx;
    if (++c->seen > 4096)
        c->found = true;
    else
        c->found = network_fd(c->pid, (int)fd, !(c->stdio_any && fd <= 2));
    return !c->found;
}

static bool shell_holds_connection(pid_t pid, bool stdio_any)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    struct fd_scan c = {pid, stdio_any, false, 0};
    proc_each_number(dir, fd_holds_connection, &c);
    return c.found;
}

static bool inline_option(const char *base, bool shell, const char *a);

/* What descriptor 0 of process pid is (stat follows the /proc link, opening nothing). */
static bool fd0_stat(pid_t pid, struct stat *st)
{
    char fd0[64];
    snprintf(fd0, sizeof fd0, "/proc/%d/fd/0", (int)pid);
    return stat(fd0, st) == 0;
}

/* A shell or interpreter that reads its program from standard input (no script operand, no code
 * on its command line, no Python module): `sh < x.sh`, `bash -s < x.sh`, `python3 - < x.py`, a
 * deleted file left open as fd 0. Its standard input a regular file that appeared or changed
 * after the start is drift, as a script operand is. A pipe (`curl ... | sh`) names no file. */
static bool stdin_program_drifted(const struct exec_facts *f, const char *args, size_t n)
{
    const char *base = base_name(f->exe);
    bool shell = in_list(base, shells, N_SHELLS) || !strcmp(base, "busybox");
    for (const char *a = args + strlen(args) + 1; a < args + n; a += strlen(a) + 1) {
        if (!strcmp(a, "-") || (shell && a[0] == '-' && a[1] != '-' && strchr(a, 's') && !strchr(a, 'c')))
            continue; /* "read the program from standard input": what is judged here */
        if (inline_option(base, shell, a) || (!strncmp(base, "python", 6) && !strncmp(a, "-m", 2)))
            return false;
    }
    struct stat st;
    return fd0_stat(f->pid, &st) && S_ISREG(st.st_mode) && (drifted(&st) || st.st_nlink == 0);
}

/* The script an interpreter was given appeared or changed after the start. */
static bool script_argument_drifted(const struct exec_facts *f)
{
    char script[PATH_MAX];
    if (!shell_or_interpreter(f->exe))
        return false;
    const char *args;
    bool cut = false;
    ssize_t n = proc_snapshot_args(f->proc, &args, &cut);
    int found = n > 0 ? script_argument(base_name(f->exe), args, (size_t)n, cut, script, sizeof script) : 0;
    if (found == 0 && n > 0 && !cut)
        return stdin_program_drifted(f, args, (size_t)n);
    if (found <= 0)
        return found < 0; /* options past what the enforcer reads: fail closed */
    char path[PATH_MAX + 64];
    struct stat st;
    return exec_path_in_view(f->pid, script, path, sizeof path) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           (drifted(&st) || st.st_nlink == 0);
}

/* How a shell (or busybox running a shell applet) started with this command line takes its
 * commands (shell_input: 0 from -c or a script, 1 from stdin, 2 from stdin told -i); 0 for
 * any other program, whose /proc entries are not read. */
static int shell_mode(struct proc_snapshot *proc, const char *exe)
{
    const char *base = base_name(exe), *args;
    bool busybox = !strcmp(base, "busybox");
    if (!busybox && !in_list(base, shells, N_SHELLS))
        return 0;
    ssize_t n = proc_snapshot_args(proc, &args, NULL);
    if (n <= 0)
        return !busybox; /* cannot tell: a shell reads its standard input */
    const char *a = busybox ? applet_of(args, (size_t)n) : args;
    return !busybox || in_list(a, shells, N_SHELLS) ? shell_input(a, (size_t)(args + n - a)) : 0;
}

/* What a shell's standard input is: nothing to read commands from (a terminal or another
 * character device such as /dev/null, no descriptor), a file, an anonymous pipe, a named
 * FIFO, or a socket. */
enum stdin_kind { STDIN_NONE = -1, STDIN_FILE, STDIN_PIPE, STDIN_FIFO, STDIN_SOCKET };

static enum stdin_kind stdin_kind(pid_t pid)
{
    char target[8];
    struct stat st;
    if (!fd0_stat(pid, &st) || S_ISCHR(st.st_mode))
        return STDIN_NONE;
    if (S_ISSOCK(st.st_mode))
        return STDIN_SOCKET;
    if (!S_ISFIFO(st.st_mode))
        return STDIN_FILE;
    return proc_link(pid, "fd/0", target, sizeof target) && target[0] == '/' ? STDIN_FIFO : STDIN_PIPE;
}

/* Commands arrive through a pipe or FIFO. */
static bool through_pipe(enum stdin_kind in)
{
    return in == STDIN_PIPE || in == STDIN_FIFO;
}

/* A shell that reads its commands (shell_mode) from a pipe or FIFO, and that exec'd that shell
 * itself: not a fork of one (PF_FORKNOEXEC in the flags, field 9 of /proc/PID/stat), which is a
 * subshell or a pipeline's member running builtins (`echo "$x" | curl -d @- URL` in a script
 * piped into sh). */
static bool command_reading_shell(pid_t pid)
{
    static struct proc_snapshot proc;
    char exe[PATH_MAX], text[512];
    unsigned flags = 0x40;
    ssize_t n = proc_read(pid, "stat", text, sizeof text - 1, NULL);
    text[n > 0 ? n : 0] = '\0';
    const char *p = strrchr(text, ')');
    if (p)
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags);
    proc_snapshot_begin(&proc, pid);
    return !(flags & 0x40) && proc_link(pid, "exe", exe, sizeof exe) && shell_mode(&proc, exe) && through_pipe(stdin_kind(pid));
}

/* Where the data of a pipeline flows: from a process's stdout/stderr down to the processes
 * reading that pipe or FIFO on their stdin (down), or from its stdin up to the processes
 * writing it on their stdout/stderr (up), through at most PIPE_HOPS processes, each hop one
 * pass over /proc reading the links of fds 0-2 ("pipe:[INODE]", or a FIFO's path). Does one
 * of them satisfy `hit`? More processes or pipes than a pipeline has count as a hit (fail
 * closed, as for descriptors). */
#define PIPE_HOPS 4
#define PIPE_KEYS 16
#define KEY_MAX 128
struct pipe_walk {
    pid_t origin;
    bool down, found;
    int n[2], cur, seen;
    char keys[2][PIPE_KEYS][KEY_MAX]; /* this hop's pipes, the next hop's */
};

/* Where descriptor fd of pid leads (its link, at most KEY_MAX - 1 bytes: a longer FIFO path
 * is cut, and may match another's: more hits, never fewer); its index in keys[k] (n[k]
 * when not there, PIPE_KEYS + 1 when it has none). */
static int fd_key(struct pipe_walk *w, int k, pid_t pid, int fd, char *path, char *link)
{
    snprintf(path, 64, "/proc/%d/fd/%d", (int)pid, fd);
    ssize_t len = readlink(path, link, KEY_MAX - 1);
    if (len < 0)
        return PIPE_KEYS + 1;
    link[len] = '\0';
    int i = 0;
    while (i < w->n[k] && strcmp(w->keys[k][i], link))
        i++;
    return i;
}

/* The pipes and FIFOs process pid passes the data on through, the next hop's keys: the pipe
 * or FIFO on its stdout/stderr (down) or stdin (up), and for a process met on the way (all)
 * a FIFO it opened by name on any descriptor (`cat g | nc ...`: which way it goes is not
 * told, both count). More descriptors than such a process has count as a hit. */
struct walk_from {
    struct pipe_walk *w;
    pid_t pid;
    bool all;
    int seen;
};

static bool from_fd(long fd, void *ctx)
{
    struct walk_from *c = ctx;
    struct pipe_walk *w = c->w;
    int k = !w->cur;
    bool stdio = fd >= w->down && fd <= 2 * w->down;
    char path[64], link[KEY_MAX];
    struct stat st;
    if (++c->seen > 4096)
        w->found = true;
    else if (!(stdio || c->all))
        return true;
    int i = fd_key(w, k, c->pid, (int)fd, path, link);
    if (i > PIPE_KEYS || (link[0] == '/' ? stat(path, &st) || !S_ISFIFO(st.st_mode) : !stdio || strncmp(link, "pipe:[", 6)))
        return !w->found;
    if (i == PIPE_KEYS)
        w->found = true;
    else if (i == w->n[k])
        memcpy(w->keys[k][w->n[k]++], link, KEY_MAX);
    return !w->found;
}

static void walk_from(struct pipe_walk *w, pid_t pid, bool all)
{
    char dir[64];
    struct walk_from c = {w, pid, all, 0};
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
    proc_each_number(dir, from_fd, &c);
}

/* Down: a process holding a connection (the relay); up: a shell reading commands. */
static bool walk_one(long pid, void *ctx)
{
    struct pipe_walk *w = ctx;
    if (++w->seen > 32768)
        w->found = true;
    for (int fd = !w->down; !w->found && pid != w->origin && fd <= 2 * !w->down; fd++) {
        char path[64], link[KEY_MAX];
        if (fd_key(w, w->cur, (pid_t)pid, fd, path, link) < w->n[w->cur]) {
            w->found = w->down ? shell_holds_connection((pid_t)pid, false) : command_reading_shell((pid_t)pid);
            walk_from(w, (pid_t)pid, true);
            break;
        }
    }
    return !w->found;
}

static bool pipe_walk(pid_t origin, bool down)
{
    static struct pipe_walk w;
    w.origin = origin;
    w.down = down;
    w.found = false;
    w.n[0] = 0;
    w.cur = 1;
    walk_from(&w, origin, false);
    for (int hop = 0; hop < PIPE_HOPS && w.n[!w.cur] && !w.found; hop++) {
        w.cur = !w.cur;
        w.n[!w.cur] = w.seen = 0;
        proc_each_number("/proc", walk_one, &w);
    }
    return w.found;
}

bool protections_fed_by_shell(pid_t pid)
{
    return pipe_walk(pid, false);
}

/* A shell that reads its commands from a standard input that is no terminal (no script
 * operand, no -c; or -s), when that input is a named FIFO (`mkfifo f; sh < f 2>&1 | RELAY > f`),
 * when it is told to be interactive (`cat f | sh -i 2>&1 | RELAY > f`), or when what it writes
 * on stdout/stderr reaches, through pipes or FIFOs, the stdin of a process holding a network
 * connection (`cat f | sh 2>&1 | nc HOST PORT > f`, the relay connected first; when the shell
 * came first, the relay's connect is refused: protections_fed_by_shell). The relay (nc,
 * openssl s_client, a script) holds the connection and never runs a command itself. Commands
 * piped into a plain `sh` whose output goes elsewhere (`curl ... | sh`), a script given as an
 * operand and `-c` are left alone. */
static bool shell_fed_from_outside(pid_t pid, int mode, enum stdin_kind in)
{
    return in == STDIN_FIFO || (in != STDIN_NONE && mode == 2) || (through_pipe(in) && pipe_walk(pid, true));
}

/* Shells that read their commands from a pipe, FIFO or socket (no terminal, no file), by the
 * process that started them: `cp.spawn("/bin/sh")`, `subprocess.Popen(["sh"], stdin=PIPE)`. A
 * parent that relays such a shell to a connection runs a reverse shell itself (Node's
 * `client.pipe(sh.stdin); sh.stdout.pipe(client)`): refused at the shell's exec when the parent
 * already holds a connection, else at the parent's connect (protections_relays_for_shell). An
 * entry lives until the shell ends (protections_forget); when more are alive than the table
 * holds, the connecting process's children are read instead. */
#define PIPED_SHELLS 128
static struct {
    pid_t shell, parent;
} piped[PIPED_SHELLS];
static bool piped_overflow;

/* Commands arrive through a pipe, FIFO or socket: what a parent feeds. */
static bool relayed(enum stdin_kind in)
{
    return through_pipe(in) || in == STDIN_SOCKET;
}

static void piped_remember(pid_t shell, pid_t parent)
{
    for (size_t i = 0; i < PIPED_SHELLS; i++) {
        if (piped[i].shell == 0) {
            piped[i].shell = shell;
            piped[i].parent = parent;
            return;
        }
    }
    piped_overflow = true;
}

void protections_forget(pid_t pid)
{
    for (size_t i = 0; i < PIPED_SHELLS; i++)
        if (piped[i].shell == pid)
            piped[i].shell = piped[i].parent = 0;
}

/* Is one of the process's children (any thread's, /proc/PID/task/TID/children) a shell that
 * reads its commands from a pipe or socket? Only when the table overflowed. */
static bool child_piped_shell(long tid, void *ctx)
{
    pid_t *tgid = ctx;
    char name[64], text[4096];
    snprintf(name, sizeof name, "task/%ld/children", tid);
    ssize_t n = proc_read(*tgid, name, text, sizeof text - 1, NULL);
    text[n > 0 ? n : 0] = '\0';
    for (char *p = text, *end; *p; p = end) {
        long child = strtol(p, &end, 10);
        if (end == p)
            break;
        char exe[PATH_MAX];
        struct proc_snapshot proc;
        proc_snapshot_begin(&proc, (pid_t)child);
        if (proc_link((pid_t)child, "exe", exe, sizeof exe) && shell_mode(&proc, exe) && relayed(stdin_kind((pid_t)child))) {
            *tgid = 0;
            return false;
        }
    }
    return true;
}

bool protections_relays_for_shell(pid_t tgid)
{
    for (size_t i = 0; i < PIPED_SHELLS; i++) {
        long ppid = -1, uid;
        if (piped[i].parent == tgid && (proc_ids(piped[i].shell, &ppid, &uid, NULL), ppid == tgid))
            return true;
    }
    if (!piped_overflow)
        return false;
    char dir[64];
    pid_t found = tgid;
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)tgid);
    proc_each_number(dir, child_piped_shell, &found);
    return found == 0;
}

/* A reverse shell: a shell or interpreter started with its stdio on a network socket; or
 * any program started by one that got there without an exec of its own (a shell that
 * redirected itself, `exec 0<&3`, or Python's pty.spawn after dup2: its stdio is the
 * socket, the new shell's a terminal), or by a shell, socat or awk holding a connection. */
static bool reverse_shell(const struct exec_facts *f)
{
    if (shell_or_interpreter(f->exe) && stdio_on_network(f->pid))
        return true;
    /* how it takes its commands, and from what: once for the checks below */
    int mode = shell_mode(f->proc, f->exe);
    enum stdin_kind in = mode ? stdin_kind(f->pid) : STDIN_NONE;
    if (shell_fed_from_outside(f->pid, mode, in))
        return true;
    long ppid = -1, uid;
    proc_snapshot_ids(f->proc, &ppid, &uid, NULL);
    char parent_exe[PATH_MAX];
    if (ppid <= 0 || !proc_link((pid_t)ppid, "exe", parent_exe, sizeof parent_exe))
        return false;
    bool parent_interprets = shell_or_interpreter(parent_exe);
    if (relay_capable((pid_t)ppid, parent_exe)) /* one pass over its descriptors covers both */
        return shell_holds_connection((pid_t)ppid, parent_interprets);
    /* a shell its parent feeds (not the enforcer, whose console connection is its own) */
    if (ppid != getpid() && relayed(in)) {
        if (shell_holds_connection((pid_t)ppid, false))
            return true;
        piped_remember(f->pid, (pid_t)ppid);
    }
    /* a shell or interpreter started by any program whose stdio is the connection: `nc -e
     * /usr/bin/script`, whose shell gets the terminal script opens, not the socket */
    return (parent_interprets || shell_or_interpreter(f->exe)) && stdio_on_network((pid_t)ppid);
}

/* An option that makes a shell or interpreter run code from its command line or standard input:
 * a whole option (a long one also as `--eval=CODE`), or a letter that does so in a cluster of
 * short ones (struct interp_options). A shell, or a program the table does not know, takes the
 * shell's options. */
static bool inline_option(const char *base, bool shell, const char *a)
{
    const struct interp_options *o = interp_options_of(base);
    if (!o || shell)
        o = interp_options_of("sh");
    char key[64];
    size_t name = strcspn(a, "="); /* --eval=CODE: the option's name */
    snprintf(key, sizeof key, " %.*s ", (int)(name < 60 ? name : 60), a);
    if (name < 60 && strstr(o->inline_code, key))
        return true;
    if (a[0] == '-' && a[1] != '-')
        for (const char *c = a + 1; *c && !strchr(o->value_letters, *c); c++)
            if (strchr(o->code_letters, *c))
                return true;
    return false;
}

/* Python's standard modules that run code given on their command line (timeit's statements and
 * setup) or read from standard input (a debugger, a REPL): `python3 -m timeit 'CODE'` is inline
 * code however much the module itself is a file of the image. Matched on the top-level name. */
static bool python_code_module(const char *module)
{
    static const char *const modules[] = {"timeit", "code", "pdb", "asyncio", "idlelib", "sqlite3"};
    char top[32];
    size_t n = strcspn(module, ".");
    if (n == 0 || n >= sizeof top)
        return n == 0; /* no module name: nothing known is run */
    memcpy(top, module, n);
    top[n] = '\0';
    return in_list(top, modules, sizeof modules / sizeof modules[0]);
}

/* A shell or interpreter runs a file of the image: a script operand (or an option's file, `node
 * -r ./tracing.js app.js`: each one met before the script) that is a regular file, not drifted;
 * or Python's `-m MODULE`. Not: code from the command line (inline_option), from standard input
 * (no script operand, `-`, /dev/stdin), a data: or remote URL, a cut command line. Arguments that
 * name no file are option values or module names (`node -r dotenv/config app.js`). Python's `-m`
 * modules that run code from their arguments or standard input count as inline code. */
static bool interpreter_runs_image_file(const struct exec_facts *f, const char *base, bool shell)
{
    const char *args;
    bool cut = false;
    ssize_t n = proc_snapshot_args(f->proc, &args, &cut);
    if (n <= 0 || cut)
        return false;
    const char *end = args + n, *a = args + strlen(args) + 1;
    if (!strcmp(base, "busybox") && !strcmp(base_name(args), "busybox") && a < end)
        a += strlen(a) + 1; /* `busybox sh ...`: the applet's name (not when it is argv[0], a link named sh) */
    bool operand_next = false;
    for (const char *prev = ""; a < end; prev = a, a += strlen(a) + 1) {
        if (!operand_next && a[0] == '-' && a[1] != '\0') {
            if (!strcmp(a, "--")) {
                operand_next = true;
                continue;
            }
            if (inline_option(base, shell, a) || strstr(a, "data:"))
                return false;
            if (!strncmp(base, "python", 6) && !strncmp(a, "-m", 2)) {
                const char *module = a[2] ? a + 2 : a + strlen(a) + 1 < end ? a + strlen(a) + 1 : "";
                return !python_code_module(module); /* else a module of the interpreter's path */
            }
            continue;
        }
        if (!strcmp(a, "-") || !strncmp(a, "data:", 5) || strstr(a, "://"))
            return false;
        char path[PATH_MAX + 64];
        struct stat st;
        if (!exec_path_in_view(f->pid, a, path, sizeof path) || stat(path, &st) < 0) {
            if (operand_next)
                return false;
            continue; /* an option's value or a module name */
        }
        if (!S_ISREG(st.st_mode) || drifted(&st) || st.st_nlink == 0)
            return false; /* a pipe (/dev/stdin, <(...)), a dropped file */
        static const char *const file_options[] = {"-r", "--require", "--import", "--loader", "--experimental-loader"};
        if (!in_list(prev, file_options, sizeof file_options / sizeof file_options[0]))
            return true; /* the script */
    }
    return false;
}

/* The program is one of the image's own (lineage.h): a file of the image (not drifted, not
 * fileless, not run through the loader), and for a shell or interpreter a script file of it. */
static bool program_from_image(const struct exec_facts *f)
{
    if (!f->exe_st || fileless(f) || f->via_loader || is_loader(f->exe) || drifted(f->exe_st) ||
        drifted(f->script_st))
        return false;
    if (f->script || !shell_or_interpreter(f->exe))
        return true; /* a #! script (judged above) or a program of its own */
    const char *base = base_name(f->exe);
    bool shell = in_list(base, shells, N_SHELLS);
    if (!strcmp(base, "busybox")) {
        const char *args;
        ssize_t n = proc_snapshot_args(f->proc, &args, NULL);
        const char *applet = n > 0 ? applet_of(args, (size_t)n) : "";
        shell = in_list(applet, shells, N_SHELLS);
        if (!shell)
            return strcmp(applet, "awk") != 0; /* an applet that is a program, not an interpreter */
    }
    return interpreter_runs_image_file(f, base, shell);
}

/* The exec rules judge the path /proc/PID/exe gives, which is the path in the process's own
 * mount namespace: after `unshare -Urm` (where user namespaces are allowed) and a bind mount of
 * any file over /usr/bin/true, "/usr/bin/true" runs that file. The path must name, where the
 * enforcer looks, the very file the kernel runs; else the path proves nothing (fail closed). */
static bool path_is_not_the_program(const struct exec_facts *f)
{
    if (!f->exe_st || f->exe[0] != '/' || strstr(f->exe, " (deleted)") || !strncmp(f->exe, "/memfd:", 7))
        return false; /* no name to trust: the fileless protection and the rules judge it as it is */
    struct stat st;
    if (stat(f->exe, &st) < 0)
        return true;
    if (!S_ISREG(st.st_mode))
        return false; /* no program's name: a process that came in from outside (runc's exec
                       * helper before it runs the command shows "/") */
    return st.st_dev != f->exe_st->st_dev || st.st_ino != f->exe_st->st_ino;
}

void protections_judge(const struct policy *p, const struct exec_facts *f, struct verdict *v)
{
    if (p->n_connect_deny || p->n_connect_allow || p->n_connect_exception)
        lineage_exec(f->pid, program_from_image(f)); /* only network.connect exceptions ask */
    if (!v->allowed)
        return;
    if ((p->n_allow > 0 || p->n_deny > 0) && path_is_not_the_program(f)) {
        *v = (struct verdict){false, false, "exec.path", -1, NULL};
        return;
    }
    if (fileless(f) && apply(p->fileless, "exec.fileless", v))
        return;
    if ((f->via_loader || is_loader(f->exe)) && apply(p->loader, "exec.loader", v))
        return;
    if ((drifted(f->exe_st) || drifted(f->script_st) ||
         (p->drift != ACTION_OFF &&
          (loader_env_drifted(f->pid) || preload_file_drifted(f->pid) || script_argument_drifted(f)))) &&
        apply(p->drift, "exec.drift", v))
        return;
    if (p->reverse_shell != ACTION_OFF && reverse_shell(f))
        apply(p->reverse_shell, "exec.reverseShell", v);
}
