/* Exec rules ready for decisions: the policy's globs plus their canonical
 * variants, and the (device, inode) of every file a deny glob names. */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy.h"

struct rule_glob {
    char *glob;
    int rule; /* index of the policy rule it came from */
};

struct rule_inode {
    dev_t dev;
    ino_t ino;
    nlink_t nlink; /* > 1: the file has other names, possibly outside every deny glob */
    int rule;
};

struct exec_rules {
    struct rule_glob *allow, *deny;
    size_t n_allow, n_deny;
    bool has_allowlist;
    struct rule_inode *deny_inodes;
    size_t n_deny_inodes;
    bool deny_index_complete; /* false when a deny glob matched too many files to index */
    const struct policy *policy;
};

struct verdict {
    bool allowed;
    bool alert;       /* allowed, but reported as an alert (a protection set to alert) */
    const char *key;  /* "exec.deny", "exec.allow" or "default" */
    int index;        /* policy rule index, -1 when none */
    const char *pattern; /* the policy glob that decided, or NULL */
};

int rules_build(const struct policy *p, struct exec_rules *r);
void rules_free(struct exec_rules *r);

/* Decide one file: path is canonical; dev/ino identify it (has_id false when unknown). */
void rules_decide(const struct exec_rules *r, const char *path, bool has_id, dev_t dev, ino_t ino,
                  struct verdict *out);
/* "exec.deny[1]" or "exec.allow" into buf. */
const char *verdict_rule_name(const struct verdict *v, char *buf, size_t len);

/* No exec rule and no exec protection: nothing can be blocked. */
bool rules_empty(const struct exec_rules *r);

#endif
