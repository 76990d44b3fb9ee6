/* Path globs of the policy: `*` and `?` within one segment, `**` as a whole
 * segment for zero or more segments. Everything else is literal. */
#ifndef VIGIL_GLOB_H
#define VIGIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#define GLOB_MAX_SEGMENTS 128

/* NULL when `pat` is a valid absolute glob, else why it is not. */
const char *glob_invalid(const char *pat);

/* Does `path` (absolute, canonical) match `pat` (valid glob)? */
bool glob_match(const char *pat, const char *path);

/* Could some path strictly below directory `dir` match `pat`? */
bool glob_may_match_below(const char *pat, const char *dir);

/* Does `pat` match every path strictly below `dir` (as /usr/ ** does for /usr/lib)? */
bool glob_matches_all_below(const char *pat, const char *dir);

/* Length of the leading part of `pat` made of whole literal segments
 * ("/usr/bin" for "/usr/bin/nc*"; the whole pattern when it has no wildcard). */
size_t glob_literal_prefix(const char *pat);

bool glob_has_wildcard(const char *pat);

#endif
