/* Bounded walks over the container's file system, used at start-up only. */
#ifndef VIGIL_FSWALK_H
#define VIGIL_FSWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define FSWALK_MAX_DEPTH 32
#define FSWALK_MAX_ENTRIES 200000

/* The canonical form of a path that may not exist yet: realpath() of the path, or
 * of its parent plus the last segment. Writes into out (PATH_MAX); false if neither. */
bool fs_canonical(const char *path, char *out);

/* The glob with its literal directory prefix replaced by that prefix's realpath;
 * false when it would be the same glob (or the prefix does not resolve). */
bool fs_canonical_glob(const char *glob, char *out);

/* Calls fn for every existing file or directory (symlinks not followed) matching
 * glob. Does not descend into /proc or /sys. Returns false if a bound was hit. */
typedef void (*fswalk_fn)(const char *path, const struct stat *st, void *ctx);
bool fs_walk_glob(const char *glob, fswalk_fn fn, void *ctx);

bool fs_is_virtual(const char *path);

/* One directory read whole: a few large getdents64 calls instead of a readdir
 * loop, so that a walker can look at its entries twice without reading it twice,
 * and open them relative to `fd`. Shared by every start-up walk; read-only. */
struct fs_entry {
    const char *name; /* never "." or ".." */
    ino_t ino;
    unsigned char type; /* DT_*: d_type, else fstatat without following; DT_UNKNOWN if neither */
};
struct fs_dir {
    int fd; /* O_RDONLY|O_DIRECTORY, for *at() calls on the entries */
    dev_t dev;
    ino_t ino;
    size_t n;
    const struct fs_entry *ents;
    char *buf;
    bool shared; /* fd, buf and ents belong to the start-up cache */
};
enum fs_dir_read { FS_DIR_OK, FS_DIR_UNREADABLE, FS_DIR_TOO_MANY };
/* Reads `path` (symlinks in it followed) whole. Each entry counts against *budget;
 * FS_DIR_TOO_MANY when it runs out. On anything but FS_DIR_OK, d holds nothing. */
enum fs_dir_read fs_dir_read(struct fs_dir *d, const char *path, size_t *budget);
void fs_dir_free(struct fs_dir *d);
/* Between fs_dir_cache(true) and fs_dir_cache(false), large directories read
 * once are served again from memory (start-up: the deny index and the Landlock
 * rules read the same /usr/bin). false also frees what was kept. */
void fs_dir_cache(bool on);
/* A glob as it applies to the entries of one directory, worked out once per
 * directory instead of once per entry: start-up walks judge every entry of
 * directories such as /usr/bin (over a thousand names), where most globs either
 * cannot match an entry at all or are decided by their last segment alone. */
struct fs_glob_in_dir {
    const char *glob;
    const char *last; /* "/" + the glob's last segment */
    size_t head, tail; /* FS_GLOB_STAR: the lengths of the literal text around the segment's one '*' */
    /* How it matches dir/NAME: never; by the last segment, literal but for at
     * most one '*' (FS_GLOB_STAR) or not (FS_GLOB_LAST); the whole glob. */
    enum { FS_GLOB_NONE, FS_GLOB_STAR, FS_GLOB_LAST, FS_GLOB_FULL } entries;
    bool star;   /* FS_GLOB_STAR: the segment has its '*' */
    bool deeper; /* false: it matches nothing below an entry, so glob_may_match_below(glob, dir/NAME) is false */
};
/* dir: absolute and canonical (what the walks build from "/" and entry names). */
void fs_glob_in_dir(struct fs_glob_in_dir *g, const char *glob, const char *dir);
/* Exactly glob_match(g->glob, dir/name) for an entry name of dir (no '/', not . or ..). */
bool fs_glob_in_dir_match(const struct fs_glob_in_dir *g, const char *dir, const char *name);

/* dir + "/" + name into out (PATH_MAX); false if too long. */
bool fs_join(const char *dir, const char *name, char *out);

#endif
