/* pidfd system-call numbers (the same on x86_64 and arm64), for libc headers
 * that predate them. */
#ifndef VIGIL_PIDFD_H
#define VIGIL_PIDFD_H

#include <sys/syscall.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#endif
