/* vigil-enforcer: PID 1 of an application container. It starts the application,
 * follows every process it creates, blocks the executions the policy forbids and
 * writes one JSON event per decision. See docs/enforcer-cli.md. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adopt_filter.h"
#include "arch.h"
#include "caps.h"
#include "events.h"
#include "filerules.h"
#include "fswalk.h"
#include "landlock.h"
#include "lineage.h"
#include "log.h"
#include "netrules.h"
#include "options.h"
#include "policy.h"
#include "protections.h"
#include "readfile.h"
#include "rules.h"
#include "sha256.h"
#include "ship.h"
#include "spawn.h"
#include "trace.h"
#include "version.h"

static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

struct mechanisms {
    int landlock_fd;      /* -1 when not used: the one ruleset of exec and/or files.readOnly */
    int landlock_abi;
    size_t landlock_rules;
    bool landlock_exec;   /* the ruleset has the exec rules */
    bool landlock_files;  /* ... and files.readOnly's */
    bool seccomp;
    bool follow_forks;
    struct filter_needs needs;  /* file and network checks the filter traces */
    const char *files;          /* who covers files.*: "landlock+ptrace", "ptrace", NULL (no rules) */
};

/* The policy made ready for decisions. */
struct ready_rules {
    struct exec_rules exec;
    struct file_rules files;
    struct net_rules net;
};

/* The policy in force: replaced as a whole when the console sends another. */
struct live {
    struct policy policy;
    struct ready_rules rules;
    char digest[65];
};

/* What the enforcer started with, for judging a policy that arrives later. */
static struct {
    struct live *now;
    struct mechanisms mech;
    bool force_audit; /* --audit: every policy runs in audit mode */
} state;

static int read_file(const char *path, char **out, size_t *len)
{
    const char *stage;
    int err = read_file_up_to(path, POLICY_MAX_BYTES + 1, out, len, &stage);
    if (err < 0) {
        errno = -err;
        log_errno("cannot %s the policy %s", stage, path);
        return -1;
    }
    return 0;
}

/* Parse compiled policy text; source names it in messages. */
static int parse_policy(const char *text, size_t len, const char *source, struct policy *p, char digest[65])
{
    struct policy_error err;
    int rc = policy_parse(text, len, p, &err);
    if (rc < 0)
        log_msg("policy:%d: %s (in %s)", err.line, err.msg, source);
    else
        sha256_hex(text, len, digest);
    return rc;
}

static const char empty_policy[] = "vigil-policy 1\nend\n";

/* Load and parse the policy from --policy, VIGIL_POLICY_FILE or VIGIL_POLICY.
 * Without any, the policy is empty: everything is traced and reported. */
static int load_policy(const struct options *o, struct policy *p, char digest[65])
{
    char *text = NULL;
    size_t len;
    const char *source = "(none)";
    if (o->policy_file) {
        source = o->policy_file;
        if (read_file(o->policy_file, &text, &len) < 0)
            return -1;
    } else if (o->policy_inline) {
        source = "VIGIL_POLICY";
        len = strlen(o->policy_inline);
        text = strdup(o->policy_inline);
    } else {
        len = sizeof empty_policy - 1;
        text = strdup(empty_policy);
    }
    if (!text)
        return -1;
    int rc = parse_policy(text, len, source, p, digest);
    free(text);
    return rc;
}

/* Without a local policy, the console's, fetched before the application starts
 * (docs/console-protocol.md, "Policy at start"). -1: none could be had and
 * --fail-open is not set; *failopen: starting with the empty policy instead. */
static int console_policy(const struct options *o, struct policy *p, char digest[65], bool *failopen)
{
    char *text = NULL, err[256];
    size_t len = 0;
    int got = ship_initial_policy(10000, &text, &len, err, sizeof err);
    if (got == 1) {
        int rc = parse_policy(text, len, "the console's policy", p, digest);
        free(text);
        if (rc == 0)
            return 0;
        snprintf(err, sizeof err, "the console's policy is not valid");
    }
    if (got != 0) {
        if (!o->fail_open) {
            log_msg("console: no policy (%s); refusing to start the application unprotected (--fail-open, "
                    "VIGIL_FAIL_OPEN=1, starts it with an empty policy that only reports)",
                    err);
            return -1;
        }
        log_msg("console: no policy (%s); starting with an empty policy (--fail-open)", err);
        *failopen = true;
    }
    return parse_policy(empty_policy, sizeof empty_policy - 1, "the empty policy", p, digest);
}

