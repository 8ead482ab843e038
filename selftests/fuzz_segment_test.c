// SPDX-License-Identifier: GPL-2.0
/*
 * Segment fuzzer: random and mutated segments from a raw IP socket of
 * protocol ipproto at a listener, both ends of an established connection,
 * a TIME_WAIT bucket and ports nobody listens on.  Every flag combination
 * (swept, then random), in- and out-of-window sequence and ack numbers,
 * bad checksums, truncated headers (shorter than 20 bytes or than the
 * data offset), data offsets 0..15, option lists with bad lengths, random
 * and oversized payloads, bit flips of otherwise valid segments.
 *
 * Each segment is classified the way xtcp_validate() must see it, from
 * its final bytes: malformed (InErrs), bad checksum (InErrs and
 * InCsumErrors), or valid.  The counters must account for every one
 * (exactly, unless the host dropped packets in its backlog queue), the
 * connection's sockets must survive or die cleanly, everything must drain
 * back to zero once closed, and a new connection must still work.
 *
 * XTCP_FUZZ_SEGMENTS sets the count (default 30000; the debug lane: 1e6),
 * XTCP_FUZZ_SEED the random seed (default: time).
 */
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define TW_PORT		5001

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint32_t rnd_n(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* A correct checksum makes the sum over pseudo-header and segment zero. */
static bool csum_ok(const struct xtcp_topo *t, const uint8_t *seg, size_t len)
{
	return xtcp_seg_csum(t->addr[CLI], t->addr[SRV], t->ipproto, seg,
			     len) == 0;
}

static long long softnet_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned int processed, dropped;
	long long sum = 0;
	char line[512];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%x %x", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 0) : dflt;
}

enum target { T_LISTEN, T_SRV, T_CLI, T_TW, T_NONE, T_MAX };
static const char * const target_name[T_MAX] = {
	"listener", "established(server)", "established(client)",
	"time-wait", "no-socket",
};

struct tuple {
	int sport, dport;
	uint32_t seq, ack;	/* what the receiver expects / sent */
};

FIXTURE(fz)
{
	struct xtcp_conn c;
	int lfd2, tfd;		/* the TIME_WAIT bucket's two ends */
	struct tuple tup[T_MAX];
};

FIXTURE_SETUP(fz)
{
	struct sockaddr_in a;
	struct xtcp_topo *t = &self->c.t;
	struct xtcp_info ci, si;
	int fd, cport;

	self->lfd2 = self->tfd = -1;
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, false));
	/* Request entries and orphans go away quickly; TIME_WAIT stays. */
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_init_ms", 50));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_min_ms", 50));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_max_ms", 200));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "synack_retries", 1));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "fin_timeout_ms", 200));
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "msl_ms", 600000));

	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 64, 5000));

	/* A TIME_WAIT bucket on the client side of port TW_PORT. */
	a = xtcp_addr(t, SRV, 0, TW_PORT);
	self->lfd2 = xtcp_socket(t, SRV, 0);
	ASSERT_GE(self->lfd2, 0);
	ASSERT_EQ(0, bind(self->lfd2, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(self->lfd2, 4));
	fd = xtcp_socket(t, CLI, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&a, sizeof(a)));
	self->tfd = xtcp_accept_wait(self->lfd2, 5000);
	ASSERT_GE(self->tfd, 0);
	self->tup[T_TW].dport = xtcp_local_port(fd);
	self->tup[T_TW].sport = TW_PORT;
	ASSERT_EQ(0, xtcp_get_info(fd, &ci));
	self->tup[T_TW].seq = ci.xtcpi_rcv_nxt + 1;	/* after the FIN */
	self->tup[T_TW].ack = ci.xtcpi_snd_nxt + 1;
	close(fd);
	ASSERT_TRUE(XTCP_WAIT_FOR(20000,
			xtcp_sock_state(self->tfd) == XTCP_CLOSE_WAIT))
		TH_LOG("accepted side in state %d", xtcp_sock_state(self->tfd));
	close(self->tfd);
	self->tfd = -1;
	ASSERT_TRUE(XTCP_WAIT_FOR(20000,
			xtcp_state_count(t, CLI, "TIME_WAIT", NULL) == 1));

	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &ci));
	ASSERT_EQ(0, xtcp_get_info(self->c.afd, &si));
	cport = xtcp_local_port(self->c.cfd);
	self->tup[T_SRV] = (struct tuple){ cport, SRV_PORT,
					   si.xtcpi_rcv_nxt, si.xtcpi_snd_nxt };
	self->tup[T_CLI] = (struct tuple){ SRV_PORT, cport,
					   ci.xtcpi_rcv_nxt, ci.xtcpi_snd_nxt };
	self->tup[T_LISTEN] = (struct tuple){ 0, SRV_PORT, 0, 0 };
	self->tup[T_NONE] = (struct tuple){ 0, 0, 0, 0 };

	self->c.raw = xtcp_raw_socket(t, SRV);
	ASSERT_GE(self->c.raw, 0);
}

