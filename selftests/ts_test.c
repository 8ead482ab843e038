// SPDX-License-Identifier: GPL-2.0
/*
 * Timestamps (RFC 7323) and PAWS.
 *
 * negotiated: with the timestamps sysctl on, both ends agree on the
 * option (XTCP_INFO's xtcpi_options, TCP_INFO's tcpi_options) and the
 * MSS used for data drops by its 12 bytes; off on either end, neither.
 * Linux TCP with tcp_timestamps set alike is the control: the same
 * tcpi_options bit and the same tcpi_snd_mss. The server echoes the
 * client's last TSval (xtcpi_ts_recent equals the TSval captured on the
 * wire).
 *
 * paws: an old duplicate from a previous incarnation of the 4-tuple,
 * captured with a raw socket, is replayed twice: into the server's
 * TIME_WAIT bucket (PAWSTimewaitRejected) and, its sequence numbers moved
 * into the new incarnation's window, into the new connection
 * (PAWSEstabRejected), where it must not reach the application. The
 * same run with timestamps off is the control: the replay's data is
 * delivered, which is the hazard PAWS exists for. Linux TCP, run the same
 * way, is the other control: its replay into the new connection is
 * dropped with timestamps (TcpExt PAWSEstab moves) and delivered
 * without.
 *
 * bound_port_tw: a client that bound its port and closed first holds the
 * 4-tuple in TIME_WAIT; a new socket bound to the same port (both with
 * SO_REUSEADDR) connecting to the same server takes the bucket over at
 * once, with tw_reuse 0, if the connection used timestamps (TWReused +1),
 * and gets EADDRNOTAVAIL without them: Linux TCP's rule for a bound port
 * (TcpExt TWRecycled), run alike as the control.
 *
 * handshake_rtt: over a path with 50 ms of delay each way, both ends have
 * an RTT estimate as soon as connect() and accept() return, from the
 * SYN-ACK's and the third ACK's timestamps (RttTsSamples +1 each), as
 * Linux TCP has, measured the same way (each after a first connection
 * that resolved the neighbours, as ARP would add its own round trip).
 *
 * rtt_during_loss: the first data segment is lost; its retransmission's
 * ACK gives no RTT sample by sequence (Karn), but one by the echoed
 * timestamp (RttTsSamples); none with timestamps off.
 *
 * Over veth, so that the raw socket of one namespace sees exactly the
 * segments the other sends.
 *
 * tw_reuse (over loopback, where its default 2 applies): a client whose
 * ephemeral range is 50 ports, making short connections to one server
 * port and closing first, keeps connecting for 10 s (well above 50
 * connections) with tw_reuse on, taking over its own TIME_WAIT buckets
 * once they are a second old; with it off it gets EADDRNOTAVAIL after
 * exactly 50. Linux TCP with tcp_tw_reuse set alike, in the same
 * namespace, is the control.
 */
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define CLI_PORT	40123
#define TS_KIND		8
#define TS_LEN		10

FIXTURE(ts)
{
	struct xtcp_topo t;
	int fds[8];
	int nfds;
	int raw;	/* in SRV: sees what the client sends */
	int rawc;	/* in CLI: sends replays to the server */
	int traw;	/* the same two for Linux TCP */
	int trawc;
};

/* A raw IP socket of protocol @proto in @side's namespace; -1. */
static int raw_socket(const struct xtcp_topo *t, int side, int proto)
{
	int fd;

	if (xtcp_topo_enter(t, side))
		return -1;
	fd = socket(AF_INET, SOCK_RAW, proto);
	xtcp_topo_leave(t);
	return fd;
}

FIXTURE_SETUP(ts)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	self->nfds = 0;
	self->raw = xtcp_raw_socket(&self->t, SRV);
	ASSERT_GE(self->raw, 0) TH_LOG("raw socket: %s", strerror(errno));
	self->rawc = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->rawc, 0) TH_LOG("raw socket: %s", strerror(errno));
	self->traw = raw_socket(&self->t, SRV, IPPROTO_TCP);
	ASSERT_GE(self->traw, 0) TH_LOG("raw socket: %s", strerror(errno));
	self->trawc = raw_socket(&self->t, CLI, IPPROTO_TCP);
	ASSERT_GE(self->trawc, 0) TH_LOG("raw socket: %s", strerror(errno));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 300));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "invalid_ratelimit_ms",
				     0));
}

