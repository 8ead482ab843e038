// SPDX-License-Identifier: GPL-2.0
/*
 * Selective acknowledgment (RFC 2018), SACK loss recovery (RFC 6675) and
 * D-SACK (RFC 2883), over veth, where a raw socket in one namespace sees
 * exactly the segments the other sends.
 *
 * negotiated: SACK is used only if both ends' "sack" sysctl is on
 * (TCPI_OPT_SACK in TCP_INFO and XTCP_INFO on both ends); Linux TCP with
 * tcp_sack set alike is the control.
 *
 * blocks: the client's 2nd and 4th data segments of six are dropped by
 * fault rules; the server's ACKs, captured, carry exactly the SACK blocks
 * the test computes from the segments it sent: the range holding the
 * latest arrival first, the other after it, one block once the first
 * hole is filled and no option once both are. The client resends the
 * second hole without a timeout (RFC 6675 NextSeg rule 3: no new data).
 * A fault rule with sack=1 sees exactly those four ACKs.
 *
 * multi_loss: the 2nd, 5th and 8th of ten segments of one window are
 * dropped. With SACK the client resends exactly those three segments
 * (the server's raw socket sees each sequence number once), without a
 * timeout, and the data arrives byte-exact; with sack=0 on the client
 * NewReno repairs the same losses, one hole per partial ACK, and resends
 * at least as much.
 *
 * lost_retransmit: the 2nd of ten segments and its first retransmission
 * are dropped, then five more segments are written. With RACK (the
 * "rack" sysctl) their SACKs show the retransmission lost and it goes
 * again without a timeout (LostRetransmit 1); with rack=0 only a timeout
 * repairs it.
 *
 * tail_loss_probe: the last two of ten segments are dropped. With the
 * "tlp" sysctl the client probes with the last segment, its SACK shows
 * the other lost, and no timeout fires (TLPProbes); with tlp=0 the
 * timeout repairs the tail.
 *
 * rto_keeps_sacked: the 1st of ten segments and its fast retransmit are
 * dropped, so the timeout fires; the SACKed nine are not resent after
 * it (each of the ten reaches the server exactly once, two resends).
 *
 * dsack: the server's ACK of a segment is dropped; the client's timeout
 * resends it and the server answers with a D-SACK block of exactly that
 * segment (DSACKSent), which the client counts (DSACKRecv, TCP_INFO's
 * tcpi_dsack_dups); a raw replay of the captured segment draws another.
 * With SACK off neither end sends or counts one.
 *
 * bogus: ACKs from a raw socket carrying SACK blocks beyond SND.NXT,
 * below SND.UNA, with start after end, and a malformed SACK option are
 * ignored and counted (SackBlocksRejected); the connection then delivers
 * its data whole.
 */
#include <netinet/ip.h>
#include <linux/tcp.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define SACK_KIND	5
#define MAX_BLOCKS	4

FIXTURE(sack)
{
	struct xtcp_topo t;
	int fds[16];
	int nfds;
	int raws;	/* in SRV: sees what the client sends */
	int rawc;	/* in CLI: sees what the server sends; sends as CLI */
};

FIXTURE_SETUP(sack)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	self->nfds = 0;
	self->raws = xtcp_raw_socket(&self->t, SRV);
	ASSERT_GE(self->raws, 0) TH_LOG("raw socket: %s", strerror(errno));
	self->rawc = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->rawc, 0) TH_LOG("raw socket: %s", strerror(errno));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 200));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 300));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "invalid_ratelimit_ms",
				     0));
}

