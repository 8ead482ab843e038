// SPDX-License-Identifier: GPL-2.0
/*
 * Loss during the handshake and the teardown, produced with fault rules
 * (/proc/net/xtcp/faults): a lost SYN, SYN-ACK or third ACK is repaired by
 * retransmission and the right counter moves; an unanswered SYN is retried
 * exactly syn_retries times with doubling intervals and connect() fails
 * with ETIMEDOUT; a lost final ACK makes LAST_ACK retransmit its FIN, which
 * the TIME_WAIT side re-ACKs, restarting its timer; a data segment lost
 * after an earlier one was acknowledged waits its own full RTO.
 *
 * Every case runs over loopback in one fresh namespace and across two
 * namespaces joined by veth. Timers are shrunk with the namespaces' own
 * sysctls; times are only checked from below (TCG is slow and noisy).
 */
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <sys/time.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

FIXTURE(net)
{
	struct xtcp_conn c;
};

XTCP_TOPO_VARIANTS(net);

FIXTURE_SETUP(net)
{
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, variant->veth));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_min_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_init_ms", 300));
}

FIXTURE_TEARDOWN(net)
{
	xtcp_conn_teardown(&self->c);
}

#define CNT(side, name)	xtcp_counter(&self->c.t, side, name)

/* Connect to the open listener and accept, both with deadlines of @ms. */
#define ESTABLISH(ms) do {						\
	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 8, ms));		\
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));	\
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.afd));	\
} while (0)

/* Both ends agree on the sequence numbers after the handshake. */
static void check_isn(struct __test_metadata *_metadata, int cfd, int afd)
{
	struct xtcp_info c, s;

	ASSERT_EQ(0, xtcp_get_info(cfd, &c));
	ASSERT_EQ(0, xtcp_get_info(afd, &s));
	XTCP_EXPECT_SYNCED(c, s);
}

TEST_F(net, syn_lost)
{
	struct xtcp_topo *t = &self->c.t;
	long long syn0, drop0, sdrop0, seen, fired;

	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out syn dport=%d count=1",
				    SRV_PORT));
	syn0 = CNT(CLI, "SynRetrans");
	drop0 = CNT(CLI, "FaultDrops");
	sdrop0 = CNT(SRV, "FaultDrops");

	ESTABLISH(20000);
	check_isn(_metadata, self->c.cfd, self->c.afd);

	EXPECT_EQ(1, CNT(CLI, "SynRetrans") - syn0);
	EXPECT_EQ(1, CNT(CLI, "FaultDrops") - drop0);
	if (t->veth)
		EXPECT_EQ(0, CNT(SRV, "FaultDrops") - sdrop0);
	ASSERT_EQ(0, xtcp_fault_stats(t, CLI, 1, &seen, &fired));
	EXPECT_EQ(2, seen);
	EXPECT_EQ(1, fired);
}

TEST_F(net, synack_lost)
{
	struct xtcp_topo *t = &self->c.t;
	long long syn0, synack0, drop0, seen, fired;

	/* Across namespaces the server's timer is the one that fires. */
	if (t->veth)
		ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "rto_init_ms", 20000));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, SRV, "out synack sport=%d count=1",
				    SRV_PORT));
	syn0 = CNT(CLI, "SynRetrans");
	synack0 = CNT(SRV, "SynAckRetrans");
	drop0 = CNT(SRV, "FaultDrops");

	ESTABLISH(15000);
	check_isn(_metadata, self->c.cfd, self->c.afd);

	EXPECT_EQ(1, CNT(SRV, "FaultDrops") - drop0);
	ASSERT_EQ(0, xtcp_fault_stats(t, SRV, 1, &seen, &fired));
	EXPECT_GE(seen, 2);
	EXPECT_EQ(1, fired);
	if (t->veth) {
		EXPECT_GE(CNT(SRV, "SynAckRetrans") - synack0, 1);
		EXPECT_EQ(0, CNT(CLI, "SynRetrans") - syn0);
	} else {
		/* One timer or the other repaired it. */
		EXPECT_GE(CNT(SRV, "SynAckRetrans") - synack0 +
			  CNT(CLI, "SynRetrans") - syn0, 1);
	}
}

