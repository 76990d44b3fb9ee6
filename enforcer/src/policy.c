#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "glob.h"

enum value_kind { V_MODE, V_GLOB, V_TRISTATE, V_ONOFF, V_CIDR_PORTS, V_EXCEPTION, V_SCOPE, V_PORTS, V_NAME, V_CAP };

struct key_spec {
    const char *key;
    enum value_kind kind;
    bool repeat;
    bool enforced;
};

static const struct key_spec keys[] = {
    {"mode", V_MODE, false, true},
    {"name", V_NAME, false, true},
    {"exec.allow", V_GLOB, true, true},
    {"exec.deny", V_GLOB, true, true},
    {"exec.drift", V_TRISTATE, false, true},
    {"exec.fileless", V_TRISTATE, false, true},
    {"exec.loader", V_TRISTATE, false, true},
    {"exec.reverseShell", V_TRISTATE, false, true},
    {"files.readOnly", V_GLOB, true, true},
    {"files.watch", V_GLOB, true, true},
    {"network.connect.deny", V_CIDR_PORTS, true, true},
    {"network.connect.allow", V_CIDR_PORTS, true, true},
    {"network.connect.exception", V_EXCEPTION, true, true},
    {"network.connect.exceptionsFor", V_SCOPE, false, true},
    {"network.listen.allow", V_PORTS, true, true},
    {"selfProtection", V_ONOFF, false, true},
    {"capabilities.drop", V_CAP, true, true},
    {"noNewPrivileges", V_ONOFF, false, true},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static int fail(struct policy_error *err, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->line = line;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static bool parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
    if (n == 0 || n > 10)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max || (n > 1 && s[0] == '0'))
        return false;
    *out = v;
    return true;
}

/* "80" or "8000-8080" */
static const char *ports_invalid(const char *v)
{
    const char *dash = strchr(v, '-');
    unsigned long a, b;
    if (!dash)
        return parse_uint(v, strlen(v), 65535, &a) ? NULL : "is not a port (0-65535) or range";
    if (!parse_uint(v, (size_t)(dash - v), 65535, &a) || !parse_uint(dash + 1, strlen(dash + 1), 65535, &b))
        return "is not a port (0-65535) or range";
    return a <= b ? NULL : "is a port range whose start is after its end";
}

static bool ipv4_ok(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '.')
            j++;
        unsigned long v;
        if (!parse_uint(s + i, j - i, 255, &v))
            return false;
        parts++;
        i = j + 1;
        if (j == n)
            break;
    }
    return parts == 4;
}

static bool ipv6_ok(const char *s, size_t n)
{
    int groups = 0, gap = 0;
    size_t i = 0;
    if (n < 2)
        return false;
    while (i < n) {
        if (s[i] == ':') {
            if (i + 1 < n && s[i + 1] == ':') {
                if (gap++)
                    return false;
                i += 2;
                continue;
            }
            if (i == 0)
                return false;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && s[j] != ':' && s[j] != '.')
            j++;
        if (j < n && s[j] == '.') /* trailing dotted IPv4 */
            return ipv4_ok(s + i, n - i) && groups <= 6;
        if (j - i == 0 || j - i > 4)
            return false;
        for (size_t k = i; k < j; k++)
            if (!strchr("0123456789abcdefABCDEF", s[k]))
                return false;
        groups++;
        i = j;
    }
    return gap ? groups < 8 : groups == 8;
}

static const char *cidr_invalid(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    size_t addr_len = slash ? (size_t)(slash - s) : n;
    bool v6 = memchr(s, ':', addr_len) != NULL;
    if (v6 ? !ipv6_ok(s, addr_len) : !ipv4_ok(s, addr_len))
        return "is not an IPv4 or IPv6 address";
    if (slash) {
        unsigned long bits;
        if (!parse_uint(slash + 1, n - addr_len - 1, v6 ? 128 : 32, &bits))
            return v6 ? "has a prefix length outside 0-128" : "has a prefix length outside 0-32";
    }
    return NULL;
}

