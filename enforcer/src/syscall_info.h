/* The kernel's struct ptrace_syscall_info (linux/ptrace.h, 5.3+) and its
 * request, declared here because libc headers disagree on whether they
 * provide them. */
#ifndef VIGIL_SYSCALL_INFO_H
#define VIGIL_SYSCALL_INFO_H

#include <stdint.h>

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif

#define SYSCALL_INFO_ENTRY 1
#define SYSCALL_INFO_EXIT 2
#define SYSCALL_INFO_SECCOMP 3

struct syscall_info {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t stack_pointer;
    union {
        struct {
            uint64_t nr;
            uint64_t args[6];
        } entry;
        struct {
            int64_t rval;
            uint8_t is_error;
        } exit;
        struct {
            uint64_t nr;
            uint64_t args[6];
            uint32_t ret_data;
        } seccomp;
    };
};

#endif
