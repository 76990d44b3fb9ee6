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

#endif
