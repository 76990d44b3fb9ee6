#include "fswalk.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* Segments of a canonical absolute path or a valid glob: "/" has none. */
static size_t segments(const char *p)
{
    size_t n = 0;
    for (; *p; p++)
        n += *p == '/' && p[1];
    return n;
}

/* A glob without ** matches only paths of as many segments, segment by segment
 * (glob.c, match_flat): dir/NAME matches it exactly when the glob has one segment
 * more than dir, its leading segments match dir, and its last one matches NAME. */
void fs_glob_in_dir(struct fs_glob_in_dir *g, const char *glob, const char *dir)
{
    *g = (struct fs_glob_in_dir){.glob = glob, .entries = FS_GLOB_FULL, .deeper = true};
    if (strstr(glob, "**"))
        return;
    size_t want = segments(dir) + 1, have = segments(glob);
    g->deeper = have > want;
    if (have != want) {
        g->entries = FS_GLOB_NONE;
        return;
    }
    const char *last = strrchr(glob, '/');
    char head[PATH_MAX];
    size_t n = (size_t)(last - glob);
    if (n >= sizeof head)
        return; /* cannot happen for a valid glob: FULL is always right */
    if (n == 0) {
        strcpy(head, "/");
    } else {
        memcpy(head, glob, n);
        head[n] = '\0';
    }
    g->last = last;
    if (!glob_match(head, dir)) {
        g->entries = FS_GLOB_NONE;
        return;
    }
    const char *star = strchr(last + 1, '*');
    g->entries = strchr(last, '?') || (star && strchr(star + 1, '*')) ? FS_GLOB_LAST : FS_GLOB_STAR;
    g->star = star != NULL;
    g->head = star ? (size_t)(star - last - 1) : strlen(last + 1);
    g->tail = star ? strlen(star + 1) : 0;
}

bool fs_glob_in_dir_match(const struct fs_glob_in_dir *g, const char *dir, const char *name)
{
    char path[PATH_MAX];
    size_t n;
    switch (g->entries) {
    case FS_GLOB_NONE:
        return false;
    case FS_GLOB_STAR: /* what seg_match does with literals around at most one '*' */
        n = strlen(name);
        if (!g->star)
            return n == g->head && !memcmp(name, g->last + 1, n);
        return n >= g->head + g->tail && !memcmp(name, g->last + 1, g->head) &&
               !memcmp(name + n - g->tail, g->last + 1 + g->head + 1, g->tail);
    case FS_GLOB_LAST:
        n = strlen(name);
        if (n >= sizeof path - 1)
            return false; /* no entry name is that long */
        path[0] = '/';
        memcpy(path + 1, name, n + 1);
        return glob_match(g->last, path);
    case FS_GLOB_FULL:
        break;
    }
    return fs_join(dir, name, path) && glob_match(g->glob, path);
}

/* The kernel's record for getdents64 (struct linux_dirent64). */
struct dirent64_rec {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* The first buffer: twice the directory's size (ext4: its blocks, which hold a
 * little less than getdents returns; tmpfs: 20 bytes an entry), so that most
 * directories are read without growing it (a copy, and pages touched twice). */
#define FS_DIR_BUF_MIN (16 * 1024)
#define FS_DIR_BUF_HINT_MAX (1024 * 1024)
/* A record is at most its header plus NAME_MAX + 1, rounded up to 8. */
#define FS_DIR_REC_MAX (sizeof(struct dirent64_rec) + NAME_MAX + 1 + 8)

static bool is_dot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* The records of fd, read until the end into one growing buffer, and how many
 * there are besides . and ..; FS_DIR_TOO_MANY as soon as that passes max. */
