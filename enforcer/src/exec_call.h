/* One exec call as its seccomp user notification describes it (--mechanism notify),
 * and what it points to in the caller's memory: the path and the argument strings.
 * Every read of that memory goes through the caller's reader and is bounded by the
 * buffers given; nothing here trusts a length or a pointer the caller wrote. */
#ifndef VIGIL_EXEC_CALL_H
#define VIGIL_EXEC_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct exec_call {
    bool execveat;
    bool ptr32; /* the caller's pointers are 32 bits (i386, x32, AArch32) */
    int dirfd, flags;
    uint64_t path_addr, argv_addr;
};

/* Is (arch, nr) an execve or execveat of this machine's ABIs? Then its arguments. */
bool exec_call_describe(uint32_t arch, uint64_t nr, const uint64_t args[6], struct exec_call *c);

/* The caller's memory: read copies up to len bytes at addr, fewer where a page is
 * unmapped (the count, or -1), as process_vm_readv does. The page the path was read
 * from is kept: a shell's argv pointers and argv[0] are usually in it too. */
struct caller_mem {
    ssize_t (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
    void *ctx;
    uint64_t at;
    size_t n;
    char page[4096];
};

/* The path, NUL-terminated in cap bytes; false when unreadable or longer. */
bool exec_call_path(struct caller_mem *m, const struct exec_call *c, char *path, size_t cap);

/* Up to max_args argument strings, NUL-separated, in cap bytes: their length;
 * *cut when some were left out (too many, too long, or unreadable after the first). */
size_t exec_call_argv(struct caller_mem *m, const struct exec_call *c, size_t max_args, char *args, size_t cap,
                      bool *cut);

#endif
