#include "caps.h"

#include <string.h>
#include <unistd.h>

/* Index = capability number (linux/capability.h, up to CAP_CHECKPOINT_RESTORE = 40). */
static const char *const names[] = {
    "CHOWN",        "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",      "FSETID",          "KILL",
    "SETGID",       "SETUID",       "SETPCAP",         "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_ADMIN",    "NET_RAW",      "IPC_LOCK",        "IPC_OWNER",   "SYS_MODULE",      "SYS_RAWIO",
    "SYS_CHROOT",   "SYS_PTRACE",   "SYS_PACCT",       "SYS_ADMIN",   "SYS_BOOT",        "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME",     "SYS_TTY_CONFIG",  "MKNOD",       "LEASE",           "AUDIT_WRITE",
    "AUDIT_CONTROL", "SETFCAP",     "MAC_OVERRIDE",    "MAC_ADMIN",   "SYSLOG",          "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ",  "PERFMON",         "BPF",         "CHECKPOINT_RESTORE",
};

uint64_t cap_bit(const char *name)
{
    if (!strcmp(name, "ALL"))
        return CAPS_ALL;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return (uint64_t)1 << i;
    return 0;
}

/* prlimit(2) on another process needs no capability when the caller's real uid and gid equal
 * the target's real, effective and saved ones (kernel/sys.c, check_prlimit_permission): an
 * application that is root like the enforcer could set the enforcer's RLIMIT_NOFILE to 0 (every
 * /proc read behind the exec protections then fails, and they let a reverse shell through) or
 * RLIMIT_CPU to 1 s (the kernel kills it). A saved group id different from the real one makes
 * that equality impossible; only CAP_SYS_RESOURCE, which containers do not get, still passes.
 * The enforcer grants nothing by group: its effective and file-system group ids do not change. */
bool caps_guard_limits(void)
{
    gid_t r, e, s;
    if (getresgid(&r, &e, &s) < 0)
        return false;
    if (r != e || r != s)
        return true; /* no single gid equals all three already */
    return setresgid((gid_t)-1, (gid_t)-1, r == 65534 ? 65533 : 65534) == 0;
}
