/* Trust anchors for HTTPS to the console: the CA certificates of a PEM bundle. */
#ifndef VIGIL_TRUST_H
#define VIGIL_TRUST_H

#include <stddef.h>

#include <bearssl/bearssl.h>

struct trust {
    br_x509_trust_anchor *anchors;
    size_t n;
};

/* Load every CERTIFICATE of the PEM file at path (at most 1 MiB, 256 certificates).
 * 0, or -1 with the reason in err. */
int trust_load(const char *path, struct trust *t, char *err, size_t errlen);
/* The same from memory (the fuzz target's entry). */
int trust_parse(const unsigned char *pem, size_t len, struct trust *t, char *err, size_t errlen);
void trust_free(struct trust *t);

#endif
