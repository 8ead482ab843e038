// SPDX-License-Identifier: GPL-2.0
/*
 * Blind in-window attacks (RFC 5961) on an established connection, from a
 * raw socket that knows the 4-tuple but not the sequence numbers:
 *  - a storm of RSTs outside the receive window: ignored (InRsts counts
 *    them, no challenge ACK), the connection lives;
 *  - a storm of SYNs with random sequence numbers: challenged, never
 *    accepted, the connection lives;
 *  - a storm of in-window RST guesses (anything but RCV.NXT): each is
 *    answered by a challenge ACK, within the namespace's budget: each
 *    second's is drawn from [500, 1500) for challenge_ack_limit 1000
 *    (the per-socket limit, invalid_ratelimit_ms, is off here);
 * and afterwards data still flows both ways, in order.
 * XTCP_BLIND_SEGMENTS sets the storm size (default 5000 each).
 */
#include "kselftest_harness.h"
#include "xtcp_lib.h"

/* The most one second's budget can be (challenge_ack_limit 1000). */
#define CHALLENGE_PER_SEC	1500

FIXTURE(blind)
{
	struct xtcp_conn c;
};

FIXTURE_SETUP(blind)
{
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, false));
	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 4, 5000));
	/* The namespace's budget alone (policy_test covers the socket's). */
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "invalid_ratelimit_ms",
				     0));
	self->c.raw = xtcp_raw_socket(&self->c.t, CLI);
	ASSERT_GE(self->c.raw, 0);
}

FIXTURE_TEARDOWN(blind)
{
	xtcp_conn_teardown(&self->c);
}

static long storm_size(void)
{
	const char *v = getenv("XTCP_BLIND_SEGMENTS");

	return v && *v ? atol(v) : 5000;
}

/* Send @n segments at the server socket; @seqf picks each sequence. */
static long long storm(struct __test_metadata *_metadata,
		       FIXTURE_DATA(blind) *self, long n, uint8_t flags,
		       uint32_t (*seqf)(uint32_t rcv_nxt, uint32_t i))
{
	struct xtcp_info si;
	uint8_t seg[64];
	long long t0 = xtcp_now_ms();
	size_t len;
	long i;

	EXPECT_EQ(0, xtcp_get_info(self->c.afd, &si));
	for (i = 0; i < n; i++) {
		len = xtcp_seg_build(&self->c.t, seg, CLI, SRV,
				     xtcp_local_port(self->c.cfd),
				     SRV_PORT, seqf(si.xtcpi_rcv_nxt, i),
				     i * 2654435761u, flags, NULL, 0);
		if (xtcp_raw_send(&self->c.t, self->c.raw, SRV, seg, len))
			break;
	}
	EXPECT_EQ(n, i);
	return xtcp_now_ms() - t0;
}

static uint32_t off_window(uint32_t nxt, uint32_t i)
{
	uint32_t r = i * 2654435761u;

	/* From 70 000 past the window's start to 2^31 before it. */
	return i & 1 ? nxt + 70000 + (r % 0x7ff00000u) : nxt - 1 - (r % 0x7ff00000u);
}

static uint32_t any_seq(uint32_t nxt, uint32_t i)
{
	return i * 2654435761u + nxt;
}

static uint32_t in_window(uint32_t nxt, uint32_t i)
{
	return nxt + 1 + (i * 2654435761u) % 60000;
}

static void alive(struct __test_metadata *_metadata, FIXTURE_DATA(blind) *self)
{
	char b[16];

	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.afd));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));
	EXPECT_EQ(4, write(self->c.cfd, "ping", 4));
	EXPECT_EQ(4, recv(self->c.afd, b, sizeof(b), 0));
	EXPECT_EQ(4, write(self->c.afd, "pong", 4));
	EXPECT_EQ(4, recv(self->c.cfd, b, sizeof(b), 0));
	EXPECT_EQ(0, memcmp(b, "pong", 4));
}

#define CNT(name)	xtcp_counter(&self->c.t, SRV, name)

TEST_F_TIMEOUT(blind, off_window_rst_storm, 900)
{
	long n = storm_size();
	long long rst = CNT("InRsts"), ch = CNT("ChallengeAcks"), ms;

	ms = storm(_metadata, self, n, F_RST, off_window);
	TH_LOG("%ld off-window RSTs in %lld ms: InRsts +%lld, ChallengeAcks +%lld",
	       n, ms, CNT("InRsts") - rst, CNT("ChallengeAcks") - ch);
	alive(_metadata, self);
	EXPECT_EQ(0, CNT("ChallengeAcks") - ch);
}

TEST_F_TIMEOUT(blind, syn_storm, 900)
{
	long n = storm_size();
	long long ch = CNT("ChallengeAcks"), out = CNT("OutSegs"), ms;

	ms = storm(_metadata, self, n, F_SYN, any_seq);
	ch = CNT("ChallengeAcks") - ch;
	out = CNT("OutSegs") - out;
	TH_LOG("%ld SYNs with random sequence numbers in %lld ms: ChallengeAcks +%lld, OutSegs +%lld",
	       n, ms, ch, out);
	alive(_metadata, self);
	EXPECT_LE(ch, CHALLENGE_PER_SEC * (ms / 1000 + 2));
	/* Every answer is a rate-limited challenge ACK: no amplification. */
	EXPECT_LE(out, CHALLENGE_PER_SEC * (ms / 1000 + 2) + 8);
}

TEST_F_TIMEOUT(blind, in_window_rst_guesses_rate_limited, 900)
{
	long n = storm_size();
	long long rst = CNT("InRsts"), ch = CNT("ChallengeAcks"), ms;

	ms = storm(_metadata, self, n, F_RST, in_window);
	ch = CNT("ChallengeAcks") - ch;
	TH_LOG("%ld in-window RST guesses in %lld ms: InRsts +%lld, ChallengeAcks +%lld (at most %d/s)",
	       n, ms, CNT("InRsts") - rst, ch, CHALLENGE_PER_SEC);
	alive(_metadata, self);
	EXPECT_GT(ch, 0);
	EXPECT_LE(ch, CHALLENGE_PER_SEC * (ms / 1000 + 2));
	/* Storm faster than the budget: it must actually have limited. */
	if (n > CHALLENGE_PER_SEC * (ms / 1000 + 2))
		EXPECT_LT(ch, n);
}

TEST_HARNESS_MAIN
