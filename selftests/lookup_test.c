// SPDX-License-Identifier: GPL-2.0
/*
 * Lookups and locking (issue 11, items 10-13), each case run at xtcp and,
 * where the behaviour is comparable, at Linux TCP in the same case:
 *
 *  - listen_race: two SO_REUSEADDR sockets bound to one port race
 *    listen(), LISTEN_RACE_PAIRS times, the two calls released together
 *    on two CPUs. Never may both succeed (TCP: never both either).
 *  - child_fail, child_fail_expire: the child of a completed handshake
 *    fails to be created (the "child" fault rule); the failure is
 *    counted, the request entry retries with its SYN-ACK and leaves
 *    SYN_RCVD once, every state gauge is back where it was and the
 *    module's reference count returns.
 *  - ehash_churn: streams keep flowing while other connections churn
 *    through TIME_WAIT and disconnect/reconnect: no stream is reset and
 *    InNoSocket does not move.
 *  - syn_queue_cost: a segment for a listener costs about the same with
 *    4000 request entries on its SYN queue as with one.
 *  - sockets_file: /proc/net/xtcp/sockets with XTCP_SOCKETS_TW (20 000)
 *    TIME_WAIT buckets: every entry shown once whatever the read size,
 *    the first 4 KiB cost a small part of the whole file, the kernel's
 *    memory does not grow with the table while the file is read, and
 *    reading while connections churn returns only whole rows.
 *
 * Every case runs in a namespace of its own, over loopback.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <stdatomic.h>
#include <time.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

/* ~3 s per family on 6.1 in TCG. */
#define LISTEN_RACE_PAIRS	3000
#define RACE_PORT		6001

FIXTURE(lo)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(lo)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
	ASSERT_EQ(0, xtcp_topo_move(&self->t, SRV));
}

FIXTURE_TEARDOWN(lo)
{
	xtcp_topo_move(&self->t, XTCP_HOME);
	xtcp_topo_teardown(&self->t);
}

/* ---- listen_race ---- */

/*
 * Two threads, one per CPU, each make a socket bound to the port, meet
 * at a barrier and call listen() at once. Both do the same work before
 * the barrier and spin at it, so with both CPUs running (hardware,
 * multi-threaded TCG) their calls start within the time a spinning CPU
 * takes to see a store. A thread that spins too long sleeps on a futex:
 * with one host thread for both vCPUs (the VM's default TCG) a spinner
 * would hold its vCPU for a whole time slice.
 */
#define SPIN	20000

struct race {
	const struct xtcp_topo *t;
	int family;
	atomic_int arrived;
	int ret[2];
	int fd[2];
};

static void barrier(struct race *r, int *phase)
{
	int target = 2 * ++*phase, v, i;

	v = atomic_fetch_add(&r->arrived, 1) + 1;
	if (v >= target) {
		syscall(SYS_futex, &r->arrived, FUTEX_WAKE_PRIVATE, INT_MAX,
			NULL, NULL, 0);
		return;
	}
	for (i = 0; i < SPIN; i++)
		if (atomic_load(&r->arrived) >= target)
			return;
	while ((v = atomic_load(&r->arrived)) < target)
		syscall(SYS_futex, &r->arrived, FUTEX_WAIT_PRIVATE, v, NULL,
			NULL, 0);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int reuse_sock(const struct xtcp_topo *t, int family)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, RACE_PORT);
	int fd = xtcp_socket(t, SRV, family), one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One side's loop: @me is 0 (the main thread) or 1. */
static void race_side(struct race *r, int me)
{
	int phase = 0, i;

	pin(me);
	for (i = 0; i < LISTEN_RACE_PAIRS; i++) {
		r->fd[me] = reuse_sock(r->t, r->family);
		barrier(r, &phase);
		r->ret[me] = r->fd[me] < 0 ? -2 : listen(r->fd[me], 8);
		barrier(r, &phase);
		/* Both closed before either binds the port again. */
		if (r->fd[me] >= 0)
			close(r->fd[me]);
		barrier(r, &phase);
	}
}

static void *race_thread(void *arg)
{
	race_side(arg, 1);
	return NULL;
}

struct race_result {
	int both, one, none, setup_fail;
};

static void listen_race(const struct xtcp_topo *t, int family,
			struct race_result *res)
{
	struct race r = { .t = t, .family = family };
	int phase = 0, i;
	pthread_t th;

	memset(res, 0, sizeof(*res));
	if (pthread_create(&th, NULL, race_thread, &r)) {
		res->setup_fail = LISTEN_RACE_PAIRS;
		return;
	}
	pin(0);
	for (i = 0; i < LISTEN_RACE_PAIRS; i++) {
		r.fd[0] = reuse_sock(t, family);
		barrier(&r, &phase);
		r.ret[0] = r.fd[0] < 0 ? -2 : listen(r.fd[0], 8);
		barrier(&r, &phase);
		if (r.fd[0] >= 0)
			close(r.fd[0]);
		barrier(&r, &phase);
		if (r.ret[0] == -2 || r.ret[1] == -2)
			res->setup_fail++;
		else if (!r.ret[0] && !r.ret[1])
			res->both++;
		else if (!r.ret[0] || !r.ret[1])
			res->one++;
		else
			res->none++;
	}
	pthread_join(th, NULL);
}

