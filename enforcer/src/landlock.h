/* Landlock: the kernel refuses exec of anything the policy does not allow, for
 * every process in the container, traced or not, at no per-syscall cost. */
#ifndef VIGIL_LANDLOCK_H
#define VIGIL_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/landlock.h>

#include "filerules.h"
#include "rules.h"

#define LANDLOCK_MAX_RULES 50000

/* Landlock ABI version of the running kernel, 0 when it has none. */
int landlock_abi(void);

/* The application's one Landlock ruleset. Every path walk in a Landlock domain
 * pays for each layer, so the exec rules and files.readOnly share one layer;
 * with rights handled by only one part or granted nowhere (REFER) it is exactly
 * the stack of the two layers it replaces.
 * - exec (NULL: none): EXECUTE only on allowed, non-denied files, plus the ELF
 *   interpreters they need; REFER granted nowhere, so no file can be linked or
 *   moved into a place where it would gain EXECUTE. Refused (-1) when the policy
 *   cannot be enforced exactly.
 * - files (NULL: none; needs ABI >= 2): every write right granted everywhere
 *   except beneath read-only paths. When it cannot be built the ruleset has the
 *   exec part only (ptrace alone checks files.readOnly), and *with_files says so.
 * Returns the ruleset fd, or -1 after logging why. */
#define LANDLOCK_FILES_MIN_ABI 2
#define LANDLOCK_EXEC_HANDLED (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_REFER)
/* TRUNCATE (ABI 3) is deliberately not handled: handling it makes the kernel walk
 * the path on every open, read-only ones included (measured: read-only opens
 * 1.27-1.43x native with it, ~1.0x without). O_TRUNC and ftruncate still need a
 * descriptor open for writing, which WRITE_FILE refuses; only truncate(2) by path
 * is left to the ptrace check. */
#define LANDLOCK_FILES_FILE_RIGHTS LANDLOCK_ACCESS_FS_WRITE_FILE
#define LANDLOCK_FILES_HANDLED                                                                                   \
    (LANDLOCK_FILES_FILE_RIGHTS | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                \
     LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                  \
     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                \
     LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)
int landlock_build(const struct exec_rules *exec, const struct file_rules *files, size_t *n_rules, bool *with_files);

/* The files part (landlock_files.c): directories get LANDLOCK_FILES_HANDLED
 * without REFER, plus `refer`. False after saying why. */
bool landlock_files_add(int ruleset, const struct file_rules *r, uint64_t refer, size_t *n_rules);

/* Add a rule granting `rights` beneath `name` (relative to dirfd, or absolute with
 * AT_FDCWD) and count it in *rules. A path that vanished meanwhile is skipped.
 * False, after saying why, when the rule cannot be added or LANDLOCK_MAX_RULES is
 * reached (`too_many` says what would need more). Shared by both rulesets. */
bool landlock_add_path(int ruleset, int dirfd, const char *name, uint64_t rights, int open_flags, size_t *rules,
                       const char *too_many);

/* landlock_build leaves the per-file exec grants listed, not yet in the
 * ruleset (they are most of the start-up cost): after the fork, the enforcer
 * adds part 0 and the child part 1 of landlock_deferred_parts(), at the same time, and the child enters
 * the ruleset only once both are done. False after saying why. Then each
 * frees the list and closes the descriptors it kept (the enforcer once the
 * child is on its way: closing hundreds of descriptors takes a while). */
size_t landlock_deferred_parts(void); /* 2, or 1 when too few for the child to share */
bool landlock_add_deferred(int ruleset, size_t part, size_t parts);
void landlock_deferred_free(void);
void landlock_deferred_close(void); /* the descriptors only (the child, before exec) */

/* In the child, after PR_SET_NO_NEW_PRIVS: enter the ruleset. 0 or -errno. */
int landlock_enter(int ruleset_fd);

#endif
