/* Reading a small file whole, bounded. */
#ifndef VIGIL_READFILE_H
#define VIGIL_READFILE_H

#include <stddef.h>

/* At most cap bytes of the file at path into a malloc'd *out (*len bytes; the
 * caller decides whether a file of exactly cap bytes was too large). 0, or
 * -errno (what failed: *stage is "open" or "read"). */
int read_file_up_to(const char *path, size_t cap, char **out, size_t *len, const char **stage);

#endif
