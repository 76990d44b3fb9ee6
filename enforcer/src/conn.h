/* One client connection to the console (or the ECS metadata endpoint): TCP with
 * timeouts, HTTPS through BearSSL with the certificate and the host name checked. */
#ifndef VIGIL_CONN_H
#define VIGIL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <bearssl/bearssl.h>

#include "trust.h"
#include "url.h"

struct conn {
    int fd;
    bool tls;
    br_ssl_client_context sc;
    br_x509_minimal_context xc;
    br_sslio_context io;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Connect within timeout_ms; every later read or write times out after io_ms.
 * trust is required for https. 0, or -1 with the reason in err. */
int conn_open(struct conn *c, const struct url *u, const struct trust *trust, int timeout_ms, int io_ms, char *err,
              size_t errlen);
int conn_write_all(struct conn *c, const void *buf, size_t len);
/* Bytes read (> 0), 0 at end of stream, -1 on error or timeout. */
ssize_t conn_read(struct conn *c, void *buf, size_t len);
void conn_close(struct conn *c);
/* Why the last TLS operation failed ("" when it did not). */
const char *conn_tls_error(const struct conn *c);

#endif
