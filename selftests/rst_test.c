// SPDX-License-Identifier: GPL-2.0
/*
 * Segments an attacker or a confused peer could send, crafted with a raw
 * IP socket of protocol ipproto: a stale SYN-ACK in SYN_SENT is answered
 * with RST and the connection stays in SYN_SENT; RFC 5961 RST handling
 * (off-window ignored, in-window challenged, exact resets) and a SYN in
 * ESTABLISHED challenged; malformed segments counted and dropped; a full
 * backlog counted.
 *
 * Every case runs over loopback in one fresh namespace and across two
 * namespaces joined by veth.
 */
#include "kselftest_harness.h"
#include "xtcp_lib.h"

FIXTURE(net)
{
	struct xtcp_conn c;
	int cport;
};

XTCP_TOPO_VARIANTS(net);

FIXTURE_SETUP(net)
{
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, variant->veth));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_min_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_init_ms", 300));
	/* Crafted segments come from the server's side. */
	self->c.raw = xtcp_raw_socket(&self->c.t, SRV);
	ASSERT_GE(self->c.raw, 0) TH_LOG("raw socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(net)
{
	xtcp_conn_teardown(&self->c);
}

#define CNT(side, name)	xtcp_counter(&self->c.t, side, name)

#define ESTABLISH() do {						\
	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 8, 15000));		\
	ASSERT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));	\
	self->cport = xtcp_local_port(self->c.cfd);			\
	ASSERT_GT(self->cport, 0);					\
} while (0)

/* Send a crafted segment from the server's address:SRV_PORT to the client. */
static int to_client(FIXTURE_DATA(net) *self, uint32_t seq, uint32_t ack,
		     uint8_t flags)
{
	uint8_t buf[64];
	size_t len;

	len = xtcp_seg_build(&self->c.t, buf, SRV, CLI, SRV_PORT, self->cport,
			     seq, ack, flags, NULL, 0);
	return xtcp_raw_send(&self->c.t, self->c.raw, CLI, buf, len);
}

/* The connection still carries data both ways. */
static void check_alive(struct __test_metadata *_metadata,
			FIXTURE_DATA(net) *self)
{
	struct pollfd p = { .fd = self->c.afd, .events = POLLIN };
	char buf[8] = "";

	ASSERT_EQ(4, send(self->c.cfd, "ping", 4, MSG_NOSIGNAL));
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_EQ(4, recv(self->c.afd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("ping", buf);
}

TEST_F(net, stale_synack_gets_rst)
{
	struct xtcp_topo *t = &self->c.t;
	struct xtcp_info info;
	long long rst0, est0;
	struct xseg rst;
	uint32_t bad_ack;

	/* Keep the SYN in flight long enough to inject the SYN-ACK. */
	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "rto_init_ms", 3000));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out syn dport=%d count=1",
				    SRV_PORT));
	rst0 = CNT(CLI, "OutRsts");
	est0 = CNT(CLI, "ActiveOpens");

	self->c.cfd = xtcp_connect(t, 0, SRV_PORT, true);
	ASSERT_GE(self->c.cfd, 0);
	self->cport = xtcp_local_port(self->c.cfd);
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &info));
	ASSERT_EQ(XTCP_SYN_SENT, info.xtcpi_state);

	/* An old duplicate: acknowledges something we never sent. */
	bad_ack = info.xtcpi_iss + 1000;
	ASSERT_EQ(0, to_client(self, 12345, bad_ack, F_SYN | F_ACK));
	ASSERT_EQ(0, xtcp_raw_wait(self->c.raw, self->cport, SRV_PORT, F_RST,
				   5000, &rst))
		TH_LOG("no RST for the stale SYN-ACK");
	/* RFC 9293: <SEQ=SEG.ACK><CTL=RST> */
	EXPECT_EQ(bad_ack, ntohl(rst.seq));
	EXPECT_EQ(0, rst.flags & F_ACK);
	EXPECT_GE(CNT(CLI, "OutRsts") - rst0, 1);
	EXPECT_EQ(XTCP_SYN_SENT, xtcp_sock_state(self->c.cfd));
	EXPECT_EQ(0, xtcp_so_error(self->c.cfd));

	/* The retransmitted SYN then completes the handshake. */
	EXPECT_EQ(0, xtcp_connect_wait(self->c.cfd, 20000));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));
	self->c.afd = xtcp_accept_wait(self->c.lfd, 10000);
	EXPECT_GE(self->c.afd, 0);
	EXPECT_EQ(1, CNT(CLI, "ActiveOpens") - est0);
}

