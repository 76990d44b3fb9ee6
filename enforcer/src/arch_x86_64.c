#if defined(__x86_64__)
#include "arch.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

const char *const arch_name = "amd64";

/* x32 numbers are the x86_64 ones with __X32_SYSCALL_BIT set; clone3 keeps its
 * number. execve/execveat have their own x32 numbers (520, 545). */
#define X32_BIT 0x40000000u
const struct arch_abi arch_abis[] = {
    {AUDIT_ARCH_X86_64, 0, 56, 435, 59, 322, 0},
    {AUDIT_ARCH_X86_64, X32_BIT, 56, 435, 520, 545, 0},
    {AUDIT_ARCH_I386, 0, 120, 435, 11, 358, 0},
};
const size_t arch_abi_count = sizeof arch_abis / sizeof arch_abis[0];

static int poke_bytes(pid_t pid, unsigned long addr, const unsigned char *bytes, size_t n)
{
    for (size_t off = 0; off < n; off += sizeof(long)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKTEXT, pid, (void *)(addr + off), 0);
        if (errno)
            return -errno;
        size_t chunk = n - off < sizeof(long) ? n - off : sizeof(long);
        memcpy(&word, bytes + off, chunk);
        if (ptrace(PTRACE_POKETEXT, pid, (void *)(addr + off), (void *)word) < 0)
            return -errno;
    }
    return 0;
}

int arch_plant_exit_stub(pid_t pid, int status)
{
    struct user_regs_struct regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    unsigned char code[12];
    unsigned char st = (unsigned char)status;
    if (regs.cs == 0x23) {
        /* 32-bit program: mov ebx, status; mov eax, 252 (exit_group); int 0x80 */
        const unsigned char stub[12] = {0xbb, st, 0, 0, 0, 0xb8, 0xfc, 0, 0, 0, 0xcd, 0x80};
        memcpy(code, stub, sizeof code);
    } else {
        /* mov edi, status; mov eax, 231 (exit_group); syscall */
        const unsigned char stub[12] = {0xbf, st, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05};
        memcpy(code, stub, sizeof code);
    }
    return poke_bytes(pid, regs.rip, code, sizeof code);
}
#endif
