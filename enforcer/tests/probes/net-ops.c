/* net-ops OP ARGS...
 *
 * One network operation; prints `OP ok` or `OP errno=NAME`. ADDR is an IPv4 or
 * IPv6 literal (::ffff:a.b.c.d for v4-mapped, on an AF_INET6 socket).
 *   connect ADDR PORT         TCP connect, then send "hello" (`send ok`)
 *   connect-nb ADDR PORT      non-blocking TCP connect, poll, then send
 *   sendto ADDR PORT          UDP sendto with an address
 *   sendmsg ADDR PORT         UDP sendmsg with msg_name
 *   fastopen ADDR PORT        TCP sendto(MSG_FASTOPEN)
 *   listen PORT               TCP bind 127.0.0.1:PORT + listen
 *   udp-bind PORT             UDP bind 127.0.0.1:PORT
 *   io_uring                  io_uring_setup
 *   race DENY_ADDR DENY_PORT OK_ADDR OK_PORT N
 *       a thread flips the sockaddr between the two destinations while the main
 *       thread connects N times to what the buffer says, sending "hello" each
 *       time it succeeds; prints `race n=N ok=K refused=R` */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

static socklen_t make_addr(const char *addr, const char *port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(port));
		return sizeof *in;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(port));
		return sizeof *in6;
	}
	probe_say("bad address %s", addr);
	exit(PROBE_EXIT_USAGE);
}

static int say(const char *op, int rc)
{
	if (rc < 0)
		probe_say("%s errno=%s", op, probe_errno_name(errno));
	else
		probe_say("%s ok", op);
	return rc;
}

static void send_hello(int s)
{
	say("send", (int)send(s, "hello", 5, MSG_NOSIGNAL));
}

static struct sockaddr_storage race_addr[2];
static socklen_t race_len;
static struct sockaddr_storage shared;
static atomic_int stop;

static void *flipper(void *unused)
{
	(void)unused;
	for (unsigned i = 0; !atomic_load(&stop); i++)
		memcpy((void *)&shared, &race_addr[i & 1], race_len);
	return NULL;
}

static int race(char **a)
{
	make_addr(a[0], a[1], &race_addr[0]);
	race_len = make_addr(a[2], a[3], &race_addr[1]);
	long n = atol(a[4]);
	memcpy(&shared, &race_addr[1], race_len);
	pthread_t t;
	pthread_create(&t, NULL, flipper, NULL);
	long ok = 0, refused = 0;
	for (long i = 0; i < n; i++) {
		int s = socket(race_addr[0].ss_family, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&shared, race_len) == 0) {
			ok++;
			send(s, "hello", 5, MSG_NOSIGNAL);
		} else if (errno == EPERM) {
			refused++;
		}
		close(s);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	probe_say("race n=%ld ok=%ld refused=%ld", n, ok, refused);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return PROBE_EXIT_USAGE;
	const char *op = argv[1];
	struct sockaddr_storage ss;
	if (!strcmp(op, "io_uring")) {
		char params[120] = {0};
		return say(op, (int)syscall(SYS_io_uring_setup, 4, params)) < 0;
	}
	if (!strcmp(op, "race") && argc >= 7)
		return race(argv + 2);
	if ((!strcmp(op, "listen") || !strcmp(op, "udp-bind")) && argc >= 3) {
		socklen_t len = make_addr("127.0.0.1", argv[2], &ss);
		int s = socket(AF_INET, !strcmp(op, "listen") ? SOCK_STREAM : SOCK_DGRAM, 0);
		int one = 1;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (say("bind", bind(s, (struct sockaddr *)&ss, len)) < 0 || !strcmp(op, "udp-bind"))
			return 0;
		say("listen", listen(s, 4));
		return 0;
	}
	if (argc < 4)
		return PROBE_EXIT_USAGE;
	socklen_t len = make_addr(argv[2], argv[3], &ss);
	int family = ss.ss_family;
	if (!strcmp(op, "connect") || !strcmp(op, "connect-nb")) {
		int nb = !strcmp(op, "connect-nb");
		int s = socket(family, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
		int rc = connect(s, (struct sockaddr *)&ss, len);
		if (nb && rc < 0 && errno == EINPROGRESS) {
			struct pollfd p = {s, POLLOUT, 0};
			poll(&p, 1, 2000);
			int err = 0;
			socklen_t l = sizeof err;
			getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l);
			errno = err;
			rc = err ? -1 : 0;
		}
		if (say(op, rc) == 0)
			send_hello(s);
		return 0;
	}
	if (!strcmp(op, "sendto")) {
		int s = socket(family, SOCK_DGRAM, 0);
		say(op, (int)sendto(s, "hello", 5, 0, (struct sockaddr *)&ss, len));
		return 0;
	}
	if (!strcmp(op, "sendmsg")) {
		int s = socket(family, SOCK_DGRAM, 0);
		struct iovec iov = {"hello", 5};
		struct msghdr m = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
		say(op, (int)sendmsg(s, &m, 0));
		return 0;
	}
	if (!strcmp(op, "fastopen")) {
		int s = socket(family, SOCK_STREAM, 0);
		say(op, (int)sendto(s, "hello", 5, MSG_FASTOPEN, (struct sockaddr *)&ss, len));
		return 0;
	}
	probe_say("unknown op %s", op);
	return PROBE_EXIT_USAGE;
}