FIXTURE_TEARDOWN(ts)
{
	int i;

	for (i = 0; i < self->nfds; i++)
		if (self->fds[i] >= 0)
			close(self->fds[i]);
	close(self->raw);
	close(self->rawc);
	close(self->traw);
	close(self->trawc);
	xtcp_topo_teardown(&self->t);
}

#define CNT(side, name)	xtcp_counter(&self->t, side, name)
#define CNT_LO(name)	xtcp_counter(&self->t, CLI, name)

static int keep(FIXTURE_DATA(ts) *self, int fd)
{
	if (fd >= 0 && self->nfds < (int)(sizeof(self->fds) /
					  sizeof(self->fds[0])))
		self->fds[self->nfds++] = fd;
	return fd;
}

/* Timestamps on or off for @family on both ends. */
static int set_ts(const struct xtcp_topo *t, int family, int on)
{
	int side;

	if (family != AF_INET)
		return xtcp_sysctl_set(t, BOTH, "timestamps", on);
	for (side = CLI; side <= SRV; side++)
		if (xtcp_topo_write(t, side, "/proc/sys/net/ipv4/tcp_timestamps",
				    on ? "1" : "0"))
			return -1;
	return 0;
}

/*
 * A connection of @family (0: xtcp) from the client's @cport (0: any,
 * else bound with SO_REUSEADDR) to the listener @lfd's @port; the
 * accepted end in *@s. The client's fd, or -1.
 */
static int conn(const struct xtcp_topo *t, int family, int lfd,
		unsigned short port, unsigned short cport, int *s)
{
	struct sockaddr_in peer = xtcp_addr(t, SRV, family, port);
	struct sockaddr_in me = xtcp_addr(t, CLI, family, cport);
	int fd = xtcp_socket(t, CLI, family), one = 1;

	*s = -1;
	if (fd < 0)
		return -1;
	if (cport && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) ||
		      bind(fd, (struct sockaddr *)&me, sizeof(me))))
		goto fail;
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)))
		goto fail;
	*s = xtcp_accept_wait(lfd, 10000);
	if (*s >= 0)
		return fd;
fail:
	close(fd);
	return -1;
}

/*
 * The next segment from @sport to @dport carrying at least @minlen bytes
 * of payload, whole (header and options) into @seg; its length, or -1
 * after @ms.
 */
static ssize_t capture(int raw, int sport, int dport, size_t minlen, int ms,
		       uint8_t *seg, size_t size)
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
		    n - hl < doff + minlen || n - hl > size)
			continue;
		memcpy(seg, buf + hl, n - hl);
		return n - hl;
	}
}

