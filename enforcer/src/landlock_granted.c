/* What the Landlock exec part granted, by identity, so that the notify mechanism
 * (notify.c) can tell beforehand what the kernel will answer: a file created after
 * the start in a directory whose files were granted one by one is refused by the
 * kernel even when an allow glob matches its name. */
#include "landlock.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct ident {
    dev_t dev;
    ino_t ino;
};

static struct {
    bool keep;
    bool sorted;
    struct ident *files, *dirs;
    size_t n_files, cap_files, n_dirs, cap_dirs;
} granted;

void landlock_granted_keep(void)
{
    granted.keep = true;
}

static void add(struct ident **list, size_t *n, size_t *cap, dev_t dev, ino_t ino)
{
    if (*n == *cap) {
        size_t cap2 = *cap ? *cap * 2 : 256;
        struct ident *p = realloc(*list, cap2 * sizeof *p);
        if (!p)
            return; /* a grant left out only makes the prediction stricter than the kernel */
        *list = p;
        *cap = cap2;
    }
    (*list)[(*n)++] = (struct ident){dev, ino};
}

void landlock_granted_file(dev_t dev, ino_t ino)
{
    if (granted.keep) {
        add(&granted.files, &granted.n_files, &granted.cap_files, dev, ino);
        granted.sorted = false;
    }
}

void landlock_granted_dir(const char *path)
{
    struct stat st;
    if (granted.keep && stat(path, &st) == 0)
        add(&granted.dirs, &granted.n_dirs, &granted.cap_dirs, st.st_dev, st.st_ino);
}

static int by_ident(const void *a, const void *b)
{
    const struct ident *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static bool is_dir_granted(dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < granted.n_dirs; i++)
        if (granted.dirs[i].dev == dev && granted.dirs[i].ino == ino)
            return true;
    return false;
}

void landlock_granted_sort(void)
{
    if (!granted.sorted) {
        qsort(granted.files, granted.n_files, sizeof *granted.files, by_ident);
        granted.sorted = true;
    }
}

bool landlock_exec_granted(const char *real, const struct stat *st)
{
    landlock_granted_sort();
    struct ident key = {st->st_dev, st->st_ino};
    if (granted.n_files && bsearch(&key, granted.files, granted.n_files, sizeof key, by_ident))
        return true;
    /* beneath a directory granted whole: each parent of the canonical path */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", real);
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
        struct stat dst;
        if (stat(dir, &dst) == 0 && is_dir_granted(dst.st_dev, dst.st_ino))
            return true;
        if (slash == dir)
            break;
    }
    return false;
}