FIXTURE_TEARDOWN(fz)
{
	if (self->tfd >= 0)
		close(self->tfd);
	if (self->lfd2 >= 0)
		close(self->lfd2);
	xtcp_conn_teardown(&self->c);
}

/* A sequence number: mostly around @base (in window), sometimes anywhere. */
static uint32_t pick_seq(uint32_t base)
{
	switch (rnd_n(6)) {
	case 0: return rnd();
	case 1: return base;
	case 2: return base - 1 - rnd_n(70000);		/* old */
	case 3: return base + 65536 + rnd_n(1u << 30);	/* beyond */
	default: return base + rnd_n(65536);		/* in window */
	}
}

/* Random options: well-formed, bad lengths, junk. Returns bytes written. */
static size_t fill_options(uint8_t *o, size_t room)
{
	size_t n = 0;

	while (n < room && rnd_n(4)) {
		switch (rnd_n(6)) {
		case 0:
			o[n++] = 1;				/* NOP */
			break;
		case 1:
			o[n++] = 0;				/* EOL */
			break;
		case 2:
			if (room - n < 4)
				return n;
			o[n++] = 2;				/* MSS */
			o[n++] = rnd_n(3) ? 4 : rnd_n(256);	/* bad len */
			o[n++] = rnd();
			o[n++] = rnd();
			break;
		default:
			o[n++] = rnd();				/* any kind */
			if (n < room)
				o[n++] = rnd_n(3) ? rnd_n(6) : rnd(); /* 0,1: bad */
			break;
		}
	}
	return n;
}