TEST_F(net, third_ack_lost)
{
	struct xtcp_topo *t = &self->c.t;
	struct pollfd p;
	long long synack0, drop0, seen, fired;

	/* Long enough to see the server still waiting for the ACK. */
	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "rto_init_ms", 2000));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out ack dport=%d count=1",
				    SRV_PORT));
	synack0 = CNT(SRV, "SynAckRetrans");
	drop0 = CNT(CLI, "FaultDrops");

	self->c.cfd = xtcp_connect(t, 0, SRV_PORT, true);
	ASSERT_GE(self->c.cfd, 0);
	ASSERT_EQ(0, xtcp_connect_wait(self->c.cfd, 15000));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));

	/* The server has nothing to accept until the SYN-ACK is repeated. */
	p = (struct pollfd){ .fd = self->c.lfd, .events = POLLIN };
	EXPECT_EQ(0, poll(&p, 1, 0));

	self->c.afd = xtcp_accept_wait(self->c.lfd, 20000);
	ASSERT_GE(self->c.afd, 0);
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.afd));
	check_isn(_metadata, self->c.cfd, self->c.afd);
	EXPECT_GE(CNT(SRV, "SynAckRetrans") - synack0, 1);
	EXPECT_EQ(1, CNT(CLI, "FaultDrops") - drop0);
	ASSERT_EQ(0, xtcp_fault_stats(t, CLI, 1, &seen, &fired));
	EXPECT_GE(seen, 2);
	EXPECT_EQ(1, fired);
}

/* Data carrying a valid ACK completes the handshake the ACK did not. */
TEST_F(net, third_ack_lost_data_completes)
{
	struct pollfd p = { .events = POLLIN };
	struct xtcp_topo *t = &self->c.t;
	long long synack0;
	char buf[16] = "";

	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "rto_init_ms", 30000));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out ack dport=%d count=1",
				    SRV_PORT));
	synack0 = CNT(SRV, "SynAckRetrans");

	self->c.cfd = xtcp_connect(t, 0, SRV_PORT, true);
	ASSERT_GE(self->c.cfd, 0);
	ASSERT_EQ(0, xtcp_connect_wait(self->c.cfd, 15000));
	ASSERT_EQ(5, send(self->c.cfd, "hello", 5, MSG_NOSIGNAL));

	self->c.afd = xtcp_accept_wait(self->c.lfd, 15000);
	ASSERT_GE(self->c.afd, 0);
	p.fd = self->c.afd;
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_EQ(5, recv(self->c.afd, buf, sizeof(buf), 0));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(0, CNT(SRV, "SynAckRetrans") - synack0);
}

/* Outgoing SYNs to SRV_PORT seen on @ifname: kernel timestamps in µs. */
static int capture_open(const struct xtcp_topo *t, const char *ifname)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	int fd, one = 1;

	if (xtcp_topo_enter(t, CLI))
		return -1;
	/* ETH_P_ALL: only such taps see outgoing packets. */
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	if (fd >= 0) {
		ll.sll_protocol = htons(ETH_P_ALL);
		ll.sll_ifindex = if_nametoindex(ifname);
		if (!ll.sll_ifindex ||
		    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) ||
		    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &one,
			       sizeof(one))) {
			close(fd);
			fd = -1;
		}
	}
	xtcp_topo_leave(t);
	return fd;
}

/*
 * Kernel timestamps of outgoing packets start only once the
 * timestamping static key, enabled by SO_TIMESTAMP from a work item, is
 * on; until then the packet is stamped when read. Send UDP probes until
 * one is stamped at its transmission.
 */