FIXTURE_TEARDOWN(sack)
{
	int i;

	for (i = 0; i < self->nfds; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	close(self->raws);
	close(self->rawc);
	xtcp_topo_teardown(&self->t);
}

#define CNT(side, name)	xtcp_counter(&self->t, side, name)

static int keep(FIXTURE_DATA(sack) *self, int fd)
{
	if (fd >= 0 && self->nfds < (int)(sizeof(self->fds) /
					  sizeof(self->fds[0])))
		self->fds[self->nfds++] = fd;
	return fd;
}

/* Close a run's connection, its server end and listener, kept last. */
static void close_run(FIXTURE_DATA(sack) *self, int c, int s, int lfd)
{
	close(c);
	close(s);
	close(lfd);
	self->nfds -= 3;
}

/* SACK on or off for @family (0: xtcp) on @side (CLI, SRV or BOTH). */
static int set_sack(const struct xtcp_topo *t, int family, int side, int on)
{
	if (!family)
		return xtcp_sysctl_set(t, side, "sack", on);
	return xtcp_topo_write(t, side, "/proc/sys/net/ipv4/tcp_sack",
			       on ? "1" : "0");
}

/* A connection of @family to the listener @lfd's @port; server in *@s. */
static int conn(const struct xtcp_topo *t, int family, int lfd,
		unsigned short port, int *s)
{
	int fd = xtcp_connect(t, family, port, false);

	*s = -1;
	if (fd < 0)
		return -1;
	*s = xtcp_accept_wait(lfd, 10000);
	if (*s >= 0)
		return fd;
	close(fd);
	return -1;
}

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

static void drain(int raw)
{
	uint8_t buf[4096];

	while (recv(raw, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* A captured segment: header fields and its SACK blocks. */
struct cap {
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	size_t len;		/* payload */
	int nblocks;		/* -1: no SACK option */
	uint32_t blk[MAX_BLOCKS][2];
	uint8_t raw[2048];	/* the whole segment */
	size_t rawlen;
};

/* The SACK option of @seg (header and options, @hlen bytes). */
static int parse_sack(const uint8_t *seg, size_t hlen, struct cap *c)
{
	size_t i = sizeof(struct xseg);

	c->nblocks = -1;
	while (i < hlen) {
		uint8_t kind = seg[i], olen;
		int n, k;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen)
			return -1;
		olen = seg[i + 1];
		if (olen < 2 || i + olen > hlen)
			return -1;
		if (kind == SACK_KIND) {
			if ((olen - 2) % 8)
				return -1;
			n = (olen - 2) / 8;
			if (n > MAX_BLOCKS)
				return -1;
			for (k = 0; k < n; k++) {
				uint32_t v[2];

				memcpy(v, seg + i + 2 + 8 * k, 8);
				c->blk[k][0] = ntohl(v[0]);
				c->blk[k][1] = ntohl(v[1]);
			}
			c->nblocks = n;
		}
		i += olen;
	}
	return 0;
}

/*
 * The next segment on @raw from @sport to @dport, within @ms; 0 or -1.
 * Segments of other connections are skipped.
 */
static int capture(int raw, int sport, int dport, int ms, struct cap *c)
{
	long long dl = xtcp_now_ms() + ms;
	uint8_t buf[4096];

	for (;;) {
		struct pollfd p = { .fd = raw, .events = POLLIN };
		const struct iphdr *ip = (const struct iphdr *)buf;
		long long left = dl - xtcp_now_ms();
		const struct xseg *h;
		size_t hl, doff;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return -1;
		n = recv(raw, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(*ip))
			continue;
		hl = ip->ihl * 4;
		if (n < (ssize_t)(hl + sizeof(*h)))
			continue;
		h = (const struct xseg *)(buf + hl);
		doff = (h->doff >> 4) * 4;
		if (ntohs(h->sport) != sport || ntohs(h->dport) != dport ||
		    n - hl < doff || n - hl > sizeof(c->raw))
			continue;
		c->seq = ntohl(h->seq);
		c->ack = ntohl(h->ack);
		c->flags = h->flags;
		c->len = n - hl - doff;
		c->rawlen = n - hl;
		memcpy(c->raw, buf + hl, c->rawlen);
		if (parse_sack(buf + hl, doff, c))
			return -1;
		return 0;
	}
}

/* Receive exactly @len bytes within @ms; they must be pattern @pat. */
static bool recv_exact(int fd, size_t len, unsigned char pat, int ms)
{
	long long dl = xtcp_now_ms() + ms;
	static unsigned char buf[65536];
	size_t got = 0, i;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = dl - xtcp_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return false;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return false;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != (unsigned char)(pat + got + i))
				return false;
		got += n;
	}
	return true;
}

/* @len bytes of the pattern that recv_exact() checks, in one send(). */
static bool send_pattern(int fd, size_t len, unsigned char pat)
{
	static unsigned char buf[65536];
	size_t i;

	for (i = 0; i < len && i < sizeof(buf); i++)
		buf[i] = pat + i;
	return len <= sizeof(buf) &&
	       send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

/*
 * No Nagle, and room in the send buffer for a whole window: one send()
 * then puts every segment on the wire before any ACK is processed.
 */
static void nodelay(int fd)
{
	int one = 1, buf = 1 << 20;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

TEST_F(sack, negotiated)
{
	static const int families[] = { 0, AF_INET };
	unsigned int f;
	int cli, srv;

	for (f = 0; f < 2; f++) {
		int family = families[f];
		const char *name = family ? "tcp" : "xtcp";
		unsigned short port;
		int lfd;

		lfd = keep(self, xtcp_listen(&self->t, family, 0, 8, true,
					     &port));
		ASSERT_GE(lfd, 0);
		for (cli = 0; cli < 2; cli++) {
			for (srv = 0; srv < 2; srv++) {
				struct tcp_info ci, si;
				int c, s, want = cli && srv;

				ASSERT_EQ(0, set_sack(&self->t, family, CLI,
						      cli));
				ASSERT_EQ(0, set_sack(&self->t, family, SRV,
						      srv));
				c = keep(self, conn(&self->t, family, lfd,
						    port, &s));
				ASSERT_GE(c, 0) TH_LOG("%s connect: %s", name,
						       strerror(errno));
				keep(self, s);
				ASSERT_EQ(0, tcp_info(c, &ci));
				ASSERT_EQ(0, tcp_info(s, &si));
				EXPECT_EQ(want,
					  !!(ci.tcpi_options & TCPI_OPT_SACK))
					TH_LOG("%s client, sack %d/%d", name,
					       cli, srv);
				EXPECT_EQ(want,
					  !!(si.tcpi_options & TCPI_OPT_SACK))
					TH_LOG("%s server, sack %d/%d", name,
					       cli, srv);
				if (!family) {
					struct xtcp_info xc, xsv;

					ASSERT_EQ(0, xtcp_get_info(c, &xc));
					ASSERT_EQ(0, xtcp_get_info(s, &xsv));
					EXPECT_EQ(want, !!(xc.xtcpi_options &
							   XTCPI_OPT_SACK));
					EXPECT_EQ(want, !!(xsv.xtcpi_options &
							   XTCPI_OPT_SACK));
				}
			}
		}
	}
}

/* A SACK block as the test expects it. */
struct blk {
	uint32_t start;
	uint32_t end;
};

TEST_F(sack, blocks)
{
	struct xtcp_topo *t = &self->t;
	/*
	 * After segments 3, 5 and 6 arrive (2 and 4 dropped), and after the
	 * resent 2, in order; the ACK field of each.
	 */
	struct blk want[4][2];
	int want_n[4] = { 1, 2, 2, 1 }, nsack = 0, i, k, c, s, lfd, cport;
	uint32_t want_ack[4];
	long long sent0, recv0, to0, seen, fired;
	struct xtcp_info ci;
	uint32_t base, m;
	struct cap cap;

	ASSERT_EQ(0, set_sack(t, 0, BOTH, 1));
	lfd = keep(self, xtcp_listen(t, 0, SRV_PORT, 8, true, NULL));
	ASSERT_GE(lfd, 0);
	c = keep(self, conn(t, 0, lfd, SRV_PORT, &s));
	ASSERT_GE(c, 0);
	keep(self, s);
	nodelay(c);
	cport = xtcp_local_port(c);
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	base = ci.xtcpi_snd_nxt;
	m = ci.xtcpi_mss;

	want[0][0] = (struct blk){ base + 2 * m, base + 3 * m };
	want[1][0] = (struct blk){ base + 4 * m, base + 5 * m };
	want[1][1] = (struct blk){ base + 2 * m, base + 3 * m };
	want[2][0] = (struct blk){ base + 4 * m, base + 6 * m };
	want[2][1] = (struct blk){ base + 2 * m, base + 3 * m };
	want[3][0] = (struct blk){ base + 4 * m, base + 6 * m };
	want_ack[0] = want_ack[1] = want_ack[2] = base + m;
	want_ack[3] = base + 3 * m;

	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=2",
				    SRV_PORT));
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=4",
				    SRV_PORT));
	/* Drops nothing: counts the ACKs with a SACK option that arrive. */
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "in ack sport=%d sack=1 nth=1000",
				    SRV_PORT));
	sent0 = CNT(SRV, "SackBlocksSent");
	recv0 = CNT(CLI, "SackBlocksRecv");
	to0 = CNT(CLI, "Timeouts");
	drain(self->rawc);
	ASSERT_TRUE(send_pattern(c, 6 * m, 7));
	ASSERT_TRUE(recv_exact(s, 6 * m, 7, 10000));

	/* Every ACK of the server until the last byte is acknowledged. */
	for (;;) {
		ASSERT_EQ(0, capture(self->rawc, SRV_PORT, cport, 5000, &cap))
			TH_LOG("%d ACKs with SACK seen", nsack);
		if (cap.nblocks < 0) {
			if (cap.ack == base + 6 * m)
				break;
			continue;
		}
		ASSERT_LT(nsack, 4) TH_LOG("a fifth ACK with SACK");
		EXPECT_EQ(want_ack[nsack] - base, cap.ack - base)
			TH_LOG("ACK %d", nsack);
		ASSERT_EQ(want_n[nsack], cap.nblocks) TH_LOG("ACK %d", nsack);
		for (k = 0; k < cap.nblocks; k++) {
			EXPECT_EQ(want[nsack][k].start - base,
				  cap.blk[k][0] - base)
				TH_LOG("ACK %d block %d start", nsack, k);
			EXPECT_EQ(want[nsack][k].end - base,
				  cap.blk[k][1] - base)
				TH_LOG("ACK %d block %d end", nsack, k);
		}
		nsack++;
	}
	EXPECT_EQ(4, nsack);
	for (i = 0, k = 0; i < 4; i++)
		k += want_n[i];
	EXPECT_EQ(k, CNT(SRV, "SackBlocksSent") - sent0);
	EXPECT_EQ(k, CNT(CLI, "SackBlocksRecv") - recv0);
	EXPECT_EQ(0, CNT(CLI, "Timeouts") - to0);
	ASSERT_EQ(0, xtcp_fault_stats(t, CLI, 3, &seen, &fired));
	EXPECT_EQ(4, seen);
	EXPECT_EQ(0, fired);
}

