// SPDX-License-Identifier: GPL-2.0
/*
 * Connection teardown, over loopback and across two namespaces joined by
 * veth (struct xtcp_topo, lib/xtcp_lib.h): who closes first, half-close
 * with data after the FIN, abortive close, CLOSE_WAIT pile-up, TIME_WAIT
 * lifetime and overflow, orphaned FIN_WAIT_2, simultaneous close. States
 * are checked through XTCP_INFO and /proc/net/xtcp/states, events through
 * counter deltas. Timers are shrunk through sysctls and restored.
 */
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define WAIT_MS	30000	/* generous: TCG is slow and noisy */

FIXTURE(td)
{
	struct xtcp_topo t;
	int family;
	int msl_ms, fin_timeout_ms, max_tw_buckets, rto_init_ms;
};

XTCP_TOPO_VARIANTS(td);

FIXTURE_SETUP(td)
{
	self->family = xtcp_family();
	ASSERT_GT(self->family, 0) TH_LOG("xtcp.ko not loaded?");
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, variant->veth));
	ASSERT_EQ(0, xtcp_topo_move(&self->t, CLI));
	self->msl_ms = xtcp_sysctl_get(&self->t, CLI, "msl_ms");
	self->fin_timeout_ms = xtcp_sysctl_get(&self->t, CLI, "fin_timeout_ms");
	self->max_tw_buckets = xtcp_sysctl_get(&self->t, CLI, "max_tw_buckets");
	self->rto_init_ms = xtcp_sysctl_get(&self->t, CLI, "rto_init_ms");
	ASSERT_GT(self->msl_ms, 0);
}

FIXTURE_TEARDOWN(td)
{
	xtcp_sysctl_set(&self->t, BOTH, "msl_ms", self->msl_ms);
	xtcp_sysctl_set(&self->t, BOTH, "fin_timeout_ms", self->fin_timeout_ms);
	xtcp_sysctl_set(&self->t, BOTH, "max_tw_buckets", self->max_tw_buckets);
	xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", self->rto_init_ms);
	xtcp_fault_add(&self->t, BOTH, "clear");
	xtcp_topo_teardown(&self->t);
}

/*
 * @a closes first (shutdown, then close after reading EOF), @b follows:
 * FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT on @a, CLOSE_WAIT -> LAST_ACK ->
 * CLOSED on @b.
 */
static void active_close(struct __test_metadata *_metadata,
			 const struct xtcp_topo *t, int a, int b)
{
	long tw = xtcp_state_count(t, BOTH, "TIME_WAIT", NULL);
	long long created = xtcp_counter(t, BOTH, "TimeWaitCreated");
	long fw2 = xtcp_transition_count(t, BOTH, "FIN_WAIT_2", "TIME_WAIT");
	long la = xtcp_transition_count(t, BOTH, "LAST_ACK", "CLOSED");
	char buf[8];

	ASSERT_EQ(0, shutdown(a, SHUT_WR));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
				  xtcp_sock_state(a) == XTCP_FIN_WAIT2));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
				  xtcp_sock_state(b) == XTCP_CLOSE_WAIT));
	EXPECT_EQ(0, recv(b, buf, sizeof(buf), 0));
	close(b);
	/* @a's socket closes; a bucket now holds TIME_WAIT. */
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(a) == XTCP_CLOSE));
	EXPECT_EQ(0, recv(a, buf, sizeof(buf), 0));
	EXPECT_EQ(tw + 1, xtcp_state_count(t, BOTH, "TIME_WAIT", NULL));
	EXPECT_EQ(created + 1, xtcp_counter(t, BOTH, "TimeWaitCreated"));
	EXPECT_EQ(fw2 + 1, xtcp_transition_count(t, BOTH, "FIN_WAIT_2",
						 "TIME_WAIT"));
	EXPECT_EQ(la + 1, xtcp_transition_count(t, BOTH, "LAST_ACK", "CLOSED"));
	close(a);
}

TEST_F(td, client_closes_first)
{
	struct xtcp_topo *t = &self->t;
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, t, c, s);
}