static enum fs_dir_read read_records(int fd, off_t size, size_t max, char **out, size_t *len, size_t *count)
{
    size_t cap = FS_DIR_BUF_MIN, used = 0, n = 0;
    if (size > FS_DIR_BUF_MIN / 2)
        cap = size < FS_DIR_BUF_HINT_MAX / 2 ? 2 * (size_t)size : FS_DIR_BUF_HINT_MAX;
    char *buf = malloc(cap);
    enum fs_dir_read res = FS_DIR_UNREADABLE;
    if (!buf)
        return res;
    for (;;) {
        if (cap - used < FS_DIR_REC_MAX) {
            char *grown = realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        long got = syscall(SYS_getdents64, fd, buf + used, cap - used);
        if (got < 0)
            break;
        if (got == 0) {
            *out = buf;
            *len = used;
            *count = n;
            return FS_DIR_OK;
        }
        for (size_t off = used; off < used + (size_t)got; off += ((struct dirent64_rec *)(buf + off))->d_reclen)
            n += !is_dot(((struct dirent64_rec *)(buf + off))->d_name);
        used += (size_t)got;
        if (n > max) {
            res = FS_DIR_TOO_MANY;
            break;
        }
    }
    free(buf);
    return res;
}

/* Start-up walks read some directories more than once (/usr/bin for the deny
 * index, then for the Landlock rules): while on, large directories are kept, by
 * path, as read the first time. */
#define FS_DIR_CACHE_MAX 8
#define FS_DIR_CACHE_MIN_ENTRIES 64
static struct {
    bool on;
    size_t n;
    struct {
        char *path;
        struct fs_dir d;
    } e[FS_DIR_CACHE_MAX];
} cache;

void fs_dir_cache(bool on)
{
    for (size_t i = 0; i < cache.n; i++) {
        free(cache.e[i].path);
        cache.e[i].d.shared = false;
        fs_dir_free(&cache.e[i].d);
    }
    cache.n = 0;
    cache.on = on;
}

static enum fs_dir_read from_cache(struct fs_dir *d, const char *path, size_t *budget)
{
    for (size_t i = 0; i < cache.n; i++) {
        if (strcmp(cache.e[i].path, path))
            continue;
        if (cache.e[i].d.n > *budget)
            return FS_DIR_TOO_MANY;
        *d = cache.e[i].d;
        d->shared = true;
        *budget -= d->n;
        return FS_DIR_OK;
    }
    return FS_DIR_UNREADABLE;
}

/* Keep a fresh read: the cache takes it over, d becomes a share of it. */
static void keep(struct fs_dir *d, const char *path)
{
    if (!cache.on || cache.n == FS_DIR_CACHE_MAX || d->n < FS_DIR_CACHE_MIN_ENTRIES)
        return;
    char *p = strdup(path);
    if (!p)
        return;
    cache.e[cache.n].path = p;
    cache.e[cache.n].d = *d;
    cache.n++;
    d->shared = true;
}

enum fs_dir_read fs_dir_read(struct fs_dir *d, const char *path, size_t *budget)
{
    if (cache.on) {
        enum fs_dir_read res = from_cache(d, path, budget);
        if (res != FS_DIR_UNREADABLE)
            return res;
    }
    *d = (struct fs_dir){.fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    struct stat st;
    size_t len, n;
    if (d->fd < 0)
        return FS_DIR_UNREADABLE;
    enum fs_dir_read res = fstat(d->fd, &st) < 0 ? FS_DIR_UNREADABLE : read_records(d->fd, st.st_size, *budget, &d->buf, &len, &n);
    if (res != FS_DIR_OK) {
        fs_dir_free(d);
        return res;
    }
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    struct fs_entry *ents = malloc((n ? n : 1) * sizeof *ents);
    if (!ents) {
        fs_dir_free(d);
        return FS_DIR_UNREADABLE;
    }
    d->ents = ents;
    for (size_t off = 0; off < len;) {
        struct dirent64_rec *rec = (struct dirent64_rec *)(d->buf + off);
        off += rec->d_reclen;
        if (is_dot(rec->d_name))
            continue;
        unsigned char type = rec->d_type;
        if (type == DT_UNKNOWN && fstatat(d->fd, rec->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        ents[d->n++] = (struct fs_entry){rec->d_name, (ino_t)rec->d_ino, type};
    }
    *budget -= d->n;
    keep(d, path);
    return FS_DIR_OK;
}

void fs_dir_free(struct fs_dir *d)
{
    if (!d->shared) {
        if (d->fd >= 0)
            close(d->fd);
        free(d->buf);
        free((void *)d->ents);
    }
    *d = (struct fs_dir){.fd = -1};
}

struct walk {
    const char *glob;
    fswalk_fn fn;
    void *ctx;
    size_t budget;
    bool complete;
};

static void walk_dir(struct walk *w, const char *dir, int depth)
{
    if (depth > FSWALK_MAX_DEPTH) {
        w->complete = false;
        return;
    }
    struct fs_dir d;
    enum fs_dir_read res = fs_dir_read(&d, dir, &w->budget);
    if (res == FS_DIR_TOO_MANY)
        w->complete = false;
    if (res != FS_DIR_OK)
        return;
    char path[PATH_MAX];
    struct fs_glob_in_dir g;
    fs_glob_in_dir(&g, w->glob, dir);
    for (size_t i = 0; i < d.n; i++) {
        const struct fs_entry *e = &d.ents[i];
        struct stat st;
        bool match = fs_glob_in_dir_match(&g, dir, e->name), descend = e->type == DT_DIR && g.deeper;
        if (!(match || descend) || !fs_join(dir, e->name, path))
            continue;
        if (match && fstatat(d.fd, e->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            w->fn(path, &st, w->ctx);
        if (descend && !fs_is_virtual(path) && glob_may_match_below(w->glob, path))
            walk_dir(w, path, depth + 1);
    }
    fs_dir_free(&d);
}

bool fs_walk_glob(const char *glob, fswalk_fn fn, void *ctx)
{
    struct walk w = {glob, fn, ctx, FSWALK_MAX_ENTRIES, true};
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