/* Forget what the raw socket has queued. */
static void drain(int raw)
{
	uint8_t buf[2048];

	while (recv(raw, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Close with RST: nothing of the connection stays behind. */
static void abort_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/*
 * The checksum of a captured client segment, computed: veth leaves it to
 * the receiver (CHECKSUM_PARTIAL), so the wire holds only the
 * pseudo-header's sum.
 */
static void seg_csum(const struct xtcp_topo *t, int proto, uint8_t *seg,
		     size_t len)
{
	struct xseg *h = (struct xseg *)seg;

	h->check = 0;
	h->check = xtcp_seg_csum(t->addr[CLI], t->addr[SRV], proto, seg, len);
}

/* New sequence and acknowledgment numbers, and the checksum again. */
static void seg_renumber(const struct xtcp_topo *t, int proto, uint8_t *seg,
			 size_t len, uint32_t seq, uint32_t ack)
{
	struct xseg *h = (struct xseg *)seg;

	h->seq = htonl(seq);
	h->ack = htonl(ack);
	seg_csum(t, proto, seg, len);
}

/* Linux TCP's sockets in state @st (TCP_TIME_WAIT, ...) in @side's netns. */
static long tcp_states(const struct xtcp_topo *t, int side, unsigned int st)
{
	char line[256];
	unsigned int s;
	long n = 0;
	FILE *f;

	if (xtcp_topo_enter(t, side))
		return -1;
	f = fopen("/proc/net/tcp", "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %x", &s) == 1 && s == st)
			n++;
	fclose(f);
	return n;
}

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

/* Data from @from reaches @to, whole, within 10 s. */
static bool carry(int from, int to, const char *msg)
{
	struct pollfd p = { .fd = to, .events = POLLIN };
	size_t len = strlen(msg);
	char buf[64] = "";

	if (send(from, msg, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    poll(&p, 1, 10000) != 1)
		return false;
	return recv(to, buf, sizeof(buf) - 1, 0) == (ssize_t)len &&
	       !strcmp(buf, msg);
}

TEST_F(ts, negotiated)
{
	static const int families[] = { 0, AF_INET };
	unsigned int f;
	int on;

	for (f = 0; f < 2; f++) {
		int family = families[f];
		const char *name = family ? "tcp" : "xtcp";
		unsigned short port;
		int lfd;

		lfd = keep(self, xtcp_listen(&self->t, family, 0, 8, true,
					     &port));
		ASSERT_GE(lfd, 0);
		for (on = 1; on >= 0; on--) {
			struct tcp_info ci, si;
			int c, s;

			ASSERT_EQ(0, set_ts(&self->t, family, on));
			c = keep(self, conn(&self->t, family, lfd, port, 0, &s));
			ASSERT_GE(c, 0) TH_LOG("%s connect: %s", name,
					       strerror(errno));
			keep(self, s);
			ASSERT_EQ(0, tcp_info(c, &ci));
			ASSERT_EQ(0, tcp_info(s, &si));
			EXPECT_EQ(on, !!(ci.tcpi_options & TCPI_OPT_TIMESTAMPS))
				TH_LOG("%s client, timestamps=%d", name, on);
			EXPECT_EQ(on, !!(si.tcpi_options & TCPI_OPT_TIMESTAMPS))
				TH_LOG("%s server, timestamps=%d", name, on);
			/* veth's MTU 1500: 1460, less 12 for the option. */
			EXPECT_EQ(on ? 1448U : 1460U, ci.tcpi_snd_mss)
				TH_LOG("%s, timestamps=%d", name, on);
			TH_LOG("%s timestamps=%d: options %#x, snd_mss %u",
			       name, on, ci.tcpi_options, ci.tcpi_snd_mss);

			if (!family) {
				struct xtcp_info xi;
				uint8_t seg[256];
				uint32_t tsval = 0, tsecr = 0;
				ssize_t n;

				ASSERT_EQ(0, xtcp_get_info(s, &xi));
				EXPECT_EQ(on, !!(xi.xtcpi_options &
						 XTCPI_OPT_TIMESTAMPS));
				EXPECT_EQ(xi.xtcpi_mss, si.tcpi_snd_mss);
				ASSERT_TRUE(carry(c, s, "stamp"));
				n = capture(self->raw, xtcp_local_port(c),
					    port, 5, 5000, seg, sizeof(seg));
				ASSERT_GT(n, 0);
				EXPECT_EQ(on, xtcp_seg_ts(seg, &tsval, &tsecr));
				ASSERT_EQ(0, xtcp_get_info(s, &xi));
				/* The last segment in order: the echo is it. */
				if (on) {
					EXPECT_EQ(tsval, xi.xtcpi_ts_recent);
				} else {
					EXPECT_EQ(0U, xi.xtcpi_ts_recent);
				}
			}
		}
		/* One end off is enough: the SYN-ACK does not carry it. */
		if (!family) {
			struct tcp_info ci;
			int c, s;

			ASSERT_EQ(0, xtcp_sysctl_set(&self->t, CLI,
						     "timestamps", 1));
			ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV,
						     "timestamps", 0));
			c = keep(self, conn(&self->t, 0, lfd, port, 0, &s));
			ASSERT_GE(c, 0);
			keep(self, s);
			ASSERT_EQ(0, tcp_info(c, &ci));
			EXPECT_EQ(0, ci.tcpi_options & TCPI_OPT_TIMESTAMPS);
			EXPECT_EQ(1460U, ci.tcpi_snd_mss);
		}
	}
}

/* What one run of the PAWS case saw. */
struct paws {
	bool delivered;		/* the replay's data reached the application */
	long long tw;		/* PAWS counter's delta, replay into TIME_WAIT */
	long long est;		/* ... and into the new connection */
};

/*
 * One run of the PAWS case for @family (0: xtcp, AF_INET: Linux TCP)
 * with timestamps @on. xtcp counts PAWSTimewaitRejected and
 * PAWSEstabRejected; TCP counts both replays in TcpExt PAWSEstab, so its
 * @tw is that counter's move at the first replay.
 */
static void paws_run(struct __test_metadata *_metadata,
		     FIXTURE_DATA(ts) *self, int family, int on,
		     struct paws *r)
{
	int proto = family ? IPPROTO_TCP : self->t.ipproto;
	int raw = family ? self->traw : self->raw;
	int rawc = family ? self->trawc : self->rawc;
	const char *tw_cnt = family ? "PAWSEstab" : "PAWSTimewaitRejected";
	const char *est_cnt = family ? "PAWSEstab" : "PAWSEstabRejected";
	long long tw0, est0, ack0 = 0;
	uint8_t old[256], cur[256];
	struct xseg *h;
	char buf[16];
	int lfd, c, s;
	ssize_t n, m;

#define PAWS_CNT(name) (family ? xtcp_tcpext(&self->t, SRV, name) : \
				 CNT(SRV, name))

	ASSERT_EQ(0, set_ts(&self->t, family, on));
	lfd = xtcp_listen(&self->t, family, SRV_PORT, 8, true, NULL);
	ASSERT_GE(lfd, 0);
	drain(raw);

	/* The first incarnation: its data is captured on the way. */
	c = conn(&self->t, family, lfd, SRV_PORT, CLI_PORT, &s);
	ASSERT_GE(c, 0) TH_LOG("connect: %s", strerror(errno));
	ASSERT_TRUE(carry(c, s, "OLD!"));
	n = capture(raw, CLI_PORT, SRV_PORT, 4, 5000, old, sizeof(old));
	ASSERT_GT(n, 0);

	/*
	 * The server closes first and keeps the 4-tuple in TIME_WAIT, its
	 * TS.Recent the client's FIN's TSval: a few ms later than the
	 * captured segment's, on a millisecond clock.
	 */
	xtcp_sleep_ms(10);
	close(s);
	ASSERT_EQ(0, recv(c, buf, sizeof(buf), 0));
	close(c);
	if (family) {
		ASSERT_TRUE(XTCP_WAIT_FOR(5000, tcp_states(&self->t, SRV,
						TCP_TIME_WAIT) == 1));
		ASSERT_TRUE(XTCP_WAIT_FOR(5000, tcp_states(&self->t, CLI,
						TCP_LAST_ACK) == 0));
	} else {
		ASSERT_TRUE(XTCP_WAIT_FOR(5000, xtcp_state_count(&self->t,
						SRV, "TIME_WAIT", NULL) == 1));
		ASSERT_TRUE(XTCP_WAIT_FOR(5000, xtcp_state_count(&self->t,
						CLI, "LAST_ACK", NULL) == 0));
	}

	/* The old segment, as it was, into the bucket. */
	tw0 = PAWS_CNT(tw_cnt);
	if (!family)
		ack0 = CNT(SRV, "OutSegs");
	drain(rawc);
	seg_csum(&self->t, proto, old, n);
	ASSERT_EQ(0, xtcp_raw_send(&self->t, rawc, SRV, old, n));
	/* Answered either way: by PAWS, or as an old duplicate. */
	XTCP_WAIT_FOR(3000, PAWS_CNT(tw_cnt) > tw0);
	if (family)
		xtcp_raw_wait(rawc, SRV_PORT, CLI_PORT, F_ACK, 3000, NULL);
	else
		ASSERT_TRUE(XTCP_WAIT_FOR(3000, CNT(SRV, "OutSegs") > ack0));
	r->tw = PAWS_CNT(tw_cnt) - tw0;

	/* The second incarnation takes the 4-tuple over. */
	xtcp_sleep_ms(20);
	drain(raw);
	c = conn(&self->t, family, lfd, SRV_PORT, CLI_PORT, &s);
	ASSERT_GE(c, 0) TH_LOG("reconnect: %s", strerror(errno));
	ASSERT_TRUE(carry(c, s, "new"));
	/* Its data segment: RCV.NXT follows it, and it acks SND.NXT. */
	m = capture(raw, CLI_PORT, SRV_PORT, 3, 5000, cur, sizeof(cur));
	ASSERT_GT(m, 0);
	h = (struct xseg *)cur;

	/* The old segment again, its numbers now in this window. */
	est0 = PAWS_CNT(est_cnt);
	seg_renumber(&self->t, proto, old, n,
		     ntohl(h->seq) + m - (h->doff >> 4) * 4, ntohl(h->ack));
	ASSERT_EQ(0, xtcp_raw_send(&self->t, rawc, SRV, old, n));
	{
		struct pollfd p = { .fd = s, .events = POLLIN };

		XTCP_WAIT_FOR(3000, PAWS_CNT(est_cnt) > est0 ||
				    poll(&p, 1, 0) == 1);
	}
	xtcp_sleep_ms(100);
	r->est = PAWS_CNT(est_cnt) - est0;
	r->delivered = recv(s, buf, sizeof(buf), MSG_DONTWAIT) == 4;
	/* The replay may have desynchronized them: leave nothing behind. */
	abort_close(c);
	abort_close(s);
	close(lfd);
	if (!family)
		EXPECT_EQ(0, xtcp_state_count(&self->t, SRV, "TIME_WAIT",
					      NULL));
#undef PAWS_CNT
}