TEST_F_TIMEOUT(lo, listen_race, 110)
{
	struct race_result x, tcp;
	long long t0 = xtcp_now_ms();

	listen_race(&self->t, 0, &x);
	listen_race(&self->t, AF_INET, &tcp);
	TH_LOG("%d pairs in %lld ms: xtcp both %d one %d none %d; tcp both %d one %d none %d",
	       LISTEN_RACE_PAIRS, xtcp_now_ms() - t0, x.both, x.one, x.none,
	       tcp.both, tcp.one, tcp.none);
	ASSERT_EQ(0, x.setup_fail);
	ASSERT_EQ(0, tcp.setup_fail);
	/* The control: TCP never lets both listen. */
	EXPECT_EQ(0, tcp.both);
	EXPECT_EQ(0, x.both);
	/* The first in takes the port: exactly one listens, every time. */
	EXPECT_EQ(LISTEN_RACE_PAIRS, x.one);
}

/* ---- child_fail ---- */

static const char * const states[] = {
	"ESTABLISHED", "SYN_SENT", "SYN_RCVD", "FIN_WAIT_1", "FIN_WAIT_2",
	"TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};
#define NSTATES	(sizeof(states) / sizeof(states[0]))

static void gauges(const struct xtcp_topo *t, long *g)
{
	size_t i;

	for (i = 0; i < NSTATES; i++)
		g[i] = xtcp_state_count(t, BOTH, states[i], NULL);
}

/* The first gauge that differs from @base (or is negative), or -1. */
static int gauge_off(const struct xtcp_topo *t, const long *base, long *now)
{
	size_t i;

	gauges(t, now);
	for (i = 0; i < NSTATES; i++)
		if (now[i] != base[i] || now[i] < 0)
			return i;
	return -1;
}

static long module_refs(void)
{
	return xtcp_read_long_file("/sys/module/xtcp/refcnt", -1);
}

/*
 * A small SYN-ACK timeout and TIME_WAIT, every unacceptable segment
 * answered (the client's ACK to a retransmitted SYN-ACK is one).
 */
static int child_sysctls(const struct xtcp_topo *t)
{
	return xtcp_sysctl_set(t, BOTH, "rto_min_ms", 100) ||
	       xtcp_sysctl_set(t, BOTH, "rto_init_ms", 200) ||
	       xtcp_sysctl_set(t, BOTH, "msl_ms", 100) ||
	       xtcp_sysctl_set(t, BOTH, "invalid_ratelimit_ms", 0) ||
	       xtcp_sysctl_set(t, BOTH, "synack_retries", 3);
}

/*
 * The child of the first three completions fails; the fourth, drawn by
 * the third SYN-ACK retransmission, makes it. Each failure is counted,
 * the request entry's accounting is left alone, and the connection then
 * works; once everything is closed every gauge is back and so is the
 * module's reference count (rmmod would succeed).
 */
TEST_F_TIMEOUT(lo, child_fail, 60)
{
	long base[NSTATES], now[NSTATES], refs = module_refs();
	long long fails = xtcp_counter(&self->t, BOTH, "ChildFails");
	long long seen, fired;
	int l, c, a, off;
	char buf[4];

	ASSERT_EQ(0, child_sysctls(&self->t));
	gauges(&self->t, base);
	ASSERT_LE(0, refs);
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV,
				    "child any dport=6002 count=3"));
	l = xtcp_listen(&self->t, 0, 6002, 8, true, NULL);
	ASSERT_LE(0, l);
	base[9]++;			/* the listener, until it closes */
	c = xtcp_connect(&self->t, 0, 6002, false);
	ASSERT_LE(0, c);
	a = xtcp_accept_wait(l, 10000);
	ASSERT_LE(0, a);
	EXPECT_EQ(3, xtcp_counter(&self->t, BOTH, "ChildFails") - fails);
	ASSERT_EQ(0, xtcp_fault_stats(&self->t, SRV, 1, &seen, &fired));
	EXPECT_EQ(4, seen);
	EXPECT_EQ(3, fired);
	/* No request entry left, no gauge below zero. */
	EXPECT_EQ(0, xtcp_state_count(&self->t, BOTH, "SYN_RCVD", NULL));
	EXPECT_EQ(2, xtcp_state_count(&self->t, BOTH, "ESTABLISHED", NULL));
	ASSERT_EQ(4, write(c, "ping", 4));
	ASSERT_EQ(4, read(a, buf, 4));
	ASSERT_EQ(4, write(a, "pong", 4));
	ASSERT_EQ(4, read(c, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	close(c);
	close(a);
	close(l);
	base[9]--;
	off = -1;
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, (off = gauge_off(&self->t, base, now)) < 0))
		TH_LOG("%s: %ld, was %ld", states[off], now[off], base[off]);
	/* Not above: an orphan of an earlier test may finish meanwhile. */
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, module_refs() <= refs))
		TH_LOG("module references %ld, were %ld", module_refs(), refs);
}

