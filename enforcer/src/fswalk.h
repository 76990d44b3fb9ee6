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
/* The type of a readdir entry (DT_*): d_type when the file system gives it, else
 * lstat, whose result then goes to st (*have_st says so). DT_UNKNOWN if neither. */
struct dirent;
unsigned char fs_entry_type(const char *path, const struct dirent *ent, struct stat *st, bool *have_st);
/* dir + "/" + name into out (PATH_MAX); false if too long. */
bool fs_join(const char *dir, const char *name, char *out);

#endif
