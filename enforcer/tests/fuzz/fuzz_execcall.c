/* libFuzzer target for the notify mechanism's reads of an exec caller's memory
 * (src/exec_call.c). The input is a call (arch selector, nr selector, six
 * arguments) and the caller's memory: pages mapped from BASE, with a hole (an
 * unmapped page) where the input says. The reader answers as process_vm_readv
 * does: a short count at the first unmapped byte. Contract: the path, when
 * returned, is NUL-terminated inside its buffer; the argument strings are at most
 * `cap` bytes, each NUL-terminated, at most max_args of them; every read stays
 * inside the memory given (ASan checks the copies). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "check.h"

#include "arch.h"
#include "exec_call.h"

#define BASE 0x10000u
#define PAGE 4096u

struct image {
	const uint8_t *data;
	size_t size;
	uint64_t hole; /* page index that is unmapped, or UINT64_MAX */
};

static ssize_t read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *m = ctx;
	if (addr < BASE || addr - BASE >= m->size)
		return -1;
	size_t off = (size_t)(addr - BASE), got = 0;
	while (got < len && off + got < m->size && (off + got) / PAGE != m->hole)
		got++;
	if (got == 0)
		return -1;
	memcpy(buf, m->data + off, got);
	return (ssize_t)got;
}

static uint64_t word(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, sizeof w);
	/* mostly inside the image; the top bit keeps huge and unmapped addresses reachable */
	return w & 0x80000000u ? (uint64_t)w << 12 : BASE + (w & 0x7fff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 + 6 * 4 + 1)
		return 0;
	const struct arch_abi *abi = &arch_abis[data[0] % arch_abi_count];
	uint64_t nr = (data[1] & 1 ? abi->nr_execveat : abi->nr_execve) + (uint64_t)abi->nr_bias;
	if (data[1] & 2)
		nr = data[1]; /* sometimes not an exec at all */
	uint64_t args[6];
	for (int i = 0; i < 6; i++)
		args[i] = word(data + 2 + 4 * i);
	uint8_t knobs = data[26];
	struct image img = {data + 27, size - 27, knobs & 0x80 ? (uint64_t)(knobs & 7) : UINT64_MAX};

	struct exec_call c;
	if (!exec_call_describe(abi->audit_arch, nr, args, &c))
		return 0;
	static struct caller_mem mem;
	mem.read = read_image;
	mem.ctx = &img;
	size_t path_cap = 1 + (knobs & 0x3f) * 8;
	char *path = malloc(path_cap);
	CHECK(path != NULL);
	if (exec_call_path(&mem, &c, path, path_cap))
		CHECK(memchr(path, '\0', path_cap) != NULL);
	size_t cap = 1 + (size_t)(knobs & 0x7f) * 16, max_args = knobs % 9;
	char *args_out = malloc(cap);
	CHECK(args_out != NULL);
	bool cut = false;
	size_t len = exec_call_argv(&mem, &c, max_args, args_out, cap, &cut);
	CHECK(len <= cap);
	size_t n = 0;
	for (size_t pos = 0; pos < len; n++) {
		const char *nul = memchr(args_out + pos, '\0', len - pos);
		CHECK(nul != NULL);
		pos = (size_t)(nul - args_out) + 1;
	}
	CHECK(n <= max_args);
	free(args_out);
	free(path);
	return 0;
}