/*
 * Every child fails: the request entry gives up after synack_retries
 * SYN-ACK retransmissions and leaves SYN_RCVD exactly once (before, each
 * failed child took SYN_RCVD's count with it and the gauge went
 * negative). The client, which believed itself connected, learns it
 * from a RST.
 */
TEST_F_TIMEOUT(lo, child_fail_expire, 60)
{
	long base[NSTATES], now[NSTATES], refs = module_refs();
	long long fails = xtcp_counter(&self->t, BOTH, "ChildFails");
	long min_synrcvd = 0;
	long long dl;
	int l, c, off;

	ASSERT_EQ(0, child_sysctls(&self->t));
	gauges(&self->t, base);
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV, "child any dport=6003"));
	l = xtcp_listen(&self->t, 0, 6003, 8, true, NULL);
	ASSERT_LE(0, l);
	base[9]++;
	c = xtcp_connect(&self->t, 0, 6003, false);
	ASSERT_LE(0, c);
	/* 200 + 400 + 800 ms of retransmissions, then the entry expires. */
	dl = xtcp_now_ms() + 10000;
	while (xtcp_now_ms() < dl) {
		long n = xtcp_state_count(&self->t, BOTH, "SYN_RCVD", NULL);

		if (n < min_synrcvd)
			min_synrcvd = n;
		if (xtcp_counter(&self->t, BOTH, "ChildFails") - fails >= 4 &&
		    n == 0)
			break;
		xtcp_sleep_ms(20);
	}
	EXPECT_EQ(4, xtcp_counter(&self->t, BOTH, "ChildFails") - fails);
	EXPECT_EQ(0, min_synrcvd);
	EXPECT_EQ(0, xtcp_state_count(&self->t, BOTH, "SYN_RCVD", NULL));
	EXPECT_EQ(-1, xtcp_accept_wait(l, 0));
	/* The client's data draws a RST: no socket has its tuple. */
	ASSERT_EQ(1, write(c, "x", 1));
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, xtcp_sock_state(c) == XTCP_CLOSE));
	close(c);
	close(l);
	base[9]--;
	off = -1;
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, (off = gauge_off(&self->t, base, now)) < 0))
		TH_LOG("%s: %ld, was %ld", states[off], now[off], base[off]);
	/* Not above: an orphan of an earlier test may finish meanwhile. */
	EXPECT_TRUE(XTCP_WAIT_FOR(5000, module_refs() <= refs))
		TH_LOG("module references %ld, were %ld", module_refs(), refs);
}

/* ---- ehash_churn ---- */

/*
 * CHURN_STREAMS connections stream both ways for CHURN_MS while one
 * thread churns connections through TIME_WAIT (connect, accept, the
 * client closes first) and another connects one socket, disconnects it
 * (connect(AF_UNSPEC): RST) and connects it again, so that sockets and
 * TIME_WAIT buckets keep entering, leaving and changing chains of the
 * established table around the streams' entries. A lookup that ended
 * early or missed would answer a stream's segment with a RST (InNoSocket)
 * and reset it. With a one-bucket table (insmod ... ehash_entries=1)
 * every entry shares the streams' chain.
 */
#define CHURN_STREAMS	4
#define CHURN_MS	8000
#define STREAM_PORT	7000
#define TW_PORT		7001
#define RECONN_PORT	7002

struct churn {
	const struct xtcp_topo *t;
	atomic_int stop;
	int c[CHURN_STREAMS], s[CHURN_STREAMS];
	long long bytes[CHURN_STREAMS];
	int stream_err;		/* first errno a stream saw */
	int tw_cycles, tw_err;
	int re_cycles, re_err;
	int ltw, lre;
};

static void *churn_stream(void *arg)
{
	struct churn *ch = arg;
	static char buf[4096];
	int i;

	while (!atomic_load(&ch->stop) && !ch->stream_err) {
		for (i = 0; i < CHURN_STREAMS; i++) {
			int ends[2] = { ch->c[i], ch->s[i] }, e;

			for (e = 0; e < 2; e++) {
				ssize_t n = send(ends[e], buf, sizeof(buf),
						 MSG_DONTWAIT | MSG_NOSIGNAL);

				if (n < 0 && errno != EAGAIN) {
					ch->stream_err = errno;
					return NULL;
				}
				n = recv(ends[!e], buf, sizeof(buf),
					 MSG_DONTWAIT);
				if (n == 0 || (n < 0 && errno != EAGAIN)) {
					ch->stream_err = n ? errno : EPIPE;
					return NULL;
				}
				if (n > 0)
					ch->bytes[i] += n;
			}
		}
		usleep(1000);
	}
	return NULL;
}

static void *churn_tw(void *arg)
{
	struct churn *ch = arg;
	char b;

	while (!atomic_load(&ch->stop)) {
		int c = xtcp_connect(ch->t, 0, TW_PORT, false), a;

		if (c < 0) {
			ch->tw_err = errno;
			return NULL;
		}
		a = xtcp_accept_wait(ch->ltw, 5000);
		if (a < 0) {
			ch->tw_err = ETIMEDOUT;
			close(c);
			return NULL;
		}
		close(c);			/* the client ends in TIME_WAIT */
		if (read(a, &b, 1) != 0)
			ch->tw_err = EPROTO;
		close(a);
		ch->tw_cycles++;
	}
	return NULL;
}