TEST_F(ts, paws)
{
	int family, on;

	ASSERT_EQ(0, xtcp_topo_write(&self->t, SRV,
				     "/proc/sys/net/ipv4/tcp_invalid_ratelimit",
				     "0"));
	for (family = 0; family <= AF_INET; family += AF_INET) {
		for (on = 0; on <= 1; on++) {
			const char *who = family ? "tcp" : "xtcp";
			struct paws r;

			paws_run(_metadata, self, family, on, &r);
			TH_LOG("%s timestamps=%d: replay delivered %d, PAWS timewait %lld estab %lld",
			       who, on, r.delivered, r.tw, r.est);
			/* Without PAWS the old data gets in: the hazard. */
			EXPECT_EQ(!on, r.delivered) TH_LOG("%s", who);
			if (!on) {
				EXPECT_EQ(0, r.tw) TH_LOG("%s", who);
				EXPECT_EQ(0, r.est) TH_LOG("%s", who);
			} else {
				/* TCP's TIME_WAIT count is not asserted. */
				if (!family)
					EXPECT_EQ(1, r.tw);
				EXPECT_EQ(1, r.est) TH_LOG("%s", who);
			}
		}
	}
}

TEST_F(ts, bound_port_tw)
{
	int family, on, k = 0;

	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, CLI, "tw_reuse", 0));
	ASSERT_EQ(0, xtcp_topo_write(&self->t, CLI,
				     "/proc/sys/net/ipv4/tcp_tw_reuse", "0"));
	for (family = 0; family <= AF_INET; family += AF_INET) {
		for (on = 1; on >= 0; on--) {
			const char *who = family ? "tcp" : "xtcp";
			const char *cnt = family ? "TWRecycled" : "TWReused";
			unsigned short port, cport = CLI_PORT + 1 + k++;
			long long reused0;
			long tw0;
			int lfd, c, s, err;
			char b;

#define TW_CNT() (family ? xtcp_tcpext(&self->t, CLI, cnt) : CNT(CLI, cnt))
#define TW_NOW() (family ? tcp_states(&self->t, CLI, TCP_TIME_WAIT) : \
		  xtcp_state_count(&self->t, CLI, "TIME_WAIT", NULL))
			ASSERT_EQ(0, set_ts(&self->t, family, on));
			lfd = keep(self, xtcp_listen(&self->t, family, 0, 8,
						     true, &port));
			ASSERT_GE(lfd, 0);
			tw0 = TW_NOW();
			c = conn(&self->t, family, lfd, port, cport, &s);
			ASSERT_GE(c, 0) TH_LOG("%s: %s", who, strerror(errno));
			/* The client closes first: its TIME_WAIT. */
			close(c);
			ASSERT_EQ(0, recv(s, &b, 1, 0));
			close(s);
			ASSERT_TRUE(XTCP_WAIT_FOR(5000, TW_NOW() == tw0 + 1))
				TH_LOG("%s", who);

			reused0 = TW_CNT();
			c = keep(self, conn(&self->t, family, lfd, port, cport,
					    &s));
			err = c < 0 ? errno : 0;
			keep(self, s);
			TH_LOG("%s timestamps=%d: connect from the bound port: %s, %s +%lld",
			       who, on, err ? strerror(err) : "ok", cnt,
			       TW_CNT() - reused0);
			if (on) {
				EXPECT_EQ(0, err) TH_LOG("%s", who);
				EXPECT_EQ(1, TW_CNT() - reused0) TH_LOG("%s", who);
			} else {
				EXPECT_EQ(EADDRNOTAVAIL, err) TH_LOG("%s", who);
				EXPECT_EQ(0, TW_CNT() - reused0) TH_LOG("%s", who);
			}
#undef TW_CNT
#undef TW_NOW
		}
	}
}

