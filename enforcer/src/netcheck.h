/* Shared by the network checks (netcheck.c) and the datagram sends made on the
 * tracee's behalf (netsend.c). */
#ifndef VIGIL_NETCHECK_H
#define VIGIL_NETCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "checks.h"

/* Our own descriptor for the tracee's descriptor fd (same open file), or -1
 * with errno set (EBADF: the tracee has no such descriptor; EXDEV: it has, but
 * out of reach: a kernel without PIDFD_THREAD (before 6.9) only reaches the
 * main thread's descriptor table, and this thread has another one or the
 * main thread has exited). */
int net_grab_fd(pid_t tid, int fd);

/* Judge one destination of call sc on the tracee's descriptor fd (`sock`: our
 * duplicate of it, or -1) and report what is worth a line. false: refuse the call. */
bool net_judge_destination(const struct checks *c, pid_t tid, int sc, int sock, int fd, const struct net_addr *a,
                           uint16_t port);

/* A control message of a datagram send the enforcer cannot pass on: one
 * `connect` event (rule network.controlMessage) about destination a. */
void net_report_control(const struct checks *c, pid_t tid, int sc, int sock, const struct net_addr *a, uint16_t port,
                        int level, int type);

/* sendto/sendmsg/sendmmsg on an IP datagram socket (UDP, raw): copy the call
 * once, judge the copy and send it ourselves (netsend.c; audit mode: judge and
 * report, the call runs). false when the socket is not such a socket: the
 * caller judges the call as it stands. */
bool net_send_entry(const struct checks *c, pid_t tid, int sc, const uint64_t args[6], struct check_outcome *out);

#endif
