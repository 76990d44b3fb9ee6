/* File rules ready for decisions: files.readOnly and files.watch globs plus
 * their canonical-prefix variants (as rules.c builds them for exec). */
#ifndef VIGIL_FILERULES_H
#define VIGIL_FILERULES_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "rules.h"

struct file_rules {
    struct rule_glob *read_only, *watch;
    size_t n_read_only, n_watch;
    const struct policy *policy;
};

struct file_verdict {
    bool allowed;
    const char *key;     /* files.readOnly, files.watch or NULL (no rule) */
    int index;
    const char *pattern;
};

int file_rules_build(const struct policy *p, struct file_rules *r);
void file_rules_free(struct file_rules *r);
/* No files.* rule: writes are not judged at all (nor selfProtection's /proc entries). */
bool file_rules_empty(const struct file_rules *r);

/* Judge a change to the canonical path (selfProtection first: the enforcer's /proc entries). `names_subtree`: the change moves or
 * removes the name of a directory (rename, rmdir), so it also changes every path
 * below it. Returns false when no rule is about the path. */
bool file_rules_decide(const struct file_rules *r, const char *path, bool names_subtree, struct file_verdict *v);

/* selfProtection on and the canonical path one of the enforcer's /proc entries
 * (what a session entered from outside may not even read: it kept CAP_SYS_PTRACE). */
bool file_rules_enforcer_entry(const struct file_rules *r, const char *path);

/* For the Landlock layer: is every path below dir read-only? may any be? */
bool file_rules_all_below(const struct file_rules *r, const char *dir);
bool file_rules_any_below(const struct file_rules *r, const char *dir);
bool file_rules_read_only(const struct file_rules *r, const char *path);

#endif