/*
 * Ten segments, the 2nd, 5th and 8th dropped once, with SACK on the
 * client @on. The client's retransmitted segments in *@rtx, the
 * sequence numbers on the server's wire (relative) in @seen.
 */
static void multi_loss_run(struct __test_metadata *_metadata,
			   FIXTURE_DATA(sack) *self, int on, long long *rtx,
			   uint32_t *seen, int *nseen, long long *rtos)
{
	struct xtcp_topo *t = &self->t;
	long long rtx0, sackr0, rec0, to0;
	struct xtcp_info ci;
	int c, s, lfd, cport, nth[3] = { 2, 5, 8 }, i;
	unsigned short port;
	uint32_t base, m;
	struct cap cap;

	ASSERT_EQ(0, set_sack(t, 0, SRV, 1));
	ASSERT_EQ(0, set_sack(t, 0, CLI, on));
	ASSERT_EQ(0, xtcp_topo_write(t, BOTH, "/proc/net/xtcp/faults",
				     "clear"));
	lfd = keep(self, xtcp_listen(t, 0, 0, 8, true, &port));
	ASSERT_GE(lfd, 0);
	c = keep(self, conn(t, 0, lfd, port, &s));
	ASSERT_GE(c, 0);
	keep(self, s);
	nodelay(c);
	cport = xtcp_local_port(c);
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	EXPECT_EQ(on, !!(ci.xtcpi_options & XTCPI_OPT_SACK));
	base = ci.xtcpi_snd_nxt;
	m = ci.xtcpi_mss;
	ASSERT_GE(ci.xtcpi_snd_cwnd, 10 * m);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=%d",
					    port, nth[i]));
	rtx0 = CNT(CLI, "DataRetrans");
	sackr0 = CNT(CLI, "SackRetransSegs");
	rec0 = CNT(CLI, "SackRecovery");
	to0 = CNT(CLI, "Timeouts");
	drain(self->raws);

	ASSERT_TRUE(send_pattern(c, 10 * m, 3));
	ASSERT_TRUE(recv_exact(s, 10 * m, 3, 20000));
	ASSERT_TRUE(XTCP_WAIT_FOR(5000, !xtcp_get_info(c, &ci) &&
				  ci.xtcpi_snd_una == base + 10 * m));

	*nseen = 0;
	while (*nseen < 32 && !capture(self->raws, cport, port, 200, &cap))
		if (cap.len)
			seen[(*nseen)++] = (cap.seq - base) / m;
	*rtx = CNT(CLI, "DataRetrans") - rtx0;
	*rtos = CNT(CLI, "Timeouts") - to0;
	TH_LOG("sack=%d: %lld segments resent, %lld timeouts, "
	       "total_retrans %u, sack_retrans %u, %d on the wire", on, *rtx,
	       *rtos, ci.xtcpi_total_retrans, ci.xtcpi_sack_retrans, *nseen);
	if (on) {
		EXPECT_EQ(1, CNT(CLI, "SackRecovery") - rec0);
		EXPECT_EQ(3, CNT(CLI, "SackRetransSegs") - sackr0);
		EXPECT_EQ(3U, ci.xtcpi_sack_retrans);
	} else {
		EXPECT_EQ(0, CNT(CLI, "SackRecovery") - rec0);
		EXPECT_EQ(0, CNT(CLI, "SackRetransSegs") - sackr0);
	}
	close_run(self, c, s, lfd);
}

