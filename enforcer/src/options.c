#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}

static int parse_mechanism(const char *v, enum mechanism *m)
{
    if (!strcmp(v, "auto"))
        *m = MECH_AUTO;
    else if (!strcmp(v, "landlock"))
        *m = MECH_LANDLOCK;
    else if (!strcmp(v, "seccomp"))
        *m = MECH_SECCOMP;
    else {
        log_msg("unknown mechanism \"%s\": use auto, landlock or seccomp", v);
        return 2;
    }
    return 0;
}

void options_usage(void)
{
    fputs("usage: vigil-enforcer [OPTIONS] [--] COMMAND [ARGS...]\n"
          "  --policy FILE      compiled policy (also VIGIL_POLICY_FILE, or VIGIL_POLICY inline)\n"
          "  --audit            report would-be blocks as alerts, block nothing (VIGIL_AUDIT=1)\n"
          "  --events SINK      stderr (default), fd:N or a file path (VIGIL_EVENTS)\n"
          "  --mechanism M      auto, landlock or seccomp (VIGIL_MECHANISM)\n"
          "  --fail-open        run unprotected if tracing is refused (VIGIL_FAIL_OPEN=1)\n"
          "  --check-policy     validate the policy and exit\n"
          "  --noop             exit 0 at once (the sidecar image's command)\n"
          "  --version, --help\n",
          stderr);
}

int options_parse(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    o->policy_file = getenv("VIGIL_POLICY_FILE");
    o->policy_inline = getenv("VIGIL_POLICY");
    o->events = getenv("VIGIL_EVENTS");
    o->audit = env_true("VIGIL_AUDIT");
    o->fail_open = env_true("VIGIL_FAIL_OPEN");
    const char *cpu = getenv("VIGIL_TRACER_CPU");
    o->pin_tracer = !(cpu && !strcmp(cpu, "float"));
    const char *mech = getenv("VIGIL_MECHANISM");
    if (mech && *mech && parse_mechanism(mech, &o->mechanism))
        return 2;
    /* The application does not inherit the enforcer's configuration: the policy (perhaps an
     * ECS secret, `--policy-from`) would tell an attacker exactly what is checked, and an
     * inline policy of up to 1 MiB would ride in every exec's environment. */
    static const char *const own[] = {"VIGIL_POLICY", "VIGIL_POLICY_FILE", "VIGIL_EVENTS", "VIGIL_AUDIT",
                                      "VIGIL_FAIL_OPEN", "VIGIL_MECHANISM", "VIGIL_TRACER_CPU"};
    static char *kept[3]; /* static: the copies live as long as the enforcer */
    const char **from_env[3] = {&o->policy_inline, &o->policy_file, &o->events};
    for (size_t k = 0; k < 3; k++) {
        free(kept[k]);
        kept[k] = NULL;
        if (*from_env[k] && !(kept[k] = strdup(*from_env[k]))) {
            log_msg("out of memory reading the environment");
            return 2;
        }
        *from_env[k] = kept[k];
    }
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
        unsetenv(own[k]);

    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] != '-')
            break; /* the command starts here */
        bool takes_value = !strcmp(a, "--policy") || !strcmp(a, "--events") || !strcmp(a, "--mechanism");
        if (takes_value && i + 1 >= argc) {
            log_msg("%s needs a value", a);
            return 2;
        }
        if (!strcmp(a, "--policy"))
            o->policy_file = argv[++i], o->policy_inline = NULL;
        else if (!strcmp(a, "--events"))
            o->events = argv[++i];
        else if (!strcmp(a, "--mechanism")) {
            if (parse_mechanism(argv[++i], &o->mechanism))
                return 2;
        } else if (!strcmp(a, "--audit"))
            o->audit = true;
        else if (!strcmp(a, "--fail-open"))
            o->fail_open = true;
        else if (!strcmp(a, "--check-policy"))
            o->check_policy = true;
        else if (!strcmp(a, "--noop"))
            o->noop = true;
        else if (!strcmp(a, "--version"))
            o->version = true;
        else if (!strcmp(a, "--help"))
            o->help = true;
        else {
            log_msg("unknown option %s (put the command after --)", a);
            options_usage();
            return 2;
        }
    }
    o->argv = argv + i;
    if (!o->argv[0] && !o->check_policy && !o->noop && !o->version && !o->help) {
        log_msg("no command to run");
        options_usage();
        return 2;
    }
    return 0;
}
