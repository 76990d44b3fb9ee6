#include "caps.h"

#include <string.h>

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
