/* Bounded reads of another process's /proc entries and memory. Nothing here
 * reads more than the caller's buffer, whatever the tracee puts there. */
#ifndef VIGIL_PROCINFO_H
#define VIGIL_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads at most cap bytes of /proc/PID/NAME; returns the count or -1. *cut is set
 * when the file had more. */
ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t cap, bool *cut);
/* open(/proc/PID/NAME) read-only, close-on-exec, with the raw system call (libc may
 * add an fcntl per open); the descriptor or -1. */
int proc_open(pid_t pid, const char *name);
/* A number field of /proc/PID/status (key like "\nTracerPid:"), or -1. */
long proc_status_field(pid_t pid, const char *key);
/* fn(n, ctx) for each numeric entry of a /proc directory (pids, tids, descriptors), in
 * the order the kernel lists them, until fn returns false. False if the directory
 * cannot be opened. getdents64 into a stack buffer: no opendir allocation, and fn may
 * list another directory itself. */
bool proc_each_number(const char *dir, bool (*fn)(long n, void *ctx), void *ctx);
/* readlink of /proc/PID/NAME, NUL-terminated; false on failure. */
bool proc_link(pid_t pid, const char *name, char *buf, size_t cap);
/* PPid, first Uid and Tgid from /proc/PID/status; -1 for what cannot be read. */
void proc_ids(pid_t pid, long *ppid, long *uid, long *tgid);
/* The thread group (process) of task tid, or tid itself when it cannot be read. */
pid_t proc_tgid(pid_t tid);
/* Copy a NUL-terminated string of at most cap-1 bytes from the tracee. */
bool proc_read_string(pid_t pid, uint64_t addr, char *buf, size_t cap);
/* Copy len bytes from the tracee; false unless all were read. */
bool proc_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
/* What the tracer learns about one process at one stop, each part read from /proc
 * at most once and only when asked for: the exec checks and the event share it. */
#define PROC_ARGS_MAX 32768
struct proc_snapshot {
    pid_t pid;
    bool have_args, have_ids;
    char args[PROC_ARGS_MAX + 1]; /* /proc/PID/cmdline, NUL-terminated after n_args */
    ssize_t n_args;               /* -1: unreadable */
    bool args_cut;                /* the command line is longer than PROC_ARGS_MAX */
    long ppid, uid, tgid;
};
void proc_snapshot_begin(struct proc_snapshot *s, pid_t pid);
/* The command line: its length (-1 when unreadable); *cut as proc_read's. */
ssize_t proc_snapshot_args(struct proc_snapshot *s, const char **args, bool *cut);
void proc_snapshot_ids(struct proc_snapshot *s, long *ppid, long *uid, long *tgid);
/* The auxv entry `type` of the process (e.g. AT_EXECFN); false if absent. */
bool proc_auxv(pid_t pid, unsigned long type, uint64_t *value);

#endif
