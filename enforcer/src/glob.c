#include "glob.h"

#include <string.h>

struct seg {
    const char *s;
    size_t n;
};

/* Split an absolute path into segments; returns -1 when there are too many. */
static int split(const char *p, struct seg *out)
{
    int n = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        if (n == GLOB_MAX_SEGMENTS)
            return -1;
        out[n].s = start;
        out[n].n = (size_t)(p - start);
        n++;
    }
    return n;
}

static bool is_globstar(const struct seg *s)
{
    return s->n == 2 && s->s[0] == '*' && s->s[1] == '*';
}

/* Match one segment with `*` and `?`: iterative, backtracking to the last star only. */
static bool seg_match(const struct seg *pat, const struct seg *name)
{
    size_t p = 0, s = 0, star = (size_t)-1, mark = 0;
    while (s < name->n) {
        if (p < pat->n && (pat->s[p] == '?' || pat->s[p] == name->s[s])) {
            p++;
            s++;
        } else if (p < pat->n && pat->s[p] == '*') {
            star = p++;
            mark = s;
        } else if (star != (size_t)-1) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (p < pat->n && pat->s[p] == '*')
        p++;
    return p == pat->n;
}

const char *glob_invalid(const char *pat)
{
    if (pat[0] != '/')
        return "must be an absolute path starting with /";
    if (strlen(pat) > 4000)
        return "is longer than 4000 bytes";
    if (strcmp(pat, "/") == 0)
        return NULL;
    const char *p = pat;
    int segments = 0;
    while (*p) {
        p++; /* the '/' */
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0)
            return "has an empty path segment (// or a trailing /)";
        if ((n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.'))
            return "has a . or .. segment";
        for (size_t i = 0; i + 1 < n; i++)
            if (start[i] == '*' && start[i + 1] == '*' && n != 2)
                return "uses ** inside a segment (** must be a whole segment)";
        if (++segments > GLOB_MAX_SEGMENTS)
            return "has too many segments";
    }
    return NULL;
}

/* table[i][j]: pattern segments i.. match path segments j.. */
static bool match_segs(const struct seg *pat, int np, const struct seg *path, int ns, bool prefix_ok)
{
    static _Thread_local unsigned char table[GLOB_MAX_SEGMENTS + 1][GLOB_MAX_SEGMENTS + 1];
    for (int i = np; i >= 0; i--) {
        for (int j = ns; j >= 0; j--) {
            bool m;
            if (i == np)
                m = (j == ns);
            else if (j == ns)
                /* path exhausted: in prefix mode anything left of the pattern can still
                 * match something below; otherwise only trailing ** may match nothing */
                m = prefix_ok || (is_globstar(&pat[i]) && table[i + 1][j]);
            else if (is_globstar(&pat[i]))
                m = table[i + 1][j] || table[i][j + 1];
            else
                m = seg_match(&pat[i], &path[j]) && table[i + 1][j + 1];
            table[i][j] = m;
        }
    }
    return table[0][0];
}

/* Only canonical absolute paths can match: "/", or "/seg" repeated, no empty segment. */
static bool canonical_path(const char *path)
{
    if (path[0] != '/')
        return false;
    if (path[1] == '\0')
        return true;
    size_t n = strlen(path);
    return path[n - 1] != '/' && strstr(path, "//") == NULL;
}

/* A glob without **: segment by segment, the same count on both sides. */
static bool match_flat(const char *pat, const char *path)
{
    for (;;) {
        while (*pat == '/')
            pat++;
        while (*path == '/')
            path++;
        if (!*pat || !*path)
            return !*pat && !*path;
        struct seg p = {pat, strcspn(pat, "/")}, s = {path, strcspn(path, "/")};
        if (!seg_match(&p, &s))
            return false;
        pat += p.n;
        path += s.n;
    }
}

bool glob_match(const char *pat, const char *path)
{
    if (!canonical_path(path))
        return false;
    /* ** is always a whole segment (glob_invalid), so this finds every one. */
    if (!strstr(pat, "**"))
        return match_flat(pat, path);
    struct seg ps[GLOB_MAX_SEGMENTS], ss[GLOB_MAX_SEGMENTS];
    int np = split(pat, ps), ns = split(path, ss);
    if (np < 0 || ns < 0)
        return false;
    return match_segs(ps, np, ss, ns, false);
}

bool glob_may_match_below(const char *pat, const char *dir)
{
    struct seg ps[GLOB_MAX_SEGMENTS], ss[GLOB_MAX_SEGMENTS];
    int np = split(pat, ps), ns = split(dir, ss);
    if (np < 0 || ns < 0)
        return false;
    /* Some pattern suffix must remain once the directory's segments are consumed:
     * try every split point where the dir is fully matched by a pattern prefix. */
    for (int k = 0; k <= np; k++) {
        if (k < np && match_segs(ps, k, ss, ns, false))
            return true;
        if (k > 0 && is_globstar(&ps[k - 1]) && match_segs(ps, k, ss, ns, false))
            return true;
    }
    return false;
}

bool glob_matches_all_below(const char *pat, const char *dir)
{
    struct seg ps[GLOB_MAX_SEGMENTS], ss[GLOB_MAX_SEGMENTS];
    int np = split(pat, ps), ns = split(dir, ss);
    if (np < 1 || ns < 0 || !is_globstar(&ps[np - 1]))
        return false;
    /* The part before the final ** must match the directory itself or one of its
     * ancestors' prefix ending in **, i.e. pattern[0..np-1) matches a prefix of dir. */
    for (int j = 0; j <= ns; j++)
        if (match_segs(ps, np - 1, ss, j, false))
            return true;
    return false;
}

bool glob_has_wildcard(const char *pat)
{
    return strpbrk(pat, "*?") != NULL;
}

size_t glob_literal_prefix(const char *pat)
{
    if (!glob_has_wildcard(pat))
        return strlen(pat);
    size_t last_slash = 0;
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == '*' || pat[i] == '?')
            break;
        if (pat[i] == '/')
            last_slash = i;
    }
    return last_slash;
}