static void *churn_reconnect(void *arg)
{
	struct churn *ch = arg;
	struct sockaddr_in to = xtcp_addr(ch->t, SRV, 0, RECONN_PORT);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int r = xtcp_socket(ch->t, CLI, 0);
	char b;

	while (r >= 0 && !atomic_load(&ch->stop)) {
		int a;

		if (connect(r, (struct sockaddr *)&to, sizeof(to))) {
			ch->re_err = errno;
			break;
		}
		a = xtcp_accept_wait(ch->lre, 5000);
		if (a < 0) {
			ch->re_err = ETIMEDOUT;
			break;
		}
		/* Disconnect: RST, and the socket leaves its chain. */
		connect(r, &unspec, sizeof(unspec));
		/* The peer's end learns it before it is closed (no FIN). */
		if (read(a, &b, 1) != -1 || errno != ECONNRESET)
			ch->re_err = EPROTO;
		close(a);
		ch->re_cycles++;
	}
	if (r < 0)
		ch->re_err = errno;
	else
		close(r);
	return NULL;
}

TEST_F_TIMEOUT(lo, ehash_churn, 100)
{
	struct churn ch = { .t = &self->t };
	long long nosock, rsts;
	pthread_t th[3];
	int ls, i;

	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "msl_ms", 100));
	ls = xtcp_listen(&self->t, 0, STREAM_PORT, 16, true, NULL);
	ch.ltw = xtcp_listen(&self->t, 0, TW_PORT, 16, true, NULL);
	ch.lre = xtcp_listen(&self->t, 0, RECONN_PORT, 16, true, NULL);
	ASSERT_LE(0, ls);
	ASSERT_LE(0, ch.ltw);
	ASSERT_LE(0, ch.lre);
	for (i = 0; i < CHURN_STREAMS; i++) {
		ch.c[i] = xtcp_connect(&self->t, 0, STREAM_PORT, false);
		ASSERT_LE(0, ch.c[i]);
		ch.s[i] = xtcp_accept_wait(ls, 5000);
		ASSERT_LE(0, ch.s[i]);
	}
	nosock = xtcp_counter(&self->t, BOTH, "InNoSocket");
	rsts = xtcp_counter(&self->t, BOTH, "EstabResets");

	ASSERT_EQ(0, pthread_create(&th[0], NULL, churn_stream, &ch));
	ASSERT_EQ(0, pthread_create(&th[1], NULL, churn_tw, &ch));
	ASSERT_EQ(0, pthread_create(&th[2], NULL, churn_reconnect, &ch));
	xtcp_sleep_ms(CHURN_MS);
	atomic_store(&ch.stop, 1);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	nosock = xtcp_counter(&self->t, BOTH, "InNoSocket") - nosock;
	rsts = xtcp_counter(&self->t, BOTH, "EstabResets") - rsts;
	TH_LOG("ehash_entries %ld, %d ms: %d TIME_WAIT cycles, %d reconnects, stream bytes %lld %lld %lld %lld, InNoSocket +%lld, EstabResets +%lld",
	       xtcp_read_long_file("/sys/module/xtcp/parameters/ehash_entries", -1),
	       CHURN_MS, ch.tw_cycles, ch.re_cycles, ch.bytes[0], ch.bytes[1],
	       ch.bytes[2], ch.bytes[3], nosock, rsts);
	EXPECT_EQ(0, ch.stream_err);
	EXPECT_EQ(0, ch.tw_err);
	EXPECT_EQ(0, ch.re_err);
	EXPECT_EQ(0, nosock);
	/* Each reconnect resets both its ends; nothing else may reset. */
	EXPECT_EQ(2 * ch.re_cycles, rsts);
	EXPECT_LT(0, ch.tw_cycles);
	EXPECT_LT(0, ch.re_cycles);
	for (i = 0; i < CHURN_STREAMS; i++) {
		EXPECT_LT(0, ch.bytes[i]);
		EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(ch.c[i]));
		close(ch.c[i]);
		close(ch.s[i]);
	}
	close(ls);
	close(ch.ltw);
	close(ch.lre);
}

/* ---- syn_queue_cost ---- */

/*
 * What a segment to a listener costs with SYNQ_FULL request entries on
 * its SYN queue, against one with a single entry: SYNQ_PROBES ACKs for no
 * entry (each looks its tuple up in the queue, then answers RST), sent
 * through a raw socket over loopback, so each send() includes the
 * segment's processing. Rounds alternate between the two listeners, so
 * that both see the same noise; the best of five rounds each. The
 * SYN-ACKs are dropped (an "out synack" rule) and retransmitted only
 * after ten minutes, so the entries stay however long the test takes
 * (under KASAN in TCG, more than 100 s).
 */
