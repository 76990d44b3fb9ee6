/* udp-send OP ARGS...  (UDP over IPv4 loopback, 127.0.0.1)
 *
 * Datagram sends with an address, as the enforcer makes them on the process's
 * behalf. Prints one line per step: `STEP ok n=BYTES` or `STEP errno=NAME`.
 *   race DENY_PORT OK_PORT N  one thread sends N datagrams "race-NNNNNN" to
 *                             what a shared sockaddr says while another flips
 *                             its port between the two; prints
 *                             `race n=N ok=K refused=R other=O`
 *   race-msg DENY_PORT OK_PORT N
 *                             the same with sendmsg on a socket connected to
 *                             OK_PORT, the other thread flipping msg_name
 *                             between NULL and DENY_PORT's address
 *   sendto6 PORT              sendto "hello6" to [::1]:PORT
 *   mapped PORT               sendto "mapped" to [::ffff:127.0.0.1]:PORT from an IPv6 socket
 *   inet-on6 PORT             sendto "inet6" with an AF_INET address from an IPv6 socket
 *   sendto PORT               sendto "hello"
 *   unspec PORT               sendto with sin_family AF_UNSPEC (the kernel takes it as AF_INET)
 *   sendmsg PORT              sendmsg of three iovecs ("io" "vec" "-sendmsg") + IP_PKTINFO
 *   retopts PORT              sendmsg with an IP_RETOPTS control message (IP options)
 *   sendmmsg P1 P2 P3 P4      four messages "m0".."m3" to the four ports in one
 *                             sendmmsg; prints `sendmmsg rc=R len=L0,L1,L2,L3`
 *   connected PORT            connect, then send and sendmsg without an address
 *   full PORT                 fill the send buffer (with a slow qdisc on lo):
 *                             non-blocking sends until EAGAIN, then one blocking
 *                             send; prints `full nonblock errno=E after=K` and
 *                             `full block errno=E` or `full block ok`, plus `ms=T`
 *   leader-gone P1 P2         the main thread exits (its thread group lives on);
 *                             another thread then sendto's "gone" to P1 and P2
 *   unshared P1 P2            a thread with its own descriptor table
 *                             (unshare(CLONE_FILES)) puts a UDP socket at the number
 *                             where the main thread holds /dev/null, and sendto's
 *                             "unshared" to P1 and P2
 *   loop PORT N               N sendto's; prints `loop n=N ns_per_send=T`
 *   loopmsg PORT N            N sendmsg's without msg_name on a connected socket (as DNS
 *                             resolvers send); prints `loopmsg n=N ns_per_send=T` */
#include "probe.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

static struct sockaddr_in at(int port)
{
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_port = htons((uint16_t)port);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return in;
}

static void say_rc(const char *op, ssize_t rc)
{
	if (rc < 0)
		probe_say("%s errno=%s", op, probe_errno_name(errno));
	else
		probe_say("%s ok n=%zd", op, rc);
}

static long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static struct sockaddr_in race_addr[2];
static struct sockaddr_in shared;
static atomic_int stop;

/* The window is between the enforcer's read and the kernel's copy: the flipper
 * must run on another CPU than the sender then, so each gets one of its own. */
static void pin(pthread_t t, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(t, sizeof set, &set);
}

static void *flipper(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		shared.sin_port = race_addr[i & 1].sin_port;
	return NULL;
}

static int race(int deny, int ok, long n)
{
	race_addr[0] = at(deny);
	race_addr[1] = at(ok);
	shared = race_addr[1];
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	pthread_t t;
	pthread_create(&t, NULL, flipper, NULL);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus >= 2) {
		pin(pthread_self(), 0);
		pin(t, 1);
	}
	long sent = 0, refused = 0, other = 0;
	for (long i = 0; i < n; i++) {
		char buf[32];
		int len = snprintf(buf, sizeof buf, "race-%06ld", i);
		if (sendto(s, buf, (size_t)len, 0, (struct sockaddr *)&shared, sizeof shared) == len)
			sent++;
		else if (errno == EPERM)
			refused++;
		else
			other++;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	probe_say("race n=%ld ok=%ld refused=%ld other=%ld", n, sent, refused, other);
	return 0;
}

static struct msghdr race_msg;
static struct sockaddr_in race_deny;

static void *name_flipper(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		race_msg.msg_name = i & 1 ? (void *)&race_deny : NULL;
		race_msg.msg_namelen = i & 1 ? sizeof race_deny : 0;
	}
	return NULL;
}