TEST_F(sack, multi_loss)
{
	uint32_t seen[32];
	int nseen, i, j, count[10] = { 0 };
	long long rtx_sack, rtx_reno, rtos;

	/* A timeout would blur the comparison: far above the RTT here. */
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 2000));

	multi_loss_run(_metadata, self, 1, &rtx_sack, seen, &nseen, &rtos);
	EXPECT_EQ(3, rtx_sack);
	EXPECT_EQ(0, rtos);
	/* Each of the ten on the wire exactly once: 7 + the 3 resent. */
	EXPECT_EQ(10, nseen);
	for (i = 0; i < nseen; i++) {
		ASSERT_LT(seen[i], 10U);
		count[seen[i]]++;
	}
	for (j = 0; j < 10; j++)
		EXPECT_EQ(1, count[j]) TH_LOG("segment %d", j + 1);
	/* The resent ones come last, in order: 2, 5, 8. */
	if (nseen == 10) {
		EXPECT_EQ(1U, seen[7]);
		EXPECT_EQ(4U, seen[8]);
		EXPECT_EQ(7U, seen[9]);
	}

	multi_loss_run(_metadata, self, 0, &rtx_reno, seen, &nseen, &rtos);
	EXPECT_GE(rtx_reno, 3);
	EXPECT_LE(rtx_sack, rtx_reno);
}