#define SYNQ_FULL	8000
#define SYNQ_PROBES	2000
#define SYNQ_ROUNDS	5
#define SYNQ_PORT	7003	/* full; SYNQ_PORT + 1: one entry */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long probe_us(const struct xtcp_topo *t, int raw, int port)
{
	long long t0 = now_us();
	uint8_t buf[64];
	size_t len;
	int i;

	len = xtcp_seg_build(t, buf, CLI, SRV, 40000, port, 1, 1, F_ACK,
			     NULL, 0);
	for (i = 0; i < SYNQ_PROBES; i++)
		if (xtcp_raw_send(t, raw, SRV, buf, len))
			return -1;
	return now_us() - t0;
}

static int syns(const struct xtcp_topo *t, int raw, int port, int first,
		int n)
{
	uint8_t buf[64];
	int i;

	for (i = 0; i < n; i++) {
		size_t len = xtcp_seg_build(t, buf, CLI, SRV, first + i, port,
					    1000 * i, 0, F_SYN, NULL, 0);

		if (xtcp_raw_send(t, raw, SRV, buf, len))
			return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(lo, syn_queue_cost, 400)
{
	long long empty = -1, full = -1, us;
	int lf, le, raw, r;

	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 600000));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_max_ms", 600000));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "max_syn_backlog", 8192));
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV, "out synack"));
	ASSERT_EQ(0, xtcp_sh("sysctl -qw net.core.somaxconn=8192 2>/dev/null || true"));
	lf = xtcp_listen(&self->t, 0, SYNQ_PORT, 8192, false, NULL);
	ASSERT_LE(0, lf);
	le = xtcp_listen(&self->t, 0, SYNQ_PORT + 1, 8192, false, NULL);
	ASSERT_LE(0, le);
	raw = xtcp_raw_socket(&self->t, CLI);
	ASSERT_LE(0, raw);

	ASSERT_EQ(0, syns(&self->t, raw, SYNQ_PORT + 1, 9000, 1));
	ASSERT_EQ(0, syns(&self->t, raw, SYNQ_PORT, 10000, SYNQ_FULL));
	ASSERT_TRUE(XTCP_WAIT_FOR(10000, xtcp_state_count(&self->t, BOTH,
							   "SYN_RCVD", NULL) == SYNQ_FULL + 1))
		TH_LOG("SYN_RCVD %ld", xtcp_state_count(&self->t, BOTH,
							"SYN_RCVD", NULL));
	probe_us(&self->t, raw, SYNQ_PORT + 1);	/* warm up */
	for (r = 0; r < SYNQ_ROUNDS; r++) {
		us = probe_us(&self->t, raw, SYNQ_PORT + 1);
		ASSERT_LT(0, us);
		if (empty < 0 || us < empty)
			empty = us;
		us = probe_us(&self->t, raw, SYNQ_PORT);
		ASSERT_LT(0, us);
		if (full < 0 || us < full)
			full = us;
	}
	TH_LOG("%d probes: %lld us with 1 request entry, %lld us with %d (x%.2f)",
	       SYNQ_PROBES, empty, full, SYNQ_FULL, (double)full / empty);
	EXPECT_LT(full, 3 * empty);
	close(raw);
	close(lf);
	close(le);
}

/* ---- sockets_file ---- */

/*
 * /proc/net/xtcp/sockets is an iterator: a read() formats what it returns
 * and resumes at the bucket where the last one stopped. With the whole
 * table formatted into one buffer per read() (single_open), the first
 * 4 KiB cost as much as the whole file, and the buffer, a whole table's
 * rows, stayed allocated while the file was open.
 */
#define SOCKETS_TW_DEFAULT	20000
#define SOCKETS_TW_MAX		300000
/*
 * Above this many buckets they are made by several threads, each from a
 * client address of its own (127.0.0.2, .3, ...) and explicit ports from
 * SOCKETS_TW_PORT0 up: an ephemeral port is one no address holds, so
 * ephemeral ports (SOCKETS_EPHEMERAL) hold at most 55 536 buckets,
 * whatever the addresses. The ports above SOCKETS_TW_PORT0 +
 * SOCKETS_TW_PER_ADDR stay free for the ephemeral ports of the rest.
 */
#define SOCKETS_TW_PER_ADDR	40000
#define SOCKETS_TW_PORT0	10000
#define SOCKETS_SYNRCVD		40	/* request entries kept on a listener */
/* Below the ephemeral ports, which the TIME_WAIT buckets hold. */
#define SOCKETS_PORT		7010	/* TIME_WAIT; +1 SYN_RCVD; +2, +3 churn */
#define SOCKETS_EPHEMERAL	"10000 65535"
#define SOCKETS_CHURN_MS	4000
#define SOCKETS_HEADER		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"

struct srow {
	unsigned int laddr, lport, raddr, rport, st;
};

