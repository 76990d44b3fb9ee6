#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The buffer starts at the file's size (+1, to see that it ended) when it is a
 * regular file, else small, and doubles up to cap: a 2 KiB policy does not cost
 * a 1 MiB mmap and munmap at every start. */
static size_t first_size(int fd, size_t cap)
{
    struct stat st;
    size_t want = 16384;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 && (unsigned long long)st.st_size < cap)
        want = (size_t)st.st_size + 1;
    return want < cap ? want : cap;
}

int read_file_up_to(const char *path, size_t cap, char **out, size_t *len, const char **stage)
{
    *stage = "open";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    *stage = "read";
    size_t size = first_size(fd, cap);
    char *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    size_t n = 0;
    while (n < cap) {
        if (n == size) {
            size_t bigger = size > cap / 2 ? cap : size * 2;
            char *grown = realloc(buf, bigger);
            if (!grown) {
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = grown;
            size = bigger;
        }
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(buf);
            close(fd);
            return -err;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}
