// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies (the syncookies sysctl, Documentation/protocol.md).  A raw
 * socket in the client's namespace floods a listener with SYNs from
 * spoofed addresses where nobody answers (xtcp_syn_flood()), so its SYN
 * queue of QLEN entries fills and stays full (each entry lives a minute
 * of SYN-ACK retries); a real client connects during the flood:
 *
 * - syncookies 1: the client's SYN gets a cookie, connect() completes and
 *   data moves byte-exact; SyncookiesSent counts the cookies, and
 *   SyncookiesRecv exactly the client's one; the SYN queue never holds
 *   more than QLEN entries.
 * - syncookies 0 (control): the client is still in SYN_SENT seconds later.
 * - syncookies 2: every SYN gets a cookie, no request entry is made.
 * Linux TCP, flooded the same way, is the control of the first two.
 *
 * - syncookies 2, with timestamps on and off: a real client's cookie
 *   child has timestamps and the window scale both ends agree on when
 *   the client offered timestamps, and neither without; Linux TCP's
 *   cookie child the same (tcpi_options, tcpi_snd/rcv_wscale on both
 *   ends, tcpi_snd_mss).
 *
 * Crafted handshakes (syncookies 2) check the cookie itself: the child's
 * MSS is the client's rounded down to the cookie's table, the SYN-ACK
 * to a SYN without timestamps offers no window scale, and an ACK whose
 * cookie is wrong (forged, one bit off, or for another ISN) makes no
 * child: SyncookiesFailed +1 and a RST; a cookie's child that fails (a
 * "child" fault rule) is made by the client's first data. With
 * timestamps the SYN-ACK's TSval carries the SYN's window scale and
 * SACK-permitted in its low five bits (Documentation/protocol.md); an
 * ACK that echoes other bits, or no timestamp, fails like a wrong
 * cookie, and the right echo makes a child with the SYN's window scale.
 */
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/sysinfo.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define QLEN		64		/* backlog and max_syn_backlog */
#define FILL_SYNS	(8 * QLEN)	/* the flood before the client comes */
#define TCP_PORT	(SRV_PORT + 1)
#define PAYLOAD		100000

FIXTURE(cookie)
{
	struct xtcp_topo t;
	int lfd, tlfd, raw, sniff;
	uint32_t rs;
};

FIXTURE_SETUP(cookie)
{
	int one = 1;

	self->lfd = self->tlfd = self->raw = self->sniff = -1;
	self->rs = 4242;
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "max_syn_backlog", QLEN));
	ASSERT_EQ(0, xtcp_sh("ip netns exec %s sysctl -qw net.ipv4.tcp_max_syn_backlog=%d",
			     self->t.name[SRV], QLEN));
	/*
	 * Answers to the spoofed sources go nowhere, silently: through a
	 * made-up neighbour whose frames the client's side ignores.
	 * Unanswered neighbour resolution would report "host unreachable",
	 * which ends a request entry (xtcp's and TCP's) and frees its slot;
	 * an unroutable source makes TCP keep no entry at all. So the
	 * entries live their minute of SYN-ACK retries.
	 */
	ASSERT_EQ(0, xtcp_sh("ip -n %s neigh add 10.99.0.250 lladdr 02:00:00:00:00:99 dev v1 nud permanent",
			     self->t.name[SRV]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s route add 10.99.0.96/27 via 10.99.0.250 dev v1 onlink",
			     self->t.name[SRV]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s route add 10.99.0.128/25 via 10.99.0.250 dev v1 onlink",
			     self->t.name[SRV]));
	self->lfd = xtcp_listen(&self->t, 0, SRV_PORT, QLEN, true, NULL);
	ASSERT_GE(self->lfd, 0);
	self->tlfd = xtcp_listen(&self->t, AF_INET, TCP_PORT, QLEN, true, NULL);
	ASSERT_GE(self->tlfd, 0);
	self->raw = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->raw, 0);
	ASSERT_EQ(0, setsockopt(self->raw, IPPROTO_IP, IP_HDRINCL, &one,
				sizeof(one)));
	self->sniff = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->sniff, 0);
}

FIXTURE_TEARDOWN(cookie)
{
	if (self->sniff >= 0)
		close(self->sniff);
	if (self->raw >= 0)
		close(self->raw);
	if (self->tlfd >= 0)
		close(self->tlfd);
	if (self->lfd >= 0)
		close(self->lfd);
	xtcp_topo_teardown(&self->t);
}