static void block_signals(sigset_t *forward, sigset_t *original)
{
    sigemptyset(forward);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaddset(forward, forwarded_signals[i]);
    sigset_t all = *forward;
    sigaddset(&all, SIGCHLD);
    sigprocmask(SIG_BLOCK, &all, original);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
}

/* Which kernel-side mechanism closes the routes around ptrace. `auto` (the
 * default) is the seccomp filter: with it every exec, refused or not, is decided
 * and reported by the tracer, the same way on every kernel (Fargate's have no
 * Landlock). `landlock` trades that for no per-syscall cost (docs/enforcer-cli.md).
 * Neither is installed for exec when nothing is to be blocked (audit mode, no exec
 * rules). File and network rules add their checks to the seccomp filter (in audit
 * mode too: they report), and files.readOnly its write rules to the Landlock
 * ruleset where the kernel has REFER (ABI 2): one ruleset, one layer, whose
 * cost every path walk of the application pays once. */
static int choose_mechanisms(const struct options *o, const struct ready_rules *rules, bool enforce, bool audit,
                             bool console, struct mechanisms *m)
{
    *m = (struct mechanisms){.landlock_fd = -1, .landlock_abi = landlock_abi()};
    m->needs = (struct filter_needs){!file_rules_empty(&rules->files), net_rules_connect(&rules->net),
                                     net_rules_listen(&rules->net)};
    m->seccomp = filter_traces(&m->needs);
    if (m->needs.files)
        m->files = "ptrace";
    bool files_layer = m->needs.files && !audit && rules->files.n_read_only && m->landlock_abi >= LANDLOCK_FILES_MIN_ABI;
    bool exec_layer = enforce && !rules_empty(&rules->exec) && o->mechanism == MECH_LANDLOCK;
    if (enforce && !rules_empty(&rules->exec) && !exec_layer)
        m->seccomp = true;
    else if (!enforce || rules_empty(&rules->exec))
        m->seccomp |= console; /* a policy from the console may block execs later: close the routes now */
    if (exec_layer && m->landlock_abi == 0) {
        log_msg("--mechanism landlock: this kernel has no Landlock (use auto or seccomp)");
        return -1;
    }
    if (exec_layer || files_layer) {
        m->landlock_fd = landlock_build(exec_layer ? &rules->exec : NULL, files_layer ? &rules->files : NULL,
                                        &m->landlock_rules, &m->landlock_files);
        if (exec_layer && m->landlock_fd < 0)
            return -1;
        m->landlock_exec = exec_layer;
        m->follow_forks = exec_layer;
    }
    if (m->landlock_files)
        m->files = "landlock+ptrace";
    return 0;
}

/* Judge the command before starting anything: a blocked command never starts. */
static bool precheck_blocked(const struct exec_rules *rules, char *const *argv)
{
    char found[PATH_MAX], real[PATH_MAX], rule[64];
    struct stat st;
    if (!spawn_resolve(argv[0], found, sizeof found) || !realpath(found, real) || stat(real, &st) < 0)
        return false; /* execvp will say what is wrong */
    struct verdict v;
    rules_decide(rules, real, true, st.st_dev, st.st_ino, &v);
    if (v.allowed)
        return false;
    size_t len = 0;
    bool cut = false;
    char args[EVENT_ARGV_MAX_BYTES];
    for (size_t i = 0; argv[i]; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (len + n > sizeof args) {
            cut = true;
            break;
        }
        memcpy(args + len, argv[i], n);
        len += n;
    }
    struct event e;
    char cwd[PATH_MAX];
    event_begin(&e, "exec", "blocked");
    event_str(&e, "rule", verdict_rule_name(&v, rule, sizeof rule));
    event_str(&e, "pattern", v.pattern);
    event_int(&e, "pid", getpid());
    event_int(&e, "ppid", getppid());
    event_int(&e, "uid", getuid());
    event_str(&e, "exe", real);
    event_argv(&e, args, len, cut);
    event_str(&e, "cwd", getcwd(cwd, sizeof cwd) ? cwd : NULL);
    event_str(&e, "script", NULL);
    event_str(&e, "mechanism", "precheck");
    event_emit(&e);
    log_msg("blocked: %s (%s%s%s)", real, rule, v.pattern ? " " : ": ", v.pattern ? v.pattern : "not in the allow list");
    return true;
}

