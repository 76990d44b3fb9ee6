/* Debian builds libbearssl.a with _FORTIFY_SOURCE, so it calls glibc's checked
 * copies; musl has none. These check the destination size as glibc's do and
 * stop the process on overflow. Linked into the musl (amd64) build only. */
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *dest, const void *src, size_t len, size_t destlen);
void *__memmove_chk(void *dest, const void *src, size_t len, size_t destlen);
void *__memset_chk(void *dest, int c, size_t len, size_t destlen);

void *__memcpy_chk(void *dest, const void *src, size_t len, size_t destlen)
{
    if (len > destlen)
        abort();
    return memcpy(dest, src, len);
}

void *__memmove_chk(void *dest, const void *src, size_t len, size_t destlen)
{
    if (len > destlen)
        abort();
    return memmove(dest, src, len);
}

void *__memset_chk(void *dest, int c, size_t len, size_t destlen)
{
    if (len > destlen)
        abort();
    return memset(dest, c, len);
}