#define CNT(name) xtcp_counter(&self->t, SRV, name)

static int set_cookies(FIXTURE_DATA(cookie) *self, int mode)
{
	if (xtcp_sysctl_set(&self->t, SRV, "syncookies", mode))
		return -1;
	return xtcp_sh("ip netns exec %s sysctl -qw net.ipv4.tcp_syncookies=%d",
		       self->t.name[SRV], mode);
}

/* TCP's request sockets in SYN_RECV on the server, from /proc/net/tcp. */
static long tcp_synrecv(const struct xtcp_topo *t)
{
	char line[256];
	long n = 0;
	FILE *f;

	if (xtcp_topo_enter(t, SRV))
		return -1;
	f = fopen("/proc/net/tcp", "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned int st;

		if (sscanf(line, "%*s %*s %*s %x", &st) == 1 && st == 3)
			n++;
	}
	fclose(f);
	return n;
}

/* The SYN queue's population: xtcp's SYN_RCVD gauge, or TCP's. */
static long synq(FIXTURE_DATA(cookie) *self, int family)
{
	return family ? tcp_synrecv(&self->t)
		      : xtcp_state_count(&self->t, SRV, "SYN_RCVD", NULL);
}

struct flood {
	long sent;		/* spoofed SYNs */
	long max_synq;		/* SYN queue population, sampled */
	long long conn_ms;	/* connect() to connected; -1: never */
	int cfd;		/* the real client, non-blocking */
};

/*
 * Flood @family's listener with FILL_SYNS SYNs, then connect a real client
 * while the flood goes on, for up to @ms; sample the SYN queue meanwhile.
 */
static void flood_connect(FIXTURE_DATA(cookie) *self, int family, int ms,
			  struct flood *f)
{
	int proto = family ? IPPROTO_TCP : self->t.ipproto;
	int port = family ? TCP_PORT : SRV_PORT;
	long long t0, dl;
	long q;

	memset(f, 0, sizeof(*f));
	f->conn_ms = -1;
	f->sent = xtcp_syn_flood(&self->t, self->raw, proto, port, FILL_SYNS,
				 &self->rs);
	f->max_synq = synq(self, family);
	t0 = xtcp_now_ms();
	dl = t0 + ms;
	f->cfd = xtcp_connect(&self->t, family, port, true);
	if (f->cfd < 0)
		return;
	while (xtcp_now_ms() < dl) {
		struct pollfd p = { .fd = f->cfd, .events = POLLOUT };

		f->sent += xtcp_syn_flood(&self->t, self->raw, proto, port, 16,
					  &self->rs);
		if (poll(&p, 1, 5) == 1) {
			f->conn_ms = xtcp_now_ms() - t0;
			break;
		}
		q = synq(self, family);
		if (q > f->max_synq)
			f->max_synq = q;
	}
	q = synq(self, family);
	if (q > f->max_synq)
		f->max_synq = q;
}

