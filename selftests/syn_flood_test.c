// SPDX-License-Identifier: GPL-2.0
/*
 * SYN flood: a raw socket (IP_HDRINCL) in the client's namespace sends
 * SYNs from spoofed, non-existent addresses of the veth subnet (their
 * SYN-ACKs die in ARP, as in a real flood) at a listener as fast as it
 * can, for XTCP_FLOOD_MS milliseconds (default 3000) and at least 20
 * SYNs per SYN-queue slot (within 60 s).
 *
 * The listener's SYN queue (request entries, counted in SYN_RCVD) never
 * exceeds min(backlog, max_syn_backlog); every refused SYN is counted in
 * ListenDrops (ListenOverflows when the accept queue is full); the entries
 * expire after their SYN-ACK retries; and a real client connects once the
 * flood stops.  SYN cookies are off (syncookies 0): during the flood a
 * real client only gets in when an entry expires, which this test does
 * not require; cookie_test floods with them on.
 */
#include <netinet/ip.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define SYN_BACKLOG	64
#define FLOOD_MIN_SYNS	(20 * SYN_BACKLOG)
#define FLOOD_MAX_MS	60000

FIXTURE(flood)
{
	struct xtcp_topo t;
	int lfd, raw;
};

FIXTURE_SETUP(flood)
{
	int one = 1;

	self->lfd = self->raw = -1;
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "syncookies", 0));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "max_syn_backlog",
				     SYN_BACKLOG));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "rto_init_ms", 200));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "rto_min_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, SRV, "synack_retries", 1));
	/* Neighbour resolution of the spoofed sources fails fast. */
	xtcp_sh("ip netns exec %s sysctl -qw net.ipv4.neigh.v1.mcast_solicit=1",
		self->t.name[SRV]);
	self->lfd = xtcp_listen(&self->t, 0, SRV_PORT, 1024, true, NULL);
	ASSERT_GE(self->lfd, 0);
	self->raw = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->raw, 0);
	ASSERT_EQ(0, setsockopt(self->raw, IPPROTO_IP, IP_HDRINCL, &one,
				sizeof(one)));
}

FIXTURE_TEARDOWN(flood)
{
	if (self->raw >= 0)
		close(self->raw);
	if (self->lfd >= 0)
		close(self->lfd);
	xtcp_topo_teardown(&self->t);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : dflt;
}

TEST_F_TIMEOUT(flood, syn_flood_is_bounded, 600)
{
	long flood_ms = env_long("XTCP_FLOOD_MS", 3000), sent = 0, fail = 0;
	long long drops0, ovf0, drops, ovf, t0, ms, next_sample = 0;
	long max_synrcvd = 0, cur, entered0, entered;
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct xseg)];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct xseg *h = (struct xseg *)(ip + 1);
	uint32_t rs = 12345;
	int cfd, afd;

	drops0 = xtcp_counter(&self->t, SRV, "ListenDrops");
	ovf0 = xtcp_counter(&self->t, SRV, "ListenOverflows");
	xtcp_state_count(&self->t, SRV, "SYN_RCVD", &entered0);

	memset(pkt, 0, sizeof(pkt));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = self->t.ipproto;
	ip->tot_len = htons(sizeof(pkt));
	ip->daddr = self->t.addr[SRV].s_addr;
	t0 = xtcp_now_ms();
	/*
	 * For XTCP_FLOOD_MS, and on until FLOOD_MIN_SYNS are out (a
	 * sanitizer kernel under TCG sends a few hundred a second).
	 */
	while ((ms = xtcp_now_ms() - t0) < flood_ms ||
	       (sent < FLOOD_MIN_SYNS && ms < FLOOD_MAX_MS)) {
		struct in_addr src;
		int k;

		for (k = 0; k < 64; k++) {
			rs = rs * 1103515245 + 12345;
			/* 10.99.0.100 .. 10.99.0.227: nobody there */
			src.s_addr = htonl(0x0a630064 + ((rs >> 8) & 127));
			ip->saddr = src.s_addr;
			ip->id = rs;
			ip->check = 0;
			xtcp_seg_build(&self->t, (uint8_t *)h, CLI, SRV, 0, 0,
				       0, 0, 0, NULL, 0);
			h->sport = htons(1024 + (rs >> 16) % 60000);
			h->dport = htons(SRV_PORT);
			h->seq = htonl(rs * 2654435761u);
			h->flags = F_SYN;
			h->check = 0;
			h->check = xtcp_seg_csum(src, self->t.addr[SRV],
						 self->t.ipproto, h,
						 sizeof(*h));
			if (xtcp_raw_send(&self->t, self->raw, SRV, pkt,
					  sizeof(pkt)))
				fail++;
			else
				sent++;
		}
		if (ms >= next_sample) {
			cur = xtcp_state_count(&self->t, SRV, "SYN_RCVD", NULL);
			if (cur > max_synrcvd)
				max_synrcvd = cur;
			next_sample = ms + 50;
		}
	}
	cur = xtcp_state_count(&self->t, SRV, "SYN_RCVD", &entered);
	if (cur > max_synrcvd)
		max_synrcvd = cur;
	drops = xtcp_counter(&self->t, SRV, "ListenDrops") - drops0;
	ovf = xtcp_counter(&self->t, SRV, "ListenOverflows") - ovf0;
	TH_LOG("flood: %ld SYNs in %lld ms (%lld SYN/s), %ld send failures",
	       sent, ms, ms ? sent * 1000 / ms : 0, fail);
	TH_LOG("listener: %ld request entries created, at most %ld at once (bound %d), ListenDrops +%lld, ListenOverflows +%lld",
	       entered - entered0, max_synrcvd, SYN_BACKLOG, drops, ovf);

	EXPECT_GE(sent, FLOOD_MIN_SYNS);
	/* The bound holds, and the flood did press against it. */
	EXPECT_LE(max_synrcvd, SYN_BACKLOG);
	EXPECT_GE(max_synrcvd, SYN_BACKLOG / 2);
	EXPECT_GT(drops, 0);
	/* Every SYN either made an entry or was dropped and counted. */
	EXPECT_GE(entered - entered0 + drops, sent * 9 / 10);

	/* The entries expire... */
	EXPECT_TRUE(XTCP_WAIT_FOR(20000,
		xtcp_state_count(&self->t, SRV, "SYN_RCVD", NULL) == 0));
	/* ...and a real client gets in. */
	cfd = xtcp_connect(&self->t, 0, SRV_PORT, true);
	ASSERT_GE(cfd, 0);
	EXPECT_EQ(0, xtcp_connect_wait(cfd, 10000));
	afd = xtcp_accept_wait(self->lfd, 5000);
	EXPECT_GE(afd, 0);
	EXPECT_EQ(2, write(cfd, "ok", 2));
	if (afd >= 0) {
		char b[4];

		EXPECT_EQ(2, recv(afd, b, sizeof(b), 0));
		close(afd);
	}
	close(cfd);
}

TEST_HARNESS_MAIN
