#include "filerules.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procinfo.h"

#include "fswalk.h"
#include "glob.h"

static int add(struct rule_glob **list, size_t *n, const char *glob, int rule)
{
    struct rule_glob *grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *list = grown;
    if (!(grown[*n].glob = strdup(glob)))
        return -1;
    grown[(*n)++].rule = rule;
    return 0;
}

static int add_all(struct rule_glob **list, size_t *n, const struct policy_rule *rules, size_t count)
{
    char canon[PATH_MAX];
    for (size_t i = 0; i < count; i++) {
        if (add(list, n, rules[i].glob, rules[i].index) < 0)
            return -1;
        if (fs_canonical_glob(rules[i].glob, canon) && add(list, n, canon, rules[i].index) < 0)
            return -1;
    }
    return 0;
}

int file_rules_build(const struct policy *p, struct file_rules *r)
{
    memset(r, 0, sizeof *r);
    r->policy = p;
    if (add_all(&r->read_only, &r->n_read_only, p->read_only, p->n_read_only) < 0 ||
        add_all(&r->watch, &r->n_watch, p->watch, p->n_watch) < 0)
        return -1;
    return 0;
}

void file_rules_free(struct file_rules *r)
{
    for (size_t i = 0; i < r->n_read_only; i++)
        free(r->read_only[i].glob);
    for (size_t i = 0; i < r->n_watch; i++)
        free(r->watch[i].glob);
    free(r->read_only);
    free(r->watch);
    memset(r, 0, sizeof *r);
}

bool file_rules_empty(const struct file_rules *r)
{
    return r->n_read_only == 0 && r->n_watch == 0;
}

/* selfProtection: the enforcer's own /proc entries, /proc/N and all below it for N its pid or
 * the id of any of its threads (the path is canonical: /proc/self, "..", symlinks and directory
 * descriptors are resolved already). What root may write there without a capability changes the
 * enforcer: oom_score_adj and oom_adj (first victim of the OOM killer, and the container with
 * it), autogroup (a lower priority), clear_refs, coredump_filter, sched statistics. */
static bool enforcer_proc_entry(const char *path)
{
    if (strncmp(path, "/proc/", 6) != 0 || path[6] < '1' || path[6] > '9')
        return false;
    char *end;
    long n = strtol(path + 6, &end, 10);
    if (*end != '/' && *end != '\0')
        return false;
    if (n == (long)getpid())
        return true;
    long ppid, uid, tgid;
    proc_ids((pid_t)n, &ppid, &uid, &tgid);
    return tgid == (long)getpid();
}

bool file_rules_enforcer_entry(const struct file_rules *r, const char *path)
{
    return r->policy && !r->policy->self_protection_off && enforcer_proc_entry(path);
}

static const struct rule_glob *find(const struct rule_glob *list, size_t n, const char *path, bool subtree)
{
    for (size_t i = 0; i < n; i++)
        if (glob_match(list[i].glob, path) || (subtree && glob_may_match_below(list[i].glob, path)))
            return &list[i];
    return NULL;
}

bool file_rules_decide(const struct file_rules *r, const char *path, bool names_subtree, struct file_verdict *v)
{
    if (r->policy && !r->policy->self_protection_off && enforcer_proc_entry(path)) {
        *v = (struct file_verdict){false, "selfProtection", -1, NULL};
        return true;
    }
    const struct rule_glob *g = find(r->read_only, r->n_read_only, path, names_subtree);
    if (g) {
        *v = (struct file_verdict){false, "files.readOnly", g->rule, r->policy->read_only[g->rule].glob};
        return true;
    }
    g = find(r->watch, r->n_watch, path, names_subtree);
    if (g) {
        *v = (struct file_verdict){true, "files.watch", g->rule, r->policy->watch[g->rule].glob};
        return true;
    }
    *v = (struct file_verdict){true, NULL, -1, NULL};
    return false;
}

bool file_rules_all_below(const struct file_rules *r, const char *dir)
{
    for (size_t i = 0; i < r->n_read_only; i++)
        if (glob_matches_all_below(r->read_only[i].glob, dir))
            return true;
    return false;
}

bool file_rules_any_below(const struct file_rules *r, const char *dir)
{
    for (size_t i = 0; i < r->n_read_only; i++)
        if (glob_may_match_below(r->read_only[i].glob, dir) || glob_match(r->read_only[i].glob, dir))
            return true;
    return false;
}

bool file_rules_read_only(const struct file_rules *r, const char *path)
{
    return find(r->read_only, r->n_read_only, path, false) != NULL;
}