/*
 * A connection for the recovery cases below: SACK on both ends, @rack
 * and @tlp on the client, the listener's fd and port in *@lfd, *@port;
 * the client's first sequence number and MSS in *@base and *@m.
 */
static int recovery_conn(struct __test_metadata *_metadata,
			 FIXTURE_DATA(sack) *self, int rack, int tlp,
			 int *lfd, unsigned short *port, int *s,
			 uint32_t *base, uint32_t *m)
{
	struct xtcp_topo *t = &self->t;
	struct xtcp_info ci;
	int c;

	if (set_sack(t, 0, BOTH, 1) ||
	    xtcp_sysctl_set(t, CLI, "rack", rack) ||
	    xtcp_sysctl_set(t, CLI, "tlp", tlp) ||
	    xtcp_topo_write(t, BOTH, "/proc/net/xtcp/faults", "clear"))
		return -1;
	*lfd = keep(self, xtcp_listen(t, 0, 0, 8, true, port));
	if (*lfd < 0)
		return -1;
	c = keep(self, conn(t, 0, *lfd, *port, s));
	if (c < 0)
		return -1;
	keep(self, *s);
	nodelay(c);
	if (xtcp_get_info(c, &ci))
		return -1;
	*base = ci.xtcpi_snd_nxt;
	*m = ci.xtcpi_mss;
	EXPECT_GE(ci.xtcpi_snd_cwnd, 10 * *m);
	return c;
}

/*
 * The 2nd of ten segments and its first retransmission are dropped;
 * five more segments are written once that retransmission went. With
 * RACK their SACKs show the retransmission lost (sent before them, not
 * arrived): it goes again without a timeout (LostRetransmit). With RACK
 * off only the timeout repairs it. Returns the timeouts in *@rtos and
 * the lost retransmissions found in *@lost.
 */
static void lost_rtx_run(struct __test_metadata *_metadata,
			 FIXTURE_DATA(sack) *self, int rack,
			 long long *rtos, long long *lost)
{
	struct xtcp_topo *t = &self->t;
	long long to0, lr0, rtx0;
	unsigned short port;
	int c, s, lfd;
	uint32_t base, m;

	c = recovery_conn(_metadata, self, rack, 1, &lfd, &port, &s, &base,
			  &m);
	ASSERT_GE(c, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=2", port));
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=11",
				    port));
	to0 = CNT(CLI, "Timeouts");
	lr0 = CNT(CLI, "LostRetransmit");
	rtx0 = CNT(CLI, "DataRetrans");

	ASSERT_TRUE(send_pattern(c, 10 * m, 5));
	/* The first retransmission went (and was dropped)... */
	ASSERT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "DataRetrans") > rtx0));
	/* ... well before the new data: RACK's window is min RTT / 4. */
	xtcp_sleep_ms(50);
	ASSERT_TRUE(send_pattern(c, 5 * m, 5 + 10 * m));
	ASSERT_TRUE(recv_exact(s, 15 * m, 5, 20000));
	*rtos = CNT(CLI, "Timeouts") - to0;
	*lost = CNT(CLI, "LostRetransmit") - lr0;
	TH_LOG("rack=%d: %lld timeouts, %lld lost retransmissions, %lld resent",
	       rack, *rtos, *lost, CNT(CLI, "DataRetrans") - rtx0);
	close_run(self, c, s, lfd);
}

TEST_F(sack, lost_retransmit)
{
	long long rtos, lost;

	/* Only RACK's verdict may resend before this. */
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 2000));
	lost_rtx_run(_metadata, self, 1, &rtos, &lost);
	EXPECT_EQ(0, rtos);
	EXPECT_EQ(1, lost);
	lost_rtx_run(_metadata, self, 0, &rtos, &lost);
	EXPECT_GE(rtos, 1);
	EXPECT_EQ(0, lost);
}

