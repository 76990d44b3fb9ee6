/* What an exec really runs, beyond /proc/PID/exe: the script a #! program was
 * started for, the program a dynamic loader was asked to run, and whether the
 * program is one that execs others without forking (shells, env...). */
#ifndef VIGIL_EXEC_IDENTITY_H
#define VIGIL_EXEC_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The script file the caller named (AT_EXECFN) when it is not the exe itself. */
bool find_script(pid_t pid, const struct stat *exe_st, char *out);
/* The path under which the enforcer finds what `name` names for process `pid` (its cwd,
 * root, /proc/self and /dev/fd); false when it cannot tell. */
bool exec_path_in_view(pid_t pid, const char *name, char *out, size_t cap);
bool is_loader(const char *exe);
/* `ld.so [OPTIONS] PROGRAM ARGS`: PROGRAM resolved against the process's cwd. */
bool loader_program(pid_t pid, const char *args, size_t len, char *out);
bool execs_directly(const char *exe);
/* The canonical path of the interpreter a `#!` file names; false if it is not one. */
bool script_interpreter(const char *path, char *out);

/* What a shell's or interpreter's options mean, as whole options between spaces (" -c -s ")
 * and letters. For script_argument: after a `command` option no script file is read; a
 * `value` option takes the next argument; a `file` option's value is itself a script. For
 * "runs a file of the image" (protections.c): the `inline_code` options, and the
 * `code_letters` that do the same in a cluster of short ones (`-ec`, `-Ic`) until a
 * `value_letters` letter ends it (`-Wignore::...`: the rest is the value). */
struct interp_options {
    const char *prefix, *command, *value, *file;
    const char *inline_code, *code_letters, *value_letters;
};

/* The options of the shell or interpreter whose basename is exe_base (matched on a prefix,
 * "sh" exactly); NULL for a program that is no such interpreter. */
const struct interp_options *interp_options_of(const char *exe_base);

/* The script file a shell or interpreter (named by exe_base, its basename) is asked to run,
 * from its command line args[0..n) (NUL-separated, as /proc/PID/cmdline; cut = more
 * followed): 1 with it in out, 0 when there is none (-c/-e command strings, stdin, a
 * program that is no such interpreter), -1 when the line is cut before that is settled
 * or the argument does not fit in cap. */
int script_argument(const char *exe_base, const char *args, size_t n, bool cut, char *out, size_t cap);

/* How a shell takes its commands, from its command line args[0..n) (as script_argument; for
 * busybox, from its applet's name on): 0 from a -c string or a script operand; 1 from standard
 * input (no operand, -s, or a line cut before an operand: fail closed); 2 from standard input,
 * told -i. */
int shell_input(const char *args, size_t n);

/* /proc/PID/environ read in chunks of any size: each complete LD_PRELOAD, LD_AUDIT or
 * LD_LIBRARY_PATH entry (index into env_loader_vars) is passed to on_var with its value,
 * overflow set when the entry was longer than kept; scanning stops when on_var returns
 * true, and env_scan_feed returns true then. Start with a zeroed struct env_scan. */
#define ENV_LOADER_VARS 3
extern const char *const env_loader_vars[ENV_LOADER_VARS];
struct env_scan {
    char entry[8192];
    size_t len;
    bool overflow;
};
typedef bool env_var_fn(void *ctx, int var, const char *value, size_t len, bool overflow);
bool env_scan_feed(struct env_scan *s, const char *data, size_t n, env_var_fn *on_var, void *ctx);

#endif