TEST_F(net, rst_off_window_ignored)
{
	long long ch0, res0, in0;
	struct xtcp_info info;

	ESTABLISH();
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &info));
	ch0 = CNT(CLI, "ChallengeAcks");
	res0 = CNT(CLI, "EstabResets");
	in0 = CNT(CLI, "InSegs");

	ASSERT_EQ(0, to_client(self, info.xtcpi_rcv_nxt + 0x40000000, 0,
			       F_RST));
	ASSERT_EQ(0, to_client(self, info.xtcpi_rcv_nxt - 1, 0, F_RST));
	ASSERT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InSegs") - in0 >= 2));
	xtcp_sleep_ms(200);
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));
	EXPECT_EQ(0, CNT(CLI, "ChallengeAcks") - ch0);
	EXPECT_EQ(0, CNT(CLI, "EstabResets") - res0);
	check_alive(_metadata, self);
}

TEST_F(net, rst_in_window_challenged)
{
	long long ch0, res0;
	struct xtcp_info info;
	struct xseg ack;

	ESTABLISH();
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &info));
	ASSERT_GT(info.xtcpi_rcv_wnd, 1);
	ch0 = CNT(CLI, "ChallengeAcks");
	res0 = CNT(CLI, "EstabResets");

	ASSERT_EQ(0, to_client(self, info.xtcpi_rcv_nxt + 1, 0, F_RST));
	/* The challenge ACK: our own sequence numbers, not a reset. */
	ASSERT_EQ(0, xtcp_raw_wait(self->c.raw, self->cport, SRV_PORT, F_ACK,
				   5000, &ack));
	EXPECT_EQ(0, ack.flags & (F_RST | F_SYN | F_FIN));
	EXPECT_EQ(info.xtcpi_rcv_nxt, ntohl(ack.ack));
	EXPECT_EQ(info.xtcpi_snd_nxt, ntohl(ack.seq));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "ChallengeAcks") - ch0 == 1));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));
	EXPECT_EQ(0, CNT(CLI, "EstabResets") - res0);
	check_alive(_metadata, self);
}

TEST_F(net, rst_exact_resets)
{
	long long res0, inr0;
	struct xtcp_info info;
	struct pollfd p;
	char c;

	ESTABLISH();
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &info));
	res0 = CNT(CLI, "EstabResets");
	inr0 = CNT(CLI, "InRsts");

	ASSERT_EQ(0, to_client(self, info.xtcpi_rcv_nxt, 0, F_RST));
	p = (struct pollfd){ .fd = self->c.cfd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_TRUE(p.revents & (POLLERR | POLLHUP));
	errno = 0;
	EXPECT_EQ(-1, recv(self->c.cfd, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(XTCP_CLOSE, xtcp_sock_state(self->c.cfd));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "EstabResets") - res0 == 1));
	EXPECT_GE(CNT(CLI, "InRsts") - inr0, 1);
}

TEST_F(net, syn_in_established_challenged)
{
	long long ch0;
	struct xtcp_info info;
	struct xseg ack;

	ESTABLISH();
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &info));
	ch0 = CNT(CLI, "ChallengeAcks");

	ASSERT_EQ(0, to_client(self, info.xtcpi_rcv_nxt + 100, 0, F_SYN));
	ASSERT_EQ(0, xtcp_raw_wait(self->c.raw, self->cport, SRV_PORT, F_ACK,
				   5000, &ack));
	EXPECT_EQ(0, ack.flags & (F_RST | F_SYN));
	EXPECT_EQ(info.xtcpi_rcv_nxt, ntohl(ack.ack));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "ChallengeAcks") - ch0 == 1));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));
	check_alive(_metadata, self);
}

/*
 * Each malformed segment is counted in InErrs (and a bad checksum also in
 * InCsumErrors), draws no RST and leaves the connection as it was.
 */
