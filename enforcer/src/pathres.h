/* Paths resolved the way the kernel will resolve them for a traced process:
 * relative to its cwd or a directory descriptor, through its root, following
 * symlinks (and /proc/self, /proc/PID/fd/N magic links) as namei does. */
#ifndef VIGIL_PATHRES_H
#define VIGIL_PATHRES_H

#include <stdbool.h>
#include <sys/types.h>

#define PATHRES_MAX_LINKS 40

/* Canonical path (PATH_MAX buffer) of what `path` names for task tid of
 * process tgid; dirfd is AT_FDCWD or a descriptor of the task; follow_last
 * follows a symlink in the last component. A missing intermediate directory
 * leaves the rest lexical (the kernel will fail, unless it appears meanwhile).
 * false when the path names nothing a file rule can be about (a socket or
 * deleted file behind a magic link, a loop, an unknown descriptor). */
bool path_resolve(pid_t tgid, pid_t tid, int dirfd, const char *path, bool follow_last, char *out);

/* The /proc path through which the enforcer reaches what an exec call names: `path`
 * through the process's root (absolute) or cwd (relative), execveat's descriptor
 * (`dirfd`, with AT_EMPTY_PATH in `flags` and an empty path: the descriptor itself).
 * out has PATH_MAX + 64 bytes. */
void exec_target_path(pid_t pid, bool execveat, int dirfd, int flags, const char *path, char *out);

/* The file behind descriptor fd of task tid, if it has a name. */
bool path_of_fd(pid_t tid, int fd, char *out);

#endif
