#include "trust.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readfile.h"

#define TRUST_MAX_FILE (1u << 20)
#define TRUST_MAX_CERTS 256

struct bytes {
    unsigned char *p;
    size_t n, cap;
    bool oom;
};

static void append(void *ctx, const void *data, size_t len)
{
    struct bytes *b = ctx;
    if (b->oom)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static unsigned char *dup_bytes(const unsigned char *p, size_t n)
{
    unsigned char *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void anchor_free(br_x509_trust_anchor *a)
{
    free(a->dn.data);
    if (a->pkey.key_type == BR_KEYTYPE_RSA) {
        free(a->pkey.key.rsa.n);
        free(a->pkey.key.rsa.e);
    } else if (a->pkey.key_type == BR_KEYTYPE_EC) {
        free(a->pkey.key.ec.q);
    }
}

/* One DER certificate into an anchor. 0, 1 (not a CA: skipped) or -1. */
static int anchor_from_der(const unsigned char *der, size_t len, br_x509_trust_anchor *a)
{
    struct bytes dn = {0};
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, append, &dn);
    br_x509_decoder_push(&dc, der, len);
    br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || dn.oom || br_x509_decoder_last_error(&dc)) {
        free(dn.p);
        return -1;
    }
    if (!br_x509_decoder_isCA(&dc)) {
        free(dn.p);
        return 1;
    }
    memset(a, 0, sizeof *a);
    a->dn.data = dn.p ? dn.p : malloc(1);
    a->dn.len = dn.n;
    a->flags = BR_X509_TA_CA;
    a->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        a->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
        a->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        a->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
        a->pkey.key.rsa.elen = pk->key.rsa.elen;
        if (!a->dn.data || !a->pkey.key.rsa.n || !a->pkey.key.rsa.e) {
            anchor_free(a);
            return -1;
        }
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        a->pkey.key.ec.curve = pk->key.ec.curve;
        a->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
        a->pkey.key.ec.qlen = pk->key.ec.qlen;
        if (!a->dn.data || !a->pkey.key.ec.q) {
            anchor_free(a);
            return -1;
        }
    } else {
        free(a->dn.data);
        return -1;
    }
    return 0;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

int trust_parse(const unsigned char *pem, size_t len, struct trust *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    struct bytes der = {0};
    bool in_cert = false;
    size_t skipped = 0;
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t used = br_pem_decoder_push(&pc, pem, len);
        pem += used;
        len -= used;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            in_cert = !strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") ||
                      !strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE");
            der.n = 0;
            br_pem_decoder_setdest(&pc, in_cert ? append : NULL, in_cert ? &der : NULL);
            break;
        case BR_PEM_END_OBJ:
            if (!in_cert)
                break;
            in_cert = false;
            if (der.oom) {
                rc = fail(err, errlen, "out of memory");
                break;
            }
            if (t->n == TRUST_MAX_CERTS) {
                rc = fail(err, errlen, "more than 256 certificates");
                break;
            }
            br_x509_trust_anchor *grown = realloc(t->anchors, (t->n + 1) * sizeof *grown);
            if (!grown) {
                rc = fail(err, errlen, "out of memory");
                break;
            }
            t->anchors = grown;
            int r = anchor_from_der(der.p, der.n, &t->anchors[t->n]);
            if (r < 0)
                rc = fail(err, errlen, "a CERTIFICATE block is not a certificate BearSSL can read");
            else if (r == 0)
                t->n++;
            else
                skipped++;
            break;
        case BR_PEM_ERROR:
            rc = fail(err, errlen, "not valid PEM");
            break;
        default:
            break;
        }
        if (used == 0 && len > 0 && rc == 0 && br_pem_decoder_event(&pc) == 0)
            break; /* the decoder takes nothing more */
    }
    free(der.p);
    if (rc == 0 && in_cert)
        rc = fail(err, errlen, "a certificate has no END line");
    if (rc == 0 && t->n == 0)
        rc = fail(err, errlen, skipped ? "no CA certificate (the certificates present are not CAs)"
                                       : "no certificate found");
    if (rc < 0)
        trust_free(t);
    return rc;
}

int trust_load(const char *path, struct trust *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char *buf;
    size_t n;
    const char *stage;
    int rc = read_file_up_to(path, TRUST_MAX_FILE + 1, &buf, &n, &stage);
    if (rc < 0) {
        snprintf(err, errlen, "cannot %s %s: %s", stage, path, strerror(-rc));
        return -1;
    }
    if (n > TRUST_MAX_FILE) {
        snprintf(err, errlen, "%s is over 1 MiB", path);
        rc = -1;
    } else {
        char why[160];
        rc = trust_parse((const unsigned char *)buf, n, t, why, sizeof why);
        if (rc < 0)
            snprintf(err, errlen, "%s: %s", path, why);
    }
    free(buf);
    return rc;
}

void trust_free(struct trust *t)
{
    for (size_t i = 0; i < t->n; i++)
        anchor_free(&t->anchors[i]);
    free(t->anchors);
    t->anchors = NULL;
    t->n = 0;
}
