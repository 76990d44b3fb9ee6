/* Command line and environment of the enforcer (docs/enforcer-cli.md). */
#ifndef VIGIL_OPTIONS_H
#define VIGIL_OPTIONS_H

#include <stdbool.h>

enum mechanism { MECH_AUTO, MECH_LANDLOCK, MECH_SECCOMP };

struct options {
    const char *policy_file;   /* --policy / VIGIL_POLICY_FILE */
    const char *policy_inline; /* VIGIL_POLICY */
    const char *events;        /* --events / VIGIL_EVENTS */
    enum mechanism mechanism;
    bool audit;
    bool fail_open;
    bool pin_tracer; /* VIGIL_TRACER_CPU: pin (default) or float */
    bool check_policy;
    bool noop;
    bool version;
    bool help;
    char **argv; /* the command */
};

/* Returns 0, or 2 after printing a usage error. */
int options_parse(int argc, char **argv, struct options *o);
void options_usage(void);

#endif
