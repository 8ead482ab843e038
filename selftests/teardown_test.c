// SPDX-License-Identifier: GPL-2.0
/*
 * Connection teardown, over loopback and across two namespaces joined by
 * veth (xtcp_topo in xtcp_lib.h): who closes first, half-close with
 * data after the FIN, abortive close, CLOSE_WAIT pile-up, TIME_WAIT
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
	int family;
	int msl_ms, fin_timeout_ms, max_tw_buckets, rto_init_ms;
};

XTCP_TOPO_VARIANTS(td);

FIXTURE_SETUP(td)
{
	self->family = xtcp_family();
	ASSERT_GT(self->family, 0) TH_LOG("xtcp.ko not loaded?");
	ASSERT_EQ(0, xtcp_topo_setup(variant->veth));
	self->msl_ms = xtcp_sysctl_get("msl_ms");
	self->fin_timeout_ms = xtcp_sysctl_get("fin_timeout_ms");
	self->max_tw_buckets = xtcp_sysctl_get("max_tw_buckets");
	self->rto_init_ms = xtcp_sysctl_get("rto_init_ms");
	ASSERT_GT(self->msl_ms, 0);
}

FIXTURE_TEARDOWN(td)
{
	xtcp_sysctl_set("msl_ms", self->msl_ms);
	xtcp_sysctl_set("fin_timeout_ms", self->fin_timeout_ms);
	xtcp_sysctl_set("max_tw_buckets", self->max_tw_buckets);
	xtcp_sysctl_set("rto_init_ms", self->rto_init_ms);
	xtcp_fault_clear();
	xtcp_topo_teardown();
}

/*
 * @a closes first (shutdown, then close after reading EOF), @b follows:
 * FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT on @a, CLOSE_WAIT -> LAST_ACK ->
 * CLOSED on @b.
 */
static void active_close(struct __test_metadata *_metadata, int a, int b)
{
	long tw = xtcp_state_count("TIME_WAIT", NULL);
	long long created = xtcp_counter("TimeWaitCreated");
	long fw2 = xtcp_transition_count("FIN_WAIT_2", "TIME_WAIT");
	long la = xtcp_transition_count("LAST_ACK", "CLOSED");
	char buf[8];

	ASSERT_EQ(0, shutdown(a, SHUT_WR));
	EXPECT_TRUE(xtcp_wait_sock_state(a, XTCP_FIN_WAIT2, WAIT_MS));
	EXPECT_TRUE(xtcp_wait_sock_state(b, XTCP_CLOSE_WAIT, WAIT_MS));
	EXPECT_EQ(0, recv(b, buf, sizeof(buf), 0));
	close(b);
	/* @a's socket closes; a bucket now holds TIME_WAIT. */
	EXPECT_TRUE(xtcp_wait_sock_state(a, XTCP_CLOSE, WAIT_MS));
	EXPECT_EQ(0, recv(a, buf, sizeof(buf), 0));
	EXPECT_EQ(tw + 1, xtcp_state_count("TIME_WAIT", NULL));
	EXPECT_EQ(created + 1, xtcp_counter("TimeWaitCreated"));
	EXPECT_EQ(fw2 + 1, xtcp_transition_count("FIN_WAIT_2", "TIME_WAIT"));
	EXPECT_EQ(la + 1, xtcp_transition_count("LAST_ACK", "CLOSED"));
	close(a);
}

TEST_F(td, client_closes_first)
{
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, c, s);
}

TEST_F(td, server_closes_first)
{
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, s, c);
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
	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE_WAIT, WAIT_MS));
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
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	long long out = xtcp_counter("OutRsts");
	long long in = xtcp_counter("InRsts");
	long long er = xtcp_counter("EstabResets");
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	close(c);
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE, WAIT_MS));
	EXPECT_EQ(-1, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	EXPECT_EQ(out + 1, xtcp_counter("OutRsts"));
	EXPECT_EQ(in + 1, xtcp_counter("InRsts"));
	EXPECT_EQ(er + 2, xtcp_counter("EstabResets"));
	close(s);
	close(l);
}

/* close() with unread data also resets, as TCP's does (RFC 2525). */
TEST_F(td, close_with_unread_data_resets)
{
	long long out = xtcp_counter("OutRsts");
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	ASSERT_EQ(3, send(c, "abc", 3, 0));
	EXPECT_TRUE(xtcp_wait_counter("InSegs", 0, 10));
	xtcp_sleep_ms(200);
	close(s);
	EXPECT_TRUE(xtcp_wait_sock_state(c, XTCP_CLOSE, WAIT_MS));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(out + 1, xtcp_counter("OutRsts"));
	close(c);
	close(l);
}