static const char *value_invalid(enum value_kind kind, const char *v)
{
    const char *sp;
    switch (kind) {
    case V_MODE:
        return strcmp(v, "enforce") && strcmp(v, "audit") ? "must be enforce or audit" : NULL;
    case V_TRISTATE:
        return strcmp(v, "block") && strcmp(v, "alert") && strcmp(v, "off") ? "must be block, alert or off" : NULL;
    case V_ONOFF:
        return strcmp(v, "on") && strcmp(v, "off") ? "must be on or off" : NULL;
    case V_SCOPE:
        return strcmp(v, "application") && strcmp(v, "any") ? "must be application or any" : NULL;
    case V_GLOB:
        return glob_invalid(v);
    case V_NAME:
        return v[0] ? NULL : "must not be empty";
    case V_CAP:
        return cap_bit(v) ? NULL : "is not a capability name (NET_RAW, SYS_ADMIN, ... without CAP_, or ALL)";
    case V_PORTS:
        return ports_invalid(v);
    case V_CIDR_PORTS:
        sp = strchr(v, ' ');
        if (!sp)
            return cidr_invalid(v, strlen(v));
        {
            const char *why = cidr_invalid(v, (size_t)(sp - v));
            return why ? why : ports_invalid(sp + 1);
        }
    case V_EXCEPTION:
        sp = strrchr(v, ' ');
        if (!sp)
            return "must be EXE-GLOB CIDR";
        {
            char exe[POLICY_MAX_LINE];
            size_t n = (size_t)(sp - v);
            memcpy(exe, v, n);
            exe[n] = '\0';
            const char *why = glob_invalid(exe);
            return why ? why : cidr_invalid(sp + 1, strlen(sp + 1));
        }
    }
    return "has an unknown kind";
}

static int add_rule(struct policy_rule **list, size_t *n, const char *v)
{
    struct policy_rule *grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return -1;
    *list = grown;
    grown[*n].glob = strdup(v);
    if (!grown[*n].glob)
        return -1;
    grown[*n].index = (int)*n;
    (*n)++;
    return 0;
}

static int apply(struct policy *p, const struct key_spec *k, const char *v)
{
    if (!strcmp(k->key, "mode"))
        p->mode = strcmp(v, "audit") ? POLICY_ENFORCE : POLICY_AUDIT;
    else if (!strcmp(k->key, "name"))
        return (p->name = strdup(v)) ? 0 : -1;
    else if (!strcmp(k->key, "exec.allow"))
        return add_rule(&p->allow, &p->n_allow, v);
    else if (!strcmp(k->key, "exec.deny"))
        return add_rule(&p->deny, &p->n_deny, v);
    else if (!strcmp(k->key, "files.readOnly"))
        return add_rule(&p->read_only, &p->n_read_only, v);
    else if (!strcmp(k->key, "files.watch"))
        return add_rule(&p->watch, &p->n_watch, v);
    else if (!strcmp(k->key, "network.connect.deny"))
        return add_rule(&p->connect_deny, &p->n_connect_deny, v);
    else if (!strcmp(k->key, "network.connect.allow"))
        return add_rule(&p->connect_allow, &p->n_connect_allow, v);
    else if (!strcmp(k->key, "network.connect.exception"))
        return add_rule(&p->connect_exception, &p->n_connect_exception, v);
    else if (!strcmp(k->key, "network.listen.allow"))
        return add_rule(&p->listen_allow, &p->n_listen_allow, v);
    else if (!strcmp(k->key, "network.connect.exceptionsFor"))
        p->exceptions_any = !strcmp(v, "any");
    else if (!strcmp(k->key, "selfProtection"))
        p->self_protection_off = !strcmp(v, "off");
    else if (!strcmp(k->key, "capabilities.drop"))
        p->drop_caps |= cap_bit(v);
    else if (!strcmp(k->key, "noNewPrivileges"))
        p->no_new_privs = !strcmp(v, "on");
    else if (k->kind == V_TRISTATE) {
        enum policy_action a = !strcmp(v, "block") ? ACTION_BLOCK : !strcmp(v, "alert") ? ACTION_ALERT : ACTION_OFF;
        if (!strcmp(k->key, "exec.drift"))
            p->drift = a;
        else if (!strcmp(k->key, "exec.fileless"))
            p->fileless = a;
        else if (!strcmp(k->key, "exec.loader"))
            p->loader = a;
        else
            p->reverse_shell = a;
    }
    else if (!k->enforced) {
        for (size_t i = 0; i < p->n_not_enforced; i++)
            if (p->not_enforced[i] == k->key)
                return 0;
        if (p->n_not_enforced < sizeof p->not_enforced / sizeof p->not_enforced[0])
            p->not_enforced[p->n_not_enforced++] = k->key;
    }
    return 0;
}

