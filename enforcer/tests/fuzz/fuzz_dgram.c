/* libFuzzer target for the datagram-send copier (src/dgram.c): the input is a
 * call (a few header bytes: which call, socket family and type, arguments) and
 * the tracee's memory it points into, mapped at BASE. Contract: every result is 0
 * or a -errno; a copy stays within its bounds (payload, name, control); every
 * read is inside the memory given (ASan checks the copies); an IP destination is
 * AF_INET or AF_INET6; the control-message walk answers 0, -EINVAL or -EPERM,
 * the same every time. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"

#include "dgram.h"

#define BASE 0x10000u

struct image {
	const uint8_t *data;
	size_t size;
};

static bool read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *m = ctx;
	if (addr < BASE || addr - BASE > m->size || len > m->size - (addr - BASE))
		return false;
	memcpy(buf, m->data + (addr - BASE), len);
	return true;
}

static uint64_t word(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, sizeof w);
	/* small values point into the image; the top bit keeps huge ones reachable */
	return w & 0x80000000u ? (uint64_t)w << 16 : BASE + (w & 0xffff);
}

static unsigned char payload[DGRAM_PAYLOAD_MAX];
static struct dgram d;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 20)
		return 0;
	struct image img = {data + 20, size - 20};
	struct dgram_mem m = {read_image, &img};
	int domain = data[1] & 1 ? AF_INET6 : AF_INET;
	int type = data[1] & 2 ? SOCK_RAW : SOCK_DGRAM;
	int rc;
	if (data[0] & 1) {
		uint32_t len, alen;
		memcpy(&len, data + 8, 4);
		memcpy(&alen, data + 16, 4);
		rc = dgram_read_sendto(&m, word(data + 4), len & 0x1ffff, data[2] & 1 ? word(data + 12) : 0, alen, &d,
				       payload);
	} else {
		struct dgram_khdr h;
		if (!read_image(&img, word(data + 4), &h, sizeof h))
			return 0;
		rc = dgram_read_msghdr(&m, &h, &d, payload);
	}
	CHECK(rc == 0 || (rc < 0 && rc > -4096));
	if (rc < 0)
		return 0;
	CHECK(d.len <= DGRAM_PAYLOAD_MAX && d.namelen <= DGRAM_NAME_MAX && d.controllen <= DGRAM_CONTROL_MAX);
	unsigned sum = 0;
	for (size_t i = 0; i < d.len; i++)
		sum += payload[i];
	(void)sum;
	int level = 0, ctype = 0, level2 = 0, ctype2 = 0;
	rc = dgram_check_control(&d, &level, &ctype);
	CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM);
	/* the copy is what the kernel will walk: the same answer every time */
	CHECK(dgram_check_control(&d, &level2, &ctype2) == rc && level2 == level && ctype2 == ctype);
	struct net_addr a;
	uint16_t port;
	rc = dgram_destination(domain, type, &d, &a, &port);
	CHECK(rc == 0 || rc == 1 || (rc < 0 && rc > -4096));
	if (rc == 1)
		CHECK(a.family == AF_INET || a.family == AF_INET6);
	if (rc == 0 && domain == AF_INET)
		CHECK(!d.has_name);
	return 0;
}
