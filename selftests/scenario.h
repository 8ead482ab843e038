/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the scenario tests (loss_test.c, rst_test.c): a two-sided
 * topology, either one fresh network namespace over loopback or two
 * namespaces joined by veth, with per-side counters, sysctls and fault
 * rules; crafted segments sent through a raw IP socket; polling with
 * deadlines.
 *
 * Every test runs in its own freshly created namespaces, so the sysctls it
 * shrinks and the fault rules it writes vanish with them: nothing needs
 * restoring in the namespace the suite runs in.
 */
#ifndef _XTCP_SCENARIO_H
#define _XTCP_SCENARIO_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include "xtcp_lib.h"

#define SRV_PORT	5000

/* Poll EXPR every 10 ms until it holds or MS pass; evaluates to its value. */
#define WAIT_FOR(ms, expr) ({						\
	long long __dl = xtcp_now_ms() + (ms);				\
	bool __ok;							\
	while (!(__ok = (expr)) && xtcp_now_ms() < __dl)			\
		xtcp_sleep_ms(10);						\
	__ok;								\
})

/* A socket created in @side's namespace. */
static inline int topo_socket(const struct topo *t, int side, int type,
			      int proto)
{
	int fd;

	if (topo_enter(t, side))
		return -1;
	fd = socket(proto == -1 ? t->family : AF_INET, type,
		    proto == -1 ? 0 : proto);
	topo_leave(t);
	return fd;
}

static inline int xsocket(const struct topo *t, int side)
{
	return topo_socket(t, side, SOCK_STREAM, -1);
}

static inline struct sockaddr_xtcp xaddr(const struct topo *t, int side,
					 int port)
{
	struct sockaddr_xtcp a;

	memset(&a, 0, sizeof(a));
	a.sxtcp_family = t->family;
	a.sxtcp_port = htons(port);
	a.sxtcp_addr = t->addr[side];
	return a;
}

/* A listener on the server's address, port SRV_PORT. */
static inline int xlisten(const struct topo *t, int backlog)
{
	struct sockaddr_xtcp a = xaddr(t, SRV, SRV_PORT);
	int fd = xsocket(t, SRV), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Non-blocking connect from the client's namespace to the server. */
static inline int xconnect_nb(const struct topo *t)
{
	struct sockaddr_xtcp a = xaddr(t, SRV, SRV_PORT);
	int fd = xsocket(t, CLI);

	if (fd < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int xport(int fd)
{
	struct sockaddr_xtcp a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sxtcp_port);
}

static inline int xinfo(int fd, struct xtcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return getsockopt(fd, SOL_XTCP, XTCP_INFO, info, &len);
}

static inline int xstate(int fd)
{
	struct xtcp_info info;

	return xinfo(fd, &info) ? -1 : info.xtcpi_state;
}

static inline int so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

/* Wait up to @ms for a pending accept; the accepted fd or -1. */
static inline int xaccept_wait(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(lfd, NULL, NULL);
}

/* Wait up to @ms for a non-blocking connect to finish; its SO_ERROR. */
static inline int xconnect_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, ms) != 1)
		return ETIME;
	return so_error(fd);
}

static inline long long topo_counter(const struct topo *t, int side,
				     const char *name)
{
	long long v;

	if (topo_enter(t, side))
		return -1;
	v = xtcp_counter(name);
	topo_leave(t);
	return v;
}

static inline long topo_state(const struct topo *t, int side,
			      const char *state, long *entered)
{
	long v;

	if (topo_enter(t, side))
		return -1;
	v = xtcp_state_count(state, entered);
	topo_leave(t);
	return v;
}

static inline int topo_sysctl(const struct topo *t, int side,
			      const char *name, int val)
{
	char path[128];
	int ret = -1;
	FILE *f;

	if (topo_enter(t, side))
		return -1;
	snprintf(path, sizeof(path), "/proc/sys/net/xtcp/%s", name);
	f = fopen(path, "w");
	if (f) {
		ret = fprintf(f, "%d\n", val) > 0 ? 0 : -1;
		if (fclose(f))
			ret = -1;
	}
	topo_leave(t);
	return ret;
}

/* Apply to both sides (once over loopback). */
static inline int topo_sysctl2(const struct topo *t, const char *name,
			       int val)
{
	return topo_sysctl(t, CLI, name, val) ||
	       (t->veth && topo_sysctl(t, SRV, name, val)) ? -1 : 0;
}

