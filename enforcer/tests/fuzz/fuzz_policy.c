/* libFuzzer target for the compiled-policy parser (docs/compiled-policy.md).
 *
 * Beyond "no crash, no leak, no UB" (ASan/UBSan/LSan) it checks the parser's
 * contract on every input:
 *  - failure: returns -1, err->msg is a NUL-terminated non-empty string,
 *    err->line is 0 or within the input's line count, `out` is left empty;
 *  - success: returns 0, every exec glob is valid by glob_invalid(), rule
 *    indexes count up from 0, a literal glob matches itself, and parsing the
 *    same bytes again gives the same result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"
#include "policy.h"

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_policy: check failed: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                                 \
			abort();                                                     \
		}                                                                    \
	} while (0)

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

static void check_rules(const struct policy_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		CHECK(rules[i].glob != NULL);
		CHECK(rules[i].index == (int)i);
		CHECK(glob_invalid(rules[i].glob) == NULL);
		if (!glob_has_wildcard(rules[i].glob))
			CHECK(glob_match(rules[i].glob, rules[i].glob));
		size_t prefix = glob_literal_prefix(rules[i].glob);
		CHECK(prefix <= strlen(rules[i].glob));
		/* Exercise the matcher against the other rules' text as paths. */
		for (size_t j = 0; j < n && j < 8; j++) {
			(void)glob_match(rules[i].glob, rules[j].glob);
			(void)glob_may_match_below(rules[i].glob, rules[j].glob);
			(void)glob_matches_all_below(rules[i].glob, rules[j].glob);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exact-size heap copy so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	struct policy p;
	struct policy_error err;
	memset(&p, 0xa5, sizeof p); /* the parser must initialise everything */
	memset(&err, 0, sizeof err);
	int rc = policy_parse(buf, size, &p, &err);
	CHECK(rc == 0 || rc == -1);
	if (rc != 0) {
		CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL);
		CHECK(err.msg[0] != '\0');
		CHECK(err.line >= 0 && (size_t)err.line <= count_lines(data, size) + 1);
		CHECK(p.n_allow == 0 && p.n_deny == 0);
		policy_free(&p);
		free(buf);
		return 0;
	}
	CHECK(p.mode == POLICY_ENFORCE || p.mode == POLICY_AUDIT);
	CHECK(p.n_not_enforced <= sizeof p.not_enforced / sizeof p.not_enforced[0]);
	check_rules(p.allow, p.n_allow);
	check_rules(p.deny, p.n_deny);

	struct policy again;
	struct policy_error err2;
	memset(&err2, 0, sizeof err2);
	CHECK(policy_parse(buf, size, &again, &err2) == 0);
	CHECK(again.mode == p.mode && again.n_allow == p.n_allow && again.n_deny == p.n_deny);
	for (size_t i = 0; i < p.n_allow; i++)
		CHECK(strcmp(again.allow[i].glob, p.allow[i].glob) == 0);
	for (size_t i = 0; i < p.n_deny; i++)
		CHECK(strcmp(again.deny[i].glob, p.deny[i].glob) == 0);
	policy_free(&again);
	policy_free(&p);
	free(buf);
	return 0;
}