/* xtcp connections on either side between FIN_WAIT_1 and LAST_ACK. */
static long closing(const struct xtcp_topo *t)
{
	static const char * const st[] = {
		"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "CLOSE_WAIT", "LAST_ACK",
	};
	unsigned int i;
	long n = 0;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		n += xtcp_state_count(t, BOTH, st[i], NULL);
	return n;
}

/*
 * The handshake's RTT: 50 ms of netem delay each way; right after
 * connect() and accept(), both ends' smoothed RTT is about 100 ms (from
 * 80 ms, a clock tick below, to 1 s, TCG's slowness), from one timestamp
 * sample each. Linux TCP, which times the handshake too, is the control.
 */
TEST_F_TIMEOUT(ts, handshake_rtt, 120)
{
	int family;

	ASSERT_EQ(0, xtcp_topo_netem(&self->t, "delay 50ms"));
	for (family = 0; family <= AF_INET; family += AF_INET) {
		const char *who = family ? "tcp" : "xtcp";
		long long cs0, ss0;
		struct tcp_info ci, si;
		unsigned short port;
		int lfd, c, s;

		ASSERT_EQ(0, set_ts(&self->t, family, 1));
		lfd = keep(self, xtcp_listen(&self->t, family, 0, 8, true,
					     &port));
		ASSERT_GE(lfd, 0);
		/*
		 * A SYN that waits for ARP was stamped before the wait: a
		 * first connection resolves the neighbours, so that both
		 * protocols time the path alone.
		 */
		c = conn(&self->t, family, lfd, port, 0, &s);
		ASSERT_GE(c, 0) TH_LOG("%s connect: %s", who, strerror(errno));
		close(s);
		close(c);
		/* ... and has closed before anything is counted. */
		if (!family)
			ASSERT_TRUE(XTCP_WAIT_FOR(5000, !closing(&self->t)));
		cs0 = CNT(CLI, "RttTsSamples");
		ss0 = CNT(SRV, "RttTsSamples");
		c = keep(self, conn(&self->t, family, lfd, port, 0, &s));
		ASSERT_GE(c, 0) TH_LOG("%s connect: %s", who, strerror(errno));
		keep(self, s);
		ASSERT_EQ(0, tcp_info(c, &ci));
		ASSERT_EQ(0, tcp_info(s, &si));
		TH_LOG("%s: srtt client %u us, server %u us", who, ci.tcpi_rtt,
		       si.tcpi_rtt);
		EXPECT_GE(ci.tcpi_rtt, 80000U) TH_LOG("%s", who);
		EXPECT_LE(ci.tcpi_rtt, 1000000U) TH_LOG("%s", who);
		EXPECT_GE(si.tcpi_rtt, 80000U) TH_LOG("%s", who);
		EXPECT_LE(si.tcpi_rtt, 1000000U) TH_LOG("%s", who);
		if (!family) {
			struct xtcp_info xi;

			ASSERT_EQ(0, xtcp_get_info(s, &xi));
			EXPECT_EQ(si.tcpi_rtt, xi.xtcpi_rtt);
			EXPECT_EQ(1, CNT(CLI, "RttTsSamples") - cs0);
			EXPECT_EQ(1, CNT(SRV, "RttTsSamples") - ss0);
		}
	}
}

