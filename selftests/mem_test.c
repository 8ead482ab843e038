// SPDX-License-Identifier: GPL-2.0
/*
 * Receive memory under attack (issue 11, "Memory"). A raw IP socket with
 * the server's 4-tuple floods an established connection's client with
 * 20 000 one-byte segments inside its window, beyond a one-byte hole, so
 * that nothing is ever delivered and everything waits out of order:
 * ascending every other byte, descending every other byte, and descending
 * contiguous. sk_rmem_alloc (SO_MEMINFO), sampled during the flood, must
 * stay within SO_RCVBUF; the receive path must not be slow for it (wall
 * time and softirq ticks are logged and bounded loosely against Linux
 * TCP's); then the server sends 256 KiB and the client must read every
 * byte exactly. The flood's bytes are the ones the server will send at
 * those offsets, so whatever of them survives is correct data, and a
 * mistake in collapsing or pruning shows as a wrong byte. Each case runs
 * at xtcp and then, the same way, at Linux TCP, whose memory must stay
 * bounded too.
 *
 * XTCP_OOO_SEGMENTS sets the flood's size (default 20 000).
 */
#include <pthread.h>
#include <netinet/ip.h>
#include <linux/sock_diag.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO	55
#endif

#define RCVBUF_SET	65536		/* the kernel doubles it */
#define STREAM_LEN	(256 * 1024)
#define SAMPLE_EVERY	250

enum pattern { ASC_GAPPED, DESC_GAPPED, DESC_CONTIG };

FIXTURE(mem)
{
	struct xtcp_topo t;
};

FIXTURE_VARIANT(mem)
{
	enum pattern pattern;
};

FIXTURE_VARIANT_ADD(mem, ascending_gapped) { .pattern = ASC_GAPPED };
FIXTURE_VARIANT_ADD(mem, descending_gapped) { .pattern = DESC_GAPPED };
FIXTURE_VARIANT_ADD(mem, descending_contiguous) { .pattern = DESC_CONTIG };

FIXTURE_SETUP(mem)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
}

FIXTURE_TEARDOWN(mem)
{
	xtcp_topo_teardown(&self->t);
}

/* The byte at stream offset @k (from RCV.NXT at the attack). */
static uint8_t pat(uint32_t k)
{
	return (uint8_t)(k * 131u + (k >> 8) * 7u + 29u);
}

static int segments(void)
{
	const char *e = getenv("XTCP_OOO_SEGMENTS");

	return e && atoi(e) > 0 ? atoi(e) : 20000;
}

/* Stream offset of the @i-th of @n flood segments. */
static uint32_t flood_off(enum pattern p, int i, int n)
{
	switch (p) {
	case ASC_GAPPED:
		return 2 + 2 * (uint32_t)i;
	case DESC_GAPPED:
		return 2 + 2 * (uint32_t)(n - 1 - i);
	default:
		return (uint32_t)(n - i);
	}
}

static int meminfo(int fd, uint32_t *rmem, uint32_t *rcvbuf)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
		return -1;
	*rmem = mi[SK_MEMINFO_RMEM_ALLOC];
	*rcvbuf = mi[SK_MEMINFO_RCVBUF];
	return 0;
}

/* Softirq time of all CPUs so far, in USER_HZ ticks (/proc/stat). */
static long long softirq_ticks(void)
{
	long long v[7] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
		v[6] = -1;
	fclose(f);
	return v[6];
}

/* A counter of /proc/net/netstat ("TcpExt" @name) in @t's namespace. */
static long long tcpext(const struct xtcp_topo *t, const char *name)
{
	char names[4096], vals[4096], *sn, *sv, *n, *v;
	long long ret = -1;
	FILE *f;

	if (xtcp_topo_enter(t, CLI))
		return -1;
	f = fopen("/proc/net/netstat", "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) &&
		       (v = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, name))
				ret = atoll(v);
	}
	fclose(f);
	return ret;
}

/*
 * Read a raw socket's queue for up to @ms: the last segment from @sport
 * to @dport and its payload length. 0 if one was found.
 */
static int raw_last(int raw, int sport, int dport, int ms, struct xseg *out,
		    uint32_t *plen)
{
	long long dl = xtcp_now_ms() + ms;
	bool found = false;
	uint8_t buf[2048];

	for (;;) {
		const struct iphdr *ip = (const struct iphdr *)buf;
		struct pollfd p = { .fd = raw, .events = POLLIN };
		long long left = dl - xtcp_now_ms();
		const struct xseg *h;
		ssize_t n;

		if (poll(&p, 1, found ? 0 : (left > 0 ? left : 0)) != 1)
			return found ? 0 : -1;
		n = recv(raw, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < (ssize_t)sizeof(*ip) ||
		    n < (ssize_t)(ip->ihl * 4 + sizeof(*h)))
			continue;
		h = (const struct xseg *)(buf + ip->ihl * 4);
		if (ntohs(h->sport) != sport || ntohs(h->dport) != dport)
			continue;
		memcpy(out, h, sizeof(*out));
		*plen = n - ip->ihl * 4 - (h->doff >> 4) * 4;
		found = true;
	}
}

