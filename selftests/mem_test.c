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
 * TCP's), and a segment dropped for memory draws no reply (the client
 * sends no more than it queued, plus its delayed ACKs); then the server
 * sends 256 KiB and the client must read every
 * byte exactly. The flood's bytes are the ones the server will send at
 * those offsets, so whatever of them survives is correct data, and a
 * mistake in collapsing or pruning shows as a wrong byte. Each case runs
 * at xtcp and then, the same way, at Linux TCP, whose memory must stay
 * bounded too.
 *
 * XTCP_OOO_SEGMENTS sets the flood's size (default 20 000).
 */
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
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

/* Segments the namespace sent: xtcp's (@family 0) or Linux TCP's. */
static long long out_segs(const struct xtcp_topo *t, int family)
{
	if (family)
		return xtcp_tcp_mib(t, CLI, "OutSegs");
	return xtcp_counter(t, CLI, "OutSegs");
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
	long long out;		/* segments the receiver sent during the flood */
	long long dacks;	/* ... of them by its delayed-ACK timer (xtcp) */
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
	r->out = out_segs(t, family);
	r->dacks = family ? 0 : xtcp_counter(t, CLI, "DelayedAcks");
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
	r->out = out_segs(t, family) - r->out;
	if (!family)
		r->dacks = xtcp_counter(t, CLI, "DelayedAcks") - r->dacks;
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
	TH_LOG("xtcp: %d segments in %lld ms, %lld softirq ticks, %lld segments out (%lld delayed ACKs); rmem max %u of rcvbuf %u, %u after reading",
	       n, x.ms, x.ticks, x.out, x.dacks, x.max_rmem, x.rcvbuf,
	       x.end_rmem);

	for (i = 0; i < 6; i++)
		tbefore[i] = xtcp_tcpext(&self->t, CLI, tnames[i]);
	flood_case(_metadata, self, variant, AF_INET, &tcp);
	for (i = 0; i < 6; i++) {
		tdelta[i] = xtcp_tcpext(&self->t, CLI, tnames[i]) - tbefore[i];
		TH_LOG("tcp %s +%lld", tnames[i], tdelta[i]);
	}
	TH_LOG("tcp: %d segments in %lld ms, %lld softirq ticks, %lld segments out; rmem max %u of rcvbuf %u, %u after reading",
	       n, tcp.ms, tcp.ticks, tcp.out, tcp.max_rmem, tcp.rcvbuf,
	       tcp.end_rmem);

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
	/*
	 * Replies: a segment dropped for memory draws none, so at most what
	 * was queued is answered (a duplicate ACK each), besides the delayed
	 * ACKs the timer sent meanwhile. Answering every segment sent 20 000
	 * replies in the ascending flood. TCP's count is logged beside it,
	 * not compared: 6.12's sent about 80 there, 6.1's about 9 400.
	 */
	EXPECT_GE(tcp.out, 0);
	EXPECT_LE(x.out, n - delta[1] + x.dacks + 20);
}


/* ---- global and cgroup accounting, orphans ------------------------- */

static int put(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

FIXTURE(acct)
{
	struct xtcp_topo t;
	char cg[128];		/* our memory cgroup, if made */
	char mem[128];		/* /proc/sys/net/xtcp/mem to restore */
};

FIXTURE_SETUP(acct)
{
	self->cg[0] = 0;
	self->mem[0] = 0;
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
}

FIXTURE_TEARDOWN(acct)
{
	char path[256];

	if (self->mem[0])
		put("/proc/sys/net/xtcp/mem", "%s", self->mem);
	if (self->cg[0]) {
		put("/sys/fs/cgroup/cgroup.procs", "%d", getpid());
		snprintf(path, sizeof(path), "%s", self->cg);
		rmdir(path);
	}
	xtcp_topo_teardown(&self->t);
}

/* Write @val to the file @path; 0 or -1. */
static int put(const char *path, const char *fmt, ...)
{
	char val[128];
	va_list ap;
	int fd, n, ret = -1;

	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, n) == n)
		ret = 0;
	close(fd);
	return ret;
}

/* "key value" of a flat-keyed file (memory.stat), or -1. */
static long long keyed(const char *path, const char *key)
{
	char k[64];
	long long v, ret = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", k, &v) == 2)
		if (!strcmp(k, key))
			ret = v;
	fclose(f);
	return ret;
}

