/* int80-exec PATH [ARGS...] (x86_64 only): execve through `int $0x80`, the
 * i386 system-call ABI (syscall 11). Pointers must fit in 32 bits, so the
 * probe is linked static and non-PIE and copies PATH and the argv array of
 * 32-bit pointers into .bss. On failure prints `exec errno=NAME` (exit 126 or
 * 127). A kernel without IA32 emulation kills the probe with SIGSEGV. */
#include "probe.h"
#include <stdint.h>

#if defined(__x86_64__)
#define MAX_ARGS 16
#define ARG_BYTES 8192

static char arg_bytes[ARG_BYTES];
static uint32_t arg_ptrs[MAX_ARGS + 1];
static uint32_t env_ptrs[1];

static long int80_execve(uint32_t path, uint32_t argv32, uint32_t envp32)
{
	long ret = 11; /* __NR_execve in the i386 table */
	__asm__ volatile("int $0x80" : "+a"(ret) : "b"(path), "c"(argv32), "d"(envp32) : "memory");
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc - 1 > MAX_ARGS) {
		probe_say("usage: int80-exec PATH [ARGS...] (at most %d)", MAX_ARGS);
		return PROBE_EXIT_USAGE;
	}
	size_t off = 0;
	for (int i = 1; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;
		if (off + len > ARG_BYTES)
			return PROBE_EXIT_USAGE;
		memcpy(arg_bytes + off, argv[i], len);
		uintptr_t p = (uintptr_t)(arg_bytes + off);
		if (p > UINT32_MAX) {
			probe_say("int80-exec: data above 4 GiB (built as PIE?)");
			return PROBE_EXIT_USAGE;
		}
		arg_ptrs[i - 1] = (uint32_t)p;
		off += len;
	}
	arg_ptrs[argc - 1] = 0;
	env_ptrs[0] = 0;
	long ret = int80_execve(arg_ptrs[0], (uint32_t)(uintptr_t)arg_ptrs, (uint32_t)(uintptr_t)env_ptrs);
	int e = ret < 0 && ret > -4096 ? (int)-ret : EINVAL;
	probe_say("exec errno=%s", probe_errno_name(e));
	return e == ENOENT ? 127 : PROBE_EXIT_REFUSED;
}
#else
int main(void)
{
	probe_say("int80-exec unsupported");
	return 77;
}
#endif