/* One row in the exact format of the file; 0 or -1. */
static int parse_srow(const char *line, int *sl, struct srow *r)
{
	unsigned int tx, rx, tr, retr, uid;
	unsigned long when, ino;
	int timeout, end = -1;

	if (sscanf(line, "%d: %8X:%4X %8X:%4X %2X %8X:%8X %2X:%8lX %8X %5u %8d %lu%n",
		   sl, &r->laddr, &r->lport, &r->raddr, &r->rport, &r->st,
		   &tx, &rx, &tr, &when, &retr, &uid, &timeout, &ino, &end) != 14)
		return -1;
	return line[end] == '\0' ? 0 : -1;
}

/* All of @path, read @chunk bytes at a time; NULL-terminated, malloc()ed. */
static char *slurp(const char *path, size_t chunk, size_t *reads)
{
	size_t len = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf)
		goto fail;
	*reads = 0;
	for (;;) {
		if (cap - len < chunk + 1) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, chunk);
		if (n < 0)
			goto fail;
		if (!n)
			break;
		len += n;
		++*reads;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int srow_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct srow));
}

struct sockets_count {
	long rows, bad, dups, tw, listen, syn_sent, syn_recv, sl_wrong;
	long req_orphans;	/* SYN_RECV rows not under their listener */
};

/*
 * Splits @buf into rows: each must parse, none may repeat a 4-tuple.
 * With @quiet (nothing changed during the read) the rows are numbered
 * 0, 1, ... and each SYN_RECV row follows its listener's row or another
 * of its requests.
 */
static void count_rows(char *buf, bool quiet, struct sockets_count *c)
{
	struct srow *rows = NULL, r;
	long cap = 0, i;
	char *line, *save;
	unsigned int lport = 0;
	int sl;

	memset(c, 0, sizeof(*c));
	line = strtok_r(buf, "\n", &save);
	if (!line || strcmp(line, SOCKETS_HEADER))
		c->bad++;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (parse_srow(line, &sl, &r)) {
			if (c->bad++ < 3)
				fprintf(stderr, "# bad row: \"%s\"\n", line);
			continue;
		}
		if (quiet && sl != c->rows)
			c->sl_wrong++;
		if (c->rows == cap) {
			cap = cap ? 2 * cap : 4096;
			rows = realloc(rows, cap * sizeof(*rows));
			if (!rows)
				abort();
		}
		rows[c->rows++] = r;
		switch (r.st) {
		case 0x06:
			c->tw++;
			lport = 0;
			break;
		case 0x0A:
			c->listen++;
			lport = r.lport;
			break;
		case 0x02:
			c->syn_sent++;
			lport = 0;
			break;
		case 0x03:
			c->syn_recv++;
			if (quiet && r.lport != lport)
				c->req_orphans++;
			break;
		default:
			lport = 0;
		}
	}
	/* Listeners have no remote end: only full 4-tuples must be unique. */
	qsort(rows, c->rows, sizeof(*rows), srow_cmp);
	for (i = 1; i < c->rows; i++)
		if (rows[i].st != 0x0A && !srow_cmp(&rows[i], &rows[i - 1]))
			c->dups++;
	free(rows);
}

/* Slab + VmallocUsed of /proc/meminfo, in KiB. */
static long kernel_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v, sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &v) == 1 ||
		    sscanf(line, "VmallocUsed: %ld kB", &v) == 1)
			sum += v;
	fclose(f);
	return sum;
}

/* Time of open() plus one read() of @chunk bytes (0: the whole file). */
/* One open() and read() of @chunk bytes (0: the whole file); 0 or -1. */
static int read_once(const char *path, size_t chunk)
{
	static char buf[1 << 17];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, chunk ? chunk : sizeof(buf));
	while (!chunk && n > 0);
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * Nanoseconds per read_once(), repeated for at least READ_SPAN_US: a
 * kernel whose clocksource is jiffies (the debug lane's) ticks every few
 * ms, longer than one read of 4 KiB takes.
 */
#define READ_SPAN_US	50000
static long long read_ns(const char *path, size_t chunk)
{
	long long t0 = now_us(), us;
	long n = 0;

	do {
		if (read_once(path, chunk))
			return -1;
		n++;
		us = now_us() - t0;
	} while (us < READ_SPAN_US);
	return us * 1000 / n;
}

struct sockets_churn {
	const struct xtcp_topo *t;
	atomic_int stop;
	int conns, listens, err;
	const char *what;	/* the first failure */
};

static void churn_fail(struct sockets_churn *ch, const char *what)
{
	if (!ch->err++)
		ch->what = what;
	perror(what);
}

/*
 * Connections come and go in the established table (closed with RST, or
 * into TIME_WAIT), a listener comes and goes in the listener table with
 * request entries that go with it.
 */
static void *sockets_churn(void *arg)
{
	struct linger lz = { .l_onoff = 1, .l_linger = 0 };
	struct sockets_churn *ch = arg;
	int l, c, a, i;

	l = xtcp_listen(ch->t, 0, SOCKETS_PORT + 2, 16, true, NULL);
	if (l < 0) {
		churn_fail(ch, "listen");
		return NULL;
	}
	while (!atomic_load(&ch->stop)) {
		c = xtcp_connect(ch->t, 0, SOCKETS_PORT + 2, false);
		a = c < 0 ? -1 : xtcp_accept_wait(l, 5000);
		if (a < 0) {
			churn_fail(ch, c < 0 ? "connect" : "accept");
			if (c >= 0)
				close(c);
			break;
		}
		if (ch->conns & 1)
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lz, sizeof(lz));
		close(c);
		close(a);
		ch->conns++;

		/* SYN-ACKs to SOCKETS_PORT + 3 are dropped: requests stay. */
		a = xtcp_listen(ch->t, 0, SOCKETS_PORT + 3, 16, true, NULL);
		if (a < 0) {
			churn_fail(ch, "listen again");
			break;
		}
		for (i = 0; i < 3; i++) {
			c = xtcp_connect(ch->t, 0, SOCKETS_PORT + 3, true);
			if (c >= 0) {
				setsockopt(c, SOL_SOCKET, SO_LINGER, &lz, sizeof(lz));
				close(c);
			}
		}
		close(a);
		ch->listens++;
	}
	close(l);
	return NULL;
}