/*
 * The last two of ten segments are dropped: no later segment draws a
 * SACK for them. With tail loss probes the client resends the last one
 * 2 SRTT later; its SACK shows the other lost (RACK), and both arrive
 * without a timeout. With tlp=0 the timeout repairs the tail.
 */
static void tail_run(struct __test_metadata *_metadata,
		     FIXTURE_DATA(sack) *self, int tlp, long long *rtos,
		     long long *probes)
{
	struct xtcp_topo *t = &self->t;
	unsigned short port;
	long long to0, p0;
	int c, s, lfd;
	uint32_t base, m;

	c = recovery_conn(_metadata, self, 1, tlp, &lfd, &port, &s, &base,
			  &m);
	ASSERT_GE(c, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=9", port));
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=10",
				    port));
	to0 = CNT(CLI, "Timeouts");
	p0 = CNT(CLI, "TLPProbes");
	ASSERT_TRUE(send_pattern(c, 10 * m, 9));
	ASSERT_TRUE(recv_exact(s, 10 * m, 9, 20000));
	*rtos = CNT(CLI, "Timeouts") - to0;
	*probes = CNT(CLI, "TLPProbes") - p0;
	TH_LOG("tlp=%d: %lld timeouts, %lld probes", tlp, *rtos, *probes);
	close_run(self, c, s, lfd);
}

TEST_F(sack, tail_loss_probe)
{
	long long rtos, probes;

	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 2000));
	tail_run(_metadata, self, 1, &rtos, &probes);
	EXPECT_EQ(0, rtos);
	EXPECT_GE(probes, 1);
	tail_run(_metadata, self, 0, &rtos, &probes);
	EXPECT_GE(rtos, 1);
	EXPECT_EQ(0, probes);
}

/*
 * The 1st of ten segments is dropped, and so is its fast retransmit;
 * nothing sent later can show that one lost, so the timeout fires. The
 * SACKed segments 2-10 are not sent again (the scoreboard outlives the
 * timeout): the server's raw socket sees each of the ten exactly once,
 * and only the first was resent after the timeout.
 */
TEST_F(sack, rto_keeps_sacked)
{
	struct xtcp_topo *t = &self->t;
	long long to0, rtx0, res0;
	int c, s, lfd, cport, nseen = 0, count[10] = { 0 }, i;
	unsigned short port;
	uint32_t base, m;
	struct cap cap;

	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_min_ms", 500));
	c = recovery_conn(_metadata, self, 1, 1, &lfd, &port, &s, &base, &m);
	ASSERT_GE(c, 0);
	cport = xtcp_local_port(c);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=1", port));
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d nth=11",
				    port));
	to0 = CNT(CLI, "Timeouts");
	rtx0 = CNT(CLI, "DataRetrans");
	res0 = CNT(CLI, "SackRtoResets");
	drain(self->raws);
	ASSERT_TRUE(send_pattern(c, 10 * m, 11));
	ASSERT_TRUE(recv_exact(s, 10 * m, 11, 20000));
	while (nseen < 32 && !capture(self->raws, cport, port, 300, &cap)) {
		if (!cap.len)
			continue;
		ASSERT_LT((cap.seq - base) / m, 10U);
		count[(cap.seq - base) / m]++;
		nseen++;
	}
	for (i = 0; i < 10; i++)
		EXPECT_EQ(1, count[i]) TH_LOG("segment %d", i + 1);
	EXPECT_EQ(1, CNT(CLI, "Timeouts") - to0);
	EXPECT_EQ(2, CNT(CLI, "DataRetrans") - rtx0);
	EXPECT_EQ(0, CNT(CLI, "SackRtoResets") - res0);
}

/*
 * The server's ACK for a segment is lost; the client's timeout resends
 * it. With @on, a D-SACK block of exactly it comes back, then another
 * for a raw replay of it.
 */
