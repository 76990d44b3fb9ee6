/* Landlock: the kernel refuses exec of anything the policy does not allow, for
 * every process in the container, traced or not, at no per-syscall cost. */
#ifndef VIGIL_LANDLOCK_H
#define VIGIL_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filerules.h"
#include "rules.h"

#define LANDLOCK_MAX_RULES 50000

/* Landlock ABI version of the running kernel, 0 when it has none. */
int landlock_abi(void);

/* Build a ruleset granting EXECUTE only on allowed, non-denied files (plus the
 * ELF interpreters they need). Returns the ruleset fd, or -1 after logging why. */
int landlock_build(const struct exec_rules *r, size_t *n_rules);

/* The files.readOnly layer (ABI >= 2, for REFER): a ruleset that handles
 * every write right and grants it everywhere except beneath read-only paths.
 * Returns the ruleset fd, or -1 after logging why (ptrace alone then). */
#define LANDLOCK_FILES_MIN_ABI 2
int landlock_files_build(const struct file_rules *r, size_t *n_rules);

/* Add a rule granting `rights` beneath `name` (relative to dirfd, or absolute with
 * AT_FDCWD) and count it in *rules. A path that vanished meanwhile is skipped.
 * False, after saying why, when the rule cannot be added or LANDLOCK_MAX_RULES is
 * reached (`too_many` says what would need more). Shared by both rulesets. */
bool landlock_add_path(int ruleset, int dirfd, const char *name, uint64_t rights, int open_flags, size_t *rules,
                       const char *too_many);

/* In the child, after PR_SET_NO_NEW_PRIVS: enter the ruleset. 0 or -errno. */
int landlock_enter(int ruleset_fd);

#endif
