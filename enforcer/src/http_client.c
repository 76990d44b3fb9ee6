#include "http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

int http_client_init(struct http_client *c, const struct url *u, const struct trust *trust, int connect_ms,
                     int io_ms)
{
    memset(c, 0, sizeof *c);
    c->url = *u;
    c->trust = trust;
    c->connect_ms = connect_ms;
    c->io_ms = io_ms;
    c->conn = malloc(sizeof *c->conn);
    c->cap = 64 * 1024;
    c->buf = malloc(c->cap);
    if (!c->conn || !c->buf) {
        http_client_free(c);
        return -1;
    }
    return 0;
}

void http_client_free(struct http_client *c)
{
    if (c->open)
        conn_close(c->conn);
    free(c->conn);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static int reserve(struct http_client *c, size_t need)
{
    if (need <= c->cap)
        return 0;
    size_t cap = c->cap;
    while (cap < need)
        cap *= 2;
    char *nb = realloc(c->buf, cap);
    if (!nb)
        return -1;
    c->buf = nb;
    c->cap = cap;
    return 0;
}

/* Send the request and read the response. 1: the connection was stale before
 * anything came back (worth one retry); 0: done; -1: failed. */
static int exchange(struct http_client *c, const char *head, size_t head_len, const char *body, size_t body_len,
                    size_t max_body, struct http_response *r, char *err, size_t errlen, bool reused)
{
    if (conn_write_all(c->conn, head, head_len) < 0 || (body_len && conn_write_all(c->conn, body, body_len) < 0)) {
        if (reused)
            return 1;
        snprintf(err, errlen, "sending the request failed: %s",
                 c->conn->tls && *conn_tls_error(c->conn) ? conn_tls_error(c->conn) : strerror(errno));
        return -1;
    }
    size_t len = 0, limit = HTTP_MAX_HEADERS_BYTES + max_body + 4096;
    for (;;) {
        if (len == c->cap && (len >= limit || reserve(c, c->cap * 2) < 0)) {
            snprintf(err, errlen, "the response is larger than %zu bytes", limit);
            return -1;
        }
        ssize_t n = conn_read(c->conn, c->buf + len, c->cap - len);
        if (n < 0) {
            if (reused && len == 0)
                return 1;
            snprintf(err, errlen, "reading the response failed: %s",
                     errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            return -1;
        }
        if (n == 0 && len == 0 && reused)
            return 1;
        len += (size_t)n;
        long done = http_parse_response(c->buf, len, n == 0, max_body, r);
        if (done < 0) {
            snprintf(err, errlen, "%s", n == 0 ? "the connection closed before the response was complete"
                                               : "the response is not valid HTTP or is too large");
            return -1;
        }
        if (done > 0) {
            if (!r->keep_alive || (size_t)done != len) {
                conn_close(c->conn);
                c->open = false;
            }
            return 0;
        }
    }
}

int http_request(struct http_client *c, const char *method, const char *path, const char *headers,
                 const char *body, size_t body_len, size_t max_body, struct http_response *r, char *err,
                 size_t errlen)
{
    char head[4096];
    const char *h = c->url.host;
    bool v6 = strchr(h, ':') != NULL;
    int hn = snprintf(head, sizeof head,
                      "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: vigil-enforcer/" VIGIL_VERSION
                      "\r\nAccept: application/json, text/plain\r\n%s",
                      method, c->url.prefix, path, v6 ? "[" : "", h, v6 ? "]" : "", c->url.port, headers ? headers : "");
    if (hn < 0 || (size_t)hn >= sizeof head - 128) {
        snprintf(err, errlen, "request headers too long");
        return -1;
    }
    if (body)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                       body_len);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = c->open;
        if (!c->open) {
            if (conn_open(c->conn, &c->url, c->trust, c->connect_ms, c->io_ms, err, errlen) < 0)
                return -1;
            c->open = true;
        }
        int rc = exchange(c, head, (size_t)hn, body, body ? body_len : 0, max_body, r, err, errlen, reused);
        if (rc <= 0) {
            if (rc < 0 && c->open) {
                conn_close(c->conn);
                c->open = false;
            }
            return rc;
        }
        conn_close(c->conn); /* stale kept-alive connection: open a new one */
        c->open = false;
    }
    snprintf(err, errlen, "the server closed the connection");
    return -1;
}
