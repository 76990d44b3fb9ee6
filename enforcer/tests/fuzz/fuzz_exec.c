/* libFuzzer target for the parsers of attacker-written process state that the exec
 * protections read (exec_identity.c): a command line (script_argument: which file a shell
 * or interpreter runs) and an environment read in chunks (env_scan_feed: LD_PRELOAD,
 * LD_AUDIT, LD_LIBRARY_PATH).
 *
 * Input: byte 0 picks the program name, byte 1 the chunk size, the rest is the command line
 * and the environment at once. Beyond "no crash, no UB", checks:
 *  - script_argument returns -1, 0 or 1; with 1, out is one whole argument of the line (or
 *    the one after an option), NUL-terminated within cap; a line not cut never gives -1
 *    unless the argument does not fit in cap;
 *  - shell_input (how a shell takes its commands) returns 0, 1 or 2, and 0 when argv[1] is a
 *    whole argument that is no option (a script operand);
 *  - env_scan_feed reports the same entries whatever the chunk size (byte by byte, in
 *    chunks, all at once), each value inside the environment and no longer than kept. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "exec_identity.h"

static const char *const programs[] = {"sh", "bash", "dash", "busybox", "python3.11", "perl", "node", "php", "ruby", "lua5.4", "true"};

struct seen {
	unsigned count;
	uint64_t digest;
	const uint8_t *env;
	size_t env_len;
};

static bool record(void *vctx, int var, const char *value, size_t len, bool overflow)
{
	struct seen *s = vctx;
	CHECK(var >= 0 && var < ENV_LOADER_VARS);
	CHECK(len <= sizeof ((struct env_scan *)0)->entry);
	CHECK(overflow || memchr(value, '\0', len) == NULL);
	s->count++;
	s->digest = s->digest * 1099511628211u + (uint64_t)var * 31 + len + (overflow ? 7 : 0);
	for (size_t i = 0; i < len; i++)
		s->digest = (s->digest ^ (uint8_t)value[i]) * 1099511628211u;
	return false;
}

static void scan(const uint8_t *data, size_t size, size_t chunk, struct seen *out)
{
	static struct env_scan st;
	memset(&st, 0, sizeof st);
	memset(out, 0, sizeof *out);
	for (size_t pos = 0; pos < size; pos += chunk) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		CHECK(!env_scan_feed(&st, (const char *)data + pos, n, record, out));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *program = programs[data[0] % (sizeof programs / sizeof programs[0])];
	size_t chunk = (size_t)data[1] % 64 + 1;
	const char *args = (const char *)data + 2;
	size_t n = size - 2;

	char out[256];
	for (int cut = 0; cut <= 1; cut++) {
		memset(out, 'X', sizeof out);
		int r = script_argument(program, args, n, cut, out, sizeof out);
		CHECK(r >= -1 && r <= 1);
		if (r == 1) {
			size_t len = strnlen(out, sizeof out);
			CHECK(len < sizeof out);
			/* a whole argument: preceded by a NUL (or at index >= 1), followed by a NUL */
			bool found = false;
			for (size_t i = 1; i + len < n && !found; i++)
				found = args[i - 1] == '\0' && !memcmp(args + i, out, len) && args[i + len] == '\0';
			CHECK(found);
		}
	}

	int mode = shell_input(args, n);
	CHECK(mode >= 0 && mode <= 2);
	size_t l0 = strnlen(args, n);
	if (l0 + 1 < n) {
		const char *a1 = args + l0 + 1;
		if (strnlen(a1, n - l0 - 1) < n - l0 - 1 && a1[0] != '-' && a1[0] != '+')
			CHECK(mode == 0);
	}

	struct seen a, b, c;
	scan((const uint8_t *)args, n, 1, &a);
	scan((const uint8_t *)args, n, chunk, &b);
	scan((const uint8_t *)args, n, n ? n : 1, &c);
	CHECK(a.count == b.count && a.digest == b.digest);
	CHECK(a.count == c.count && a.digest == c.digest);
	return 0;
}
