// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_wire - the traffic of the two-host lane (scripts/check-wire): one
 * end of one connection per run, on xtcp or (-T) on Linux TCP as the
 * control. Prints "key=value" lines for the calling script to check.
 *
 *   xtcp_wire [-T] serve PORT BYTES  accept one connection, read it to EOF
 *                                    checking the pattern, send BYTES of
 *                                    pattern back, close
 *   xtcp_wire [-T] send ADDR PORT BYTES|-t SECS
 *                                    connect, send BYTES (or for SECS) of
 *                                    pattern, shut down the sending side,
 *                                    read the reply to EOF checking it, close
 *   xtcp_wire [-T] echo PORT         accept one connection, echo it
 *   xtcp_wire [-T] hold ADDR PORT FILE
 *                                    connect, exchange 1000 bytes with an
 *                                    echo server, wait until FILE exists,
 *                                    send again: the outcome of the send and
 *                                    of the read that follows (errno names)
 *   xtcp_wire [-T] connect ADDR PORT one connect(): its errno and duration
 *   xtcp_wire sniff IFACE SECS       for SECS seconds, one line per xtcp
 *                                    SYN or SYN-ACK crossing IFACE (either
 *                                    way): "syn dir=in|out kind=SYN|SYN-ACK
 *                                    df=0|1 mss=N" (N: its MSS option, 0
 *                                    if none)
 *
 * The pattern is a function of the stream offset, so the receiver checks
 * every byte where it lands: "intact=1" means every byte arrived, in order
 * and unchanged; "bad_offset=N" names the first one that did not.
 * Exit status 0 when the run did what the subcommand describes, 1 if not,
 * 2 on bad usage; "connect" and "hold" exit 0 whatever errno they report.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xtcp_lib.h"

#define CHUNK		65536
#define DEADLINE_MS	600000
#define HOLD_BYTES	1000

static bool use_tcp;

/* Byte @off of the stream: a 32-bit mix of its word's index. */
static unsigned char pattern(unsigned long long off)
{
	unsigned int x = (unsigned int)(off >> 2) * 2654435761u;

	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return x >> (8 * (off & 3));
}

static void fill(unsigned char *buf, size_t len, unsigned long long off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i);
}

static const char *errname(int err)
{
	switch (err) {
	case 0: return "0";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPIPE: return "EPIPE";
	case EMSGSIZE: return "EMSGSIZE";
	default: return strerror(err);
	}
}

static int new_socket(void)
{
	if (use_tcp)
		return socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	return socket(xtcp_family(), SOCK_STREAM, 0);
}

/* The family goes in as the socket's own: AF_INET or xtcp's. */
static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in a = { 0 };

	a.sin_family = use_tcp ? AF_INET : xtcp_family();
	a.sin_port = htons(atoi(port));
	if (ip && inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "xtcp_wire: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static int accept_one(const char *port)
{
	struct sockaddr_in a = addr_of(NULL, port);
	int one = 1, lfd, fd;

	lfd = new_socket();
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4)) {
		printf("error=listen %s\n", strerror(errno));
		exit(1);
	}
	printf("listening=1\n");
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		printf("error=accept %s\n", strerror(errno));
		exit(1);
	}
	close(lfd);
	return fd;
}

static int connect_to(const char *ip, const char *port, int *err)
{
	struct sockaddr_in a = addr_of(ip, port);
	int fd = new_socket();

	if (fd < 0) {
		printf("error=socket %s\n", strerror(errno));
		exit(1);
	}
	*err = 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

/* Read to EOF checking the pattern; prints what arrived. */
static int drain(int fd, const char *who)
{
	static unsigned char buf[CHUNK], want[CHUNK];
	unsigned long long got = 0, bad = ~0ULL;
	ssize_t n, i;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (bad == ~0ULL) {
			fill(want, n, got);
			for (i = 0; i < n; i++) {
				if (buf[i] != want[i]) {
					bad = got + i;
					break;
				}
			}
		}
		got += n;
	}
	printf("%s_bytes=%llu\n", who, got);
	if (n < 0)
		printf("%s_error=%s\n", who, errname(errno));
	if (bad != ~0ULL)
		printf("%s_bad_offset=%llu\n", who, bad);
	printf("%s_intact=%d\n", who, n == 0 && bad == ~0ULL);
	return n == 0 && bad == ~0ULL ? 0 : 1;
}

/* Send @bytes of pattern, or for @secs seconds when @secs > 0. */
static int pump(int fd, unsigned long long bytes, int secs)
{
	static unsigned char buf[CHUNK];
	unsigned long long off = 0;
	long long end = xtcp_now_ms() + secs * 1000LL;
	size_t len;
	ssize_t n;

	while (secs > 0 ? xtcp_now_ms() < end : off < bytes) {
		len = sizeof(buf);
		if (secs <= 0 && bytes - off < len)
			len = bytes - off;
		fill(buf, len, off);
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("sent_bytes=%llu\nsend_error=%s\n", off,
			       errname(errno));
			return 1;
		}
		off += n;
	}
	printf("sent_bytes=%llu\n", off);
	return 0;
}