static int capture_warm_up(const struct xtcp_topo *t, int cap)
{
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(9) };
	long long dl = xtcp_now_ms() + 10000;
	int fd, ret = -1;

	if (xtcp_topo_enter(t, CLI))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	xtcp_topo_leave(t);
	if (fd < 0)
		return -1;
	dst.sin_addr = t->addr[SRV];
	while (ret && xtcp_now_ms() < dl) {
		char buf[2048], cbuf[256];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct pollfd p = { .fd = cap, .events = POLLIN };
		struct timeval sent, tv = { 0, 0 };
		struct cmsghdr *c;

		gettimeofday(&sent, NULL);
		sendto(fd, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst));
		xtcp_sleep_ms(100);
		while (poll(&p, 1, 0) == 1 && recvmsg(cap, &m, 0) >= 0) {
			for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SO_TIMESTAMP)
					memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			/* Stamped within 50 ms of the send: on transmit. */
			if (tv.tv_sec * 1000000LL + tv.tv_usec <
			    sent.tv_sec * 1000000LL + sent.tv_usec + 50000)
				ret = 0;
			m.msg_controllen = sizeof(cbuf);
		}
	}
	close(fd);
	return ret;
}

/* Read captured SYNs; fills @us and @seq, returns how many. */
static int capture_syns(const struct xtcp_topo *t, int fd, long long *us,
			uint32_t *seq, int max)
{
	char buf[2048], cbuf[256];
	int n = 0;

	for (;;) {
		struct sockaddr_ll ll;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = {
			.msg_name = &ll, .msg_namelen = sizeof(ll),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		const struct iphdr *ip = (const struct iphdr *)buf;
		const struct xseg *h;
		struct cmsghdr *c;
		ssize_t len;

		if (n >= max)
			return n;
		us[n] = -1;
		len = recvmsg(fd, &m, MSG_DONTWAIT);
		if (len < 0)
			return n;
		if (ll.sll_pkttype != PACKET_OUTGOING ||
		    ll.sll_protocol != htons(ETH_P_IP) ||
		    len < (ssize_t)(sizeof(*ip) + sizeof(*h)) ||
		    ip->protocol != t->ipproto)
			continue;
		h = (const struct xseg *)(buf + ip->ihl * 4);
		if ((h->flags & (F_SYN | F_ACK)) != F_SYN ||
		    ntohs(h->dport) != SRV_PORT)
			continue;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SO_TIMESTAMP) {
				struct timeval tv;

				memcpy(&tv, CMSG_DATA(c), sizeof(tv));
				us[n] = tv.tv_sec * 1000000LL + tv.tv_usec;
			}
		}
		if (us[n] < 0)
			return -1;	/* no timestamp */
		seq[n++] = ntohl(h->seq);
	}
}

static long long realtime_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000000LL + tv.tv_usec;
}

TEST_F_TIMEOUT(net, syn_retries_exhausted, 90)
{
	struct xtcp_topo *t = &self->c.t;
	const int retries = 3, rto = 400;
	struct sockaddr_in a = xtcp_addr(t, SRV, 0, SRV_PORT);
	long long syn0, fail0, drop0, seen, fired, us[16], end, lower;
	uint32_t seq[16];
	int cap, n, i, ret, err;

	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "syn_retries", retries));
	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "rto_init_ms", rto));
	/* Dropped on arrival, so every SYN is on the client's wire. */
	ASSERT_EQ(0, xtcp_fault_add(t, SRV, "in syn dport=%d", SRV_PORT));
	cap = capture_open(t, t->veth ? "v0" : "lo");
	ASSERT_GE(cap, 0) TH_LOG("packet socket: %s", strerror(errno));
	ASSERT_EQ(0, capture_warm_up(t, cap));
	syn0 = CNT(CLI, "SynRetrans");
	fail0 = CNT(CLI, "AttemptFails");
	drop0 = CNT(SRV, "FaultDrops");

	self->c.cfd = xtcp_socket(t, CLI, 0);
	ASSERT_GE(self->c.cfd, 0);
	ret = connect(self->c.cfd, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	end = realtime_us();
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("connect: %s", strerror(err));
	EXPECT_EQ(XTCP_CLOSE, xtcp_sock_state(self->c.cfd));

	/* Counted around the wake-up of connect(): allow a moment. */
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI, "AttemptFails") - fail0 == 1));
	EXPECT_EQ(retries, CNT(CLI, "SynRetrans") - syn0);
	EXPECT_EQ(retries + 1, CNT(SRV, "FaultDrops") - drop0);
	ASSERT_EQ(0, xtcp_fault_stats(t, SRV, 1, &seen, &fired));
	EXPECT_EQ(retries + 1, seen);
	EXPECT_EQ(retries + 1, fired);

	n = capture_syns(t, cap, us, seq, 16);
	close(cap);
	ASSERT_EQ(retries + 1, n);
	/*
	 * A timer never fires early: wait i lasts at least rto << i (10% for
	 * timestamp granularity), so each lower bound doubles the previous
	 * one. No upper bound: TCG may stretch any of them.
	 */
	for (i = 1; i < n; i++) {
		lower = rto * 1000LL * 9 / 10 << (i - 1);
		EXPECT_EQ(seq[0], seq[i]);
		EXPECT_GE(us[i] - us[i - 1], lower)
			TH_LOG("wait %d: %lld us, want >= %lld", i,
			       us[i] - us[i - 1], lower);
	}
	lower = rto * 1000LL * 9 / 10 << (n - 1);
	EXPECT_GE(end - us[n - 1], lower)
		TH_LOG("last wait %lld us, want >= %lld", end - us[n - 1],
		       lower);
}