static void lifecycle_common(struct event *e, const char *what, const char *verdict, pid_t app)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    event_begin(e, "lifecycle", verdict);
    event_str(e, "event", what);
    event_str(e, "rule", NULL);
    event_int(e, "pid", app);
    event_int(e, "ppid", getpid());
    event_int(e, "uid", getuid());
    event_str(e, "exe", exe);
}

/* A lifecycle event about no command of its own (exit, failopen, policy): empty argv, no cwd. */
static void lifecycle_about_no_command(struct event *e, const char *what, const char *verdict, pid_t app)
{
    lifecycle_common(e, what, verdict, app);
    event_raw(e, "argv", "[]");
    event_bool(e, "argvTruncated", false);
    event_str(e, "cwd", NULL);
}

static void emit_start(const struct policy *p, const char *digest, const struct mechanisms *m, bool traced,
                       pid_t app, char *const *argv)
{
    struct event e;
    char cwd[PATH_MAX], mech[224], args[EVENT_ARGV_MAX_BYTES];
    size_t len = 0;
    for (size_t i = 0; argv[i]; i++) {
        size_t n = strlen(argv[i]) + 1;
        if (len + n > sizeof args)
            break;
        memcpy(args + len, argv[i], n);
        len += n;
    }
    lifecycle_common(&e, "start", "allowed", app);
    event_argv(&e, args, len, false);
    event_str(&e, "cwd", getcwd(cwd, sizeof cwd) ? cwd : NULL);
    event_str(&e, "version", VIGIL_VERSION);
    event_str(&e, "arch", arch_name);
    event_str(&e, "policy", digest);
    event_str(&e, "policyName", p->name);
    event_str(&e, "mode", p->mode == POLICY_AUDIT ? "audit" : "enforce");
    event_bool(&e, "pid1", getpid() == 1);
    event_bool(&e, "subreaper", getpid() != 1);
    int n = snprintf(mech, sizeof mech, "{\"ptrace\":%s,\"landlock\":%d,\"landlockRules\":%zu,\"seccomp\":%s",
                     traced ? "true" : "false", m->landlock_fd >= 0 ? m->landlock_abi : 0, m->landlock_rules,
                     m->seccomp ? "true" : "false");
    if (m->files && n > 0 && (size_t)n < sizeof mech)
        n += snprintf(mech + n, sizeof mech - (size_t)n, ",\"files\":\"%s\"", m->files);
    if (n > 0 && (size_t)n < sizeof mech - 1)
        snprintf(mech + n, sizeof mech - (size_t)n, "}");
    event_raw(&e, "mechanisms", mech);
    event_str_array(&e, "notEnforced", p->not_enforced, p->n_not_enforced);
    event_emit(&e);
}

static void emit_exit(int code, pid_t app)
{
    struct event e;
    lifecycle_about_no_command(&e, "exit", "allowed", app);
    event_int(&e, "status", code);
    event_emit(&e);
}

static void emit_failopen(const char *reason, pid_t app)
{
    struct event e;
    lifecycle_about_no_command(&e, "failopen", "alert", app);
    event_str(&e, "reason", reason);
    event_emit(&e);
}

static int print_policy_summary(const struct policy *p, const char *digest)
{
    printf("policy %s: mode %s, %zu allow, %zu deny, sha256 %s\n", p->name ? p->name : "(unnamed)",
           p->mode == POLICY_AUDIT ? "audit" : "enforce", p->n_allow, p->n_deny, digest);
    for (size_t i = 0; i < p->n_not_enforced; i++)
        printf("not yet enforced: %s\n", p->not_enforced[i]);
    return 0;
}

static void live_free(struct live *l)
{
    if (!l)
        return;
    rules_free(&l->rules.exec);
    file_rules_free(&l->rules.files);
    net_rules_free(&l->rules.net);
    policy_free(&l->policy);
    free(l);
}