struct writer {
	int fd;
	int ret;
};

static void *write_stream(void *arg)
{
	struct writer *w = arg;
	static uint8_t buf[STREAM_LEN];
	size_t off = 0;
	ssize_t n;
	uint32_t k;

	for (k = 0; k < STREAM_LEN; k++)
		buf[k] = pat(k);
	while (off < STREAM_LEN) {
		n = send(w->fd, buf + off, STREAM_LEN - off, MSG_NOSIGNAL);
		if (n <= 0) {
			w->ret = -1;
			return NULL;
		}
		off += n;
	}
	w->ret = 0;
	return NULL;
}

/* Read the whole stream within @ms; the offset of the first wrong byte. */
static long read_stream(int fd, int ms, long *got)
{
	static uint8_t buf[65536];
	long long dl = xtcp_now_ms() + ms;
	long bad = -1;
	ssize_t n, i;

	*got = 0;
	while (*got < STREAM_LEN && xtcp_now_ms() < dl) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 1000) != 1)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		for (i = 0; i < n && bad < 0; i++)
			if (buf[i] != pat(*got + i))
				bad = *got + i;
		*got += n;
	}
	return bad;
}

struct result {
	uint32_t max_rmem, rcvbuf, end_rmem;
	long long ms, ticks;
};

/*
 * The attack on a connection of @family (0: xtcp, AF_INET: TCP) over
 * loopback; the stream afterwards must be exact.
 */
static void flood_case(struct __test_metadata *_metadata,
		       FIXTURE_DATA(mem) *self,
		       const FIXTURE_VARIANT(mem) *variant, int family,
		       struct result *r)
{
	struct xtcp_topo *t = &self->t;
	struct xtcp_topo pt = *t;
	int c, s, l, raw, sniff, cport, sport, i, n = segments();
	int small = 4096, rb = RCVBUF_SET;
	uint32_t rnxt, ack, rmem, rcvbuf, plen;
	struct writer w = { .ret = -1 };
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	long long t0, k0;
	struct xtcp_info info;
	char buf[8];
	pthread_t th;
	long got, bad;
	struct xseg h;
	uint8_t seg[64];
	size_t len;

	pt.ipproto = family == AF_INET ? IPPROTO_TCP : t->ipproto;
	memset(r, 0, sizeof(*r));
	sniff = xtcp_raw_socket(&pt, CLI);
	ASSERT_GE(sniff, 0);
	raw = xtcp_raw_socket(&pt, SRV);
	ASSERT_GE(raw, 0);
	/* The flood's own copies come back to it over loopback: keep few. */
	setsockopt(raw, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	ASSERT_EQ(0, xtcp_pair(t, family, &c, &s, &l));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)));
	cport = xtcp_local_port(c);
	ASSERT_EQ(0, getsockname(s, (struct sockaddr *)&sa, &salen));
	sport = ntohs(sa.sin_port);

	ASSERT_EQ(4, send(c, "ping", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(s, buf, 4, MSG_WAITALL));
	ASSERT_EQ(4, send(s, "pong", 4, MSG_NOSIGNAL));
	ASSERT_EQ(4, recv(c, buf, 4, MSG_WAITALL));
	xtcp_sleep_ms(300);	/* delayed ACKs out */

	if (family == AF_INET) {
		ASSERT_EQ(0, raw_last(sniff, sport, cport, 5000, &h, &plen));
		rnxt = ntohl(h.seq) + plen;
		ack = ntohl(h.ack);
	} else {
		ASSERT_EQ(0, xtcp_get_info(c, &info));
		rnxt = info.xtcpi_rcv_nxt;
		ack = info.xtcpi_snd_nxt;
	}
	close(sniff);

	t0 = xtcp_now_ms();
	k0 = softirq_ticks();
	for (i = 0; i < n; i++) {
		uint32_t off = flood_off(variant->pattern, i, n);
		uint8_t b = pat(off);

		len = xtcp_seg_build(&pt, seg, SRV, CLI, sport, cport,
				     rnxt + off, ack, F_ACK, &b, 1);
		ASSERT_EQ(0, xtcp_raw_send(&pt, raw, CLI, seg, len));
		if (i % SAMPLE_EVERY == SAMPLE_EVERY - 1) {
			ASSERT_EQ(0, meminfo(c, &rmem, &rcvbuf));
			if (rmem > r->max_rmem)
				r->max_rmem = rmem;
		}
	}
	if (family != AF_INET)
		XTCP_WAIT_FOR(10000, xtcp_counter(t, CLI, "OfoQueue") >= n);
	else
		xtcp_sleep_ms(500);
	r->ms = xtcp_now_ms() - t0;
	r->ticks = softirq_ticks() - k0;
	ASSERT_EQ(0, meminfo(c, &rmem, &rcvbuf));
	if (rmem > r->max_rmem)
		r->max_rmem = rmem;
	r->rcvbuf = rcvbuf;
	close(raw);

	/* The connection goes on, byte-exact. */
	w.fd = s;
	ASSERT_EQ(0, pthread_create(&th, NULL, write_stream, &w));
	bad = read_stream(c, 60000, &got);
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(STREAM_LEN, got);
	EXPECT_EQ(-1, bad) TH_LOG("first wrong byte at offset %ld", bad);
	ASSERT_EQ(0, meminfo(c, &rmem, &rcvbuf));
	r->end_rmem = rmem;
	if (family != AF_INET)
		EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(c));
	close(c);
	close(s);
	close(l);
}