/* Client to server, PAYLOAD bytes of a pattern; whether all came intact. */
static bool move_data(int cfd, int afd)
{
	static char out[PAYLOAD], in[PAYLOAD];
	size_t sent = 0, got = 0;
	int i;

	for (i = 0; i < PAYLOAD; i++)
		out[i] = (char)(i * 7 + i / 251);
	while (got < PAYLOAD) {
		struct pollfd p[2] = {
			{ .fd = cfd, .events = sent < PAYLOAD ? POLLOUT : 0 },
			{ .fd = afd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, 10000) <= 0)
			return false;
		if (p[0].revents & POLLOUT) {
			n = send(cfd, out + sent, PAYLOAD - sent, MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				return false;
			if (n > 0)
				sent += n;
		}
		if (p[1].revents & POLLIN) {
			n = recv(afd, in + got, PAYLOAD - got, MSG_DONTWAIT);
			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				return false;
			if (n > 0)
				got += n;
		}
	}
	return !memcmp(in, out, PAYLOAD);
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_state;
}

/* syncookies 1: the flood fills the SYN queue, the client still gets in. */
TEST_F_TIMEOUT(cookie, overflow_sends_cookies, 240)
{
	long long sent0 = CNT("SyncookiesSent"), recv0 = CNT("SyncookiesRecv");
	long long fail0 = CNT("SyncookiesFailed"), drops0 = CNT("ListenDrops");
	struct xtcp_info info;
	struct flood f;
	int family, afd;

	ASSERT_EQ(0, set_cookies(self, 1));
	for (family = 0; family <= AF_INET; family += AF_INET) {
		const char *who = family ? "TCP" : "xtcp";

		flood_connect(self, family, 20000, &f);
		ASSERT_GE(f.cfd, 0);
		TH_LOG("%s: %ld spoofed SYNs, SYN queue at most %ld (bound %d); the client connected in %lld ms",
		       who, f.sent, f.max_synq, QLEN, f.conn_ms);
		/*
		 * The flood filled the queue, which held. TCP's is full only
		 * above the backlog, and it tests that without a lock, so
		 * each CPU's softirq may add one more at the same moment.
		 */
		EXPECT_LE(f.max_synq, family ? QLEN + 1 + get_nprocs() : QLEN);
		EXPECT_GE(f.max_synq, QLEN * 3 / 4);
		EXPECT_GE(f.conn_ms, 0);
		EXPECT_EQ(0, xtcp_so_error(f.cfd));
		afd = xtcp_accept_wait(family ? self->tlfd : self->lfd, 10000);
		ASSERT_GE(afd, 0);
		EXPECT_TRUE(move_data(f.cfd, afd));
		if (!family) {
			struct xtcp_info ci;

			/*
			 * 1460 is in the cookie's table: nothing lost but
			 * the timestamp option's 12 bytes, which carried the
			 * window scale both ways.
			 */
			ASSERT_EQ(0, xtcp_get_info(afd, &info));
			ASSERT_EQ(0, xtcp_get_info(f.cfd, &ci));
			EXPECT_EQ(1448, info.xtcpi_mss);
			EXPECT_TRUE(info.xtcpi_options & XTCPI_OPT_TIMESTAMPS);
			EXPECT_EQ(ci.xtcpi_rcv_wscale, info.xtcpi_snd_wscale);
			EXPECT_EQ(ci.xtcpi_snd_wscale, info.xtcpi_rcv_wscale);
		}
		close(afd);
		close(f.cfd);
	}
	TH_LOG("xtcp: SyncookiesSent +%lld, SyncookiesRecv +%lld, SyncookiesFailed +%lld, ListenDrops +%lld",
	       CNT("SyncookiesSent") - sent0, CNT("SyncookiesRecv") - recv0,
	       CNT("SyncookiesFailed") - fail0, CNT("ListenDrops") - drops0);
	EXPECT_GE(CNT("SyncookiesSent") - sent0, FILL_SYNS / 2);
	/* Only the real client returns a cookie. */
	EXPECT_EQ(1, CNT("SyncookiesRecv") - recv0);
	EXPECT_EQ(0, CNT("SyncookiesFailed") - fail0);
	/* A cookie is an answer, not a drop. */
	EXPECT_EQ(0, CNT("ListenDrops") - drops0);
	EXPECT_EQ(QLEN, xtcp_state_count(&self->t, SRV, "SYN_RCVD", NULL));
}

/* syncookies 0: the same flood locks the client out, on TCP too. */
TEST_F_TIMEOUT(cookie, no_cookies_control, 240)
{
	long long sent0 = CNT("SyncookiesSent"), drops0 = CNT("ListenDrops");
	struct flood f;
	int family, st;

	ASSERT_EQ(0, set_cookies(self, 0));
	for (family = 0; family <= AF_INET; family += AF_INET) {
		const char *who = family ? "TCP" : "xtcp";

		flood_connect(self, family, 4000, &f);
		ASSERT_GE(f.cfd, 0);
		st = family ? tcp_state(f.cfd) : xtcp_sock_state(f.cfd);
		TH_LOG("%s: %ld spoofed SYNs, SYN queue at most %ld; the client after 4 s: state %d, connected %s",
		       who, f.sent, f.max_synq, st, f.conn_ms < 0 ? "no" : "yes");
		EXPECT_LE(f.max_synq, family ? QLEN + 1 : QLEN);
		EXPECT_EQ(-1, f.conn_ms);
		EXPECT_EQ(family ? TCP_SYN_SENT : XTCP_SYN_SENT, st);
		close(f.cfd);
	}
	EXPECT_EQ(0, CNT("SyncookiesSent") - sent0);
	EXPECT_GE(CNT("ListenDrops") - drops0, FILL_SYNS / 2);
}

/* syncookies 2: no request entry at all, and the client gets in. */
TEST_F_TIMEOUT(cookie, always, 240)
{
	long long sent0 = CNT("SyncookiesSent"), recv0 = CNT("SyncookiesRecv");
	long entered0, entered;
	struct flood f;
	int afd;

	ASSERT_EQ(0, set_cookies(self, 2));
	xtcp_state_count(&self->t, SRV, "SYN_RCVD", &entered0);
	flood_connect(self, 0, 20000, &f);
	ASSERT_GE(f.cfd, 0);
	xtcp_state_count(&self->t, SRV, "SYN_RCVD", &entered);
	TH_LOG("%ld spoofed SYNs, SYN queue at most %ld, SYN_RCVD entered +%ld, SyncookiesSent +%lld; connected in %lld ms",
	       f.sent, f.max_synq, entered - entered0,
	       CNT("SyncookiesSent") - sent0, f.conn_ms);
	EXPECT_EQ(0, f.max_synq);
	/* The one connection that passed through SYN_RCVD, statelessly. */
	EXPECT_EQ(1, entered - entered0);
	EXPECT_GE(CNT("SyncookiesSent") - sent0, f.sent * 9 / 10);
	EXPECT_EQ(1, CNT("SyncookiesRecv") - recv0);
	EXPECT_GE(f.conn_ms, 0);
	afd = xtcp_accept_wait(self->lfd, 10000);
	ASSERT_GE(afd, 0);
	EXPECT_TRUE(move_data(f.cfd, afd));
	close(afd);
	close(f.cfd);
}

static int tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

/* Timestamps on or off in both namespaces, for xtcp and for Linux TCP. */
static int set_timestamps(FIXTURE_DATA(cookie) *self, int on)
{
	int side;

	if (xtcp_sysctl_set(&self->t, BOTH, "timestamps", on))
		return -1;
	for (side = CLI; side <= SRV; side++)
		if (xtcp_topo_write(&self->t, side,
				    "/proc/sys/net/ipv4/tcp_timestamps",
				    on ? "1" : "0"))
			return -1;
	return 0;
}

/*
 * syncookies 2, no flood: each connection's child comes from a cookie.
 * With timestamps its window scale came back in TSecr: both ends agree
 * on both shifts, and they are not 0 (the buffers' maxima ask for
 * scaling); without them neither end scales. Linux TCP alike.
 */
TEST_F_TIMEOUT(cookie, options_with_timestamps, 120)
{
	int family, ts;

	ASSERT_EQ(0, set_cookies(self, 2));
	for (ts = 1; ts >= 0; ts--) {
		ASSERT_EQ(0, set_timestamps(self, ts));
		for (family = 0; family <= AF_INET; family += AF_INET) {
			const char *who = family ? "TCP" : "xtcp";
			long long recv0 = family ?
				xtcp_tcpext(&self->t, SRV, "SyncookiesRecv") :
				CNT("SyncookiesRecv"), recv;
			int c, a, c_snd, c_rcv, s_snd, s_rcv;
			struct tcp_info ci, si;

			c = xtcp_connect(&self->t, family,
					 family ? TCP_PORT : SRV_PORT, false);
			ASSERT_GE(c, 0) TH_LOG("%s: %s", who, strerror(errno));
			a = xtcp_accept_wait(family ? self->tlfd : self->lfd,
					     10000);
			ASSERT_GE(a, 0);
			ASSERT_EQ(0, tcp_info(c, &ci));
			ASSERT_EQ(0, tcp_info(a, &si));
			recv = (family ?
				xtcp_tcpext(&self->t, SRV, "SyncookiesRecv") :
				CNT("SyncookiesRecv")) - recv0;
			TH_LOG("%s timestamps=%d: cookies recv +%lld; client options %#x wscale snd %u rcv %u mss %u; child options %#x wscale snd %u rcv %u mss %u",
			       who, ts, recv, ci.tcpi_options,
			       ci.tcpi_snd_wscale, ci.tcpi_rcv_wscale,
			       ci.tcpi_snd_mss, si.tcpi_options,
			       si.tcpi_snd_wscale, si.tcpi_rcv_wscale,
			       si.tcpi_snd_mss);
			EXPECT_EQ(1, recv) TH_LOG("%s", who);
			EXPECT_EQ(ts, !!(ci.tcpi_options & TCPI_OPT_TIMESTAMPS));
			EXPECT_EQ(ts, !!(si.tcpi_options & TCPI_OPT_TIMESTAMPS));
			EXPECT_EQ(ts, !!(ci.tcpi_options & TCPI_OPT_WSCALE));
			EXPECT_EQ(ts, !!(si.tcpi_options & TCPI_OPT_WSCALE));
			/* SACK-permitted rides in the TSval too, or nowhere. */
			EXPECT_EQ(ts, !!(ci.tcpi_options & TCPI_OPT_SACK));
			EXPECT_EQ(ts, !!(si.tcpi_options & TCPI_OPT_SACK));
			/* Bit-fields: the harness's typeof() wants values. */
			c_snd = ci.tcpi_snd_wscale;
			c_rcv = ci.tcpi_rcv_wscale;
			s_snd = si.tcpi_snd_wscale;
			s_rcv = si.tcpi_rcv_wscale;
			EXPECT_EQ(c_rcv, s_snd);
			EXPECT_EQ(c_snd, s_rcv);
			if (ts) {
				EXPECT_LT(0, s_snd);
				EXPECT_LT(0, s_rcv);
			} else {
				EXPECT_EQ(0, s_snd);
				EXPECT_EQ(0, s_rcv);
			}
			/* veth's 1460, less the timestamp option's 12. */
			EXPECT_EQ(ts ? 1448U : 1460U, si.tcpi_snd_mss);
			EXPECT_EQ(ts ? 1448U : 1460U, ci.tcpi_snd_mss);
			EXPECT_TRUE(move_data(c, a)) TH_LOG("%s", who);
			close(a);
			close(c);
		}
	}
}

/* A SYN from the client's address, port @port, ISN @isn, MSS option @mss. */
static int send_syn(FIXTURE_DATA(cookie) *self, int port, uint32_t isn,
		    int mss)
{
	uint8_t buf[sizeof(struct xseg) + 4];
	struct xseg *h = (struct xseg *)buf;

	xtcp_seg_build(&self->t, buf, CLI, SRV, port, SRV_PORT, isn, 0, F_SYN,
		       NULL, 0);
	h->doff = (sizeof(buf) / 4) << 4;
	buf[sizeof(*h)] = 2;
	buf[sizeof(*h) + 1] = 4;
	buf[sizeof(*h) + 2] = mss >> 8;
	buf[sizeof(*h) + 3] = mss & 0xff;
	h->check = 0;
	h->check = xtcp_seg_csum(self->t.addr[CLI], self->t.addr[SRV],
				 self->t.ipproto, buf, sizeof(buf));
	return xtcp_raw_send(&self->t, self->sniff, SRV, buf, sizeof(buf));
}

static int send_ack(FIXTURE_DATA(cookie) *self, int port, uint32_t seq,
		    uint32_t ack)
{
	uint8_t buf[sizeof(struct xseg)];

	xtcp_seg_build(&self->t, buf, CLI, SRV, port, SRV_PORT, seq, ack,
		       F_ACK, NULL, 0);
	return xtcp_raw_send(&self->t, self->sniff, SRV, buf, sizeof(buf));
}

/*
 * The MSS a cookie carries: the client's, rounded down to the table of
 * Documentation/protocol.md (88, 536, 1300, 1440, 1460, 4056, 8960,
 * 15360), and never above our own (1460 over the veth); no window scale.
 */
TEST_F_TIMEOUT(cookie, mss_table, 120)
{
	static const struct { int client, child; } ladder[] = {
		{ 100, 88 }, { 536, 536 }, { 1000, 536 }, { 1400, 1300 },
		{ 1440, 1440 }, { 1459, 1440 }, { 1460, 1460 }, { 9000, 1460 },
	};
	long long recv0 = CNT("SyncookiesRecv");
	unsigned int i;

	ASSERT_EQ(0, set_cookies(self, 2));
	for (i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++) {
		int port = 40000 + i, afd;
		uint32_t isn = 1000000 * (i + 1);
		struct xtcp_info info;
		struct xseg sa;

		ASSERT_EQ(0, send_syn(self, port, isn, ladder[i].client));
		ASSERT_EQ(0, xtcp_raw_wait(self->sniff, SRV_PORT, port,
					   F_SYN | F_ACK, 5000, &sa));
		EXPECT_EQ(isn + 1, ntohl(sa.ack));
		/* MSS only: 24 bytes of header, no window scale. */
		EXPECT_EQ(6, sa.doff >> 4);
		ASSERT_EQ(0, send_ack(self, port, isn + 1, ntohl(sa.seq) + 1));
		afd = xtcp_accept_wait(self->lfd, 5000);
		ASSERT_GE(afd, 0);
		ASSERT_EQ(0, xtcp_get_info(afd, &info));
		TH_LOG("client MSS %5d -> cookie %08x -> child MSS %u",
		       ladder[i].client, ntohl(sa.seq), info.xtcpi_mss);
		EXPECT_EQ(ladder[i].child, info.xtcpi_mss);
		EXPECT_LE(info.xtcpi_mss, ladder[i].client);
		EXPECT_EQ(isn, info.xtcpi_irs);
		EXPECT_EQ(ntohl(sa.seq), info.xtcpi_iss);
		EXPECT_EQ(0, info.xtcpi_snd_wscale);
		close(afd);
	}
	EXPECT_EQ(i, CNT("SyncookiesRecv") - recv0);
}

/*
 * ACKs whose cookie is wrong: made up, a real one with one bit flipped
 * (in the MAC, and in the MSS index), a real one for another ISN. Each
 * counts in SyncookiesFailed, makes no child and is answered with RST.
 */
TEST_F_TIMEOUT(cookie, bad_cookie, 120)
{
	long long opens0 = CNT("PassiveOpens");
	uint32_t isn = 777777, cookie;
	struct {
		const char *what;
		uint32_t seq, ack;
	} bad[4];
	int port = 41000, i;
	struct xseg sa, rst;

	ASSERT_EQ(0, set_cookies(self, 2));
	ASSERT_EQ(0, send_syn(self, port, isn, 1460));
	ASSERT_EQ(0, xtcp_raw_wait(self->sniff, SRV_PORT, port, F_SYN | F_ACK,
				   5000, &sa));
	cookie = ntohl(sa.seq);
	bad[0].what = "made up";
	bad[0].seq = isn + 1;
	bad[0].ack = cookie + 0x5a5a5a5a;
	bad[1].what = "a MAC bit flipped";
	bad[1].seq = isn + 1;
	bad[1].ack = (cookie ^ 0x100000) + 1;
	bad[2].what = "the MSS index changed";
	bad[2].seq = isn + 1;
	bad[2].ack = (cookie ^ 0x7) + 1;
	bad[3].what = "another ISN";
	bad[3].seq = isn + 2;
	bad[3].ack = cookie + 1;
	for (i = 0; i < 4; i++) {
		long long fail0 = CNT("SyncookiesFailed");

		ASSERT_EQ(0, send_ack(self, port, bad[i].seq, bad[i].ack));
		EXPECT_EQ(0, xtcp_raw_wait(self->sniff, SRV_PORT, port, F_RST,
					   5000, &rst));
		EXPECT_EQ(bad[i].ack, ntohl(rst.seq));
		EXPECT_TRUE(XTCP_WAIT_FOR(2000,
			CNT("SyncookiesFailed") - fail0 == 1));
		TH_LOG("%s: SyncookiesFailed +%lld, RST seq %08x",
		       bad[i].what, CNT("SyncookiesFailed") - fail0,
		       ntohl(rst.seq));
	}
	EXPECT_GT(0, xtcp_accept_wait(self->lfd, 500));
	EXPECT_EQ(0, CNT("PassiveOpens") - opens0);
	/* The real cookie still works. */
	ASSERT_EQ(0, send_ack(self, port, isn + 1, cookie + 1));
	i = xtcp_accept_wait(self->lfd, 5000);
	EXPECT_GE(i, 0);
	if (i >= 0)
		close(i);
}

/*
 * A child made from a cookie that cannot be made (a "child" fault rule):
 * ChildFails +1 and no child, and nothing remembers the handshake; the
 * peer's next segment with the same sequence number, its first data,
 * returns the cookie again and makes the child, which gets the data.
 * The client's side sends no RST (an "out rst" rule there), as a real
 * client would not.
 */
TEST_F_TIMEOUT(cookie, child_fail_then_data, 120)
{
	long long fails0, recv0;
	uint32_t isn = 31337, cookie;
	uint8_t buf[sizeof(struct xseg) + 5];
	int port = 42000, afd;
	struct xseg sa;
	char got[8];
	size_t len;

	ASSERT_EQ(0, set_cookies(self, 2));
	ASSERT_EQ(0, xtcp_fault_add(&self->t, CLI, "out rst"));
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV, "child any count=1"));
	ASSERT_EQ(0, send_syn(self, port, isn, 1460));
	ASSERT_EQ(0, xtcp_raw_wait(self->sniff, SRV_PORT, port, F_SYN | F_ACK,
				   5000, &sa));
	cookie = ntohl(sa.seq);
	fails0 = CNT("ChildFails");
	recv0 = CNT("SyncookiesRecv");

	ASSERT_EQ(0, send_ack(self, port, isn + 1, cookie + 1));
	EXPECT_TRUE(XTCP_WAIT_FOR(3000, CNT("ChildFails") - fails0 == 1));
	EXPECT_GT(0, xtcp_accept_wait(self->lfd, 500));

	len = xtcp_seg_build(&self->t, buf, CLI, SRV, port, SRV_PORT, isn + 1,
			     cookie + 1, F_ACK | F_PSH, "hello", 5);
	ASSERT_EQ(0, xtcp_raw_send(&self->t, self->sniff, SRV, buf, len));
	afd = xtcp_accept_wait(self->lfd, 5000);
	ASSERT_GE(afd, 0);
	EXPECT_TRUE(XTCP_WAIT_FOR(3000,
			recv(afd, got, sizeof(got), MSG_DONTWAIT) == 5));
	EXPECT_EQ(0, memcmp(got, "hello", 5));
	TH_LOG("ChildFails +%lld, SyncookiesRecv +%lld",
	       CNT("ChildFails") - fails0, CNT("SyncookiesRecv") - recv0);
	EXPECT_EQ(1, CNT("ChildFails") - fails0);
	EXPECT_EQ(2, CNT("SyncookiesRecv") - recv0);
	close(afd);
}

