#include "pathres.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procinfo.h"

static bool named(const char *target)
{
    size_t n = strlen(target);
    return target[0] == '/' && !(n >= 10 && !strcmp(target + n - 10, " (deleted)"));
}

bool path_of_fd(pid_t tid, int fd, char *out)
{
    char name[32];
    snprintf(name, sizeof name, "fd/%d", fd);
    return proc_link(tid, name, out, PATH_MAX) && named(out);
}

static void pop(char *cur)
{
    char *slash = strrchr(cur, '/');
    if (slash == cur)
        cur[1] = '\0';
    else if (slash)
        *slash = '\0';
}

static bool push(char *cur, const char *comp, size_t n)
{
    size_t len = strlen(cur);
    if (len > 1) {
        if (len + 1 >= PATH_MAX)
            return false;
        cur[len++] = '/';
    }
    if (len + n >= PATH_MAX)
        return false;
    memcpy(cur + len, comp, n);
    cur[len + n] = '\0';
    return true;
}

/* rest := prefix "/" rest */
static bool prepend(char *rest, size_t cap, const char *prefix)
{
    size_t p = strlen(prefix), r = strlen(rest);
    if (p + 1 + r + 1 > cap)
        return false;
    memmove(rest + p + 1, rest, r + 1);
    memcpy(rest, prefix, p);
    rest[p] = '/';
    return true;
}

bool path_resolve(pid_t tgid, pid_t tid, int dirfd, const char *path, bool follow_last, char *out)
{
    char root[PATH_MAX], cur[PATH_MAX], rest[2 * PATH_MAX];
    if (!proc_link(tgid, "root", root, sizeof root) || !named(root))
        return false;
    if (path[0] == '/') {
        strcpy(cur, root);
    } else if (dirfd == AT_FDCWD) {
        if (!proc_link(tid, "cwd", cur, sizeof cur) || !named(cur))
            return false;
    } else if (!path_of_fd(tid, dirfd, cur)) {
        return false;
    }
    if (strlen(path) >= sizeof rest)
        return false;
    strcpy(rest, path);

    int links = 0;
    char *next = rest;
    for (;;) {
        while (*next == '/')
            next++;
        if (!*next)
            break;
        char *end = strchr(next, '/');
        size_t n = end ? (size_t)(end - next) : strlen(next);
        char comp[NAME_MAX + 1];
        if (n > NAME_MAX)
            return false;
        memcpy(comp, next, n);
        comp[n] = '\0';
        next += n;
        while (*next == '/')
            next++;
        bool last = *next == '\0';
        if (!strcmp(comp, "."))
            continue;
        if (!strcmp(comp, "..")) {
            if (strcmp(cur, root))
                pop(cur);
            continue;
        }
        char candidate[PATH_MAX];
        strcpy(candidate, cur);
        if (!push(candidate, comp, n))
            return false;
        struct stat st;
        if ((!last || follow_last) && lstat(candidate, &st) == 0 && S_ISLNK(st.st_mode)) {
            if (++links > PATHRES_MAX_LINKS)
                return false;
            char target[PATH_MAX];
            bool magic = !strncmp(candidate, "/proc/", 6);
            if (!strcmp(candidate, "/proc/self"))
                snprintf(target, sizeof target, "/proc/%d", (int)tgid);
            else if (!strcmp(candidate, "/proc/thread-self"))
                snprintf(target, sizeof target, "/proc/%d/task/%d", (int)tgid, (int)tid);
            else {
                ssize_t len = readlink(candidate, target, sizeof target - 1);
                if (len <= 0)
                    return false;
                target[len] = '\0';
            }
            if (magic && !named(target))
                return false; /* socket:[..], pipe:[..], a deleted file: no path */
            /* the rest of the walk starts from the link's target */
            char tail[2 * PATH_MAX];
            snprintf(tail, sizeof tail, "%s", next);
            if (strlen(target) + 1 + strlen(tail) + 1 > sizeof rest)
                return false;
            strcpy(rest, tail);
            if (!prepend(rest, sizeof rest, target))
                return false;
            next = rest;
            if (target[0] == '/')
                strcpy(cur, magic ? "/" : root);
            continue;
        }
        strcpy(cur, candidate);
    }
    strcpy(out, cur);
    return true;
}

void exec_target_path(pid_t pid, bool execveat, int dirfd, int flags, const char *path, char *out)
{
    size_t cap = PATH_MAX + 64;
    if (path[0] == '/')
        snprintf(out, cap, "/proc/%d/root%s", (int)pid, path);
    else if (execveat && path[0] == '\0' && (flags & AT_EMPTY_PATH))
        snprintf(out, cap, "/proc/%d/fd/%d", (int)pid, dirfd); /* fexecve */
    else if (execveat && dirfd != AT_FDCWD)
        snprintf(out, cap, "/proc/%d/fd/%d/%s", (int)pid, dirfd, path);
    else
        snprintf(out, cap, "/proc/%d/cwd/%s", (int)pid, path);
}
