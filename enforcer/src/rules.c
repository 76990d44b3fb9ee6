#include "rules.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event_proc.h"
#include "fswalk.h"
#include "glob.h"
#include "log.h"

static int add_glob(struct rule_glob **list, size_t *n, const char *glob, int rule)
{
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].rule == rule && !strcmp((*list)[i].glob, glob))
            return 0;
    struct rule_glob *grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return -1;
    *list = grown;
    if (!(grown[*n].glob = strdup(glob)))
        return -1;
    grown[*n].rule = rule;
    (*n)++;
    return 0;
}

/* The glob as written, plus the variant with its literal prefix resolved. */
static int add_variants(struct rule_glob **list, size_t *n, const struct policy_rule *pr)
{
    char canon[PATH_MAX];
    if (add_glob(list, n, pr->glob, pr->index) < 0)
        return -1;
    if (fs_canonical_glob(pr->glob, canon) && add_glob(list, n, canon, pr->index) < 0)
        return -1;
    return 0;
}

/* Denying a name that links to a multi-call binary denies every program that binary
 * is (on Alpine /usr/bin/wget -> /bin/busybox, the shell included): say so at start. */
static void warn_multicall(const struct policy_rule *pr)
{
    char real[PATH_MAX];
    if (glob_has_wildcard(pr->glob) || !realpath(pr->glob, real) || !strcmp(real, pr->glob))
        return;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    if (!strcmp(base, "busybox") || !strcmp(base, "toybox") || !strncmp(base, "busybox.", 8))
        log_msg("warning: exec.deny[%d] %s is a link to %s, a multi-call binary: every program it provides "
                "(sh, ls, ...) is denied with it, since they are one file to the kernel",
                pr->index, pr->glob, real);
}

struct inode_ctx {
    struct exec_rules *r;
    int rule;
    int failed;
};

static void add_inode(const char *path, const struct stat *lst, void *vctx)
{
    struct inode_ctx *ctx = vctx;
    struct stat st = *lst;
    if (S_ISLNK(lst->st_mode) && stat(path, &st) < 0)
        return;
    if (!S_ISREG(st.st_mode))
        return;
    struct exec_rules *r = ctx->r;
    struct rule_inode *grown = realloc(r->deny_inodes, (r->n_deny_inodes + 1) * sizeof *grown);
    if (!grown) {
        ctx->failed = 1;
        return;
    }
    r->deny_inodes = grown;
    grown[r->n_deny_inodes++] = (struct rule_inode){st.st_dev, st.st_ino, st.st_nlink, ctx->rule};
}

int rules_build(const struct policy *p, struct exec_rules *r)
{
    memset(r, 0, sizeof *r);
    r->policy = p;
    r->has_allowlist = p->n_allow > 0;
    for (size_t i = 0; i < p->n_allow; i++)
        if (add_variants(&r->allow, &r->n_allow, &p->allow[i]) < 0)
            return -1;
    for (size_t i = 0; i < p->n_deny; i++) {
        if (add_variants(&r->deny, &r->n_deny, &p->deny[i]) < 0)
            return -1;
        warn_multicall(&p->deny[i]);
    }
    /* Files named by deny globs, by identity: a hard link elsewhere is the same program. */
    r->deny_index_complete = true;
    for (size_t i = 0; i < r->n_deny; i++) {
        struct inode_ctx ctx = {r, r->deny[i].rule, 0};
        if (!fs_walk_glob(r->deny[i].glob, add_inode, &ctx) && (r->deny_index_complete = false, true))
            log_msg("warning: exec.deny[%d] %s matches too many files to index them all; hard links to "
                    "the ones not indexed are judged by path only",
                    r->deny[i].rule, r->deny[i].glob);
        if (ctx.failed)
            return -1;
    }
    return 0;
}

void rules_free(struct exec_rules *r)
{
    for (size_t i = 0; i < r->n_allow; i++)
        free(r->allow[i].glob);
    for (size_t i = 0; i < r->n_deny; i++)
        free(r->deny[i].glob);
    free(r->allow);
    free(r->deny);
    free(r->deny_inodes);
    memset(r, 0, sizeof *r);
}

bool rules_empty(const struct exec_rules *r)
{
    const struct policy *p = r->policy;
    return r->n_allow == 0 && r->n_deny == 0 && p->drift == ACTION_OFF && p->fileless == ACTION_OFF &&
           p->loader == ACTION_OFF && p->reverse_shell == ACTION_OFF;
}

/* A memfd's name is one file name to its creator but may hold '/' (memfd_create("a/b")): the
 * kernel shows it as "/memfd:a/b (deleted)", which `/memfd:*` would not match. Globs see the
 * name as one segment, its slashes as '_'. */
static const char *memfd_as_one_segment(const char *path, char *buf, size_t cap)
{
    if (strncmp(path, "/memfd:", 7) != 0 || !strchr(path + 7, '/'))
        return path;
    snprintf(buf, cap, "%s", path);
    for (char *c = buf + 7; *c; c++)
        if (*c == '/')
            *c = '_';
    return buf;
}

void rules_decide(const struct exec_rules *r, const char *path, bool has_id, dev_t dev, ino_t ino,
                  struct verdict *out)
{
    char flat[PATH_MAX];
    path = memfd_as_one_segment(path, flat, sizeof flat);
    for (size_t i = 0; i < r->n_deny; i++) {
        if (glob_match(r->deny[i].glob, path)) {
            *out = (struct verdict){false, false, "exec.deny", r->deny[i].rule, r->policy->deny[r->deny[i].rule].glob};
            return;
        }
    }
    if (has_id) {
        for (size_t i = 0; i < r->n_deny_inodes; i++) {
            const struct rule_inode *d = &r->deny_inodes[i];
            if (d->dev == dev && d->ino == ino) {
                *out = (struct verdict){false, false, "exec.deny", d->rule, r->policy->deny[d->rule].glob};
                return;
            }
        }
    }
    if (!r->has_allowlist) {
        *out = (struct verdict){true, false, "default", -1, NULL};
        return;
    }
    for (size_t i = 0; i < r->n_allow; i++) {
        if (glob_match(r->allow[i].glob, path)) {
            *out = (struct verdict){true, false, "exec.allow", r->allow[i].rule, r->policy->allow[r->allow[i].rule].glob};
            return;
        }
    }
    *out = (struct verdict){false, false, "exec.allow", -1, NULL};
}

const char *verdict_rule_name(const struct verdict *v, char *buf, size_t len)
{
    return event_rule_name(v->key, v->index, buf, len);
}