TEST_F(td, server_closes_first)
{
	struct xtcp_topo *t = &self->t;
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, t, s, c);
}

/* The passive side keeps sending after the peer's FIN. */
TEST_F(td, half_close_data_after_fin)
{
	static char out[200000], in[200000];
	size_t got = 0;
	ssize_t n;
	int c, s, l, i;

	for (i = 0; i < (int)sizeof(out); i++)
		out[i] = i * 7 + 3;
	ASSERT_EQ(0, xtcp_pair(&self->t, self->family, &c, &s, &l));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
				  xtcp_sock_state(s) == XTCP_CLOSE_WAIT));
	EXPECT_EQ(0, recv(s, in, 1, 0));

	ASSERT_EQ((ssize_t)sizeof(out), send(s, out, sizeof(out), 0));
	while (got < sizeof(in)) {
		n = recv(c, in + got, sizeof(in) - got, 0);
		ASSERT_GT(n, 0) TH_LOG("recv: %s", strerror(errno));
		got += n;
	}
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	EXPECT_EQ(XTCP_FIN_WAIT2, xtcp_sock_state(c));
	close(s);
	EXPECT_EQ(0, recv(c, in, 1, 0));
	close(c);
	close(l);
}

/* SO_LINGER {1, 0}: close() sends RST and the peer sees ECONNRESET. */
TEST_F(td, linger_zero_resets)
{
	struct xtcp_topo *t = &self->t;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long out = xtcp_counter(t, BOTH, "OutRsts");
	long long in = xtcp_counter(t, BOTH, "InRsts");
	long long er = xtcp_counter(t, BOTH, "EstabResets");
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(c);
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(s) == XTCP_CLOSE));
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(out + 1, xtcp_counter(t, BOTH, "OutRsts"));
	EXPECT_EQ(in + 1, xtcp_counter(t, BOTH, "InRsts"));
	EXPECT_EQ(er + 2, xtcp_counter(t, BOTH, "EstabResets"));
	close(s);
	close(l);
}

/* close() with unread data also resets, as TCP's does (RFC 2525). */
TEST_F(td, close_with_unread_data_resets)
{
	struct xtcp_topo *t = &self->t;
	long long out = xtcp_counter(t, BOTH, "OutRsts");
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	ASSERT_EQ(3, send(c, "abc", 3, 0));
	EXPECT_TRUE(XTCP_WAIT_FOR(10, xtcp_counter(t, BOTH, "InSegs") >= 0));
	xtcp_sleep_ms(200);
	close(s);
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(c) == XTCP_CLOSE));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(out + 1, xtcp_counter(t, BOTH, "OutRsts"));
	close(c);
	close(l);
}

/* A server that never closes piles up CLOSE_WAIT. */
TEST_F(td, close_wait_pileup)
{
	struct xtcp_topo *t = &self->t;
	long cw = xtcp_state_count(t, BOTH, "CLOSE_WAIT", NULL);
	int c[8], s[8], l, i;
	unsigned short port = 0;

	l = xtcp_listen(t, self->family, 0, 16, false, &port);
	ASSERT_GE(l, 0);
	for (i = 0; i < 8; i++) {
		c[i] = xtcp_connect(t, self->family, port, false);
		ASSERT_GE(c[i], 0);
		s[i] = accept(l, NULL, NULL);
		ASSERT_GE(s[i], 0);
	}
	for (i = 0; i < 8; i++)
		close(c[i]);
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
		xtcp_state_count(t, BOTH, "CLOSE_WAIT", NULL) == cw + 8));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(XTCP_CLOSE_WAIT, xtcp_sock_state(s[i]));
		close(s[i]);
	}
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
		xtcp_state_count(t, BOTH, "CLOSE_WAIT", NULL) == cw));
	close(l);
}