TEST_F_TIMEOUT(mem, ooo_flood_bounded, 600)
{
	static const char *const names[] = {
		"OfoQueue", "OfoDrop", "DupData", "PruneCalled",
		"RcvCollapsed", "OfoPruned", "RcvPruned",
	};
	static const char *const tnames[] = {
		"TCPOFOQueue", "TCPOFODrop", "PruneCalled", "TCPRcvCollapsed",
		"OfoPruned", "RcvPruned",
	};
	long long before[7], delta[7], tbefore[6], tdelta[6];
	struct result x, tcp;
	int i, n = segments();

	for (i = 0; i < 7; i++)
		before[i] = xtcp_counter(&self->t, CLI, names[i]);
	flood_case(_metadata, self, variant, 0, &x);
	for (i = 0; i < 7; i++) {
		delta[i] = xtcp_counter(&self->t, CLI, names[i]) - before[i];
		TH_LOG("xtcp %s +%lld", names[i], delta[i]);
	}
	TH_LOG("xtcp: %d segments in %lld ms, %lld softirq ticks; rmem max %u of rcvbuf %u, %u after reading",
	       n, x.ms, x.ticks, x.max_rmem, x.rcvbuf, x.end_rmem);

	for (i = 0; i < 6; i++)
		tbefore[i] = tcpext(&self->t, tnames[i]);
	flood_case(_metadata, self, variant, AF_INET, &tcp);
	for (i = 0; i < 6; i++) {
		tdelta[i] = tcpext(&self->t, tnames[i]) - tbefore[i];
		TH_LOG("tcp %s +%lld", tnames[i], tdelta[i]);
	}
	TH_LOG("tcp: %d segments in %lld ms, %lld softirq ticks; rmem max %u of rcvbuf %u, %u after reading",
	       n, tcp.ms, tcp.ticks, tcp.max_rmem, tcp.rcvbuf, tcp.end_rmem);

	/* xtcp: strictly within the buffer; TCP may pass it by one skb. */
	EXPECT_EQ(2 * RCVBUF_SET, x.rcvbuf);
	EXPECT_LE(x.max_rmem, x.rcvbuf);
	EXPECT_GT(x.max_rmem, x.rcvbuf / 2);	/* the flood did fill it */
	EXPECT_LE(tcp.max_rmem, tcp.rcvbuf + tcp.rcvbuf / 8);
	EXPECT_EQ(n, delta[0]);			/* every one arrived */
	EXPECT_GT(delta[3], 0);			/* PruneCalled */
	switch (variant->pattern) {
	case ASC_GAPPED:
		/* Nothing above a newcomer to prune: newcomers dropped. */
		EXPECT_GT(delta[1], 0);		/* OfoDrop */
		EXPECT_EQ(delta[1], delta[6]);	/* = RcvPruned */
		EXPECT_EQ(0, delta[5]);		/* OfoPruned */
		break;
	case DESC_GAPPED:
		EXPECT_GT(delta[5], 0);		/* OfoPruned */
		break;
	case DESC_CONTIG:
		EXPECT_GT(delta[4], 0);		/* RcvCollapsed */
		break;
	}
	/*
	 * Softirq work, loosely (TCG): before the fix, the descending
	 * floods walked an unbounded sorted list per segment and took 10-20
	 * times TCP's softirq ticks (682 against 55).
	 */
	EXPECT_LE(x.ticks, 5 * tcp.ticks + 100);
}

TEST_HARNESS_MAIN
