#include "url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_';
}

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncmp(s, "https://", 8)) {
        u->tls = true;
        p = s + 8;
    } else if (!strncmp(s, "http://", 7)) {
        p = s + 7;
    } else {
        return fail(err, errlen, "must start with https:// (or http:// with VIGIL_CONSOLE_INSECURE=1)");
    }
    if (strpbrk(p, "?#@"))
        return fail(err, errlen, "must not contain user info, a query or a fragment");
    const char *host = p, *host_end;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return fail(err, errlen, "IPv6 address without its closing ]");
        p = host_end + 1;
        u->host_is_ip = true;
    } else {
        while (*p && *p != ':' && *p != '/') {
            if (!host_char_ok(*p))
                return fail(err, errlen, "the host name has a character that is not allowed");
            p++;
        }
        host_end = p;
    }
    size_t hl = (size_t)(host_end - host);
    if (hl == 0 || hl >= sizeof u->host)
        return fail(err, errlen, "missing or too long host");
    memcpy(u->host, host, hl);
    u->host[hl] = '\0';
    unsigned char addr[16];
    if (u->host_is_ip && inet_pton(AF_INET6, u->host, addr) != 1)
        return fail(err, errlen, "not a valid IPv6 address between [ ]");
    if (!u->host_is_ip && inet_pton(AF_INET, u->host, addr) == 1)
        u->host_is_ip = true;
    strcpy(u->port, u->tls ? "443" : "80");
    if (*p == ':') {
        p++;
        char *end;
        long port = strtol(p, &end, 10);
        if (end == p || port < 1 || port > 65535 || (*end && *end != '/'))
            return fail(err, errlen, "the port must be a number from 1 to 65535");
        snprintf(u->port, sizeof u->port, "%ld", port);
        p = end;
    } else if (*p && *p != '/') {
        return fail(err, errlen, "unexpected character after the host");
    }
    size_t pl = strlen(p);
    while (pl > 0 && p[pl - 1] == '/')
        pl--;
    if (pl >= sizeof u->prefix)
        return fail(err, errlen, "the path is too long");
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return fail(err, errlen, "the path has a space or a non-ASCII character (percent-encode it)");
    memcpy(u->prefix, p, pl);
    u->prefix[pl] = '\0';
    return 0;
}
