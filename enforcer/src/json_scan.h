/* Reading a few fields out of small JSON documents the console (or the ECS task
 * metadata endpoint) sends: no tree, no allocation, bounded depth. */
#ifndef VIGIL_JSON_SCAN_H
#define VIGIL_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_DEPTH 32

/* The raw text of the value at a dotted path of object keys ("policy.pollSeconds")
 * of a document that must be valid JSON as a whole. 0, or -1 when the document is
 * invalid or the path is absent. */
int json_find(const char *doc, size_t len, const char *path, const char **val, size_t *vlen);

/* The string at path, unescaped, into out (NUL-terminated). -1 when absent, not a
 * string, too long for out or holding a NUL character. */
int json_get_string(const char *doc, size_t len, const char *path, char *out, size_t outlen);

/* The integer at path (no fraction, no exponent, fits in long long). */
int json_get_int(const char *doc, size_t len, const char *path, long long *out);

/* True when doc[0..len) is exactly one valid JSON value (surrounding blanks allowed). */
bool json_valid(const char *doc, size_t len);

#endif
