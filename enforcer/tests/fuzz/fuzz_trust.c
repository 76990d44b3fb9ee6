/* libFuzzer target for the CA bundle reader (src/trust.c: PEM, then X.509
 * through BearSSL's decoders). Contract: on failure nothing is kept and the
 * message is non-empty; on success every anchor is a CA with a key of a known
 * type whose bytes can be read (ASan checks the reads); nothing leaks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "trust.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust t;
	char err[160];
	err[0] = '\0';
	if (trust_parse(data, size, &t, err, sizeof err) < 0) {
		CHECK(t.n == 0 && t.anchors == NULL && err[0] != '\0');
		return 0;
	}
	CHECK(t.n > 0 && t.n <= 256);
	unsigned sum = 0;
	for (size_t i = 0; i < t.n; i++) {
		const br_x509_trust_anchor *a = &t.anchors[i];
		CHECK(a->flags & BR_X509_TA_CA);
		for (size_t k = 0; k < a->dn.len; k++)
			sum += a->dn.data[k];
		if (a->pkey.key_type == BR_KEYTYPE_RSA) {
			for (size_t k = 0; k < a->pkey.key.rsa.nlen; k++)
				sum += a->pkey.key.rsa.n[k];
		} else {
			CHECK(a->pkey.key_type == BR_KEYTYPE_EC);
			for (size_t k = 0; k < a->pkey.key.ec.qlen; k++)
				sum += a->pkey.key.ec.q[k];
		}
	}
	(void)sum;
	trust_free(&t);
	return 0;
}