/*
 * The client closes first; its ACK of the server's FIN is lost. The
 * server retransmits the FIN from LAST_ACK; the client's TIME_WAIT bucket
 * re-ACKs it and restarts its 2 x MSL timer.
 */
TEST_F_TIMEOUT(net, final_ack_lost, 60)
{
	struct xtcp_topo *t = &self->c.t;
	const int msl = 1500, fin_rto = 1500;
	long long finr0, twc0, twx0, rst0, seen, fired, t_obs;
	long tw_ent0 = 0, tw_ent = 0;
	char c;

	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "msl_ms", msl));
	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "rto_min_ms", fin_rto));
	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "rto_init_ms", fin_rto));
	/*
	 * The FIN goes again by the timeout, fin_rto after the first, which
	 * the bucket's restart is measured against; a tail loss probe would
	 * send it 200 ms and 2 SRTT after (sack_test covers those).
	 */
	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "tlp", 0));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ESTABLISH(15000);

	/* The client's next pure ACK to the server is its final one. */
	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out ack dport=%d count=1",
				    SRV_PORT));
	finr0 = CNT(SRV, "FinRetrans");
	rst0 = CNT(SRV, "InRsts");
	twc0 = CNT(CLI, "TimeWaitCreated");
	twx0 = CNT(CLI, "TimeWaitExpired");
	xtcp_state_count(t, CLI, "TIME_WAIT", &tw_ent0);

	close(self->c.cfd);
	self->c.cfd = -1;
	ASSERT_EQ(0, recv(self->c.afd, &c, 1, 0));	/* EOF: CLOSE_WAIT */
	EXPECT_EQ(XTCP_CLOSE_WAIT, xtcp_sock_state(self->c.afd));
	ASSERT_EQ(0, shutdown(self->c.afd, SHUT_WR));
	EXPECT_EQ(XTCP_LAST_ACK, xtcp_sock_state(self->c.afd));

	ASSERT_TRUE(XTCP_WAIT_FOR(10000, xtcp_state_count(t, CLI, "TIME_WAIT",
							  NULL) == 1));
	t_obs = xtcp_now_ms();

	/* The FIN comes again and the re-ACK closes the server. */
	ASSERT_TRUE(XTCP_WAIT_FOR(20000,
				  xtcp_sock_state(self->c.afd) == XTCP_CLOSE))
		TH_LOG("server state %d", xtcp_sock_state(self->c.afd));
	EXPECT_GE(CNT(SRV, "FinRetrans") - finr0, 1);
	EXPECT_EQ(0, CNT(SRV, "InRsts") - rst0);
	ASSERT_EQ(0, xtcp_fault_stats(t, CLI, 1, &seen, &fired));
	EXPECT_EQ(1, fired);
	EXPECT_GE(seen, 2);	/* the lost ACK and the re-ACK */
	EXPECT_EQ(1, CNT(CLI, "TimeWaitCreated") - twc0);

	/*
	 * Without a restart the bucket would be gone 2 x MSL after it was
	 * created (which was before t_obs); the retransmitted FIN came at
	 * least fin_rto later and restarted the timer.
	 */
	while (xtcp_now_ms() < t_obs + 2 * msl + 300)
		xtcp_sleep_ms(20);
	EXPECT_EQ(1, xtcp_state_count(t, CLI, "TIME_WAIT", &tw_ent))
		TH_LOG("TIME_WAIT bucket expired without a restart");
	EXPECT_EQ(1, tw_ent - tw_ent0);	/* entered once */
	EXPECT_EQ(0, CNT(CLI, "TimeWaitExpired") - twx0);

	ASSERT_TRUE(XTCP_WAIT_FOR(20000, xtcp_state_count(t, CLI, "TIME_WAIT",
							  NULL) == 0));
	/* The counter may trail the state gauge by a moment. */
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, CNT(CLI,
					    "TimeWaitExpired") - twx0 == 1))
		TH_LOG("TimeWaitExpired +%lld, TimeWaitKilled %lld",
		       CNT(CLI, "TimeWaitExpired") - twx0,
		       CNT(CLI, "TimeWaitKilled"));
}