/* Write one fault rule in @side's namespace: 0 or -errno. */
static inline int topo_fault(const struct topo *t, int side,
			     const char *fmt, ...)
{
	char line[256];
	int fd, ret = 0;
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (topo_enter(t, side))
		return -EBADF;
	fd = open("/proc/net/xtcp/faults", O_WRONLY | O_CLOEXEC);
	topo_leave(t);
	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* "seen" and "fired" of rule @id in @side's namespace; -1 if absent. */
static inline int topo_fault_stats(const struct topo *t, int side, int id,
				   long long *seen, long long *fired)
{
	char line[256], *p;
	int ret = -1;
	FILE *f;

	if (topo_enter(t, side))
		return -1;
	f = fopen("/proc/net/xtcp/faults", "r");
	topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (atoi(line) != id)
			continue;
		p = strstr(line, " seen=");
		if (p && sscanf(p, " seen=%lld fired=%lld", seen, fired) == 2)
			ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* ---- crafted segments ---------------------------------------------- */

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* The wire header: TCP's layout (Documentation/protocol.md). */
struct xseg {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;		/* words << 4 */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg;
} __attribute__((packed));

static inline uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

/* Checksum over the IPv4 pseudo-header and @len bytes of @seg. */
static inline uint16_t xseg_csum(struct in_addr src, struct in_addr dst,
				 int proto, const void *seg, size_t len)
{
	uint8_t pseudo[12];
	uint32_t sum;

	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = len >> 8;
	pseudo[11] = len & 0xff;
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, seg, len);
	return htons(csum_fold32(sum));
}

/*
 * Build a segment in @buf: header (doff 5) plus @dlen bytes of @data, with
 * a correct checksum from @from to @to. Returns its length.
 */
static inline size_t xseg_build(const struct topo *t, uint8_t *buf,
				int from, int to, int sport, int dport,
				uint32_t seq, uint32_t ack, uint8_t flags,
				const void *data, size_t dlen)
{
	struct xseg *h = (struct xseg *)buf;

	memset(h, 0, sizeof(*h));
	h->sport = htons(sport);
	h->dport = htons(dport);
	h->seq = htonl(seq);
	h->ack = htonl(ack);
	h->doff = (sizeof(*h) / 4) << 4;
	h->flags = flags;
	h->window = htons(65535);
	if (dlen)
		memcpy(buf + sizeof(*h), data, dlen);
	h->check = xseg_csum(t->addr[from], t->addr[to], t->ipproto, buf,
			     sizeof(*h) + dlen);
	return sizeof(*h) + dlen;
}

/* A raw IP socket of protocol ipproto in @side's namespace. */
static inline int raw_socket(const struct topo *t, int side)
{
	return topo_socket(t, side, SOCK_RAW, t->ipproto);
}

/* Send @len bytes as the payload of an IPv4 packet from @from to @to. */
static inline int raw_send(const struct topo *t, int rawfd, int to,
			   const void *seg, size_t len)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };

	dst.sin_addr = t->addr[to];
	return sendto(rawfd, seg, len, 0, (struct sockaddr *)&dst,
		      sizeof(dst)) == (ssize_t)len ? 0 : -1;
}

/*
 * Receive on a raw socket until a segment from @sport to @dport with all
 * of @flags set arrives (or @ms pass); copies its header to @out.
 */
static inline int raw_wait(int rawfd, int sport, int dport, uint8_t flags,
			   int ms, struct xseg *out)
{
	long long dl = xtcp_now_ms() + ms;
	uint8_t buf[2048];

	for (;;) {
		struct pollfd p = { .fd = rawfd, .events = POLLIN };
		const struct iphdr *ip = (const struct iphdr *)buf;
		const struct xseg *h;
		long long left = dl - xtcp_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return -1;
		n = recv(rawfd, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(*ip) ||
		    n < (ssize_t)(ip->ihl * 4 + sizeof(*h)))
			continue;
		h = (const struct xseg *)(buf + ip->ihl * 4);
		if (ntohs(h->sport) == sport && ntohs(h->dport) == dport &&
		    (h->flags & flags) == flags) {
			if (out)
				memcpy(out, h, sizeof(*out));
			return 0;
		}
	}
}

#endif /* _XTCP_SCENARIO_H */
