/* libFuzzer target for the JSON field reader (src/json_scan.c) and the console
 * URL parser (src/url.c), both fed the same bytes.
 * Contract: lookups never read outside the input; a found value lies inside it;
 * a string result is NUL-terminated within its buffer and has no NUL before;
 * lookups succeed only on documents json_valid() accepts; a parsed URL has a
 * non-empty host, a port of 1..65535 and a prefix without a trailing slash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "json_scan.h"
#include "url.h"


static const char *const paths[] = {"enforcerKey", "policy.pollSeconds", "events.maxBatchEvents", "error", "a.b.c", "TaskARN", ""};

static void check_url(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	struct url u;
	char err[128];
	if (url_parse(s, &u, err, sizeof err) == 0) {
		CHECK(u.host[0] != '\0');
		long port = strtol(u.port, NULL, 10);
		CHECK(port >= 1 && port <= 65535);
		size_t pl = strlen(u.prefix);
		CHECK(pl == 0 || u.prefix[pl - 1] != '/');
	} else {
		CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the end */
	char *doc = malloc(size ? size : 1);
	CHECK(doc != NULL);
	memcpy(doc, data, size);
	int valid = json_valid(doc, size);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		const char *v;
		size_t vl;
		if (json_find(doc, size, paths[i], &v, &vl) == 0) {
			CHECK(valid);
			CHECK(v >= doc && v + vl <= doc + size && vl > 0);
		}
		char out[64];
		memset(out, 'x', sizeof out);
		if (json_get_string(doc, size, paths[i], out, sizeof out) == 0) {
			CHECK(valid);
			CHECK(memchr(out, '\0', sizeof out) != NULL);
		}
		long long n;
		if (json_get_int(doc, size, paths[i], &n) == 0)
			CHECK(valid);
	}
	free(doc);
	check_url(data, size);
	return 0;
}
