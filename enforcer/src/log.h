/* Messages for the person reading the container's log. Each saves errno first. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "vigil-enforcer: WHAT: strerror(errno)" plus a hint for errno values we understand. */
void log_errno(const char *what, ...) __attribute__((format(printf, 1, 2)));
void log_set_quiet(int quiet);

#endif
