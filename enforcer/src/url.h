/* The console's base URL (VIGIL_CONSOLE): scheme, host, port and path prefix. */
#ifndef VIGIL_URL_H
#define VIGIL_URL_H

#include <stdbool.h>
#include <stddef.h>

struct url {
    bool tls;         /* https */
    bool host_is_ip;  /* an IPv4 or IPv6 literal */
    char host[256];   /* without the brackets of an IPv6 literal */
    char port[6];
    char prefix[512]; /* path before /api/..., without a trailing slash ("" for none) */
};

/* 0, or -1 with what is wrong in err. Accepts http(s)://host[:port][/prefix],
 * hosts as names, IPv4 or [IPv6]; refuses user info, queries and fragments. */
int url_parse(const char *s, struct url *u, char *err, size_t errlen);

#endif