static void dsack_run(struct __test_metadata *_metadata,
		      FIXTURE_DATA(sack) *self, int on)
{
	struct xtcp_topo *t = &self->t;
	long long sent0, recv0;
	struct xtcp_info ci, si;
	struct tcp_info ti;
	int c, s, lfd, cport, nd = 0, ndata = 0;
	unsigned short port;
	struct cap cap, data;
	uint32_t base;

	ASSERT_EQ(0, set_sack(t, 0, BOTH, on));
	ASSERT_EQ(0, xtcp_topo_write(t, BOTH, "/proc/net/xtcp/faults",
				     "clear"));
	lfd = keep(self, xtcp_listen(t, 0, 0, 8, true, &port));
	ASSERT_GE(lfd, 0);
	c = keep(self, conn(t, 0, lfd, port, &s));
	ASSERT_GE(c, 0);
	keep(self, s);
	nodelay(c);
	cport = xtcp_local_port(c);
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	base = ci.xtcpi_snd_nxt;

	ASSERT_EQ(0, xtcp_fault_add(t, SRV, "out ack sport=%d count=1",
				    port));
	sent0 = CNT(SRV, "DSACKSent");
	recv0 = CNT(CLI, "DSACKRecv");
	drain(self->rawc);
	drain(self->raws);
	ASSERT_TRUE(send_pattern(c, 100, 9));
	/* Read later: a window update now could stand in for the lost ACK. */
	ASSERT_TRUE(XTCP_WAIT_FOR(10000, !xtcp_get_info(c, &ci) &&
				  ci.xtcpi_snd_una == base + 100));
	ASSERT_TRUE(recv_exact(s, 100, 9, 5000));
	/*
	 * The segment and its retransmission, whose ACK carries a D-SACK
	 * block of it if on; the retransmission is replayed below (the
	 * original's older timestamp would fall to PAWS instead).
	 */
	while (!capture(self->raws, cport, port, 300, &cap)) {
		if (cap.len != 100)
			continue;
		EXPECT_EQ(base, cap.seq);
		data = cap;
		ndata++;
	}
	ASSERT_EQ(2, ndata);
	while (!capture(self->rawc, port, cport, 500, &cap)) {
		if (cap.ack != base + 100)
			continue;
		if (on) {
			ASSERT_EQ(1, cap.nblocks);
			EXPECT_EQ(0U, cap.blk[0][0] - base);
			EXPECT_EQ(100U, cap.blk[0][1] - base);
			nd++;
		} else {
			EXPECT_EQ(-1, cap.nblocks);
		}
	}
	EXPECT_GE(CNT(CLI, "DataRetrans"), 1);
	EXPECT_EQ(on, nd);
	EXPECT_EQ(on, CNT(SRV, "DSACKSent") - sent0);
	EXPECT_EQ(on, CNT(CLI, "DSACKRecv") - recv0);

	/* The captured segment again, from a raw socket: a replay. */
	data.raw[16] = data.raw[17] = 0;
	{
		uint16_t sum = xtcp_seg_csum(t->addr[CLI], t->addr[SRV],
					     t->ipproto, data.raw,
					     data.rawlen);

		memcpy(data.raw + 16, &sum, 2);
	}
	ASSERT_EQ(0, xtcp_raw_send(t, self->rawc, SRV, data.raw,
				   data.rawlen));
	ASSERT_EQ(0, capture(self->rawc, port, cport, 5000, &cap));
	EXPECT_EQ(base + 100, cap.ack);
	if (on) {
		ASSERT_EQ(1, cap.nblocks);
		EXPECT_EQ(0U, cap.blk[0][0] - base);
		EXPECT_EQ(100U, cap.blk[0][1] - base);
	} else {
		EXPECT_EQ(-1, cap.nblocks);
	}
	EXPECT_TRUE(XTCP_WAIT_FOR(3000, CNT(CLI, "DSACKRecv") - recv0 ==
					2 * on));
	EXPECT_EQ(2 * on, CNT(SRV, "DSACKSent") - sent0);
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	ASSERT_EQ(0, xtcp_get_info(s, &si));
	EXPECT_EQ(2U * on, ci.xtcpi_dsack_recv);
	EXPECT_EQ(2U * on, si.xtcpi_dsack_sent);
	ASSERT_EQ(0, tcp_info(c, &ti));
	EXPECT_EQ(2U * on, ti.tcpi_dsack_dups);
	/* Nothing was delivered twice. */
	EXPECT_EQ(-1, recv(s, &data.raw, 1, MSG_DONTWAIT));
	close_run(self, c, s, lfd);
}

TEST_F(sack, dsack)
{
	dsack_run(_metadata, self, 1);
	dsack_run(_metadata, self, 0);
}

/* An ACK from the client's address to the server with @opt options. */
static size_t craft_ack(const struct xtcp_topo *t, uint8_t *buf, int sport,
			int dport, uint32_t seq, uint32_t ack,
			const uint8_t *opt, size_t olen)
{
	struct xseg *h = (struct xseg *)buf;
	size_t len = sizeof(*h) + olen;

	memset(h, 0, sizeof(*h));
	h->sport = htons(sport);
	h->dport = htons(dport);
	h->seq = htonl(seq);
	h->ack = htonl(ack);
	h->doff = (len / 4) << 4;
	h->flags = F_ACK;
	h->window = htons(65535);
	memcpy(buf + sizeof(*h), opt, olen);
	h->check = xtcp_seg_csum(t->addr[CLI], t->addr[SRV], t->ipproto, buf,
				 len);
	return len;
}

