#include "landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fswalk.h"
#include "glob.h"
#include "log.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/* Only the first field: accepted by every ABI version. */
struct ruleset_attr_v1 {
    uint64_t handled_access_fs;
};

int landlock_abi(void)
{
    long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : (int)v;
}

struct build {
    const struct exec_rules *r;
    int ruleset;
    size_t rules;
    size_t entries;
    bool failed;
};

bool landlock_add_path(int ruleset, int dirfd, const char *name, uint64_t rights, int open_flags, size_t *rules,
                       const char *too_many)
{
    if (*rules >= LANDLOCK_MAX_RULES) {
        log_msg("Landlock: %s would need more than %d rules", too_many, LANDLOCK_MAX_RULES);
        return false;
    }
    int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | open_flags);
    if (fd < 0)
        return true; /* vanished meanwhile: nothing to grant */
    struct landlock_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = fd};
    bool ok = syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) == 0;
    if (ok)
        (*rules)++;
    else
        log_errno("Landlock: cannot add a rule for %s", name);
    close(fd);
    return ok;
}

/* Grant EXECUTE beneath `name` (relative to dirfd, or absolute with AT_FDCWD). */
static void grant_at(struct build *b, int dirfd, const char *name)
{
    if (!b->failed &&
        !landlock_add_path(b->ruleset, dirfd, name, LANDLOCK_ACCESS_FS_EXECUTE, 0, &b->rules,
                           "the exec policy (one rule per allowed file; use ** globs for whole trees)"))
        b->failed = true;
}

static void grant(struct build *b, const char *path)
{
    grant_at(b, AT_FDCWD, path);
}

static bool any_match(const struct rule_glob *g, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (glob_match(g[i].glob, path))
            return true;
    return false;
}

/* A regular file the allow list names: is it free of every deny rule? The inode
 * comes from readdir (same device as its directory). */
static bool file_allowed(const struct build *b, const char *path, dev_t dev, ino_t ino)
{
    struct verdict v;
    rules_decide(b->r, path, true, dev, ino, &v);
    return v.allowed;
}

/* Allow globs that start from a canonical directory (their symlinked twins are
 * covered by the canonical variant rules_build added). With no allow list: all. */
static bool allow_all_below(const struct build *b, const char *dir)
{
    const struct exec_rules *r = b->r;
    if (!r->has_allowlist)
        return true;
    for (size_t i = 0; i < r->n_allow; i++)
        if (glob_matches_all_below(r->allow[i].glob, dir))
            return true;
    return false;
}

static bool allow_may_below(const struct build *b, const char *dir)
{
    const struct exec_rules *r = b->r;
    if (!r->has_allowlist)
        return true;
    for (size_t i = 0; i < r->n_allow; i++)
        if (glob_may_match_below(r->allow[i].glob, dir))
            return true;
    return false;
}

static bool deny_may_below(const struct build *b, const char *dir)
{
    const struct exec_rules *r = b->r;
    for (size_t i = 0; i < r->n_deny; i++)
        if (glob_may_match_below(r->deny[i].glob, dir))
            return true;
    return false;
}

static bool is_dot(const char *name)
{
    return !strcmp(name, ".") || !strcmp(name, "..");
}

/* One directory: a single rule for the directory when every file in it is
 * allowed and it has no subdirectory; otherwise a rule per allowed file, and
 * the subdirectories examined in turn. */
