/* Requests to one HTTP(S) origin over a kept-alive connection, with timeouts and
 * a bound on every response. Used by one thread at a time. */
#ifndef VIGIL_HTTP_CLIENT_H
#define VIGIL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "http.h"
#include "trust.h"
#include "url.h"

struct http_client {
    struct url url;
    const struct trust *trust; /* NULL for plain http */
    int connect_ms, io_ms;
    struct conn *conn;         /* heap: BearSSL's buffers are large */
    bool open;
    char *buf;                 /* request, then response */
    size_t cap;
};

/* 0, or -1 when out of memory. */
int http_client_init(struct http_client *c, const struct url *u, const struct trust *trust, int connect_ms,
                     int io_ms);
void http_client_free(struct http_client *c);

/* METHOD prefix+path with the extra header lines (each ending in \r\n, may be
 * NULL) and an optional JSON body. The response (and its body) stays valid until
 * the next request. A kept-alive connection the server closed meanwhile is
 * reopened once. 0, or -1 with the reason in err (then no response). */
int http_request(struct http_client *c, const char *method, const char *path, const char *headers,
                 const char *body, size_t body_len, size_t max_body, struct http_response *r, char *err,
                 size_t errlen);

#endif
