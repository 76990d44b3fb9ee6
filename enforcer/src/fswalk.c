#include "fswalk.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

bool fs_join(const char *dir, const char *name, char *out)
{
    size_t d = strcmp(dir, "/") ? strlen(dir) : 0, n = strlen(name);
    if (d + 1 + n >= PATH_MAX)
        return false;
    memcpy(out, dir, d);
    out[d] = '/';
    memcpy(out + d + 1, name, n + 1);
    return true;
}

bool fs_is_virtual(const char *path)
{
    return !strcmp(path, "/proc") || !strcmp(path, "/sys");
}

bool fs_canonical(const char *path, char *out)
{
    if (realpath(path, out))
        return true;
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return false;
    char parent[PATH_MAX];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof parent)
        return false;
    memcpy(parent, path, n);
    parent[n] = '\0';
    char real_parent[PATH_MAX];
    if (!realpath(parent, real_parent))
        return false;
    return fs_join(real_parent, slash + 1, out);
}

bool fs_canonical_glob(const char *glob, char *out)
{
    size_t n = glob_literal_prefix(glob);
    if (n == 0 || n >= PATH_MAX)
        return false;
    char prefix[PATH_MAX], real[PATH_MAX];
    memcpy(prefix, glob, n);
    prefix[n] = '\0';
    if (!fs_canonical(prefix, real))
        return false;
    int len = snprintf(out, PATH_MAX, "%s%s", strcmp(real, "/") ? real : "", glob + n);
    if (len <= 0 || len >= PATH_MAX)
        return false;
    return strcmp(out, glob) != 0 && glob_invalid(out) == NULL;
}

struct walk {
    const char *glob;
    fswalk_fn fn;
    void *ctx;
    size_t entries;
    bool complete;
};

unsigned char fs_entry_type(const char *path, const struct dirent *ent, struct stat *st, bool *have_st)
{
    *have_st = false;
    if (ent->d_type != DT_UNKNOWN)
        return ent->d_type;
    if (lstat(path, st) < 0)
        return DT_UNKNOWN;
    *have_st = true;
    return S_ISDIR(st->st_mode) ? DT_DIR : S_ISLNK(st->st_mode) ? DT_LNK : S_ISREG(st->st_mode) ? DT_REG : DT_UNKNOWN;
}

static void walk_dir(struct walk *w, const char *dir, int depth)
{
    if (depth > FSWALK_MAX_DEPTH) {
        w->complete = false;
        return;
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    char path[PATH_MAX];
    while ((ent = readdir(d))) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
            continue;
        if (++w->entries > FSWALK_MAX_ENTRIES) {
            w->complete = false;
            break;
        }
        struct stat st;
        bool have_st;
        if (!fs_join(dir, ent->d_name, path))
            continue;
        unsigned char type = fs_entry_type(path, ent, &st, &have_st);
        if (glob_match(w->glob, path) && (have_st || lstat(path, &st) == 0))
            w->fn(path, &st, w->ctx);
        if (type == DT_DIR && !fs_is_virtual(path) && glob_may_match_below(w->glob, path))
            walk_dir(w, path, depth + 1);
    }
    closedir(d);
}

bool fs_walk_glob(const char *glob, fswalk_fn fn, void *ctx)
{
    struct walk w = {glob, fn, ctx, 0, true};
    size_t n = glob_literal_prefix(glob);
    char start[PATH_MAX];
    if (n >= sizeof start)
        return false;
    memcpy(start, glob, n);
    start[n] = '\0';
    if (n == 0)
        strcpy(start, "/");
    struct stat st;
    if (!glob_has_wildcard(glob)) {
        if (lstat(start, &st) == 0)
            fn(start, &st, ctx);
        return true;
    }
    walk_dir(&w, start, 0);
    return w.complete;
}