TEST_F(net, malformed_dropped)
{
	struct xtcp_topo *t = &self->c.t;
	long long err0, csum0, rst0, noso0;
	struct xtcp_info before, after;
	uint8_t buf[128];
	struct xseg *h = (struct xseg *)buf;
	size_t len;

	ESTABLISH();
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &before));
	err0 = CNT(CLI, "InErrs");
	csum0 = CNT(CLI, "InCsumErrors");
	rst0 = CNT(CLI, "OutRsts");
	noso0 = CNT(CLI, "InNoSocket");

	/* Short header: 12 bytes of a valid segment. */
	len = xtcp_seg_build(t, buf, SRV, CLI, SRV_PORT, self->cport,
			     before.xtcpi_rcv_nxt, before.xtcpi_snd_nxt, F_ACK,
			     NULL, 0);
	ASSERT_EQ(0, xtcp_raw_send(t, self->c.raw, CLI, buf, 12));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InErrs") - err0 == 1));

	/* doff of 4 words, below the 5-word header. */
	len = xtcp_seg_build(t, buf, SRV, CLI, SRV_PORT, self->cport,
			     before.xtcpi_rcv_nxt, before.xtcpi_snd_nxt, F_ACK,
			     NULL, 0);
	h->doff = 4 << 4;
	h->check = 0;
	h->check = xtcp_seg_csum(t->addr[SRV], t->addr[CLI], t->ipproto, buf,
				 len);
	ASSERT_EQ(0, xtcp_raw_send(t, self->c.raw, CLI, buf, len));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InErrs") - err0 == 2));

	/* doff of 15 words, beyond the 24 bytes sent. */
	len = xtcp_seg_build(t, buf, SRV, CLI, SRV_PORT, self->cport,
			     before.xtcpi_rcv_nxt, before.xtcpi_snd_nxt, F_ACK,
			     "abcd", 4);
	h->doff = 15 << 4;
	h->check = 0;
	h->check = xtcp_seg_csum(t->addr[SRV], t->addr[CLI], t->ipproto, buf,
				 len);
	ASSERT_EQ(0, xtcp_raw_send(t, self->c.raw, CLI, buf, len));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InErrs") - err0 == 3));
	EXPECT_EQ(0, CNT(CLI, "InCsumErrors") - csum0);

	/* Bad checksum on data that would otherwise be accepted. */
	len = xtcp_seg_build(t, buf, SRV, CLI, SRV_PORT, self->cport,
			     before.xtcpi_rcv_nxt, before.xtcpi_snd_nxt,
			     F_ACK | F_PSH, "evil", 4);
	h->check ^= htons(0x5a5a);
	ASSERT_EQ(0, xtcp_raw_send(t, self->c.raw, CLI, buf, len));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InCsumErrors") - csum0 == 1));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InErrs") - err0 == 4));

	/* Bad checksum to a port nobody listens on: dropped, not reset. */
	len = xtcp_seg_build(t, buf, SRV, CLI, SRV_PORT, 7, 1, 0, F_SYN,
			     NULL, 0);
	h->check ^= htons(0x0101);
	ASSERT_EQ(0, xtcp_raw_send(t, self->c.raw, CLI, buf, len));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InCsumErrors") - csum0 == 2));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "InErrs") - err0 == 5));

	xtcp_sleep_ms(200);
	EXPECT_EQ(0, CNT(CLI, "OutRsts") - rst0);
	EXPECT_EQ(0, CNT(CLI, "InNoSocket") - noso0);
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &after));
	EXPECT_EQ(XTCP_ESTABLISHED, after.xtcpi_state);
	EXPECT_EQ(before.xtcpi_rcv_nxt, after.xtcpi_rcv_nxt);
	EXPECT_EQ(before.xtcpi_snd_una, after.xtcpi_snd_una);
	check_alive(_metadata, self);
}

/*
 * A listener with backlog 1 that never accepts: further handshakes are
 * refused and counted (ListenOverflows, and ListenDrops which counts every
 * drop). Accepting frees room, and the waiting clients get in by
 * retransmission.
 */
TEST_F_TIMEOUT(net, backlog_overflow, 120)
{
	struct xtcp_topo *t = &self->c.t;
	const int n = 4;
	long long ov0, dr0, ov, dr;
	int fds[4], i, accepted = 0, afd;

	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "syn_retries", 10));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 1, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ov0 = CNT(SRV, "ListenOverflows");
	dr0 = CNT(SRV, "ListenDrops");

	for (i = 0; i < n; i++) {
		fds[i] = xtcp_connect(t, 0, SRV_PORT, true);
		ASSERT_GE(fds[i], 0);
	}
	EXPECT_TRUE(XTCP_WAIT_FOR(15000,
			CNT(SRV, "ListenOverflows") - ov0 >= 1));
	ov = CNT(SRV, "ListenOverflows") - ov0;
	dr = CNT(SRV, "ListenDrops") - dr0;
	EXPECT_GE(ov, 1);
	EXPECT_GE(dr, ov);

	/* Drain: every client ends up accepted. */
	while (accepted < n) {
		afd = xtcp_accept_wait(self->c.lfd, 60000);
		if (afd < 0)
			break;
		accepted++;
		close(afd);
	}
	EXPECT_EQ(n, accepted);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, xtcp_connect_wait(fds[i], 10000));
		close(fds[i]);
	}
}

TEST_HARNESS_MAIN
