
#include "procinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int proc_open(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    /* the raw syscall: libc may add an fcntl(FD_CLOEXEC) round trip per open */
    return (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

/* cmdline and auxv are copied whole by one read (get_mm_cmdline loops until the buffer
 * is full; auxv is one buffer): a shorter read is the end, with no read of 0 after it.
 * Two system calls fewer per exec. */
static ssize_t proc_read_whole(pid_t pid, const char *name, char *buf, size_t cap, bool *cut)
{
    int fd = proc_open(pid, name);
    if (fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (cut) {
        char extra;
        *cut = n == (ssize_t)cap && read(fd, &extra, 1) == 1;
    }
    close(fd);
    return n < 0 ? -1 : n;
}

ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t cap, bool *cut)
{
    int fd = proc_open(pid, name);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (cut) {
        char extra;
        *cut = got == cap && read(fd, &extra, 1) == 1;
    }
    close(fd);
    return (ssize_t)got;
}

bool proc_link(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    ssize_t n = readlink(path, buf, cap - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

static long field(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    if (!p)
        return -1;
    p += strlen(name);
    while (*p == ' ' || *p == '\t')
        p++;
    char *end;
    long v = strtol(p, &end, 10);
    return end == p ? -1 : v;
}

long proc_status_field(pid_t pid, const char *key)
{
    char text[2048];
    ssize_t n = proc_read(pid, "status", text, sizeof text - 1, NULL);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    return field(text, key);
}

bool proc_each_number(const char *dir, bool (*fn)(long n, void *ctx), void *ctx)
{
    int dfd = (int)syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return false;
    char buf[4096]; /* on the stack: a callback may list another directory */
    bool more = true;
    long got;
    while (more && (got = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < got && more;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + off);
            off += de->d_reclen;
            char *end;
            long n = strtol(de->d_name, &end, 10);
            if (*end == '\0' && end != de->d_name && n >= 0)
                more = fn(n, ctx);
        }
    }
    close(dfd);
    return true;
}

void proc_ids(pid_t pid, long *ppid, long *uid, long *tgid)
{
    char text[2048];
    ssize_t n = proc_read(pid, "status", text, sizeof text - 1, NULL);
    if (n < 0) {
        *ppid = *uid = -1;
        if (tgid)
            *tgid = -1;
        return;
    }
    text[n] = '\0';
    *ppid = field(text, "\nPPid:");
    *uid = field(text, "\nUid:");
    if (tgid)
        *tgid = field(text, "\nTgid:");
}

pid_t proc_tgid(pid_t tid)
{
    long ppid, uid, tgid;
    proc_ids(tid, &ppid, &uid, &tgid);
    return tgid > 0 ? (pid_t)tgid : tid;
}

void proc_snapshot_begin(struct proc_snapshot *s, pid_t pid)
{
    s->pid = pid;
    s->have_args = s->have_ids = false;
}

ssize_t proc_snapshot_args(struct proc_snapshot *s, const char **args, bool *cut)
{
    if (!s->have_args) {
        s->args_cut = false;
        s->n_args = proc_read_whole(s->pid, "cmdline", s->args, PROC_ARGS_MAX, &s->args_cut);
        s->args[s->n_args > 0 ? s->n_args : 0] = '\0';
        s->have_args = true;
    }
    *args = s->args;
    if (cut)
        *cut = s->args_cut;
    return s->n_args;
}

void proc_snapshot_ids(struct proc_snapshot *s, long *ppid, long *uid, long *tgid)
{
    if (!s->have_ids) {
        proc_ids(s->pid, &s->ppid, &s->uid, &s->tgid);
        s->have_ids = true;
    }
    *ppid = s->ppid;
    *uid = s->uid;
    if (tgid)
        *tgid = s->tgid;
}

/* process_vm_readv, or /proc/PID/mem where a seccomp profile refuses it (Docker's
 * default does without CAP_SYS_PTRACE); the tracer may read either way. */
static bool vm_readv_refused;

static ssize_t read_remote(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    if (!vm_readv_refused) {
        struct iovec local = {buf, len};
        struct iovec remote = {(void *)(uintptr_t)addr, len};
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n >= 0 || (errno != EPERM && errno != ENOSYS))
            return n;
        vm_readv_refused = true;
    }
    int fd = proc_open(pid, "mem");
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, buf, len, (off_t)addr);
    close(fd);
    return n;
}

bool proc_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
    return read_remote(pid, addr, buf, len) == (ssize_t)len;
}

bool proc_read_string(pid_t pid, uint64_t addr, char *buf, size_t cap)
{
    size_t got = 0;
    while (got + 1 < cap) {
        /* never cross a page boundary in one read: the next page may be unmapped */
        size_t page_left = 4096 - (size_t)((addr + got) % 4096);
        size_t want = cap - 1 - got < page_left ? cap - 1 - got : page_left;
        ssize_t n = read_remote(pid, addr + got, buf + got, want);
        if (n <= 0)
            return false;
        char *nul = memchr(buf + got, '\0', (size_t)n);
        if (nul)
            return true;
        got += (size_t)n;
    }
    buf[cap - 1] = '\0';
    return false; /* longer than the buffer: not a path we can judge */
}

bool proc_auxv(pid_t pid, unsigned long type, uint64_t *value)
{
    uint64_t aux[128];
    ssize_t n = proc_read_whole(pid, "auxv", (char *)aux, sizeof aux, NULL);
    if (n <= 0)
        return false;
    size_t count = (size_t)n / (2 * sizeof aux[0]);
    for (size_t i = 0; i < count; i++) {
        if (aux[2 * i] == type) {
            *value = aux[2 * i + 1];
            return true;
        }
        if (aux[2 * i] == 0)
            break;
    }
    return false;
}
