#include "landlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

#define LOADER_SEEN_MAX 64

struct build {
    const struct exec_rules *r;
    int ruleset;
    size_t rules;
    size_t budget; /* directory entries still to examine */
    bool failed;
    /* Loader directories read and loaders granted, by identity: on a merged-/usr
     * system /lib is /usr/lib, and /lib64's loader a symlink to one of them. */
    struct {
        dev_t dev;
        ino_t ino;
        int depth; /* a directory read at this depth (0 also looks in *-linux-*) */
    } seen[LOADER_SEEN_MAX];
    size_t n_seen;
};

/* A rule's descriptor is only needed while the rule is added. They are kept and
 * closed in runs of consecutive numbers, one close_range (Linux 5.9) per run rather
 * than one close each: hundreds of rules are built at every start. */
#define HELD_MAX 1024
static int held[HELD_MAX];
static size_t n_held;

static void release_held(void)
{
    for (size_t i = 0; i < n_held;) {
        size_t j = i + 1;
        while (j < n_held && held[j] == held[j - 1] + 1)
            j++;
        if (syscall(SYS_close_range, held[i], held[j - 1], 0) < 0)
            for (size_t k = i; k < j; k++)
                close(held[k]);
        i = j;
    }
    n_held = 0;
}

static void hold(int fd)
{
    if (n_held == HELD_MAX)
        release_held();
    held[n_held++] = fd;
}

/* False, after saying why, when `rules` rules are already all there may be. */
static bool room_for_rule(size_t rules, const char *too_many)
{
    if (rules < LANDLOCK_MAX_RULES)
        return true;
    log_msg("Landlock: %s would need more than %d rules", too_many, LANDLOCK_MAX_RULES);
    return false;
}

bool landlock_add_path(int ruleset, int dirfd, const char *name, uint64_t rights, int open_flags, size_t *rules,
                       const char *too_many)
{
    if (!room_for_rule(*rules, too_many))
        return false;
    int fd = openat(dirfd, name, O_PATH | O_CLOEXEC | open_flags);
    if (fd < 0 && errno == EMFILE && n_held > 0) {
        release_held(); /* a low descriptor limit: never skip a rule for it */
        fd = openat(dirfd, name, O_PATH | O_CLOEXEC | open_flags);
    }
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
            log_errno("Landlock: cannot open %s", name);
            return false;
        }
        return true; /* vanished meanwhile: nothing to grant */
    }
    struct landlock_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = fd};
    bool ok = syscall(__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) == 0;
    if (ok)
        (*rules)++;
    else
        log_errno("Landlock: cannot add a rule for %s", name);
    hold(fd);
    return ok;
}

/* Grant EXECUTE beneath `name` (relative to dirfd, or absolute with AT_FDCWD). */
#define EXEC_TOO_MANY "the exec policy (one rule per allowed file; use ** globs for whole trees)"

static void grant_at(struct build *b, int dirfd, const char *name)
{
    if (!b->failed &&
        !landlock_add_path(b->ruleset, dirfd, name, LANDLOCK_ACCESS_FS_EXECUTE, 0, &b->rules, EXEC_TOO_MANY))
        b->failed = true;
}

static void grant(struct build *b, const char *path)
{
    grant_at(b, AT_FDCWD, path);
}

/* The per-file EXECUTE grants of the walk are listed, not added: the enforcer
 * and the application's child (forked before it enters the ruleset) add half
 * each at the same time (landlock_add_deferred). A ruleset is one kernel
 * object shared through its descriptor, so rules added by either process are
 * in it. Start-up with a policy whose deny rules split /usr/bin into hundreds
 * of per-file rules spent most of its extra time on these adds. */
struct deferred_grant {
    int dirfd;
    size_t name; /* offset in deferred.names */
};
static struct {
    struct deferred_grant *grants;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    int *dirfds; /* the duplicates the grants refer to, closed by landlock_deferred_free */
    size_t n_dirfds, cap_dirfds;
} deferred;

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t cap2 = *cap ? *cap * 2 : 64;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * size);
    if (!q)
        return false;
    *p = q;
    *cap = cap2;
    return true;
}

void landlock_deferred_close(void)
{
    release_held();
    for (size_t i = 0; i < deferred.n_dirfds; i++)
        close(deferred.dirfds[i]);
    deferred.n_dirfds = 0;
}

void landlock_deferred_free(void)
{
    landlock_deferred_close();
    free(deferred.grants);
    free(deferred.names);
    free(deferred.dirfds);
    memset(&deferred, 0, sizeof deferred);
}