static int live_build(struct live *l)
{
    memset(&l->rules, 0, sizeof l->rules);
    if (rules_build(&l->policy, &l->rules.exec) < 0 || file_rules_build(&l->policy, &l->rules.files) < 0 ||
        net_rules_build(&l->policy, &l->rules.net) < 0) {
        log_msg("out of memory building the rules");
        return -1;
    }
    return 0;
}

static int finish(int code)
{
    fs_dir_cache(false); /* when start-up stops before the mechanisms are chosen */
    live_free(state.now);
    state.now = NULL;
    return code;
}

/* What a policy arriving while the application runs cannot change: the kernel
 * mechanisms installed at start stay as they are. */
static size_t not_applied(const struct live *l, const char **out, size_t max)
{
    size_t n = 0;
    const struct mechanisms *m = &state.mech;
    if (!file_rules_empty(&l->rules.files) && !m->needs.files && n < max)
        out[n++] = "files: the running filter checks no file calls (restart the task to apply)";
    if (net_rules_connect(&l->rules.net) && !m->needs.connect && n < max)
        out[n++] = "network.connect: the running filter checks no connections (restart the task to apply)";
    if (net_rules_listen(&l->rules.net) && !m->needs.listen && n < max)
        out[n++] = "network.listen: the running filter checks no bind/listen (restart the task to apply)";
    if (m->landlock_exec && n < max)
        out[n++] = "exec: the Landlock ruleset of the start policy stays in force";
    if (m->landlock_files && n < max)
        out[n++] = "files.readOnly: the Landlock layer of the start policy stays in force";
    if (l->policy.self_protection_off != state.now->policy.self_protection_off && n < max)
        out[n++] = "selfProtection: takes effect at the next start";
    if ((l->policy.drop_caps != state.now->policy.drop_caps || l->policy.no_new_privs != state.now->policy.no_new_privs) &&
        n < max)
        out[n++] = "capabilities.drop, noNewPrivileges: take effect at the next start";
    return n;
}

static void emit_policy_event(const struct live *l, bool applied, const char *digest, const char *reason)
{
    struct event e;
    const char *missing[8];
    size_t n = applied ? not_applied(l, missing, 8) : 0;
    lifecycle_about_no_command(&e, "policy", applied ? "allowed" : "alert", getpid());
    event_str(&e, "policy", digest);
    event_str(&e, "policyName", applied ? l->policy.name : NULL);
    event_str(&e, "mode", applied ? (l->policy.mode == POLICY_AUDIT ? "audit" : "enforce") : NULL);
    event_str(&e, "source", "console");
    event_bool(&e, "applied", applied);
    event_str(&e, "reason", reason);
    event_str_array(&e, "notApplied", missing, n);
    event_emit(&e);
}

/* Between two stops of the trace loop: adopt a policy the console sent. The
 * tracer is the only reader of the rules, so swapping them here is safe. */
static void console_tick(struct tracer *t)
{
    char *text, digest[65];
    size_t len;
    if (!ship_take_policy(&text, &len, digest))
        return;
    struct live *l = calloc(1, sizeof *l);
    struct policy_error err;
    char reason[320];
    if (!l) {
        free(text);
        return;
    }
    int rc = policy_parse(text, len, &l->policy, &err);
    free(text);
    if (rc < 0) {
        snprintf(reason, sizeof reason, "policy:%d: %s", err.line, err.msg);
        log_msg("console: the new policy is not valid, keeping the one in force (%s)", reason);
        emit_policy_event(l, false, digest, reason);
        ship_policy_result(digest, false, NULL);
        free(l);
        return;
    }
    if (state.force_audit)
        l->policy.mode = POLICY_AUDIT;
    if (live_build(l) < 0) {
        emit_policy_event(l, false, digest, "out of memory building the rules");
        ship_policy_result(digest, false, NULL);
        live_free(l);
        return;
    }
    memcpy(l->digest, digest, sizeof l->digest);
    bool audit = l->policy.mode == POLICY_AUDIT;
    t->rules = &l->rules.exec;
    t->audit = audit;
    t->enforce_exec = !audit && !rules_empty(&l->rules.exec);
    /* the Landlock layer installed at start (if any) knows only the first policy's rules */
    t->checks = (struct checks){&l->rules.files, &l->rules.net, audit, !audit, l->policy.reverse_shell};
    emit_policy_event(l, true, digest, NULL);
    live_free(state.now);
    state.now = l;
    log_msg("console: policy %s (%s) in force", l->policy.name ? l->policy.name : "(unnamed)", digest);
    ship_policy_result(digest, true, audit ? "audit" : "enforce");
}

