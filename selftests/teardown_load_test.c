// SPDX-License-Identifier: GPL-2.0
/*
 * Teardown under load.
 *
 * netns_delete_under_load: two namespaces joined by veth with netem loss
 * and delay; connections with data in flight (retransmission timers
 * armed), TIME_WAIT buckets (2 x MSL = 20 min), request entries from
 * spoofed SYNs, orphans retransmitting their FIN; then every fd is closed
 * and both namespaces deleted at once.  The module's reference count must
 * come back to its baseline, the init namespace's states must be
 * untouched, and the module must unload and load again.
 *
 * rmmod_under_traffic: while a connection carries data, rmmod is refused
 * and the transfer is unaffected; once the sockets are closed (TIME_WAIT
 * buckets still in a live namespace) it unloads, and loads again.
 *
 * Both need $XTCP_KO (set by scripts/vm) to reload the module.
 */
#include <pthread.h>
#include <netinet/ip.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define CONNS	16

static long refcnt(void)
{
	return xtcp_read_long_file("/sys/module/xtcp/refcnt", -1);
}

/*
 * The baseline: earlier tests' orphans may still be retransmitting their
 * FINs (each holds a reference); xtcp_topo_teardown() left them one more
 * retry, which comes within rto_max_ms (120 s): give them up to 2 minutes.
 */
static long settled_refcnt(void)
{
	XTCP_WAIT_FOR(120000, refcnt() == 0);
	return refcnt();
}

static int reload(void)
{
	const char *ko = getenv("XTCP_KO");
	char cmd[512];

	if (!access("/sys/module/xtcp", F_OK))
		return 0;
	snprintf(cmd, sizeof(cmd), "insmod %s", ko);
	return system(cmd);
}

FIXTURE(td)
{
	struct xtcp_topo t;
	bool have_topo;
};

FIXTURE_SETUP(td)
{
	if (!getenv("XTCP_KO"))
		SKIP(return, "XTCP_KO not set: cannot reload the module");
}

FIXTURE_TEARDOWN(td)
{
	if (self->have_topo)
		xtcp_topo_teardown(&self->t);
	reload();
}

static void spoofed_syns(const struct xtcp_topo *t, int n)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct xseg)];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct xseg *h = (struct xseg *)(ip + 1);
	int raw = xtcp_raw_socket(t, CLI), one = 1, i;
	struct in_addr src;

	if (raw < 0)
		return;
	setsockopt(raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	for (i = 0; i < n; i++) {
		memset(pkt, 0, sizeof(pkt));
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = t->ipproto;
		ip->tot_len = htons(sizeof(pkt));
		src.s_addr = htonl(0x0a630064 + i);
		ip->saddr = src.s_addr;
		ip->daddr = t->addr[SRV].s_addr;
		h->sport = htons(40000 + i);
		h->dport = htons(SRV_PORT);
		h->seq = htonl(i * 1000);
		h->doff = 5 << 4;
		h->flags = F_SYN;
		h->window = htons(65535);
		h->check = xtcp_seg_csum(src, t->addr[SRV], t->ipproto, h,
					 sizeof(*h));
		xtcp_raw_send(t, raw, SRV, pkt, sizeof(pkt));
	}
	close(raw);
}