TEST_F(ts, rtt_during_loss)
{
	int on;

	for (on = 0; on <= 1; on++) {
		struct xtcp_info ci;
		long long ts0, rtx0;
		unsigned short port;
		int lfd, c, s;

		ASSERT_EQ(0, set_ts(&self->t, 0, on));
		lfd = keep(self, xtcp_listen(&self->t, 0, 0, 8, true, &port));
		ASSERT_GE(lfd, 0);
		c = keep(self, conn(&self->t, 0, lfd, port, 0, &s));
		ASSERT_GE(c, 0);
		keep(self, s);
		ts0 = CNT(CLI, "RttTsSamples");
		rtx0 = CNT(CLI, "DataRetrans");
		ASSERT_EQ(0, xtcp_fault_add(&self->t, CLI,
					    "out data dport=%d count=1", port));
		ASSERT_TRUE(carry(c, s, "lost once"));
		ASSERT_TRUE(XTCP_WAIT_FOR(5000, xtcp_get_info(c, &ci) == 0 &&
					  ci.xtcpi_unacked == 0));
		EXPECT_GE(CNT(CLI, "DataRetrans") - rtx0, 1);
		TH_LOG("timestamps=%d: RttTsSamples +%lld, srtt %u us", on,
		       CNT(CLI, "RttTsSamples") - ts0, ci.xtcpi_rtt);
		if (on) {
			EXPECT_GE(CNT(CLI, "RttTsSamples") - ts0, 1);
		} else {
			EXPECT_EQ(0, CNT(CLI, "RttTsSamples") - ts0);
		}
	}
}

