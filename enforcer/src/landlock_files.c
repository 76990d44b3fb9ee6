/* The files.readOnly part of the Landlock ruleset: write access (write, create,
 * remove, rename, link) is granted everywhere except beneath read-only paths, so
 * the kernel refuses those writes for every process, with no race on a path
 * string. Rules attach to inodes: renaming a parent does not escape them. */
#include "landlock.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fswalk.h"
#include "log.h"

struct files_build {
    const struct file_rules *r;
    int ruleset;
    uint64_t dir_rights;
    size_t rules, budget; /* budget: directory entries still to examine */
    bool failed;
};

static void grant(struct files_build *b, int dirfd, const char *name, uint64_t rights)
{
    if (!b->failed && !landlock_add_path(b->ruleset, dirfd, name, rights, O_NOFOLLOW, &b->rules, "files.readOnly"))
        b->failed = true;
}

/* A directory no read-only glob reaches is granted whole; one that is read-only
 * throughout gets nothing; in between, its other files are granted one by one
 * and its subdirectories examined in turn. Such a directory keeps no right of
 * its own (a grant on it would cover what is read-only below it): entries
 * cannot be created, removed or renamed directly in it. */
static void walk(struct files_build *b, const char *dir, int depth)
{
    if (b->failed || file_rules_all_below(b->r, dir))
        return;
    if (!file_rules_any_below(b->r, dir)) {
        grant(b, AT_FDCWD, dir, b->dir_rights);
        return;
    }
    if (depth > FSWALK_MAX_DEPTH)
        return;
    struct fs_dir d;
    enum fs_dir_read res = fs_dir_read(&d, dir, &b->budget);
    if (res == FS_DIR_TOO_MANY) {
        log_msg("Landlock: files.readOnly needs more than %d directory entries examined", FSWALK_MAX_ENTRIES);
        b->failed = true;
    }
    if (res != FS_DIR_OK)
        return;
    char path[PATH_MAX];
    for (size_t i = 0; i < d.n && !b->failed; i++) {
        const struct fs_entry *e = &d.ents[i];
        if (!fs_join(dir, e->name, path))
            continue;
        if (e->type == DT_DIR)
            walk(b, path, depth + 1);
        else if (e->type != DT_LNK && e->type != DT_UNKNOWN && !file_rules_read_only(b->r, path))
            grant(b, d.fd, e->name, LANDLOCK_FILES_FILE_RIGHTS);
    }
    fs_dir_free(&d);
}

bool landlock_files_add(int ruleset, const struct file_rules *r, uint64_t refer, size_t *n_rules)
{
    struct files_build b = {.r = r,
                            .ruleset = ruleset,
                            .dir_rights = (LANDLOCK_FILES_HANDLED & ~(uint64_t)LANDLOCK_ACCESS_FS_REFER) | refer,
                            .rules = *n_rules,
                            .budget = FSWALK_MAX_ENTRIES};
    walk(&b, "/", 0);
    *n_rules = b.rules;
    return !b.failed;
}