TEST_F_TIMEOUT(td, netns_delete_under_load, 600)
{
	static char data[65536];
	int lfd, c[CONNS], s[CONNS], i, side;
	long base = settled_refcnt(), mid;
	long tw, est, synrcvd;
	long init_states[3], v;

	init_states[0] = xtcp_state_count(NULL, BOTH, "ESTABLISHED", NULL);
	init_states[1] = xtcp_state_count(NULL, BOTH, "TIME_WAIT", NULL);
	init_states[2] = xtcp_state_count(NULL, BOTH, "CLOSED", NULL);
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	self->have_topo = true;
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "msl_ms", 600000));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 50));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_max_ms", 400));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "synack_retries", 5));
	lfd = xtcp_listen(&self->t, 0, SRV_PORT, 64, true, NULL);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < CONNS; i++) {
		c[i] = xtcp_connect(&self->t, 0, SRV_PORT, true);
		ASSERT_GE(c[i], 0);
		ASSERT_EQ(0, xtcp_connect_wait(c[i], 5000));
		s[i] = xtcp_accept_wait(lfd, 5000);
		ASSERT_GE(s[i], 0);
	}
	/* A quarter closed cleanly into TIME_WAIT (on either side). */
	for (i = 0; i < CONNS / 4; i++) {
		close(i & 1 ? s[i] : c[i]);
		ASSERT_TRUE(XTCP_WAIT_FOR(5000,
			xtcp_sock_state(i & 1 ? c[i] : s[i]) ==
			XTCP_CLOSE_WAIT));
		close(i & 1 ? c[i] : s[i]);
		c[i] = s[i] = -1;
	}
	ASSERT_TRUE(XTCP_WAIT_FOR(5000,
		xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL) ==
		CONNS / 4));
	/* Now a lossy, slow link, data in flight on the rest. */
	ASSERT_EQ(0, xtcp_topo_netem(&self->t, "loss 30%% delay 20ms"))
		TH_LOG("netem unavailable");
	for (i = CONNS / 4; i < CONNS; i++) {
		xtcp_set_nonblock(c[i]);
		xtcp_set_nonblock(s[i]);
		for (side = 0; side < 2; side++)
			if (write(side ? s[i] : c[i], data, sizeof(data)) < 0 &&
			    errno != EAGAIN)
				TH_LOG("write: %s", strerror(errno));
	}
	spoofed_syns(&self->t, 8);
	xtcp_sleep_ms(300);
	tw = xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL);
	est = xtcp_state_count(&self->t, BOTH, "ESTABLISHED", NULL);
	synrcvd = xtcp_state_count(&self->t, SRV, "SYN_RCVD", NULL);
	mid = refcnt();
	TH_LOG("before the delete: %ld established, %ld TIME_WAIT, %ld SYN_RCVD; module refcnt %ld (baseline %ld)",
	       est, tw, synrcvd, mid, base);
	EXPECT_GT(mid, base);
	EXPECT_EQ(CONNS / 4, tw);

	/* Everything goes at once: orphans, buckets, entries, namespaces. */
	for (i = CONNS / 4; i < CONNS; i++) {
		close(c[i]);
		close(s[i]);
	}
	close(lfd);
	xtcp_topo_teardown(&self->t);
	self->have_topo = false;

	EXPECT_TRUE(XTCP_WAIT_FOR(120000, refcnt() == base))
		TH_LOG("module refcnt %ld, baseline %ld", refcnt(), base);
	v = xtcp_state_count(NULL, BOTH, "ESTABLISHED", NULL);
	EXPECT_EQ(init_states[0], v);
	EXPECT_EQ(init_states[1], xtcp_state_count(NULL, BOTH, "TIME_WAIT",
						   NULL));
	EXPECT_EQ(init_states[2], xtcp_state_count(NULL, BOTH, "CLOSED", NULL));
	/* Nothing left that would keep the module or crash on unload. */
	EXPECT_EQ(0, system("rmmod xtcp"));
	EXPECT_EQ(0, reload());
}

struct pump {
	int fd;
	volatile bool stop, done;
	long bytes;
};

static void *pump_fn(void *arg)
{
	struct pump *p = arg;
	static char buf[8192];

	while (!p->stop) {
		ssize_t n = write(p->fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		p->bytes += n;
	}
	p->done = true;
	return NULL;
}

TEST_F_TIMEOUT(td, rmmod_under_traffic, 600)
{
	struct pump p = { .fd = -1 };
	long base = settled_refcnt(), got = 0;
	pthread_t th;
	char buf[8192];
	int lfd, cfd, afd, i;
	ssize_t n;

	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
	self->have_topo = true;
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "msl_ms", 600000));
	lfd = xtcp_listen(&self->t, 0, SRV_PORT, 4, true, NULL);
	ASSERT_GE(lfd, 0);
	cfd = xtcp_connect(&self->t, 0, SRV_PORT, true);
	ASSERT_GE(cfd, 0);
	ASSERT_EQ(0, xtcp_connect_wait(cfd, 5000));
	afd = xtcp_accept_wait(lfd, 5000);
	ASSERT_GE(afd, 0);
	fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) & ~O_NONBLOCK);
	p.fd = cfd;
	ASSERT_EQ(0, pthread_create(&th, NULL, pump_fn, &p));

	for (i = 0; i < 5; i++) {
		EXPECT_NE(0, system("rmmod xtcp 2>/dev/null"));
		EXPECT_EQ(0, access("/sys/module/xtcp", F_OK));
		n = recv(afd, buf, sizeof(buf), 0);
		EXPECT_GT(n, 0);
		got += n > 0 ? n : 0;
	}
	p.stop = true;
	/* Drain so the pump's last write returns, then up to the FIN. */
	xtcp_set_nonblock(afd);
	while (!p.done) {
		n = recv(afd, buf, sizeof(buf), 0);
		if (n > 0)
			got += n;
		else
			xtcp_sleep_ms(1);
	}
	pthread_join(th, NULL);
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(afd));
	close(cfd);
	EXPECT_TRUE(XTCP_WAIT_FOR(10000, (n = recv(afd, buf, sizeof(buf), 0),
				     n > 0 ? (got += n, false) : n == 0)));
	TH_LOG("rmmod refused 5 times during a transfer; %ld bytes sent, %ld received meanwhile",
	       p.bytes, got);

	/* Close into TIME_WAIT, in a namespace that stays alive. */
	EXPECT_TRUE(XTCP_WAIT_FOR(5000,
				  xtcp_sock_state(afd) == XTCP_CLOSE_WAIT));
	close(afd);
	close(lfd);
	EXPECT_TRUE(XTCP_WAIT_FOR(5000,
		xtcp_state_count(&self->t, CLI, "TIME_WAIT", NULL) == 1));
	EXPECT_TRUE(XTCP_WAIT_FOR(10000, refcnt() == base));
	EXPECT_EQ(0, system("rmmod xtcp"));
	EXPECT_NE(0, access("/sys/module/xtcp", F_OK));
	EXPECT_EQ(0, reload());
}

TEST_HARNESS_MAIN