static int race_sendmsg(int deny, int ok, long n)
{
	race_deny = at(deny);
	struct sockaddr_in peer = at(ok);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(s, (struct sockaddr *)&peer, sizeof peer) < 0)
		return PROBE_EXIT_USAGE;
	char buf[32];
	struct iovec iov = {buf, 0};
	race_msg.msg_iov = &iov;
	race_msg.msg_iovlen = 1;
	pthread_t t;
	pthread_create(&t, NULL, name_flipper, NULL);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		pin(pthread_self(), 0);
		pin(t, 1);
	}
	long sent = 0, refused = 0, other = 0;
	for (long i = 0; i < n; i++) {
		iov.iov_len = (size_t)snprintf(buf, sizeof buf, "rmsg-%06ld", i);
		ssize_t rc = sendmsg(s, &race_msg, 0);
		if (rc == (ssize_t)iov.iov_len)
			sent++;
		else if (rc < 0 && errno == EPERM)
			refused++;
		else
			other++;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	probe_say("race-msg n=%ld ok=%ld refused=%ld other=%ld", n, sent, refused, other);
	return 0;
}

static void send6(const char *op, const char *addr, int port, const char *text)
{
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (!strcmp(op, "inet-on6")) {
		struct sockaddr_in in = at(port);
		say_rc(op, sendto(s, text, strlen(text), 0, (struct sockaddr *)&in, sizeof in));
		return;
	}
	struct sockaddr_in6 in6;
	memset(&in6, 0, sizeof in6);
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, addr, &in6.sin6_addr);
	say_rc(op, sendto(s, text, strlen(text), 0, (struct sockaddr *)&in6, sizeof in6));
}

static ssize_t send_pktinfo(int s, int port, const char *op)
{
	struct sockaddr_in to = at(port);
	char a[] = "io", b[] = "vec", c[] = "-sendmsg";
	struct iovec iov[3] = {{a, 2}, {b, 3}, {c, 8}};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct msghdr m = {&to, sizeof to, iov, 3, ctl.buf, sizeof ctl.buf, 0};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi;
	memset(&pi, 0, sizeof pi);
	pi.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
	memcpy(CMSG_DATA(cm), &pi, sizeof pi);
	ssize_t rc = sendmsg(s, &m, 0);
	say_rc(op, rc);
	return rc;
}

static void retopts(int s, int port)
{
	struct sockaddr_in to = at(port);
	struct iovec iov = {"retopts", 7};
	union {
		char buf[CMSG_SPACE(4)];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof ctl);
	struct msghdr m = {&to, sizeof to, &iov, 1, ctl.buf, sizeof ctl.buf, 0};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_RETOPTS;
	cm->cmsg_len = CMSG_LEN(4);
	memset(CMSG_DATA(cm), 1, 4); /* four IPOPT_NOOP */
	say_rc("retopts", sendmsg(s, &m, 0));
}

static void mmsg(int s, char **ports)
{
	struct sockaddr_in to[4];
	struct iovec iov[4];
	struct mmsghdr v[4];
	char text[4][4];
	memset(v, 0, sizeof v);
	for (int i = 0; i < 4; i++) {
		to[i] = at(atoi(ports[i]));
		snprintf(text[i], sizeof text[i], "m%d", i);
		iov[i] = (struct iovec){text[i], 2};
		v[i].msg_hdr.msg_name = &to[i];
		v[i].msg_hdr.msg_namelen = sizeof to[i];
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
		v[i].msg_len = 77; /* to see which ones the call wrote */
	}
	int rc = sendmmsg(s, v, 4, 0);
	if (rc < 0)
		probe_say("sendmmsg errno=%s", probe_errno_name(errno));
	else
		probe_say("sendmmsg rc=%d len=%u,%u,%u,%u", rc, v[0].msg_len, v[1].msg_len, v[2].msg_len, v[3].msg_len);
}

static void full(int port)
{
	static char big[1400];
	struct sockaddr_in to = at(port);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int small = 1;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	long k = 0;
	int err = 0;
	for (; k < 10000; k++) {
		if (sendto(s, big, sizeof big, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to) < 0) {
			err = errno;
			break;
		}
	}
	probe_say("full nonblock errno=%s after=%ld", err ? probe_errno_name(err) : "none", k);
	long t0 = now_ns();
	ssize_t rc = sendto(s, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to);
	err = errno;
	long ms = (now_ns() - t0) / 1000000;
	if (rc < 0)
		probe_say("full block errno=%s ms=%ld", probe_errno_name(err), ms);
	else
		probe_say("full block ok ms=%ld", ms);
}

static int thread_ports[2], main_fd = -1;
static pid_t main_tid;

static void thread_sends(int s, const char *what)
{
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in to = at(thread_ports[i]);
		say_rc(what, sendto(s, what, strlen(what), 0, (struct sockaddr *)&to, sizeof to));
	}
}