/* The XTCP line of /proc/net/protocols: sockets and memory (pages). */
static int protocols(const struct xtcp_topo *t, long *sockets, long *pages)
{
	char line[512], name[32];
	int ret = -1;
	FILE *f;

	if (xtcp_topo_enter(t, CLI))
		return -1;
	f = fopen("/proc/net/protocols", "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long n, m;

		if (sscanf(line, "%31s %*d %ld %ld", name, &n, &m) == 3 &&
		    !strcmp(name, "XTCP")) {
			*sockets = n;
			*pages = m;
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

#define NCONN	24

struct conns {
	int l, c[NCONN], s[NCONN];
};

/* Send from each of the @n non-blocking sockets @fd until it would block. */
static long long pump(const int *fd, int n)
{
	static char buf[65536];
	long long sent = 0;
	ssize_t r;

	for (int i = 0; i < n; i++)
		while ((r = send(fd[i], buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
			sent += r;
	return sent;
}

/* The receive memory the @n sockets @fd hold (SO_MEMINFO), summed. */
static long long rmem_held(const int *fd, int n)
{
	uint32_t rmem, rcvbuf;
	long long held = 0;

	for (int i = 0; i < n; i++)
		if (!meminfo(fd[i], &rmem, &rcvbuf))
			held += rmem;
	return held;
}

/*
 * NCONN connections of @family; each server end writes (non-blocking) up
 * to 1 MiB its client never reads. Returns the bytes the clients hold
 * (the sum of their sk_rmem_alloc) once the transfers have stalled.
 */
static long long fill(struct __test_metadata *_metadata,
		      const struct xtcp_topo *t, int family, struct conns *k)
{
	long long held = 0, prev = -1;
	unsigned short port;
	int i, big = 1 << 20;

	k->l = xtcp_listen(t, family, 0, NCONN, false, &port);
	ASSERT_GE(k->l, 0);
	for (i = 0; i < NCONN; i++) {
		k->c[i] = xtcp_connect(t, family, port, false);
		ASSERT_GE(k->c[i], 0);
		setsockopt(k->c[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		k->s[i] = xtcp_accept_wait(k->l, 10000);
		ASSERT_GE(k->s[i], 0);
		ASSERT_EQ(0, xtcp_set_nonblock(k->s[i]));
	}
	/* Write until every transfer stalls and the clients hold steady. */
	for (int round = 0; round < 50 && held != prev; round++) {
		prev = held;
		pump(k->s, NCONN);
		xtcp_sleep_ms(200);
		held = rmem_held(k->c, NCONN);
	}
	return held;
}

static void unfill(struct conns *k)
{
	struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };
	int i;

	for (i = 0; i < NCONN; i++) {
		setsockopt(k->c[i], SOL_SOCKET, SO_LINGER, &abort_close,
			   sizeof(abort_close));
		close(k->c[i]);
		close(k->s[i]);
	}
	close(k->l);
}

/*
 * Make a memory cgroup (v2) child for this process: its directory in @cg
 * (size @n; left empty when the kernel has no memory controller), the
 * paths of its memory.stat in @stat and memory.current in @cur (256
 * bytes each). 0 or -1.
 */
static int memcg_make(char *cg, size_t n, char *stat, char *cur)
{
	cg[0] = 0;
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) &&
	    xtcp_sh("mount -t cgroup2 none /sys/fs/cgroup"))
		return -1;
	if (xtcp_sh("grep -qw memory /sys/fs/cgroup/cgroup.controllers"))
		return 0;
	if (put("/sys/fs/cgroup/cgroup.subtree_control", "+memory"))
		return -1;
	snprintf(cg, n, "/sys/fs/cgroup/xtcp_mem_%d", getpid());
	if (mkdir(cg, 0755)) {
		cg[0] = 0;
		return -1;
	}
	snprintf(stat, 256, "%s/memory.stat", cg);
	snprintf(cur, 256, "%s/memory.current", cg);
	return 0;
}

/* Move this process into the cgroup @cg. 0 or -1. */
static int memcg_join(const char *cg)
{
	char procs[256];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	return put(procs, "%d", getpid());
}

/*
 * Sockets made in a memory cgroup charge it: memory.stat's "sock" and
 * memory.current grow by at least half of what the clients hold, for
 * xtcp as for TCP; /proc/net/protocols shows XTCP's sockets and pages.
 */
TEST_F_TIMEOUT(acct, cgroup_charged, 300)
{
	static const int families[] = { 0, AF_INET };
	char stat[256], cur[256];
	long sockets = -1, pages = -1;

	ASSERT_EQ(0, memcg_make(self->cg, sizeof(self->cg), stat, cur));
	if (!self->cg[0])
		SKIP(return, "no memory controller");
	ASSERT_EQ(0, memcg_join(self->cg));

	for (int f = 0; f < 2; f++) {
		int family = families[f];
		long long sock0, cur0, held, sock1 = 0, cur1;
		struct conns k;

		sock0 = keyed(stat, "sock");
		cur0 = xtcp_read_long_file(cur, -1);
		ASSERT_GE(sock0, 0);
		held = fill(_metadata, &self->t, family, &k);
		XTCP_WAIT_FOR(5000, (sock1 = keyed(stat, "sock")) - sock0 >=
				    held / 2);
		cur1 = xtcp_read_long_file(cur, -1);
		TH_LOG("%s: clients hold %lld; memory.stat sock %lld -> %lld, memory.current %lld -> %lld",
		       family ? "tcp" : "xtcp", held, sock0, sock1, cur0, cur1);
		EXPECT_GT(held, 2 << 20);
		EXPECT_GE(sock1 - sock0, held / 2);
		EXPECT_GE(cur1 - cur0, held / 2);
		if (!family) {
			ASSERT_EQ(0, protocols(&self->t, &sockets, &pages));
			TH_LOG("/proc/net/protocols XTCP: sockets %ld memory %ld pages",
			       sockets, pages);
			EXPECT_GE(sockets, 2 * NCONN + 1);
			EXPECT_GE(pages * 4096, held / 2);
			EXPECT_GE(xtcp_sockstat(&self->t, CLI, 0, "alloc"),
				  2 * NCONN + 1);
		}
		unfill(&k);
		/* Closed: the charge goes back. */
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, keyed(stat, "sock") - sock0 <
					     held / 4));
	}
	EXPECT_TRUE(XTCP_WAIT_FOR(10000, !protocols(&self->t, &sockets, &pages) &&
				     sockets == 0));
}

/*
 * An accepted socket is charged to the acceptor's memory cgroup, what it
 * received before accept() included, as TCP's are: the listener and the
 * clients are made outside the cgroup, the clients send until every
 * unaccepted child's window is full, then this process joins the cgroup
 * and accepts. memory.stat's "sock" grows by at least half of what the
 * accepted sockets hold (SO_MEMINFO), and falls back after close (an
 * uncharge beyond the charge would warn in the kernel's page counter,
 * which fails the run).
 */
TEST_F_TIMEOUT(acct, accepted_charged, 300)
{
	static const int families[] = { 0, AF_INET };
	char stat[256], cur[256];
	int big = 1 << 20;

	ASSERT_EQ(0, memcg_make(self->cg, sizeof(self->cg), stat, cur));
	if (!self->cg[0])
		SKIP(return, "no memory controller");

	for (int f = 0; f < 2; f++) {
		int family = families[f];
		long long sock0, sock1 = 0, held = 0, prev = -1;
		unsigned short port;
		struct conns k;
		int i;

		ASSERT_EQ(0, put("/sys/fs/cgroup/cgroup.procs", "%d",
				 getpid()));
		k.l = xtcp_listen(&self->t, family, 0, NCONN, false, &port);
		ASSERT_GE(k.l, 0);
		ASSERT_EQ(0, setsockopt(k.l, SOL_SOCKET, SO_RCVBUF, &big,
					sizeof(big)));
		for (i = 0; i < NCONN; i++) {
			k.c[i] = xtcp_connect(&self->t, family, port, false);
			ASSERT_GE(k.c[i], 0);
			ASSERT_EQ(0, xtcp_set_nonblock(k.c[i]));
		}
		/* Fill the unaccepted children's windows until they stall. */
		for (int round = 0; round < 50; round++) {
			if (!pump(k.c, NCONN) && round > 2)
				break;
			xtcp_sleep_ms(200);
		}
		ASSERT_EQ(0, memcg_join(self->cg));
		sock0 = keyed(stat, "sock");
		ASSERT_GE(sock0, 0);
		for (i = 0; i < NCONN; i++) {
			k.s[i] = xtcp_accept_wait(k.l, 10000);
			ASSERT_GE(k.s[i], 0);
		}
		for (int round = 0; round < 20 && held != prev; round++) {
			prev = held;
			xtcp_sleep_ms(200);
			held = rmem_held(k.s, NCONN);
		}
		XTCP_WAIT_FOR(5000, (sock1 = keyed(stat, "sock")) - sock0 >=
				    held / 2);
		TH_LOG("%s: accepted sockets hold %lld; memory.stat sock %lld -> %lld",
		       family ? "tcp" : "xtcp", held, sock0, sock1);
		EXPECT_GT(held, 2 << 20);
		EXPECT_GE(sock1 - sock0, held / 2);
		unfill(&k);
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, keyed(stat, "sock") - sock0 <
					     held / 4));
	}
}

/*
 * Over net.xtcp.mem's hard limit new buffers are refused: with the limit
 * at 128 pages the clients hold a fraction of what they hold without
 * one (per-CPU reserves of up to 1 MiB a CPU hide from the global count,
 * as for TCP), receive memory is refused (RcvQDrop), and the pressure
 * is counted.
 */
TEST_F_TIMEOUT(acct, mem_limit_refuses, 300)
{
	long long free_held, held, drop0, press0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f;
	struct conns k;

	f = fopen("/proc/sys/net/xtcp/mem", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(self->mem, sizeof(self->mem), f));
	fclose(f);
	self->mem[strcspn(self->mem, "\n")] = 0;

	free_held = fill(_metadata, &self->t, 0, &k);
	unfill(&k);
	XTCP_WAIT_FOR(10000, xtcp_sockstat(&self->t, CLI, 0, "inuse") == 0);

	ASSERT_EQ(0, put("/proc/sys/net/xtcp/mem", "64 96 128"));
	drop0 = xtcp_counter(&self->t, CLI, "RcvQDrop");
	press0 = xtcp_counter(&self->t, CLI, "MemoryPressures");
	held = fill(_metadata, &self->t, 0, &k);
	TH_LOG("clients hold %lld without a limit, %lld with 128 pages; mem %ld pages; RcvQDrop +%lld, MemoryPressures +%lld",
	       free_held, held, xtcp_sockstat(&self->t, CLI, 0, "mem"),
	       xtcp_counter(&self->t, CLI, "RcvQDrop") - drop0,
	       xtcp_counter(&self->t, CLI, "MemoryPressures") - press0);
	EXPECT_GT(free_held, 4 << 20);
	EXPECT_LE(held, 128 * 4096 + ncpu * (1 << 20) + NCONN * 65536);
	EXPECT_LT(held, free_held / 2);
	EXPECT_GT(xtcp_counter(&self->t, CLI, "RcvQDrop"), drop0);
	EXPECT_GT(xtcp_counter(&self->t, CLI, "MemoryPressures"), press0);
	EXPECT_LE(xtcp_sockstat(&self->t, CLI, 0, "mem"),
		  128 + ncpu * 256 + 64);
	unfill(&k);
}

/*
 * An orphan in FIN_WAIT_1 with unsent data, against a peer that keeps a
 * zero window and answers every probe, dies after orphan_retries probes
 * (OrphanAborts), and the orphan count returns to zero. (Linux TCP kills
 * such an orphan only once its backoff reaches TCP_RTO_MAX, minutes
 * later, so it is no control within a test's time.)
 */
TEST_F_TIMEOUT(acct, zero_window_orphan_dies, 120)
{
	struct xtcp_topo *t = &self->t;
	long long probes0, aborts0;
	long orphans0;
	int c, s, l, small = 4096;
	static char buf[65536];

	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_min_ms", 50));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "orphan_retries", 3));
	ASSERT_EQ(0, xtcp_pair(t, 0, &c, &s, &l));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)));
	ASSERT_EQ(0, xtcp_set_nonblock(s));
	/* The client never reads: fill its window, then the server's buffer. */
	ASSERT_TRUE(XTCP_WAIT_FOR(20000, (send(s, buf, sizeof(buf),
					       MSG_NOSIGNAL), 0) ||
				  xtcp_counter(t, SRV, "ZeroWindowProbes") > 0));
	probes0 = xtcp_counter(t, SRV, "ZeroWindowProbes");
	aborts0 = xtcp_counter(t, SRV, "OrphanAborts");
	orphans0 = xtcp_sockstat(t, CLI, 0, "orphan");
	close(s);
	EXPECT_EQ(1, xtcp_state_count(t, SRV, "FIN_WAIT_1", NULL));
	EXPECT_EQ(orphans0 + 1, xtcp_sockstat(t, CLI, 0, "orphan"));
	ASSERT_TRUE(XTCP_WAIT_FOR(60000,
				  xtcp_state_count(t, SRV, "FIN_WAIT_1", NULL) == 0));
	TH_LOG("ZeroWindowProbes +%lld after close, OrphanAborts +%lld",
	       xtcp_counter(t, SRV, "ZeroWindowProbes") - probes0,
	       xtcp_counter(t, SRV, "OrphanAborts") - aborts0);
	EXPECT_EQ(1, xtcp_counter(t, SRV, "OrphanAborts") - aborts0);
	EXPECT_LE(xtcp_counter(t, SRV, "ZeroWindowProbes"), probes0 + 3);
	EXPECT_EQ(orphans0, xtcp_sockstat(t, CLI, 0, "orphan"));
	/* The peer answered all along: it is still there, window shut. */
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(c));
	close(c);
	close(l);
}

TEST_HARNESS_MAIN