TEST_F_TIMEOUT(fz, random_and_mutated_segments, 3600)
{
	long total = env_long("XTCP_FUZZ_SEGMENTS", 30000);
	long per_target[T_MAX] = { 0 }, sent = 0, errors = 0, bad_csum = 0;
	long malformed = 0, valid = 0, oversize = 0, send_fail = 0;
	long long in_errs, in_csum, in_segs, drops, t0, ms;
	long long c_no_sock, c_rsts, c_chall, c_ldrops;
	static uint8_t buf[65536];
	struct xtcp_topo *t = &self->c.t;
	bool seen_flags[T_MAX][256] = { { false } };
	int combos = 0, i;
	uint64_t seed;

	seed = env_long("XTCP_FUZZ_SEED", 0);
	if (!seed)
		seed = (uint64_t)xtcp_now_ms() * 2654435761u;
	rng = seed | 1;
	TH_LOG("seed %llu (XTCP_FUZZ_SEED), %ld segments",
	       (unsigned long long)seed, total);

	in_errs = xtcp_counter(t, SRV, "InErrs");
	in_csum = xtcp_counter(t, SRV, "InCsumErrors");
	in_segs = xtcp_counter(t, SRV, "InSegs");
	c_no_sock = xtcp_counter(t, SRV, "InNoSocket");
	c_rsts = xtcp_counter(t, SRV, "InRsts");
	c_chall = xtcp_counter(t, SRV, "ChallengeAcks");
	c_ldrops = xtcp_counter(t, SRV, "ListenDrops");
	drops = softnet_drops();
	t0 = xtcp_now_ms();

	for (sent = 0; sent < total; sent++) {
		int tg = rnd_n(T_MAX);
		struct tuple *tu = &self->tup[tg];
		struct xseg *h = (struct xseg *)buf;
		size_t optlen = 0, dlen, len, hl;
		uint8_t flags;

		/* First sweep every flag byte at every target, then random. */
		if (sent < 256 * T_MAX) {
			tg = sent % T_MAX;
			tu = &self->tup[tg];
			flags = sent / T_MAX;
		} else {
			flags = rnd_n(4) ? (rnd() & 0x1f) : rnd();
		}
		if (!seen_flags[tg][flags]) {
			seen_flags[tg][flags] = true;
			combos++;
		}

		memset(h, 0, sizeof(*h));
		h->sport = htons(tu->sport ? (uint32_t)tu->sport : 1024 + rnd_n(60000));
		h->dport = htons(tu->dport ? (uint32_t)tu->dport : 20000 + rnd_n(40000));
		h->seq = htonl(pick_seq(tu->seq));
		h->ack = htonl(pick_seq(tu->ack));
		h->flags = flags;
		h->window = htons(rnd_n(4) ? 65535 : rnd());
		h->urg = rnd_n(8) ? 0 : rnd();
		if (rnd_n(4) == 0)
			optlen = fill_options(buf + sizeof(*h), 40) & ~3u;
		if (rnd_n(3) == 0)	/* unaligned option bytes count too */
			optlen = fill_options(buf + sizeof(*h), 40);
		hl = sizeof(*h) + ((optlen + 3) & ~3u);
		h->doff = (hl / 4) << 4;
		switch (rnd_n(16)) {
		case 0:
			dlen = 1000 + rnd_n(8000);	/* oversized for any MSS */
			oversize++;
			break;
		case 1: case 2: case 3:
			dlen = rnd_n(1500);
			break;
		default:
			dlen = rnd_n(4) ? 0 : rnd_n(64);
		}
		for (i = 0; i < (int)dlen; i += 4) {
			uint32_t r = rnd();

			memcpy(buf + hl + i, &r, 4);
		}
		len = hl + dlen;

		/* Malformed header: a doff of anything, or a truncated one. */
		if (rnd_n(10) == 0)
			h->doff = rnd_n(16) << 4 | (rnd_n(4) ? 0 : rnd_n(16));
		if (rnd_n(20) == 0)
			len = rnd_n(hl + 1);
		h->check = 0;
		h->check = xtcp_seg_csum(t->addr[CLI], t->addr[SRV],
					 t->ipproto, buf, len);
		/* Mutations after the checksum: most now fail it. */
		switch (rnd_n(8)) {
		case 0: {
			uint16_t c = ntohs(h->check), b;

			b = c ^ (1 + rnd_n(0xfffe));
			if ((c == 0 && b == 0xffff) || (c == 0xffff && b == 0))
				b ^= 0x100;
			h->check = htons(b);
			break;
		}
		case 1:
			if (len)
				buf[rnd_n(len)] ^= 1 << rnd_n(8);
			break;
		}

		/* How xtcp_validate() must classify it. */
		if (len < sizeof(*h) || (buf[12] >> 4) * 4 < (int)sizeof(*h) ||
		    (size_t)(buf[12] >> 4) * 4 > len) {
			malformed++;
		} else if (!csum_ok(t, buf, len)) {
			bad_csum++;
		} else {
			valid++;
		}
		per_target[tg]++;
		if (xtcp_raw_send(t, self->c.raw, SRV, buf, len))
			send_fail++;
	}
	ms = xtcp_now_ms() - t0;
	/* Let the softirq backlog drain. */
	xtcp_sleep_ms(200);
	drops = softnet_drops() - drops;
	in_errs = xtcp_counter(t, SRV, "InErrs") - in_errs;
	in_csum = xtcp_counter(t, SRV, "InCsumErrors") - in_csum;
	in_segs = xtcp_counter(t, SRV, "InSegs") - in_segs;

	TH_LOG("sent %ld segments in %lld ms (%lld/s): %ld valid, %ld bad checksum, %ld malformed, %ld oversized, %d target/flag combinations",
	       sent, ms, ms ? sent * 1000 / ms : 0, valid, bad_csum, malformed,
	       oversize, combos);
	for (i = 0; i < T_MAX; i++)
		TH_LOG("  at %s: %ld", target_name[i], per_target[i]);
	TH_LOG("counters: InSegs +%lld InErrs +%lld InCsumErrors +%lld InNoSocket +%lld InRsts +%lld ChallengeAcks +%lld ListenDrops +%lld; host backlog drops %lld, send failures %ld",
	       in_segs, in_errs, in_csum,
	       xtcp_counter(t, SRV, "InNoSocket") - c_no_sock,
	       xtcp_counter(t, SRV, "InRsts") - c_rsts,
	       xtcp_counter(t, SRV, "ChallengeAcks") - c_chall,
	       xtcp_counter(t, SRV, "ListenDrops") - c_ldrops,
	       drops, send_fail);

	if (total >= 256 * T_MAX)
		EXPECT_EQ(256 * T_MAX, combos);
	EXPECT_EQ(0, send_fail);
	if (drops == 0) {
		EXPECT_EQ(bad_csum, in_csum);
		EXPECT_EQ(bad_csum + malformed, in_errs);
	} else {
		EXPECT_LE(in_csum, bad_csum);
		EXPECT_GE(in_csum, bad_csum - drops);
		EXPECT_LE(in_errs, bad_csum + malformed);
		EXPECT_GE(in_errs, bad_csum + malformed - drops);
	}
	/* Our segments, plus whatever the connection said meanwhile. */
	EXPECT_GE(in_segs, sent - drops);
	errors = 0;

	/* The survivors close; everything but the TIME_WAIT bucket drains. */
	close(self->c.cfd);
	close(self->c.afd);
	self->c.cfd = self->c.afd = -1;
	EXPECT_TRUE(XTCP_WAIT_FOR(10000,
		xtcp_state_count(t, SRV, "ESTABLISHED", NULL) == 0 &&
		xtcp_state_count(t, SRV, "SYN_RCVD", NULL) == 0 &&
		xtcp_state_count(t, SRV, "SYN_SENT", NULL) == 0 &&
		xtcp_state_count(t, SRV, "CLOSE_WAIT", NULL) == 0 &&
		xtcp_state_count(t, SRV, "FIN_WAIT_1", NULL) == 0 &&
		xtcp_state_count(t, SRV, "FIN_WAIT_2", NULL) == 0 &&
		xtcp_state_count(t, SRV, "LAST_ACK", NULL) == 0 &&
		xtcp_state_count(t, SRV, "CLOSING", NULL) == 0))
		TH_LOG("sockets did not drain after the fuzz");

	/* And the listener still works. */
	self->c.cfd = xtcp_connect(t, 0, SRV_PORT, true);
	ASSERT_GE(self->c.cfd, 0);
	EXPECT_EQ(0, xtcp_connect_wait(self->c.cfd, 5000));
	self->c.afd = xtcp_accept_wait(self->c.lfd, 5000);
	EXPECT_GE(self->c.afd, 0);
	EXPECT_EQ(5, write(self->c.cfd, "hello", 5));
	EXPECT_EQ(5, recv(self->c.afd, buf, sizeof(buf), 0));
	(void)errors;
}

TEST_HARNESS_MAIN