/* A server that never closes piles up CLOSE_WAIT. */
TEST_F(td, close_wait_pileup)
{
	long cw = xtcp_state_count("CLOSE_WAIT", NULL);
	int c[8], s[8], l, i;
	unsigned short port = 0;

	l = xtcp_listen_on(self->family, 0, 16, 0, &port);
	ASSERT_GE(l, 0);
	for (i = 0; i < 8; i++) {
		c[i] = xtcp_connect_to(self->family, port);
		ASSERT_GE(c[i], 0);
		s[i] = accept(l, NULL, NULL);
		ASSERT_GE(s[i], 0);
	}
	for (i = 0; i < 8; i++)
		close(c[i]);
	EXPECT_TRUE(xtcp_wait_state_count("CLOSE_WAIT", cw + 8, WAIT_MS));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(XTCP_CLOSE_WAIT, xtcp_sock_state(s[i]));
		close(s[i]);
	}
	EXPECT_TRUE(xtcp_wait_state_count("CLOSE_WAIT", cw, WAIT_MS));
	close(l);
}

/* TIME_WAIT lasts 2 x msl_ms: not gone early, gone eventually. */
TEST_F(td, time_wait_lasts_two_msl)
{
	long long expired = xtcp_counter("TimeWaitExpired");
	long tw = xtcp_state_count("TIME_WAIT", NULL);
	long long t0;
	int c, s, l;

	ASSERT_EQ(0, xtcp_sysctl_set("msl_ms", 1000));
	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(l);
	active_close(_metadata, c, s);
	t0 = xtcp_now_ms();
	/* It cannot expire before 2 s; check well inside that. */
	xtcp_sleep_ms(500);
	if (xtcp_now_ms() - t0 < 1500)
		EXPECT_EQ(tw + 1, xtcp_state_count("TIME_WAIT", NULL));
	EXPECT_TRUE(xtcp_wait_state_count("TIME_WAIT", tw, WAIT_MS));
	EXPECT_GE(xtcp_now_ms() - t0, 1900);
	EXPECT_EQ(expired + 1, xtcp_counter("TimeWaitExpired"));
}

/* An orphan in FIN_WAIT_2 gives up after fin_timeout_ms. */
TEST_F(td, orphan_fin_wait2_timeout)
{
	long fw2 = xtcp_state_count("FIN_WAIT_2", NULL);
	long gone = xtcp_transition_count("FIN_WAIT_2", "CLOSED");
	int c, s, l;

	ASSERT_EQ(0, xtcp_sysctl_set("fin_timeout_ms", 500));
	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(c);
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE_WAIT, WAIT_MS));
	EXPECT_TRUE(xtcp_wait_state_count("FIN_WAIT_2", fw2, WAIT_MS));
	EXPECT_EQ(gone + 1, xtcp_transition_count("FIN_WAIT_2", "CLOSED"));
	/* It said goodbye with RST. */
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE, WAIT_MS));
	close(s);
	close(l);
}

/* Over max_tw_buckets, the connection closes without TIME_WAIT. */
TEST_F(td, max_tw_buckets_overflow)
{
	long long ovf = xtcp_counter("TimeWaitOverflow");
	long long created = xtcp_counter("TimeWaitCreated");
	long tw = xtcp_state_count("TIME_WAIT", NULL);
	int c, s, l;
	char buf[4];

	ASSERT_EQ(0, xtcp_sysctl_set("max_tw_buckets", 0));
	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(l);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE_WAIT, WAIT_MS));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	close(s);
	EXPECT_TRUE(xtcp_wait_sock_state(c, XTCP_CLOSE, WAIT_MS));
	EXPECT_EQ(ovf + 1, xtcp_counter("TimeWaitOverflow"));
	EXPECT_EQ(created, xtcp_counter("TimeWaitCreated"));
	EXPECT_EQ(tw, xtcp_state_count("TIME_WAIT", NULL));
	close(c);
}

/*
 * Both FINs cross in flight (netem holds each for half a second):
 * FIN_WAIT_1 -> CLOSING -> TIME_WAIT on both sides.
 */
TEST_F(td, simultaneous_close_via_closing)
{
	long closing = xtcp_transition_count("FIN_WAIT_1", "CLOSING");
	long tw = xtcp_state_count("TIME_WAIT", NULL);
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(self->family, &c, &s, &l));
	close(l);
	ASSERT_EQ(0, xtcp_topo_delay(500));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	ASSERT_EQ(0, shutdown(s, SHUT_WR));
	EXPECT_EQ(XTCP_FIN_WAIT1, xtcp_sock_state(c));
	EXPECT_EQ(XTCP_FIN_WAIT1, xtcp_sock_state(s));
	EXPECT_TRUE(xtcp_wait_sock_state(c, XTCP_CLOSE, WAIT_MS));
	EXPECT_TRUE(xtcp_wait_sock_state(s, XTCP_CLOSE, WAIT_MS));
	EXPECT_EQ(closing + 2, xtcp_transition_count("FIN_WAIT_1", "CLOSING"));
	EXPECT_EQ(tw + 2, xtcp_state_count("TIME_WAIT", NULL));
	close(c);
	close(s);
}

TEST_HARNESS_MAIN
