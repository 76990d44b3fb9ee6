#include "exec_call.h"

#include <fcntl.h>
#include <string.h>

#include "arch.h"

#define PAGE 4096u

bool exec_call_describe(uint32_t arch, uint64_t nr, const uint64_t args[6], struct exec_call *c)
{
    if (!arch_is_exec_syscall(arch, nr, &c->execveat))
        return false;
    c->ptr32 = arch != arch_abis[0].audit_arch;
    for (size_t i = 1; i < arch_abi_count; i++)
        if (arch_abis[i].audit_arch == arch && arch_abis[i].nr_bias && (nr & arch_abis[i].nr_bias))
            c->ptr32 = true; /* x32: 32-bit pointers in 64-bit registers */
    uint64_t mask = c->ptr32 ? 0xffffffffu : ~(uint64_t)0;
    c->dirfd = c->execveat ? (int)(uint32_t)args[0] : AT_FDCWD;
    c->path_addr = (c->execveat ? args[1] : args[0]) & mask;
    c->argv_addr = (c->execveat ? args[2] : args[1]) & mask;
    c->flags = c->execveat ? (int)(uint32_t)args[4] : 0;
    return true;
}

/* Exactly len bytes at addr, from the kept page where it holds them. */
static bool read_exact(struct caller_mem *m, uint64_t addr, void *buf, size_t len)
{
    if (addr >= m->at && addr - m->at <= m->n && len <= m->n - (addr - m->at)) {
        memcpy(buf, m->page + (addr - m->at), len);
        return true;
    }
    size_t got = 0;
    while (got < len) { /* page by page: a short read ends at an unmapped page */
        size_t page_left = PAGE - (size_t)((addr + got) % PAGE);
        size_t want = len - got < page_left ? len - got : page_left;
        ssize_t n = m->read(m->ctx, addr + got, (char *)buf + got, want);
        if (n <= 0)
            return false;
        got += (size_t)n;
        if ((size_t)n < want)
            return false;
    }
    return true;
}

/* A NUL-terminated string of at most cap-1 bytes at addr. */
static bool read_string(struct caller_mem *m, uint64_t addr, char *out, size_t cap)
{
    if (cap == 0)
        return false;
    if (addr >= m->at && addr - m->at < m->n) {
        size_t off = (size_t)(addr - m->at), left = m->n - off;
        const char *nul = memchr(m->page + off, '\0', left);
        if (nul && (size_t)(nul - (m->page + off)) < cap) {
            memcpy(out, m->page + off, (size_t)(nul - (m->page + off)) + 1);
            return true;
        }
    }
    size_t got = 0;
    while (got + 1 < cap) {
        size_t page_left = PAGE - (size_t)((addr + got) % PAGE);
        size_t want = cap - 1 - got < page_left ? cap - 1 - got : page_left;
        ssize_t n = m->read(m->ctx, addr + got, out + got, want);
        if (n <= 0)
            return false;
        if (memchr(out + got, '\0', (size_t)n))
            return true;
        got += (size_t)n;
        if ((size_t)n < want)
            return false; /* an unmapped page before the end of the string */
    }
    out[cap - 1] = '\0';
    return false; /* longer than the buffer */
}

bool exec_call_path(struct caller_mem *m, const struct exec_call *c, char *path, size_t cap)
{
    m->at = c->path_addr;
    m->n = 0;
    ssize_t n = m->read(m->ctx, c->path_addr, m->page, PAGE - (size_t)(c->path_addr % PAGE));
    if (n < 0)
        return false;
    m->n = (size_t)n;
    return read_string(m, c->path_addr, path, cap);
}

size_t exec_call_argv(struct caller_mem *m, const struct exec_call *c, size_t max_args, char *args, size_t cap,
                      bool *cut)
{
    size_t len = 0, width = c->ptr32 ? 4 : 8;
    *cut = false;
    if (!c->argv_addr)
        return 0;
    for (size_t i = 0;; i++) {
        uint64_t ptr = 0; /* little endian: a 32-bit pointer fills the low half */
        if (!read_exact(m, c->argv_addr + width * (uint64_t)i, &ptr, width) || ptr == 0)
            return len;
        if (i == max_args || len + 1 >= cap || !read_string(m, ptr, args + len, cap - len)) {
            *cut = true;
            return len;
        }
        len += strlen(args + len) + 1;
    }
}