/* A SACK option (NOP NOP 5 len blocks) of @n blocks into @opt. */
static size_t sack_opt(uint8_t *opt, const struct blk *b, int n)
{
	int i;

	opt[0] = 1;
	opt[1] = 1;
	opt[2] = SACK_KIND;
	opt[3] = 2 + 8 * n;
	for (i = 0; i < n; i++) {
		uint32_t v[2] = { htonl(b[i].start), htonl(b[i].end) };

		memcpy(opt + 4 + 8 * i, v, 8);
	}
	return 4 + 8 * n;
}

TEST_F(sack, bogus)
{
	struct xtcp_topo *t = &self->t;
	long long rej0, recv0, dsack0;
	struct xtcp_info si, ci;
	uint8_t opt[40], seg[128];
	int c, s, lfd, cport;
	uint32_t una, nxt, m;
	struct blk b[4];
	size_t olen, len;

	ASSERT_EQ(0, set_sack(t, 0, BOTH, 1));
	lfd = keep(self, xtcp_listen(t, 0, SRV_PORT, 8, true, NULL));
	ASSERT_GE(lfd, 0);
	c = keep(self, conn(t, 0, lfd, SRV_PORT, &s));
	ASSERT_GE(c, 0);
	keep(self, s);
	nodelay(s);
	cport = xtcp_local_port(c);

	/* The client hears no data: the server's stays outstanding. */
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "in data sport=%d", SRV_PORT));
	ASSERT_EQ(0, xtcp_get_info(s, &si));
	m = si.xtcpi_mss;
	ASSERT_TRUE(send_pattern(s, 3 * m, 5));
	ASSERT_TRUE(XTCP_WAIT_FOR(5000, !xtcp_get_info(s, &si) &&
				  si.xtcpi_snd_nxt - si.xtcpi_snd_una ==
				  3 * m));
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	una = si.xtcpi_snd_una;
	nxt = si.xtcpi_snd_nxt;
	rej0 = CNT(SRV, "SackBlocksRejected");
	recv0 = CNT(SRV, "SackBlocksRecv");
	dsack0 = CNT(SRV, "DSACKRecv");

	/*
	 * First a valid block covering no whole segment (it marks nothing),
	 * then one beyond SND.NXT, one below SND.UNA, one with its start
	 * after its end.
	 */
	b[0] = (struct blk){ una + 1, una + 2 };
	b[1] = (struct blk){ nxt + 100, nxt + 200 };
	b[2] = (struct blk){ una - 2000, una - 1000 };
	b[3] = (struct blk){ una + 2 * m, una + m };
	olen = sack_opt(opt, b, 4);
	len = craft_ack(t, seg, cport, SRV_PORT, si.xtcpi_rcv_nxt, una, opt,
			olen);
	ASSERT_EQ(0, xtcp_raw_send(t, self->rawc, SRV, seg, len));
	ASSERT_TRUE(XTCP_WAIT_FOR(3000, CNT(SRV, "SackBlocksRejected") -
					rej0 == 3));
	EXPECT_EQ(1, CNT(SRV, "SackBlocksRecv") - recv0);

	/* Malformed: a length of no whole block; a block past the end. */
	opt[0] = 1;
	opt[1] = 1;
	opt[2] = SACK_KIND;
	opt[3] = 7;
	opt[4] = opt[5] = opt[6] = opt[7] = opt[8] = 0xff;
	opt[9] = opt[10] = opt[11] = 0;
	len = craft_ack(t, seg, cport, SRV_PORT, si.xtcpi_rcv_nxt, una, opt,
			12);
	ASSERT_EQ(0, xtcp_raw_send(t, self->rawc, SRV, seg, len));
	opt[3] = 40;	/* beyond the header */
	len = craft_ack(t, seg, cport, SRV_PORT, si.xtcpi_rcv_nxt, una, opt,
			12);
	ASSERT_EQ(0, xtcp_raw_send(t, self->rawc, SRV, seg, len));
	xtcp_sleep_ms(300);
	EXPECT_EQ(3, CNT(SRV, "SackBlocksRejected") - rej0);
	EXPECT_EQ(1, CNT(SRV, "SackBlocksRecv") - recv0);
	EXPECT_EQ(0, CNT(SRV, "DSACKRecv") - dsack0);
	ASSERT_EQ(0, xtcp_get_info(s, &si));
	EXPECT_EQ(0U, si.xtcpi_sacked_out);
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(s));

	/* The data goes through once the client hears it again. */
	ASSERT_EQ(0, xtcp_topo_write(t, CLI, "/proc/net/xtcp/faults",
				     "clear"));
	EXPECT_TRUE(recv_exact(c, 3 * m, 5, 20000));
	EXPECT_TRUE(send_pattern(c, 1000, 11));
	EXPECT_TRUE(recv_exact(s, 1000, 11, 10000));
}

TEST_HARNESS_MAIN
