/* libFuzzer target for the HTTP response parser (src/http.c).
 * Contract on every input, with and without end of stream, at several body limits:
 *  - the result is -1, 0 or the length of a complete response (<= the input);
 *  - a complete response has a status 200..999, a body inside the buffer of at
 *    most max_body bytes, a NUL-terminated ETag;
 *  - an incomplete input leaves the buffer unchanged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "http.h"


static void one(const uint8_t *data, size_t size, int eof, size_t max_body)
{
	char *buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	memcpy(buf, data, size);
	struct http_response r;
	long n = http_parse_response(buf, size, eof, max_body, &r);
	CHECK(n >= -1 && n <= (long)size);
	if (n > 0) {
		CHECK(r.status >= 200 && r.status <= 999);
		CHECK(r.body >= buf && r.body + r.body_len <= buf + size);
		CHECK(r.body_len <= max_body);
		CHECK(memchr(r.etag, '\0', sizeof r.etag) != NULL);
		CHECK(r.poll_seconds >= -1 && r.retry_after >= -1);
	} else if (n == 0) {
		CHECK(memcmp(buf, data, size) == 0);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int eof = 0; eof < 2; eof++) {
		one(data, size, eof, 1 << 20);
		one(data, size, eof, 16);
	}
	return 0;
}
