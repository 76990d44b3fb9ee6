#include "notify.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "events.h"
#include "log.h"
#include "trace.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

bool notify_send_listener(int sock, int listener)
{
    char byte = 'n';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

int notify_receive_listener(int sock)
{
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    close(sock);
    struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
        log_msg("notify: the application's filter listener did not arrive (its start failed)");
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

/* Processes attached at their exec call and not yet seen at their exec (or at another
 * stop, when the exec failed): a few at a time, one per exec in flight. */
#define VISITING_MAX 512
static pid_t visiting[VISITING_MAX];
static size_t n_visiting;

bool notify_visiting(pid_t pid)
{
    for (size_t i = 0; i < n_visiting; i++)
        if (visiting[i] == pid)
            return true;
    return false;
}

void notify_forget(pid_t pid)
{
    for (size_t i = 0; i < n_visiting; i++)
        if (visiting[i] == pid) {
            visiting[i] = visiting[--n_visiting];
            return;
        }
}

#define VISIT_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)

/* Attach to the caller of an exec before it goes on, so that its exec is judged at
 * PTRACE_EVENT_EXEC on the file the kernel really runs. 0, or the errno to answer:
 * a caller another process traces cannot be judged (its tracer could change what
 * it runs after the exec event), nor one past the table's room. */
static int attach(pid_t tid)
{
    if (notify_visiting(tid))
        return 0; /* attached at an earlier exec call that failed */
    if (n_visiting == VISITING_MAX)
        return EAGAIN;
    if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)VISIT_OPTIONS) < 0)
        return errno == ESRCH ? ESRCH : EPERM;
    visiting[n_visiting++] = tid;
    return 0;
}

static void report_unjudged(pid_t pid, int err)
{
    char exe[64];
    struct event e;
    snprintf(exe, sizeof exe, "%s", err == EAGAIN ? "too many execs at once" : "traced by another process");
    event_begin(&e, "exec", "blocked");
    event_str(&e, "rule", "default");
    event_str(&e, "pattern", NULL);
    event_int(&e, "pid", pid);
    event_int(&e, "ppid", -1);
    event_int(&e, "uid", -1);
    event_str(&e, "exe", exe);
    event_argv(&e, "", 0, false);
    event_str(&e, "cwd", NULL);
    event_str(&e, "script", NULL);
    event_str(&e, "mechanism", "notify");
    event_emit(&e);
}

void notify_handle(struct tracer *t, int listener)
{
    (void)t;
    static union {
        struct seccomp_notif n;
        char room[512]; /* a later kernel's larger struct (SECCOMP_GET_NOTIF_SIZES) */
    } req;
    static union {
        struct seccomp_notif_resp r;
        char room[512];
    } resp;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req.n) < 0)
        return; /* ENOENT: the caller is gone */
    pid_t tid = (pid_t)req.n.pid;
    memset(&resp, 0, sizeof resp);
    resp.r.id = req.n.id;
    bool execveat;
    int err = arch_is_exec_syscall(req.n.data.arch, (uint64_t)(uint32_t)req.n.data.nr, &execveat) ? attach(tid) : 0;
    if (err) {
        resp.r.error = -err;
    } else {
        resp.r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    /* If the answer fails, the caller was killed meanwhile: the loop collects its exit. */
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp.r) == 0 && err && err != ESRCH)
        report_unjudged(tid, err);
}