/* TIME_WAIT lasts 2 x msl_ms: not gone early, gone eventually. */
TEST_F(td, time_wait_lasts_two_msl)
{
	struct xtcp_topo *t = &self->t;
	long long expired = xtcp_counter(t, BOTH, "TimeWaitExpired");
	long tw = xtcp_state_count(t, BOTH, "TIME_WAIT", NULL);
	long long t0;
	int c, s, l;

	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "msl_ms", 1000));
	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, t, c, s);
	t0 = xtcp_now_ms();
	/* It cannot expire before 2 s; check well inside that. */
	xtcp_sleep_ms(500);
	if (xtcp_now_ms() - t0 < 1500)
		EXPECT_EQ(tw + 1, xtcp_state_count(t, BOTH, "TIME_WAIT", NULL));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
		xtcp_state_count(t, BOTH, "TIME_WAIT", NULL) == tw));
	EXPECT_GE(xtcp_now_ms() - t0, 1900);
	EXPECT_EQ(expired + 1, xtcp_counter(t, BOTH, "TimeWaitExpired"));
}

/* An orphan in FIN_WAIT_2 gives up after fin_timeout_ms. */
TEST_F(td, orphan_fin_wait2_timeout)
{
	struct xtcp_topo *t = &self->t;
	long fw2 = xtcp_state_count(t, BOTH, "FIN_WAIT_2", NULL);
	long gone = xtcp_transition_count(t, BOTH, "FIN_WAIT_2", "CLOSED");
	int c, s, l;

	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "fin_timeout_ms", 500));
	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(c);
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
				  xtcp_sock_state(s) == XTCP_CLOSE_WAIT));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
		xtcp_state_count(t, BOTH, "FIN_WAIT_2", NULL) == fw2));
	EXPECT_EQ(gone + 1, xtcp_transition_count(t, BOTH, "FIN_WAIT_2",
						  "CLOSED"));
	/* It said goodbye with RST. */
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(s) == XTCP_CLOSE));
	close(s);
	close(l);
}

/* Over max_tw_buckets, the connection closes without TIME_WAIT. */
TEST_F(td, max_tw_buckets_overflow)
{
	struct xtcp_topo *t = &self->t;
	long long ovf = xtcp_counter(t, BOTH, "TimeWaitOverflow");
	long long created = xtcp_counter(t, BOTH, "TimeWaitCreated");
	long tw = xtcp_state_count(t, BOTH, "TIME_WAIT", NULL);
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "max_tw_buckets", 0));
	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(l);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS,
				  xtcp_sock_state(s) == XTCP_CLOSE_WAIT));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	close(s);
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(c) == XTCP_CLOSE));
	EXPECT_EQ(ovf + 1, xtcp_counter(t, BOTH, "TimeWaitOverflow"));
	EXPECT_EQ(created, xtcp_counter(t, BOTH, "TimeWaitCreated"));
	EXPECT_EQ(tw, xtcp_state_count(t, BOTH, "TIME_WAIT", NULL));
	close(c);
}

/*
 * Both FINs cross in flight (netem holds each for half a second):
 * FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides.
 */
TEST_F(td, simultaneous_close_via_closing)
{
	struct xtcp_topo *t = &self->t;
	long closing = xtcp_transition_count(t, BOTH, "FIN_WAIT_1", "CLOSING");
	long tw = xtcp_state_count(t, BOTH, "TIME_WAIT", NULL);
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	close(l);
	ASSERT_EQ(0, xtcp_topo_netem(t, "delay %dms", 500));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_EQ(0, shutdown(s, SHUT_WR));
	EXPECT_EQ(XTCP_FIN_WAIT1, xtcp_sock_state(c));
	EXPECT_EQ(XTCP_FIN_WAIT1, xtcp_sock_state(s));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(c) == XTCP_CLOSE));
	EXPECT_TRUE(XTCP_WAIT_FOR(WAIT_MS, xtcp_sock_state(s) == XTCP_CLOSE));
	EXPECT_EQ(closing + 2, xtcp_transition_count(t, BOTH, "FIN_WAIT_1",
						     "CLOSING"));
	EXPECT_EQ(tw + 2, xtcp_state_count(t, BOTH, "TIME_WAIT", NULL));
	close(c);
	close(s);
}

TEST_HARNESS_MAIN