/* the main thread is a zombie once its /proc/self/task entry says so */
static void wait_main_gone(void)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)main_tid);
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(path, "r");
		if (!f)
			return;
		size_t n = fread(line, 1, sizeof line - 1, f);
		fclose(f);
		line[n] = '\0';
		char *end = strrchr(line, ')');
		if (end && (end[2] == 'Z' || end[2] == 'X'))
			return;
		usleep(1000);
	}
}

static void *leader_gone_thread(void *unused)
{
	(void)unused;
	wait_main_gone();
	thread_sends(main_fd, "gone");
	exit(0);
}

static void *unshared_thread(void *unused)
{
	(void)unused;
	if (unshare(CLONE_FILES) < 0 || close(main_fd) < 0) {
		probe_say("unshared errno=%s", probe_errno_name(errno));
		return NULL;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s != main_fd) {
		probe_say("unshared fd=%d", s);
		return NULL;
	}
	thread_sends(s, "unshared");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 4 && (!strcmp(argv[1], "leader-gone") || !strcmp(argv[1], "unshared"))) {
		bool gone = !strcmp(argv[1], "leader-gone");
		thread_ports[0] = atoi(argv[2]);
		thread_ports[1] = atoi(argv[3]);
		main_tid = getpid();
		main_fd = gone ? socket(AF_INET, SOCK_DGRAM, 0) : open("/dev/null", O_RDONLY);
		pthread_t t;
		if (main_fd < 0 || pthread_create(&t, NULL, gone ? leader_gone_thread : unshared_thread, NULL) != 0)
			return 1;
		if (gone)
			syscall(SYS_exit, 0);
		pthread_join(t, NULL);
		return 0;
	}
	if (argc < 3)
		return PROBE_EXIT_USAGE;
	const char *op = argv[1];
	int port = atoi(argv[2]);
	if (!strcmp(op, "race") && argc >= 5)
		return race(port, atoi(argv[3]), atol(argv[4]));
	if (!strcmp(op, "race-msg") && argc >= 5)
		return race_sendmsg(port, atoi(argv[3]), atol(argv[4]));
	if (!strcmp(op, "sendto6")) {
		send6(op, "::1", port, "hello6");
		return 0;
	}
	if (!strcmp(op, "mapped")) {
		send6(op, "::ffff:127.0.0.1", port, "mapped");
		return 0;
	}
	if (!strcmp(op, "inet-on6")) {
		send6(op, NULL, port, "inet6");
		return 0;
	}
	if (!strcmp(op, "full")) {
		full(port);
		return 0;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = at(port);
	if (!strcmp(op, "sendto")) {
		say_rc(op, sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof to));
	} else if (!strcmp(op, "unspec")) {
		to.sin_family = AF_UNSPEC;
		say_rc(op, sendto(s, "unspec", 6, 0, (struct sockaddr *)&to, sizeof to));
	} else if (!strcmp(op, "sendmsg")) {
		send_pktinfo(s, port, op);
	} else if (!strcmp(op, "retopts")) {
		retopts(s, port);
	} else if (!strcmp(op, "sendmmsg") && argc >= 6) {
		mmsg(s, argv + 2);
	} else if (!strcmp(op, "connected")) {
		if (connect(s, (struct sockaddr *)&to, sizeof to) < 0) {
			say_rc("connect", -1);
			return 0;
		}
		say_rc("send", send(s, "conn-send", 9, 0));
		struct iovec iov = {"conn-msg", 8};
		struct msghdr m = {NULL, 0, &iov, 1, NULL, 0, 0};
		say_rc("sendmsg", sendmsg(s, &m, 0));
	} else if (!strcmp(op, "loop") && argc >= 4) {
		long n = atol(argv[3]);
		long t0 = now_ns(), ok = 0;
		for (long i = 0; i < n; i++)
			ok += sendto(s, "bench", 5, 0, (struct sockaddr *)&to, sizeof to) == 5;
		probe_say("loop n=%ld ok=%ld ns_per_send=%ld", n, ok, (now_ns() - t0) / (n ? n : 1));
	} else if (!strcmp(op, "loopmsg") && argc >= 4) {
		long n = atol(argv[3]);
		if (connect(s, (struct sockaddr *)&to, sizeof to) < 0)
			return PROBE_EXIT_USAGE;
		struct iovec iov = {"bench", 5};
		struct msghdr m = {NULL, 0, &iov, 1, NULL, 0, 0};
		long t0 = now_ns(), ok = 0;
		for (long i = 0; i < n; i++)
			ok += sendmsg(s, &m, 0) == 5;
		probe_say("loopmsg n=%ld ok=%ld ns_per_send=%ld", n, ok, (now_ns() - t0) / (n ? n : 1));
	} else {
		return PROBE_EXIT_USAGE;
	}
	return 0;
}