int main(int argc, char **argv)
{
    struct options o;
    struct ship_options so;
    sigset_t forward, original;

    /* 1. options; the trivial modes first */
    if (options_parse(argc, argv, &o))
        return 2;
    if (o.help) {
        options_usage();
        return 0;
    }
    if (o.version) {
        printf("vigil-enforcer %s (%s)\n", VIGIL_VERSION, arch_name);
        return 0;
    }
    if (o.noop)
        return 0;
    /* before anything can start the application: it must not inherit the token */
    bool console = ship_options_from_env(&so) && !o.check_policy;
    bool local_policy = o.policy_file || o.policy_inline;

    /* 2. the policy: any malformed line stops us before the application starts */
    struct live *l = state.now = calloc(1, sizeof *state.now);
    if (!l)
        return 1;
    bool failopen_policy = false;
    bool events_ready = false;
    if (console && !local_policy) {
        /* events queue from now on; the registration says "no policy yet" */
        if (events_open(o.events) < 0)
            return finish(2);
        events_ready = true;
        if (ship_start(&so, NULL, o.audit ? "audit" : "enforce", arch_name) < 0) {
            if (!o.fail_open)
                return finish(2);
            log_msg("console: not used (--fail-open): starting with an empty policy that only reports");
            console = false;
            failopen_policy = true;
            if (parse_policy(empty_policy, sizeof empty_policy - 1, "the empty policy", &l->policy, l->digest) < 0)
                return finish(2);
        } else if (console_policy(&o, &l->policy, l->digest, &failopen_policy) < 0) {
            ship_stop(2000);
            return finish(1);
        } else {
            ship_policy_result(l->digest, true, o.audit || l->policy.mode == POLICY_AUDIT ? "audit" : "enforce");
        }
    } else if (load_policy(&o, &l->policy, l->digest) < 0) {
        return finish(2);
    }
    if (o.audit)
        l->policy.mode = POLICY_AUDIT;
    state.force_audit = o.audit;
    if (o.check_policy) {
        print_policy_summary(&l->policy, l->digest);
        return finish(0);
    }
    fs_dir_cache(true); /* until the mechanisms are chosen: the deny index and Landlock read the same directories */
    if (live_build(l) < 0)
        return finish(1);
    bool audit = l->policy.mode == POLICY_AUDIT;
    bool enforce = !audit && !rules_empty(&l->rules.exec);
    protections_start_clock();
    if (net_rules_connect(&l->rules.net) && !(l->policy.drop_caps & ((uint64_t)1 << CAP_NET_RAW)) &&
        prctl(PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) == 1)
        log_msg("network.connect rules are checked on connect/sendto/sendmsg; a raw socket (CAP_NET_RAW, which this "
                "container has) can build packets around them: add NET_RAW to capabilities.drop");

    /* 3. where events go (and the console, when one is set) */
    if (!events_ready && events_open(o.events) < 0)
        return finish(2);
    if (console && !ship_active() && ship_start(&so, l->digest, audit ? "audit" : "enforce", arch_name) < 0) {
        /* a configuration mistake: loud, before anything starts (or, --fail-open, run without the console) */
        if (!o.fail_open)
            return finish(2);
        log_msg("console: not used (--fail-open): events go to the event sink only");
        console = false;
    }

    /* 4. init duties: reap orphans even when not PID 1; signals stay blocked until
     *    the tracer knows whom to forward them to */
    if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        log_errno("prctl(PR_SET_CHILD_SUBREAPER): orphans will not be reaped by the enforcer");
    block_signals(&forward, &original);

    /* 5. a command the policy forbids is not started at all */
    if (enforce && precheck_blocked(&l->rules.exec, o.argv)) {
        events_flush(1000);
        ship_stop(2000);
        return finish(126);
    }

    /* 6. kernel-side mechanisms, then the child, attached before it can exec */
    struct mechanisms *mech = &state.mech;
    int chosen = choose_mechanisms(&o, &l->rules, enforce, audit, console, mech);
    if (chosen < 0) {
        ship_stop(2000);
        return finish(1);
    }
    struct spawn_plan plan = {o.argv,
                              mech->landlock_fd,
                              mech->seccomp,
                              mech->needs,
                              l->policy.self_protection_off,
                              l->policy.drop_caps,
                              l->policy.no_new_privs,
                              original,
                              /* a Landlock domain already refuses mounts (the kernel's
                               * own rule), so only a filter-only start needs this */
                              !audit && mech->seccomp && mech->landlock_fd < 0};
    int gate;
    pid_t app = spawn_start(&plan, &gate);
    if (app < 0) {
        ship_stop(2000);
        return finish(1);
    }
    lineage_start(app); /* the application's own processes, for network.connect exceptions */
    if (mech->landlock_fd >= 0) {
        bool added = landlock_add_deferred(mech->landlock_fd, 0, landlock_deferred_parts());
        close(mech->landlock_fd);
        if (!added) {
            landlock_deferred_free();
            spawn_release(gate, false);
            waitpid(app, NULL, 0);
            ship_stop(2000);
            return finish(1);
        }
    }
    bool traced = true;
    int err = trace_seize(app);
    if (err < 0) {
        errno = -err;
        log_errno("cannot trace the application (ptrace(PTRACE_SEIZE))");
        if (!o.fail_open) {
            log_msg("refusing to start the application unprotected; --fail-open (VIGIL_FAIL_OPEN=1) runs it "
                    "untraced: no events, and only Landlock (when active) still refuses denied programs");
            spawn_release(gate, false);
            waitpid(app, NULL, 0);
            ship_stop(2000);
            return finish(1);
        }
        traced = false;
        emit_failopen("ptrace refused", app);
    }
    if (failopen_policy)
        emit_failopen("no policy from the console", app);
    /* Nobody in the container may read or write the enforcer's memory. Only now:
     * a child forked from a non-dumpable parent could not be traced without
     * CAP_SYS_PTRACE (a non-root user in Docker has none). */
    prctl(PR_SET_DUMPABLE, 0);
    if (!caps_guard_limits() && geteuid() == 0)
        log_errno("setresgid: the application may change the enforcer's resource limits (prlimit)");
    emit_start(&l->policy, l->digest, mech, traced, app, o.argv);
    spawn_release(gate, true);
    /* What start-up kept, freed once the child is on its way (each free of a
     * large block is an munmap): the directories read, the rules' descriptors. */
    fs_dir_cache(false);
    landlock_deferred_free();

    /* 7. follow everything until the application's main process ends */
    struct tracer t = {&l->rules.exec, audit, enforce, mech->follow_forks && traced, traced, app,
                       {&l->rules.files, &l->rules.net, audit, !audit && !mech->landlock_files, l->policy.reverse_shell},
                       NULL, 0};
    if (console && traced) {
        t.tick = console_tick;
        t.tick_ms = 500;
    }
    if (traced && o.pin_tracer)
        trace_pin_cpu();
    /* Sessions entered from outside get the application's filter. Under a Landlock exec
     * layer the application needs none (the layer refuses denied programs in processes
     * ptrace does not follow), but a session never entered that layer: it gets the filter
     * that closes the ways around ptrace (CLONE_UNTRACED, clone3) all the same. Nor does
     * a Landlock domain's refusal of mounts reach it: the namespace filter too. And it
     * kept the container's capabilities: the guard (selfProtection). */
    bool guard = !l->policy.self_protection_off; /* sessions keep CAP_SYS_PTRACE: keep them off the enforcer */
    bool no_raw = (l->policy.drop_caps & ((uint64_t)1 << CAP_NET_RAW)) != 0; /* nor raw sockets (as the application) */
    if (mech->seccomp || mech->landlock_exec || guard || no_raw)
        adopt_filter_configure(&mech->needs, !audit, guard, no_raw);
    int code = trace_run(&t, &forward);

    /* 8. exit with the application's status */
    emit_exit(code, app);
    events_flush(2000);
    ship_stop(2000);
    return finish(code);
}