static void walk(struct build *b, const char *dir, int depth)
{
    if (b->failed)
        return;
    if (allow_all_below(b, dir) && !deny_may_below(b, dir)) {
        grant(b, dir);
        return;
    }
    if (!allow_may_below(b, dir) || depth > FSWALK_MAX_DEPTH)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct stat dst;
    if (fstat(dirfd(d), &dst) < 0) {
        closedir(d);
        return;
    }
    struct dirent *ent;
    char path[PATH_MAX];
    bool whole = !deny_may_below(b, dir), any_file = false;
    for (int pass = 0; pass < 2 && !b->failed; pass++) {
        while (!b->failed && (ent = readdir(d))) {
            if (is_dot(ent->d_name) || !fs_join(dir, ent->d_name, path))
                continue;
            if (++b->entries > FSWALK_MAX_ENTRIES) {
                log_msg("Landlock: the policy needs more than %d directory entries examined", FSWALK_MAX_ENTRIES);
                b->failed = true;
                break;
            }
            struct stat st;
            bool have_st;
            unsigned char type = fs_entry_type(path, ent, &st, &have_st);
            /* Symlinks are skipped: a rule on one would grant its target, which is
             * judged under its own (canonical) path instead. */
            bool ok = type == DT_REG &&
                      (!b->r->has_allowlist || any_match(b->r->allow, b->r->n_allow, path)) &&
                      file_allowed(b, path, dst.st_dev, ent->d_ino);
            if (pass == 0) {
                any_file |= type == DT_REG;
                if (type == DT_DIR || (type == DT_REG && !ok))
                    whole = false;
            } else if (ok) {
                grant_at(b, dirfd(d), ent->d_name);
            } else if (type == DT_DIR && !fs_is_virtual(path)) {
                walk(b, path, depth + 1);
            }
        }
        if (pass == 0 && whole && any_file) {
            grant(b, dir);
            break;
        }
        rewinddir(d);
    }
    closedir(d);
}

/* The dynamic loaders named in PT_INTERP are opened for exec by the kernel, so
 * Landlock must let them through; running one directly is judged by ptrace. */
static void grant_loaders_in(struct build *b, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    char path[PATH_MAX];
    while ((ent = readdir(d))) {
        if (!fs_join(dir, ent->d_name, path))
            continue;
        struct stat st;
        if (!strncmp(ent->d_name, "ld-", 3) && strstr(ent->d_name, ".so")) {
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                grant(b, path);
        } else if (depth == 0 && strstr(ent->d_name, "-linux-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            grant_loaders_in(b, path, 1);
        }
    }
    closedir(d);
}

/* Landlock grants rights by place, while deny rules are about files: it can be
 * exact only if every denied file is known and cannot be given a new name in a
 * place that may execute. REFER (ABI 2) makes the kernel refuse a link or rename
 * that would gain a file the execute right; a denied file that already has
 * other names (hard links) could sit anywhere. NULL when exact, else why not. */
static const char *inexact_reason(const struct exec_rules *r, int abi, char *buf, size_t len)
{
    if (abi < 2)
        return "Landlock ABI 1 cannot stop a file from being moved into an allowed directory";
    if (!r->deny_index_complete)
        return "a deny glob matches too many files to index";
    for (size_t i = 0; i < r->n_deny_inodes; i++) {
        if (r->deny_inodes[i].nlink > 1) {
            snprintf(buf, len, "a file denied by exec.deny[%d] (%s) has %lu hard links, which may be anywhere",
                     r->deny_inodes[i].rule, r->policy->deny[r->deny_inodes[i].rule].glob,
                     (unsigned long)r->deny_inodes[i].nlink);
            return buf;
        }
    }
    return NULL;
}

int landlock_build(const struct exec_rules *r, size_t *n_rules)
{
    char why_buf[PATH_MAX + 128];
    const char *why = inexact_reason(r, landlock_abi(), why_buf, sizeof why_buf);
    if (why) {
        log_msg("Landlock cannot enforce this policy exactly: %s", why);
        return -1;
    }
    struct ruleset_attr_v1 attr = {.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_REFER};
    int fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0) {
        log_errno("Landlock: cannot create a ruleset");
        return -1;
    }
    struct build b = {.r = r, .ruleset = fd};
    walk(&b, "/", 0);
    static const char *const loader_dirs[] = {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof loader_dirs / sizeof loader_dirs[0] && !b.failed; i++)
        grant_loaders_in(&b, loader_dirs[i], 0);
    if (b.failed) {
        close(fd);
        return -1;
    }
    *n_rules = b.rules;
    return fd;
}

int landlock_enter(int ruleset_fd)
{
    if (syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0)
        return -errno;
    return 0;
}