FIXTURE(lo)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(lo)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
}

FIXTURE_TEARDOWN(lo)
{
	xtcp_topo_teardown(&self->t);
}

#define RANGE_LOW	40000
#define RANGE_PORTS	50

/*
 * Connections of @family from the ephemeral range to the listener @lfd
 * on @port, each closed by the client first (its TIME_WAIT), for @ms or,
 * if @stop, until the first connect() that fails. Returns how many
 * succeeded; *@err is the errno of the last failure (0: none).
 */
static int churn(const struct xtcp_topo *t, int family, int lfd,
		 unsigned short port, int ms, bool stop, int *err)
{
	struct sockaddr_in peer = xtcp_addr(t, SRV, family, port);
	long long dl = xtcp_now_ms() + ms;
	int done = 0;

	*err = 0;
	while (xtcp_now_ms() < dl) {
		int c = xtcp_socket(t, CLI, family), s;
		char b;

		if (c < 0)
			break;
		if (connect(c, (struct sockaddr *)&peer, sizeof(peer))) {
			*err = errno;
			close(c);
			if (stop)
				break;
			/* Every bucket younger than a second: wait. */
			xtcp_sleep_ms(20);
			continue;
		}
		s = xtcp_accept_wait(lfd, 5000);
		close(c);
		if (s >= 0) {
			(void)!recv(s, &b, 1, 0);
			close(s);
		}
		done++;
	}
	return done;
}

/* Two 10 s churns with reuse, and the rest: beyond the harness's 30 s. */
TEST_F_TIMEOUT(lo, tw_reuse, 120)
{
	static const int families[] = { 0, AF_INET };
	char range[32];
	unsigned int f;
	int reuse;

	snprintf(range, sizeof(range), "%d %d", RANGE_LOW,
		 RANGE_LOW + RANGE_PORTS - 1);
	ASSERT_EQ(0, xtcp_topo_write(&self->t, CLI,
				     "/proc/sys/net/ipv4/ip_local_port_range",
				     range));
	for (reuse = 0; reuse <= 2; reuse += 2) {
		for (f = 0; f < 2; f++) {
			int family = families[f], lfd, n, err;
			const char *name = family ? "tcp" : "xtcp";
			long long reused = CNT_LO("TWReused");
			/* One tuple per protocol: round 2 reuses round 0's. */
			unsigned short port = SRV_PORT + f;
			char val[4];

			snprintf(val, sizeof(val), "%d", reuse);
			if (family) {
				ASSERT_EQ(0, xtcp_topo_write(&self->t, CLI,
					"/proc/sys/net/ipv4/tcp_tw_reuse", val));
			} else {
				ASSERT_EQ(0, xtcp_sysctl_set(&self->t, CLI,
							     "tw_reuse", reuse));
			}
			lfd = xtcp_listen(&self->t, family, port, 64, true,
					  NULL);
			ASSERT_GE(lfd, 0);
			n = churn(&self->t, family, lfd, port, 10000, !reuse,
				  &err);
			close(lfd);
			TH_LOG("%s tw_reuse=%d: %d connections, last error %s",
			       name, reuse, n, err ? strerror(err) : "none");
			if (!family)
				TH_LOG("xtcp: TWReused +%lld",
				       CNT_LO("TWReused") - reused);
			if (!reuse) {
				EXPECT_EQ(RANGE_PORTS, n) TH_LOG("%s", name);
				EXPECT_EQ(EADDRNOTAVAIL, err) TH_LOG("%s", name);
			} else {
				EXPECT_GT(n, 2 * RANGE_PORTS) TH_LOG("%s", name);
				if (!family)
					EXPECT_GE(CNT_LO("TWReused") - reused,
						  n - RANGE_PORTS);
			}
		}
	}
}

TEST_HARNESS_MAIN
