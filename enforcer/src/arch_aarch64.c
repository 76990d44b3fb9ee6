#if defined(__aarch64__)
#include "arch.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/elf.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <asm/ptrace.h>

const char *const arch_name = "arm64";

/* AArch32 compat tasks use the ARM EABI numbers. */
const struct arch_abi arch_abis[] = {
    {AUDIT_ARCH_AARCH64, 0, 220, 435, 221, 281, 0},
    {AUDIT_ARCH_ARM, 0, 120, 435, 11, 387, 0},
};
const size_t arch_abi_count = sizeof arch_abis / sizeof arch_abis[0];

int arch_plant_exit_stub(pid_t pid, int status)
{
    struct user_pt_regs regs;
    struct iovec iov = {&regs, sizeof regs};
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &iov) < 0)
        return -errno;
    if (regs.pstate & 0x10) /* AArch32 task: no stub, the caller falls back to SIGKILL */
        return -ENOTSUP;
    /* movz x0, #status; movz x8, #94 (exit_group); svc #0 */
    uint32_t code[4] = {0xd2800000u | ((uint32_t)(status & 0xffff) << 5), 0xd2800bc8u, 0xd4000001u,
                        0xd4000001u};
    for (size_t off = 0; off < sizeof code; off += sizeof(long)) {
        long word;
        memcpy(&word, (const char *)code + off, sizeof word);
        if (ptrace(PTRACE_POKETEXT, pid, (void *)(regs.pc + off), (void *)word) < 0)
            return -errno;
    }
    return 0;
}
#endif