struct tw_maker {
	const struct xtcp_topo *t;
	int lfd;		/* the shared listener */
	int addr;		/* 0: the default source; else 127.0.0.@addr */
	long n;
	long made;
	int err;		/* errno of the first failure */
};

/*
 * @m->n connections closed by the client first: as many TIME_WAIT
 * buckets on the client's side. Several makers share the listener: a
 * maker may accept another's connection, whose client closes right after
 * its own accept, so each recv() of EOF ends.
 */
static void *tw_make(void *arg)
{
	struct tw_maker *m = arg;
	struct sockaddr_in src = xtcp_addr(m->t, CLI, 0, 0);
	struct sockaddr_in dst = xtcp_addr(m->t, SRV, 0, SOCKETS_PORT);
	char b;

	src.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + m->addr);
	for (m->made = 0; m->made < m->n; m->made++) {
		int cfd = xtcp_socket(m->t, CLI, 0), afd;

		src.sin_port = htons(SOCKETS_TW_PORT0 + m->made);

		if (cfd < 0 ||
		    (m->addr && bind(cfd, (struct sockaddr *)&src, sizeof(src))) ||
		    connect(cfd, (struct sockaddr *)&dst, sizeof(dst)))
			goto fail;
		afd = xtcp_accept_wait(m->lfd, 5000);
		if (afd < 0)
			goto fail;
		close(cfd);
		/* The FIN is in before the server closes: no simultaneous close. */
		if (recv(afd, &b, 1, 0)) {
			close(afd);
			goto fail_noclose;
		}
		close(afd);
		continue;
fail:
		if (cfd >= 0)
			close(cfd);
fail_noclose:
		m->err = errno ? errno : EIO;
		return NULL;
	}
	return NULL;
}

