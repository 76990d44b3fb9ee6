/* The compiled policy (docs/compiled-policy.md): parsed, validated, nothing else. */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_BYTES (1u << 20)
#define POLICY_MAX_LINE 4096
#define POLICY_MAX_DIRECTIVES 10000

enum policy_mode { POLICY_ENFORCE, POLICY_AUDIT };
/* exec.drift, exec.fileless, exec.loader, exec.reverseShell */
enum policy_action { ACTION_OFF, ACTION_ALERT, ACTION_BLOCK };

struct policy_rule {
    char *glob;
    int index; /* position among the rules of its key, for event names like exec.deny[1] */
};

struct policy {
    enum policy_mode mode;
    char *name;
    struct policy_rule *allow;
    size_t n_allow;
    struct policy_rule *deny;
    size_t n_deny;
    enum policy_action drift, fileless, loader, reverse_shell;
    /* files.* and network.* values as written (validated; parsed by filerules.c / netrules.c) */
    struct policy_rule *read_only, *watch, *connect_deny, *connect_allow, *connect_exception, *listen_allow;
    size_t n_read_only, n_watch, n_connect_deny, n_connect_allow, n_connect_exception, n_listen_allow;
    bool exceptions_any;      /* network.connect.exceptionsFor any: not only the application's own processes */
    bool self_protection_off; /* selfProtection off: the application keeps CAP_SYS_PTRACE */
    uint64_t drop_caps;       /* capabilities.drop: bits (1 << CAP_*) the application loses */
    bool no_new_privs;        /* noNewPrivileges on: set even when no filter or Landlock needs it */
    /* keys present in the policy that this enforcer accepts but does not enforce yet */
    const char *not_enforced[16];
    size_t n_not_enforced;
};

struct policy_error {
    int line; /* 0 when not tied to a line */
    char msg[256];
};

/* Parse `len` bytes. On error returns -1, fills `err` and leaves `out` empty. */
int policy_parse(const char *buf, size_t len, struct policy *out, struct policy_error *err);
void policy_free(struct policy *p);

#endif
