/* The seccomp filter used where Landlock is missing: it closes the routes out
 * of the traced tree without any trace stop (errno returns only). */
#ifndef VIGIL_SECCOMP_H
#define VIGIL_SECCOMP_H

/* In the child, after PR_SET_NO_NEW_PRIVS. 0 or -errno. */
int seccomp_install_escape_filter(void);

#endif
