/* HTTP/1.1 responses, parsed from bytes (no I/O here): status, the few headers
 * the enforcer uses, and the body (Content-Length, chunked or until close). */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS_BYTES 16384

struct http_response {
    int status;
    bool keep_alive;       /* false after Connection: close or HTTP/1.0 */
    char etag[96];         /* without the quotes; "" when absent */
    int poll_seconds;      /* X-Vigil-Poll-Seconds, -1 when absent */
    int retry_after;       /* Retry-After in seconds, -1 when absent */
    const char *body;      /* into the parsed buffer (chunked bodies are decoded in place) */
    size_t body_len;
};

/* Parse buf[0..len). eof: the peer closed the connection after these bytes.
 * Returns the bytes the response takes (> 0) when it is complete, 0 when more
 * bytes are needed, -1 when it is malformed or its body exceeds max_body.
 * A complete chunked response is decoded in place (buf is modified); an
 * incomplete one leaves buf as it was. */
long http_parse_response(char *buf, size_t len, bool eof, size_t max_body, struct http_response *r);

#endif