/* A directory whose entries get deferred grants: its descriptor duplicated
 * (the walk's own is closed, or shared with the start-up cache). -1 after
 * saying why. */
static int defer_dir(struct build *b, int dirfd)
{
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0 || !grow((void **)&deferred.dirfds, &deferred.cap_dirfds, deferred.n_dirfds + 1, sizeof(int))) {
        log_errno("Landlock: cannot keep a directory open for its rules");
        if (fd >= 0)
            close(fd);
        b->failed = true;
        return -1;
    }
    deferred.dirfds[deferred.n_dirfds++] = fd;
    return fd;
}

/* grant_at, later: *kept is the directory's duplicate, made on first use. */
static void defer_at(struct build *b, int dirfd, int *kept, const char *name)
{
    if (b->failed)
        return;
    if (!room_for_rule(b->rules, EXEC_TOO_MANY)) {
        b->failed = true;
        return;
    }
    if (*kept < 0 && (*kept = defer_dir(b, dirfd)) < 0)
        return;
    size_t len = strlen(name) + 1;
    if (!grow((void **)&deferred.grants, &deferred.cap, deferred.n + 1, sizeof *deferred.grants) ||
        !grow((void **)&deferred.names, &deferred.names_cap, deferred.names_len + len, 1)) {
        log_msg("Landlock: out of memory listing the exec rules");
        b->failed = true;
        return;
    }
    memcpy(deferred.names + deferred.names_len, name, len);
    deferred.grants[deferred.n++] = (struct deferred_grant){*kept, deferred.names_len};
    deferred.names_len += len;
    b->rules++;
}

size_t landlock_deferred_parts(void)
{
    return deferred.n >= 64 ? 2 : 1; /* below, the child's share would not pay for moving it */
}

bool landlock_add_deferred(int ruleset, size_t part, size_t parts)
{
    size_t added = 0;
    bool ok = true;
    for (size_t i = part; i < deferred.n && ok; i += parts)
        ok = landlock_add_path(ruleset, deferred.grants[i].dirfd, deferred.names + deferred.grants[i].name,
                               LANDLOCK_ACCESS_FS_EXECUTE, 0, &added, "the exec policy");
    return ok; /* the rules' descriptors are closed by landlock_deferred_free, when there is time */
}

/* The exec globs as they apply to one directory's entries (fswalk.h): the
 * verdict of rules_decide on each file, without matching every glob in full
 * against every path. NULL globs (no memory, or a /memfd:* directory, whose
 * paths rules_decide rewrites): rules_decide itself on each file. */
struct dir_rules {
    const struct exec_rules *r;
    struct fs_glob_in_dir *allow, *deny;
};

static void dir_rules_init(struct dir_rules *dr, const struct exec_rules *r, const char *dir)
{
    *dr = (struct dir_rules){.r = r};
    if (!strncmp(dir, "/memfd:", 7))
        return;
    struct fs_glob_in_dir *g = malloc((r->n_allow + r->n_deny + 1) * sizeof *g);
    if (!g)
        return;
    for (size_t i = 0; i < r->n_allow; i++)
        fs_glob_in_dir(&g[i], r->allow[i].glob, dir);
    for (size_t i = 0; i < r->n_deny; i++)
        fs_glob_in_dir(&g[r->n_allow + i], r->deny[i].glob, dir);
    dr->allow = g;
    dr->deny = g + r->n_allow;
}

static void dir_rules_free(struct dir_rules *dr)
{
    free(dr->allow);
}

/* A regular file dir/name: does the policy let it run (no deny rule names it by
 * path or identity, an allow glob does or there is no allow list)? The inode
 * comes from getdents (same device as its directory). As rules_decide. */
