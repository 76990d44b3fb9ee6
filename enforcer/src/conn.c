#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *what, const char *detail)
{
    snprintf(err, errlen, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return -1;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return -1;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        int r;
        do
            r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            errno = r == 0 ? ETIMEDOUT : soerr ? soerr : errno;
            close(fd);
            return -1;
        }
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void set_io_timeout(int fd, int io_ms)
{
    struct timeval tv = {io_ms / 1000, (io_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* TLS 1.2 with ECDHE, AES-GCM or ChaCha20-Poly1305 only (what the console's Node.js and any
 * load balancer offer), certificates signed with RSA or ECDSA over SHA-256/384/512. Leaving
 * out the rest of br_ssl_client_init_full (RSA key exchange, CBC, CCM, 3DES, TLS 1.0/1.1)
 * keeps the enforcer small and the handshake modern. */
static void client_init(br_ssl_client_context *cc, br_x509_minimal_context *xc, const struct trust *t)
{
    static const uint16_t suites[] = {
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,       BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,       BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    };
    static const br_hash_class *const hashes[] = {&br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable};
    br_ssl_client_zero(cc);
    br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(&cc->eng, suites, sizeof suites / sizeof suites[0]);
    br_x509_minimal_init(xc, &br_sha256_vtable, t->anchors, t->n);
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        int id = (int)((hashes[i]->desc >> BR_HASHDESC_ID_OFF) & BR_HASHDESC_ID_MASK);
        br_ssl_engine_set_hash(&cc->eng, id, hashes[i]);
        br_x509_minimal_set_hash(xc, id, hashes[i]);
    }
    br_ssl_engine_set_prf_sha256(&cc->eng, br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(&cc->eng, br_tls12_sha384_prf);
    br_ssl_engine_set_default_rsavrfy(&cc->eng);
    br_ssl_engine_set_default_ecdsa(&cc->eng);
    br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(&cc->eng));
    br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(&cc->eng), br_ssl_engine_get_ecdsa(&cc->eng));
    br_ssl_engine_set_x509(&cc->eng, &xc->vtable);
    br_ssl_engine_set_default_aes_gcm(&cc->eng);
    br_ssl_engine_set_default_chapol(&cc->eng);
}

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t r = read(fd, buf, len);
        if (r < 0 && errno == EINTR)
            continue;
        return r <= 0 ? -1 : (int)r;
    }
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        return w <= 0 ? -1 : (int)w;
    }
}

int conn_open(struct conn *c, const struct url *u, const struct trust *trust, int timeout_ms, int io_ms, char *err,
              size_t errlen)
{
    c->fd = -1;
    c->tls = u->tls;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int g = getaddrinfo(u->host, u->port, &hints, &res);
    if (g == EAI_ADDRFAMILY || g == EAI_NONAME) { /* AI_ADDRCONFIG hides ::1 without a global address */
        hints.ai_flags = 0;
        g = getaddrinfo(u->host, u->port, &hints, &res);
    }
    if (g != 0)
        return fail(err, errlen, "cannot resolve the host", gai_strerror(g));
    int saved = 0;
    for (struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
        c->fd = connect_one(ai, timeout_ms);
        if (c->fd < 0)
            saved = errno;
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return fail(err, errlen, "cannot connect", strerror(saved));
    set_io_timeout(c->fd, io_ms);
    if (!c->tls)
        return 0;
    if (!trust || trust->n == 0) {
        conn_close(c);
        return fail(err, errlen, "no CA certificate to verify the console with", NULL);
    }
    client_init(&c->sc, &c->xc, trust);
    br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof c->iobuf, 1);
    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        conn_close(c);
        return fail(err, errlen, "no randomness for TLS", strerror(errno));
    }
    br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof seed);
    /* BearSSL checks the name against the certificate's DNS names only */
    if (!br_ssl_client_reset(&c->sc, u->host, 0)) {
        conn_close(c);
        return fail(err, errlen, "TLS setup failed", NULL);
    }
    br_sslio_init(&c->io, &c->sc.eng, sock_read, &c->fd, sock_write, &c->fd);
    /* complete the handshake now, so a certificate problem is reported as such */
    if (br_sslio_flush(&c->io) < 0) {
        char why[96];
        snprintf(why, sizeof why, "%s", conn_tls_error(c));
        conn_close(c);
        return fail(err, errlen, "TLS handshake failed", why);
    }
    return 0;
}

int conn_write_all(struct conn *c, const void *buf, size_t len)
{
    if (!c->tls) {
        const char *p = buf;
        while (len > 0) {
            int w = sock_write(&c->fd, (const unsigned char *)p, len);
            if (w < 0)
                return -1;
            p += w;
            len -= (size_t)w;
        }
        return 0;
    }
    if (br_sslio_write_all(&c->io, buf, len) < 0 || br_sslio_flush(&c->io) < 0)
        return -1;
    return 0;
}

ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
    if (!c->tls) {
        for (;;) {
            ssize_t r = read(c->fd, buf, len);
            if (r < 0 && errno == EINTR)
                continue;
            return r;
        }
    }
    int r = br_sslio_read(&c->io, buf, len);
    if (r > 0)
        return r;
    /* a clean close_notify (or a peer closing without one after a complete
     * response, which the HTTP parser judges) reads as end of stream */
    int e = br_ssl_engine_last_error(&c->sc.eng);
    return e == BR_ERR_OK || e == BR_ERR_IO ? 0 : -1;
}

void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

const char *conn_tls_error(const struct conn *c)
{
    if (!c->tls)
        return "";
    switch (br_ssl_engine_last_error(&c->sc.eng)) {
    case BR_ERR_OK: return "";
    case BR_ERR_X509_NOT_TRUSTED: return "the certificate is not signed by a CA of the bundle";
    case BR_ERR_X509_BAD_SERVER_NAME: return "the certificate is not for this host name";
    case BR_ERR_X509_EXPIRED: return "the certificate has expired or is not valid yet";
    case BR_ERR_X509_NOT_CA: return "a certificate of the chain is not a CA";
    case BR_ERR_IO: return "connection closed during the handshake";
    case BR_ERR_BAD_VERSION: return "no TLS version in common (TLS 1.2 is needed)";
    case BR_ERR_BAD_CIPHER_SUITE: return "no cipher suite in common";
    default: {
        static __thread char buf[48];
        snprintf(buf, sizeof buf, "BearSSL error %d", br_ssl_engine_last_error(&c->sc.eng));
        return buf;
    }
    }
}