/*
 * A segment from the client's address and port @port to the listener,
 * with @olen bytes of options @opt (a multiple of 4).
 */
static int send_opts(FIXTURE_DATA(cookie) *self, int port, uint32_t seq,
		     uint32_t ack, uint8_t flags, const uint8_t *opt,
		     size_t olen)
{
	uint8_t buf[sizeof(struct xseg) + 40];
	struct xseg *h = (struct xseg *)buf;
	size_t len = sizeof(*h) + olen;

	xtcp_seg_build(&self->t, buf, CLI, SRV, port, SRV_PORT, seq, ack,
		       flags, NULL, 0);
	memcpy(buf + sizeof(*h), opt, olen);
	h->doff = (len / 4) << 4;
	h->check = 0;
	h->check = xtcp_seg_csum(self->t.addr[CLI], self->t.addr[SRV],
				 self->t.ipproto, buf, len);
	return xtcp_raw_send(&self->t, self->sniff, SRV, buf, len);
}

/* NOP NOP TS: 12 bytes at @p. */
static size_t put_ts(uint8_t *p, uint32_t tsval, uint32_t tsecr)
{
	p[0] = 1;
	p[1] = 1;
	p[2] = 8;
	p[3] = 10;
	tsval = htonl(tsval);
	tsecr = htonl(tsecr);
	memcpy(p + 4, &tsval, 4);
	memcpy(p + 8, &tsecr, 4);
	return 12;
}

