/* Processes followed system call by system call between their creation and
 * their first exec (and shells/exec wrappers for their first system calls), so an
 * exec the kernel refuses on its own (Landlock) is still reported. */
#ifndef VIGIL_FOLLOW_H
#define VIGIL_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FOLLOW_SLOTS 4096
#define FOLLOW_MAX_SYSCALLS 256

struct follow {
    pid_t pid;       /* 0 = free */
    int syscalls;
    bool in_exec;
    bool execveat;
    uint64_t path_addr; /* the exec's path argument, read if the exec fails */
    char *path;         /* exec path as the process passed it (for the report only) */
    uint64_t argv_addr;
    int dirfd;
    int flags;
    dev_t reported_dev; /* last refusal reported: execvp retries the same file */
    ino_t reported_ino;
};

/* The entry of pid; with create, a new one (NULL when the table is full). */
struct follow *follow_find(pid_t pid, bool create);
void follow_drop(pid_t pid);

#endif
