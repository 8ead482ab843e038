// SPDX-License-Identifier: GPL-2.0
/*
 * Blind in-window attacks (RFC 5961) on an established connection, from a
 * raw socket that knows the 4-tuple but not the sequence numbers:
 *  - a storm of RSTs outside the receive window: ignored (InRsts counts
 *    them, no challenge ACK), the connection lives;
 *  - a storm of SYNs with random sequence numbers: challenged, never
 *    accepted, the connection lives;
 *  - a storm of in-window RST guesses (anything but RCV.NXT): each is
 *    answered by a challenge ACK, at most XTCP_CHALLENGE_PER_SEC (1000) a
 *    second per namespace;
 * and afterwards data still flows both ways, in order.
 * XTCP_BLIND_SEGMENTS sets the storm size (default 5000 each).
 */
#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define CHALLENGE_PER_SEC	1000

FIXTURE(blind)
{
	struct xtcp_topo t;
	int lfd, cfd, afd, raw;
};

FIXTURE_SETUP(blind)
{
	self->lfd = self->cfd = self->afd = self->raw = -1;
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
	self->lfd = xtcp_listen(&self->t, 0, SRV_PORT, 4, true, NULL);
	ASSERT_GE(self->lfd, 0);
	self->cfd = xtcp_connect(&self->t, 0, SRV_PORT, true);
	ASSERT_GE(self->cfd, 0);
	ASSERT_EQ(0, xtcp_connect_wait(self->cfd, 5000));
	self->afd = xtcp_accept_wait(self->lfd, 5000);
	ASSERT_GE(self->afd, 0);
	self->raw = xtcp_raw_socket(&self->t, CLI);
	ASSERT_GE(self->raw, 0);
}

FIXTURE_TEARDOWN(blind)
{
	if (self->raw >= 0)
		close(self->raw);
	if (self->afd >= 0)
		close(self->afd);
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->lfd >= 0)
		close(self->lfd);
	xtcp_topo_teardown(&self->t);
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

	EXPECT_EQ(0, xtcp_get_info(self->afd, &si));
	for (i = 0; i < n; i++) {
		len = xtcp_seg_build(&self->t, seg, CLI, SRV,
				     xtcp_local_port(self->cfd),
				     SRV_PORT, seqf(si.xtcpi_rcv_nxt, i),
				     i * 2654435761u, flags, NULL, 0);
		if (xtcp_raw_send(&self->t, self->raw, SRV, seg, len))
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

	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->afd));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->cfd));
	EXPECT_EQ(4, write(self->cfd, "ping", 4));
	EXPECT_EQ(4, recv(self->afd, b, sizeof(b), 0));
	EXPECT_EQ(4, write(self->afd, "pong", 4));
	EXPECT_EQ(4, recv(self->cfd, b, sizeof(b), 0));
	EXPECT_EQ(0, memcmp(b, "pong", 4));
}

#define CNT(name)	xtcp_counter(&self->t, SRV, name)

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
	TH_LOG("%ld in-window RST guesses in %lld ms: InRsts +%lld, ChallengeAcks +%lld (limit %d/s)",
	       n, ms, CNT("InRsts") - rst, ch, CHALLENGE_PER_SEC);
	alive(_metadata, self);
	EXPECT_GT(ch, 0);
	EXPECT_LE(ch, CHALLENGE_PER_SEC * (ms / 1000 + 2));
	/* Storm faster than the budget: it must actually have limited. */
	if (n > CHALLENGE_PER_SEC * (ms / 1000 + 2))
		EXPECT_LT(ch, n);
}

TEST_HARNESS_MAIN