/*
 * A SYN with timestamps, a window scale (or none) and SACK-permitted (or
 * not): the SYN-ACK's TSval carries them in its low five bits (wscale,
 * 15 for none; 16 for SACK-permitted) and echoes the SYN's TSval; it
 * offers a window scale only if the SYN did. On the first SYN, ACKs that
 * echo another wscale, another SACK bit, or no timestamp at all count
 * SyncookiesFailed and draw RST. The right echo makes the child with the
 * SYN's shift, ours from the SYN-ACK, timestamps (TS.Recent the ACK's
 * TSval) and 1460 - 12 bytes of MSS.
 */
TEST_F_TIMEOUT(cookie, ts_carries_options, 120)
{
	static const struct { int ws; bool sack; } syns[] = {
		{ 5, true }, { -1, false }, { 14, false }, { 0, true },
	};
	unsigned int i;

	ASSERT_EQ(0, set_cookies(self, 2));
	for (i = 0; i < sizeof(syns) / sizeof(syns[0]); i++) {
		int port = 43000 + i, ws = syns[i].ws, afd, our_ws = 0;
		uint32_t isn = 5000000 * (i + 1), tsval = 0x7000000 + 1000 * i;
		uint32_t sv = 0, se = 0, cookie;
		uint8_t opt[40], sa[128];
		struct xtcp_info info;
		const uint8_t *o;
		size_t n = 0;

		opt[n++] = 2;
		opt[n++] = 4;
		opt[n++] = 1460 >> 8;
		opt[n++] = 1460 & 0xff;
		n += put_ts(opt + n, tsval, 0);
		if (ws >= 0) {
			opt[n++] = 1;
			opt[n++] = 3;
			opt[n++] = 3;
			opt[n++] = ws;
		}
		if (syns[i].sack) {
			opt[n++] = 1;
			opt[n++] = 1;
			opt[n++] = 4;
			opt[n++] = 2;
		}
		ASSERT_EQ(0, send_opts(self, port, isn, 0, F_SYN, opt, n));
		ASSERT_LT(0, xtcp_raw_wait_seg(self->sniff, SRV_PORT, port,
					       F_SYN | F_ACK, 5000, sa,
					       sizeof(sa)));
		cookie = ntohl(((struct xseg *)sa)->seq);
		ASSERT_TRUE(xtcp_seg_ts(sa, &sv, &se));
		TH_LOG("SYN wscale %d sack %d -> SYN-ACK TSval %08x (low bits %#x), TSecr %08x, window scale option %s",
		       ws, syns[i].sack, sv, sv & 31, se,
		       xtcp_seg_opt(sa, 3, &o) ? "yes" : "no");
		EXPECT_EQ(tsval, se);
		EXPECT_EQ(ws >= 0 ? (uint32_t)ws : 15U, sv & 15);
		EXPECT_EQ(syns[i].sack, !!(sv & 16));
		EXPECT_EQ(ws >= 0, xtcp_seg_opt(sa, 3, &o));
		if (ws >= 0 && xtcp_seg_opt(sa, 3, &o))
			our_ws = o[2];

		if (i == 0) {
			static const uint32_t flip[] = { 0x0f, 0x10, 0 };
			unsigned int k;

			for (k = 0; k < 3; k++) {
				long long fail0 = CNT("SyncookiesFailed");
				struct xseg rst;
				size_t m = 0;

				if (flip[k])
					m = put_ts(opt, tsval + 1,
						   sv ^ flip[k]);
				ASSERT_EQ(0, send_opts(self, port, isn + 1,
						       cookie + 1, F_ACK,
						       opt, m));
				EXPECT_EQ(0, xtcp_raw_wait(self->sniff,
						SRV_PORT, port, F_RST, 5000,
						&rst));
				EXPECT_TRUE(XTCP_WAIT_FOR(2000,
					CNT("SyncookiesFailed") - fail0 == 1))
					TH_LOG("echo %#x", flip[k]);
			}
			EXPECT_GT(0, xtcp_accept_wait(self->lfd, 300));
		}

		n = put_ts(opt, tsval + 1, sv);
		ASSERT_EQ(0, send_opts(self, port, isn + 1, cookie + 1, F_ACK,
				       opt, n));
		afd = xtcp_accept_wait(self->lfd, 5000);
		ASSERT_GE(afd, 0);
		ASSERT_EQ(0, xtcp_get_info(afd, &info));
		TH_LOG("child: options %#x, wscale snd %u rcv %u, mss %u, TS.Recent %08x",
		       info.xtcpi_options, info.xtcpi_snd_wscale,
		       info.xtcpi_rcv_wscale, info.xtcpi_mss,
		       info.xtcpi_ts_recent);
		EXPECT_TRUE(info.xtcpi_options & XTCPI_OPT_TIMESTAMPS);
		EXPECT_EQ(ws >= 0 ? ws : 0, info.xtcpi_snd_wscale);
		EXPECT_EQ(our_ws, info.xtcpi_rcv_wscale);
		EXPECT_EQ(tsval + 1, info.xtcpi_ts_recent);
		EXPECT_EQ(1448, info.xtcpi_mss);
		close(afd);
	}
}

TEST_HARNESS_MAIN