TEST_F_TIMEOUT(lo, sockets_file, 1800)
{
	const char *path = "/proc/net/xtcp/sockets";
	static const size_t chunks[] = { 1 << 17, 4096, 1000 };
	const char *e = getenv("XTCP_SOCKETS_TW");
	long ntw = e ? atol(e) : SOCKETS_TW_DEFAULT;
	long long first = -1, whole = -1, us, ns, t0;
	int ltw, lsr, syn[SOCKETS_SYNRCVD], i, r, reads = 0, calls = 0;
	long kb0, kb1, bad = 0, repeated = 0;
	struct sockets_churn ch = { .t = &self->t };
	struct tw_maker mk[SOCKETS_TW_MAX / SOCKETS_TW_PER_ADDR + 1];
	pthread_t mth[ARRAY_SIZE(mk)];
	int nmk, mkerr = 0;
	struct sockets_count c;
	pthread_t th;
	size_t nread;
	char *buf;

	ASSERT_LT(0, ntw);
	ASSERT_GE(SOCKETS_TW_MAX, ntw);
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "msl_ms", 600000));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "max_tw_buckets", ntw + 100000));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 60000));
	ASSERT_EQ(0, xtcp_sh("echo %s > /proc/sys/net/ipv4/ip_local_port_range",
			     SOCKETS_EPHEMERAL));
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV, "out synack sport=%d",
				    SOCKETS_PORT + 1));
	ASSERT_EQ(0, xtcp_fault_add(&self->t, SRV, "out synack sport=%d",
				    SOCKETS_PORT + 3));

	/* ntw connections closed by the client first: ntw TIME_WAIT buckets. */
	ltw = xtcp_listen(&self->t, 0, SOCKETS_PORT, 128, false, NULL);
	ASSERT_LE(0, ltw);
	t0 = xtcp_now_ms();
	nmk = (ntw + SOCKETS_TW_PER_ADDR - 1) / SOCKETS_TW_PER_ADDR;
	for (i = 0; i < nmk; i++) {
		mk[i] = (struct tw_maker){
			.t = &self->t, .lfd = ltw, .addr = nmk > 1 ? i + 2 : 0,
			.n = ntw / nmk + (i < ntw % nmk),
		};
		ASSERT_EQ(0, pthread_create(&mth[i], NULL, tw_make, &mk[i]));
	}
	for (i = 0; i < nmk; i++) {
		pthread_join(mth[i], NULL);
		if (mk[i].err && !mkerr++)
			TH_LOG("maker %d, connection %ld: %s", i, mk[i].made,
			       strerror(mk[i].err));
	}
	ASSERT_EQ(0, mkerr);
	lsr = xtcp_listen(&self->t, 0, SOCKETS_PORT + 1, 128, false, NULL);
	ASSERT_LE(0, lsr);
	for (i = 0; i < SOCKETS_SYNRCVD; i++) {
		syn[i] = xtcp_connect(&self->t, 0, SOCKETS_PORT + 1, true);
		ASSERT_LE(0, syn[i]);
	}
	ASSERT_TRUE(XTCP_WAIT_FOR(30000,
		xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL) == ntw &&
		xtcp_state_count(&self->t, BOTH, "SYN_RCVD", NULL) == SOCKETS_SYNRCVD))
		TH_LOG("TIME_WAIT %ld SYN_RCVD %ld",
		       xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL),
		       xtcp_state_count(&self->t, BOTH, "SYN_RCVD", NULL));
	TH_LOG("%ld TIME_WAIT buckets made in %lld ms by %d thread(s)", ntw,
	       xtcp_now_ms() - t0, nmk);

	/*
	 * (a) Whatever the read size (each read() resumes where the last
	 * stopped): every entry once, rows numbered in order, every request
	 * entry under its listener.
	 */
	for (i = 0; i < (int)ARRAY_SIZE(chunks); i++) {
		t0 = now_us();
		buf = slurp(path, chunks[i], &nread);
		us = now_us() - t0;
		ASSERT_NE(NULL, buf);
		TH_LOG("read() of %zu: %zu bytes in %zu reads, %lld us",
		       chunks[i], strlen(buf), nread, us);
		count_rows(buf, true, &c);
		free(buf);
		EXPECT_EQ(0, c.bad);
		EXPECT_EQ(0, c.dups);
		EXPECT_EQ(0, c.sl_wrong);
		EXPECT_EQ(0, c.req_orphans);
		EXPECT_EQ(ntw, c.tw);
		EXPECT_EQ(2, c.listen);
		EXPECT_EQ(SOCKETS_SYNRCVD, c.syn_sent);
		EXPECT_EQ(SOCKETS_SYNRCVD, c.syn_recv);
		EXPECT_EQ(ntw + 2 + 2 * SOCKETS_SYNRCVD, c.rows);
	}

	/* (b) The first 4 KiB against the whole file, best of five each. */
	for (r = 0; r < 5; r++) {
		ns = read_ns(path, 4096);
		ASSERT_LT(0, ns);
		if (first < 0 || ns < first)
			first = ns;
		ns = read_ns(path, 0);
		ASSERT_LT(0, ns);
		if (whole < 0 || ns < whole)
			whole = ns;
	}
	TH_LOG("%ld rows: first 4 KiB in %lld ns, the whole file in %lld ns (x%.1f)",
	       c.rows, first, whole, (double)whole / first);
	t0 = now_us();
	ASSERT_EQ(0, xtcp_sh("cat %s > /dev/null", path));
	TH_LOG("cat of the file (and its shell): %lld us", now_us() - t0);
	EXPECT_LT(first * 5, whole);

	/*
	 * (c) The kernel's memory while the file is open after a read: a
	 * buffer of a few pages, not one of the whole table's rows
	 * (about 150 bytes each).
	 */
	{
		char small[4096];
		int fd;

		kb0 = kernel_kb();
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_LT(0, read(fd, small, sizeof(small)));
		kb1 = kernel_kb();
		close(fd);
		TH_LOG("Slab + VmallocUsed: %ld kB before open, %ld kB after the first read (+%ld kB; the table's rows: %ld kB)",
		       kb0, kb1, kb1 - kb0, c.rows * 150 / 1024);
		ASSERT_LT(0, kb0);
		EXPECT_LT(kb1 - kb0, 512);
	}

	/* (d) Reading in small pieces while the tables churn. */
	ASSERT_EQ(0, pthread_create(&th, NULL, sockets_churn, &ch));
	t0 = xtcp_now_ms();
	while (xtcp_now_ms() - t0 < SOCKETS_CHURN_MS) {
		buf = slurp(path, reads & 1 ? 1000 : 4096, &nread);
		ASSERT_NE(NULL, buf);
		count_rows(buf, false, &c);
		free(buf);
		bad += c.bad;
		repeated += c.dups;
		calls += nread;
		reads++;
	}
	atomic_store(&ch.stop, 1);
	pthread_join(th, NULL);
	TH_LOG("churn: %d whole-file reads (%d read() calls), %d connections, %d listeners; bad rows %ld, repeated 4-tuples %ld",
	       reads, calls, ch.conns, ch.listens, bad, repeated);
	EXPECT_EQ(0, ch.err) TH_LOG("churn: %s failed", ch.what);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, reads);
	EXPECT_LT(0, ch.conns);

	for (i = 0; i < SOCKETS_SYNRCVD; i++)
		close(syn[i]);
	close(lsr);
	close(ltw);
}

TEST_HARNESS_MAIN