static int do_serve(char **argv)
{
	int fd = accept_one(argv[0]), rc;

	rc = drain(fd, "received");
	rc |= pump(fd, strtoull(argv[1], NULL, 0), 0);
	close(fd);
	return rc;
}

static int do_send(char **argv)
{
	unsigned long long bytes = 0;
	int fd, err, secs = 0, rc, mtu = 0;
	socklen_t len = sizeof(mtu);
	long long t0 = xtcp_now_ms();

	if (!strcmp(argv[2], "-t"))
		secs = argv[3] ? atoi(argv[3]) : 0;
	else
		bytes = strtoull(argv[2], NULL, 0);
	fd = connect_to(argv[0], argv[1], &err);
	if (fd < 0) {
		printf("connect_error=%s\n", errname(err));
		return 1;
	}
	rc = pump(fd, bytes, secs);
	shutdown(fd, SHUT_WR);
	rc |= drain(fd, "reply");
	getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len);
	printf("path_mtu=%d\nms=%lld\n", mtu, xtcp_now_ms() - t0);
	close(fd);
	return rc;
}

static int do_echo(char **argv)
{
	static unsigned char buf[CHUNK];
	int fd = accept_one(argv[0]);
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			return 1;
	close(fd);
	return 0;
}

/* One write and the read that follows; prints their errno names. */
static void exchange(int fd, const char *tag)
{
	static unsigned char buf[HOLD_BYTES];
	ssize_t n, got = 0;

	fill(buf, sizeof(buf), 0);
	n = write(fd, buf, sizeof(buf));
	printf("%s_send=%s\n", tag, n < 0 ? errname(errno) : "0");
	while (got < (ssize_t)sizeof(buf)) {
		n = read(fd, buf, sizeof(buf) - got);
		if (n <= 0)
			break;
		got += n;
	}
	printf("%s_recv=%s\n%s_recv_bytes=%zd\n", tag,
	       n < 0 ? errname(errno) : "0", tag, got);
	fflush(stdout);
}

static int do_hold(char **argv)
{
	long long t0, dl = xtcp_now_ms() + DEADLINE_MS;
	struct stat st;
	int fd, err;

	fd = connect_to(argv[0], argv[1], &err);
	if (fd < 0) {
		printf("connect_error=%s\n", errname(err));
		return 1;
	}
	exchange(fd, "before");
	printf("holding=1\n");
	fflush(stdout);
	while (stat(argv[2], &st) && xtcp_now_ms() < dl)
		xtcp_sleep_ms(100);
	t0 = xtcp_now_ms();
	exchange(fd, "after");
	printf("after_ms=%lld\n", xtcp_now_ms() - t0);
	close(fd);
	return 0;
}

static int do_connect(char **argv)
{
	long long t0 = xtcp_now_ms();
	int fd, err;

	fd = connect_to(argv[0], argv[1], &err);
	printf("connect_errno=%s\nconnect_ms=%lld\n", errname(err),
	       xtcp_now_ms() - t0);
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The SYN-bearing segments of xtcp's protocol on one interface. */
static int do_sniff(char **argv)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),	/* outgoing too */
		.sll_ifindex = if_nametoindex(argv[0]),
	};
	long long dl = xtcp_now_ms() + atoi(argv[1]) * 1000LL;
	unsigned char buf[256];
	socklen_t alen;
	struct iphdr *ip = (struct iphdr *)buf;
	unsigned char *th, *opt;
	int fd, proto = xtcp_ipproto();
	ssize_t n;

	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	if (fd < 0 || !ll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&ll, sizeof(ll))) {
		printf("error=sniff %s\n", strerror(errno));
		return 1;
	}
	printf("sniffing=1\n");
	while (xtcp_now_ms() < dl) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		alen = sizeof(ll);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ll,
			     &alen);
		if (ll.sll_protocol != htons(ETH_P_IP) ||
		    n < (ssize_t)sizeof(*ip) || ip->protocol != proto ||
		    n < ip->ihl * 4 + 20)
			continue;
		th = buf + ip->ihl * 4;
		if (!(th[13] & 0x02))
			continue;
		opt = th + 20;
		printf("syn dir=%s kind=%s df=%d mss=%d\n",
		       ll.sll_pkttype == PACKET_OUTGOING ? "out" : "in",
		       th[13] & 0x10 ? "SYN-ACK" : "SYN",
		       !!(ntohs(ip->frag_off) & IP_DF),
		       (th[12] >> 4) > 5 && n >= opt + 4 - buf && opt[0] == 2 ?
		       opt[2] << 8 | opt[3] : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int args;
		int (*fn)(char **argv);
	} cmds[] = {
		{ "serve", 2, do_serve }, { "send", 3, do_send },
		{ "echo", 1, do_echo }, { "hold", 3, do_hold },
		{ "connect", 2, do_connect }, { "sniff", 2, do_sniff },
	};
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "-T")) {
		use_tcp = true;
		argv++;
		argc--;
	}
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name) && argc - 2 >= cmds[i].args)
			return cmds[i].fn(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of xtcp_wire.c\n");
	return 2;
}