int policy_parse(const char *buf, size_t len, struct policy *out, struct policy_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    bool seen[N_KEYS] = {false};
    int line = 0, directives = 0;
    bool header = false, ended = false;
    size_t pos = 0;
    char text[POLICY_MAX_LINE + 1];

    if (len > POLICY_MAX_BYTES)
        return fail(err, 0, "policy is larger than %u bytes", POLICY_MAX_BYTES);
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        line++;
        if (!nl) {
            fail(err, line, "last line does not end with a newline (truncated policy?)");
            goto bad;
        }
        size_t n = (size_t)(nl - (buf + pos));
        if (n > POLICY_MAX_LINE) {
            fail(err, line, "line is longer than %d bytes", POLICY_MAX_LINE);
            goto bad;
        }
        if (memchr(buf + pos, '\0', n)) {
            fail(err, line, "line contains a NUL byte");
            goto bad;
        }
        memcpy(text, buf + pos, n);
        text[n] = '\0';
        pos += n + 1;
        if (n > 0 && text[n - 1] == '\r') {
            fail(err, line, "line ends with CR; use LF line endings");
            goto bad;
        }
        if (ended) {
            fail(err, line, "text after the end line");
            goto bad;
        }
        if (n == 0 || text[0] == '#')
            continue;
        if (!header) {
            if (strcmp(text, "vigil-policy 1") != 0) {
                if (!strncmp(text, "vigil-policy ", 13))
                    fail(err, line, "unsupported policy format version \"%.20s\"; this enforcer reads version 1 (update the enforcer)", text + 13);
                else
                    fail(err, line, "expected the header \"vigil-policy 1\" (is this a compiled policy? compile YAML with `vigil policy compile`)");
                goto bad;
            }
            header = true;
            continue;
        }
        if (!strcmp(text, "end")) {
            ended = true;
            continue;
        }
        char *sp = strchr(text, ' ');
        if (!sp) {
            fail(err, line, "expected \"KEY VALUE\", got \"%.60s\"", text);
            goto bad;
        }
        *sp = '\0';
        const char *value = sp + 1;
        size_t ki = 0;
        while (ki < N_KEYS && strcmp(keys[ki].key, text))
            ki++;
        if (ki == N_KEYS) {
            fail(err, line, "unknown key \"%.60s\" (newer policy format? update the enforcer)", text);
            goto bad;
        }
        if (seen[ki] && !keys[ki].repeat) {
            fail(err, line, "%s may appear only once", keys[ki].key);
            goto bad;
        }
        seen[ki] = true;
        const char *why = value_invalid(keys[ki].kind, value);
        if (why) {
            fail(err, line, "%s value \"%.80s\" %s", keys[ki].key, value, why);
            goto bad;
        }
        if (++directives > POLICY_MAX_DIRECTIVES) {
            fail(err, line, "more than %d directives", POLICY_MAX_DIRECTIVES);
            goto bad;
        }
        if (apply(out, &keys[ki], value) < 0) {
            fail(err, line, "out of memory");
            goto bad;
        }
    }
    if (!header) {
        fail(err, line ? line : 1, "empty policy: expected the header \"vigil-policy 1\"");
        goto bad;
    }
    if (!ended) {
        fail(err, line, "missing the final \"end\" line (truncated policy?)");
        goto bad;
    }
    return 0;
bad:
    policy_free(out);
    return -1;
}

static void free_rules(struct policy_rule *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i].glob);
    free(list);
}

void policy_free(struct policy *p)
{
    free_rules(p->allow, p->n_allow);
    free_rules(p->deny, p->n_deny);
    free_rules(p->read_only, p->n_read_only);
    free_rules(p->watch, p->n_watch);
    free_rules(p->connect_deny, p->n_connect_deny);
    free_rules(p->connect_allow, p->n_connect_allow);
    free_rules(p->connect_exception, p->n_connect_exception);
    free_rules(p->listen_allow, p->n_listen_allow);
    free(p->name);
    memset(p, 0, sizeof *p);
}