static bool file_allowed(const struct dir_rules *dr, const char *dir, const char *name, dev_t dev, ino_t ino)
{
    const struct exec_rules *r = dr->r;
    if (!dr->allow) {
        char path[PATH_MAX];
        struct verdict v;
        if (!fs_join(dir, name, path))
            return false;
        rules_decide(r, path, true, dev, ino, &v);
        return v.allowed;
    }
    for (size_t i = 0; i < r->n_deny; i++)
        if (fs_glob_in_dir_match(&dr->deny[i], dir, name))
            return false;
    for (size_t i = 0; i < r->n_deny_inodes; i++)
        if (r->deny_inodes[i].dev == dev && r->deny_inodes[i].ino == ino)
            return false;
    if (!r->has_allowlist)
        return true;
    for (size_t i = 0; i < r->n_allow; i++)
        if (fs_glob_in_dir_match(&dr->allow[i], dir, name))
            return true;
    return false;
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

static bool read_dir(struct build *b, struct fs_dir *d, const char *dir)
{
    enum fs_dir_read res = fs_dir_read(d, dir, &b->budget);
    if (res == FS_DIR_TOO_MANY) {
        log_msg("Landlock: the policy needs more than %d directory entries examined", FSWALK_MAX_ENTRIES);
        b->failed = true;
    }
    return res == FS_DIR_OK;
}

/* One directory: a single rule for the directory when every file in it is
 * allowed and it has no subdirectory; otherwise a rule per allowed file, and
 * the subdirectories examined in turn. The directory is read once; the first
 * look marks the files that may run, the second grants them. */
static void walk(struct build *b, const char *dir, int depth)
{
    if (b->failed)
        return;
    if (allow_all_below(b, dir) && !deny_may_below(b, dir)) {
        grant(b, dir);
        return;
    }
    struct fs_dir d;
    if (!allow_may_below(b, dir) || depth > FSWALK_MAX_DEPTH || !read_dir(b, &d, dir))
        return;
    char path[PATH_MAX];
    bool whole = !deny_may_below(b, dir), any_file = false;
    bool *may_run = malloc(d.n ? d.n : 1);
    if (!may_run) {
        log_msg("Landlock: out of memory reading %s", dir);
        b->failed = true;
        fs_dir_free(&d);
        return;
    }
    struct dir_rules dr;
    dir_rules_init(&dr, b->r, dir);
    bool short_dir = strlen(dir) + 1 + NAME_MAX < PATH_MAX; /* then every dir/name has a path */
    for (size_t i = 0; i < d.n; i++) {
        const struct fs_entry *e = &d.ents[i];
        /* Symlinks are skipped: a rule on one would grant its target, which is
         * judged under its own (canonical) path instead. */
        may_run[i] = e->type == DT_REG && (short_dir || fs_join(dir, e->name, path)) &&
                     file_allowed(&dr, dir, e->name, d.dev, e->ino);
        any_file |= e->type == DT_REG;
        if (e->type == DT_DIR || (e->type == DT_REG && !may_run[i]))
            whole = false;
    }
    dir_rules_free(&dr);
    if (whole && any_file) {
        grant(b, dir);
    } else {
        int kept = -1;
        for (size_t i = 0; i < d.n && !b->failed; i++) {
            const struct fs_entry *e = &d.ents[i];
            if (may_run[i])
                defer_at(b, d.fd, &kept, e->name);
            else if (e->type == DT_DIR && fs_join(dir, e->name, path) && !fs_is_virtual(path))
                walk(b, path, depth + 1);
        }
    }
    free(may_run);
    fs_dir_free(&d);
}

/* Has this loader (depth -1) or directory been seen already, a directory at
 * the same depth or shallower? Remembers it if not, while there is room: past
 * that, work is only repeated, never skipped wrongly. */
static bool seen_before(struct build *b, dev_t dev, ino_t ino, int depth)
{
    for (size_t i = 0; i < b->n_seen; i++)
        if (b->seen[i].dev == dev && b->seen[i].ino == ino && b->seen[i].depth <= depth)
            return true;
    if (b->n_seen < LOADER_SEEN_MAX) {
        b->seen[b->n_seen].dev = dev;
        b->seen[b->n_seen].ino = ino;
        b->seen[b->n_seen].depth = depth;
        b->n_seen++;
    }
    return false;
}

/* The loader names PT_INTERP uses, per ABI (glibc, then musl: musl's live in /lib
 * itself). A multiarch directory (/usr/lib/x86_64-linux-gnu) holds over a thousand
 * libraries: it is not read, these names are looked up in it (a link among them,
 * ld-linux-x86-64.so.2 -> ld-2.31.so, grants its target). */
static const char *const multiarch_loaders[] = {
    "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux-aarch64_be.so.1", "ld-linux.so.2",
    "ld-linux-armhf.so.3", "ld-linux.so.3", "ld-linux-x32.so.2", "ld-linux-riscv64-lp64d.so.1",
    "ld64.so.2", "ld64.so.1", "ld.so.1",
};

/* Looked up relative to the multiarch directory: one path step each. */
static void grant_multiarch_loaders(struct build *b, int parent, const char *name)
{
    int dir = openat(parent, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return;
    struct stat st;
    for (size_t i = 0; i < sizeof multiarch_loaders / sizeof multiarch_loaders[0] && !b->failed; i++)
        if (fstatat(dir, multiarch_loaders[i], &st, 0) == 0 && S_ISREG(st.st_mode) &&
            !seen_before(b, st.st_dev, st.st_ino, -1))
            grant_at(b, dir, multiarch_loaders[i]);
    close(dir);
}

/* The dynamic loaders named in PT_INTERP are opened for exec by the kernel, so
 * Landlock must let them through; running one directly is judged by ptrace.
 * A library directory is read whole (ld-*.so* files, *-linux-* directories);
 * a multiarch directory (depth 1) is looked up by loader name. */
static void grant_loaders_in(struct build *b, const char *dir)
{
    struct fs_dir d;
    struct stat st;
    size_t budget = FSWALK_MAX_ENTRIES;
    if (stat(dir, &st) < 0 || seen_before(b, st.st_dev, st.st_ino, 0))
        return;
    if (fs_dir_read(&d, dir, &budget) != FS_DIR_OK)
        return;
    for (size_t i = 0; i < d.n && !b->failed; i++) {
        const char *name = d.ents[i].name;
        bool loader = !strncmp(name, "ld-", 3) && strstr(name, ".so");
        if ((!loader && !strstr(name, "-linux-")) || fstatat(d.fd, name, &st, 0) < 0)
            continue;
        if (loader && S_ISREG(st.st_mode) && !seen_before(b, st.st_dev, st.st_ino, -1))
            grant_at(b, d.fd, name);
        else if (!loader && S_ISDIR(st.st_mode) && !seen_before(b, st.st_dev, st.st_ino, 1))
            grant_multiarch_loaders(b, d.fd, name);
    }
    fs_dir_free(&d);
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

/* The exec rules' grants: EXECUTE on every allowed file (or whole directory),
 * plus the ELF interpreters they need. False after saying why. */
static bool add_exec(int ruleset, const struct exec_rules *r, size_t *n_rules)
{
    struct build b = {.r = r, .ruleset = ruleset, .rules = *n_rules, .budget = FSWALK_MAX_ENTRIES};
    walk(&b, "/", 0);
    static const char *const loader_dirs[] = {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof loader_dirs / sizeof loader_dirs[0] && !b.failed; i++)
        grant_loaders_in(&b, loader_dirs[i]);
    *n_rules = b.rules;
    return !b.failed;
}

/* One ruleset for the parts asked for; -1 after saying why, *files_failed
 * when it was the files part that could not be built. */
static int build(const struct exec_rules *exec, const struct file_rules *files, size_t *n_rules, bool *files_failed)
{
    uint64_t handled = (exec ? LANDLOCK_EXEC_HANDLED : 0) | (files ? LANDLOCK_FILES_HANDLED : 0);
    struct ruleset_attr_v1 attr = {.handled_access_fs = handled};
    int fd = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (fd < 0) {
        log_errno("Landlock: cannot create a ruleset");
        *files_failed = files && !exec;
        return -1;
    }
    *n_rules = 0;
    landlock_deferred_free();
    bool ok = !exec || add_exec(fd, exec, n_rules);
    /* The exec part grants REFER nowhere (no link or rename across directories:
     * none can give a file the execute right). With it, the files part's
     * directories get their rights without REFER, so that one layer allows
     * exactly what the exec and files layers stacked did. */
    *files_failed = ok && files && !landlock_files_add(fd, files, exec ? 0 : LANDLOCK_ACCESS_FS_REFER, n_rules);
    release_held();
    if (!ok || *files_failed) {
        landlock_deferred_free();
        close(fd);
        return -1;
    }
    return fd;
}

int landlock_build(const struct exec_rules *exec, const struct file_rules *files, size_t *n_rules, bool *with_files)
{
    *with_files = false;
    if (exec) {
        char why_buf[PATH_MAX + 128];
        const char *why = inexact_reason(exec, landlock_abi(), why_buf, sizeof why_buf);
        if (why) {
            log_msg("Landlock cannot enforce this policy exactly: %s", why);
            return -1;
        }
    }
    bool files_failed = false;
    int fd = build(exec, files, n_rules, &files_failed);
    if (fd < 0 && files_failed) {
        log_msg("files.readOnly: no Landlock layer, ptrace checks only");
        return exec ? build(exec, NULL, n_rules, &files_failed) : -1;
    }
    *with_files = fd >= 0 && files;
    return fd;
}

int landlock_enter(int ruleset_fd)
{
    if (syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0)
        return -errno;
    return 0;
}