/*
 * An ACK that empties the flight leaves the retransmission timer's expiry
 * queued (timers are stopped and re-armed lazily, module.md). A segment
 * sent later must still get its whole RTO from its own send: the early
 * expiry only queues the timer again. A is acknowledged, B goes a second
 * later and is lost once; B's retransmission comes no sooner than RTO
 * after B, where the stale expiry was due RTO after A.
 */
TEST_F_TIMEOUT(net, rto_from_the_later_send, 60)
{
	struct xtcp_topo *t = &self->c.t;
	struct pollfd p = { .events = POLLIN };
	const int rto = 2000;
	long long t0, t1, rtx0, when = 0;
	struct xtcp_info ci;
	char buf[4];

	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "rto_min_ms", rto));
	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "rto_init_ms", rto));
	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "tlp", 0));
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 8, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
	ESTABLISH(15000);

	t0 = xtcp_now_ms();
	ASSERT_EQ(1, send(self->c.cfd, "a", 1, MSG_NOSIGNAL));
	ASSERT_TRUE(XTCP_WAIT_FOR(10000, !xtcp_get_info(self->c.cfd, &ci) &&
					 ci.xtcpi_snd_una == ci.xtcpi_snd_nxt));
	ASSERT_EQ(1, recv(self->c.afd, buf, sizeof(buf), 0));
	while (xtcp_now_ms() < t0 + rto / 2)
		xtcp_sleep_ms(20);

	ASSERT_EQ(0, xtcp_fault_add(t, CLI, "out data dport=%d count=1",
				    SRV_PORT));
	rtx0 = CNT(CLI, "DataRetrans");
	t1 = xtcp_now_ms();
	ASSERT_EQ(1, send(self->c.cfd, "b", 1, MSG_NOSIGNAL));
	while (!when && xtcp_now_ms() < t1 + 15000) {
		if (CNT(CLI, "DataRetrans") > rtx0)
			when = xtcp_now_ms();
		else
			xtcp_sleep_ms(10);
	}
	ASSERT_NE(0, when) TH_LOG("B never retransmitted");
	EXPECT_GE(when - t1, rto)
		TH_LOG("B retransmitted %lld ms after its send, A's stale expiry was due at %lld ms",
		       when - t1, t0 + rto - t1);
	p.fd = self->c.afd;
	ASSERT_EQ(1, poll(&p, 1, 10000));
	ASSERT_EQ(1, recv(self->c.afd, buf, sizeof(buf), 0));
	EXPECT_EQ('b', buf[0]);
}

TEST_HARNESS_MAIN
