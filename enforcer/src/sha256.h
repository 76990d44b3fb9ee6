#ifndef VIGIL_SHA256_H
#define VIGIL_SHA256_H
#include <stddef.h>
/* Writes the lowercase hex digest (64 chars + NUL) of data into hex. */
void sha256_hex(const void *data, size_t len, char hex[65]);
#endif
