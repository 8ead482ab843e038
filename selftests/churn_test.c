// SPDX-License-Identifier: GPL-2.0
/*
 * Churn: XTCP_CHURN_CYCLES (default 1000; the debug lane: 10000)
 * connect / transfer 1 KiB each way / close cycles over loopback in a
 * namespace of our own, TIME_WAIT kept short.  Afterwards everything must
 * be back where it started: every state's population in
 * /proc/net/xtcp/states, the module's reference count (one per socket),
 * and the objects in use in xtcp's slab caches (XTCP sockets and
 * xtcp_tw_bucket; the test VM boots with slab_nomerge so they are xtcp's
 * alone; each cache is shrunk before it is read, which flushes per-CPU
 * slabs and makes the count exact).
 */
#include <sched.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

static int write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(s, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Objects in use in slab cache @name, -1 if it cannot be told. */
static long slab_objects(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", name);
	write_str(path, "1");
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/objects", name);
	return xtcp_read_long_file(path, -1);
}

static const char * const states[] = {
	"ESTABLISHED", "SYN_SENT", "SYN_RCVD", "FIN_WAIT_1", "FIN_WAIT_2",
	"TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};
#define NSTATES	(sizeof(states) / sizeof(states[0]))

struct snap {
	long st[NSTATES];
	long refcnt, sk_objs, tw_objs;
};

static void snapshot(struct snap *s)
{
	size_t i;

	for (i = 0; i < NSTATES; i++)
		s->st[i] = xtcp_state_count(NULL, BOTH, states[i], NULL);
	s->refcnt = xtcp_read_long_file("/sys/module/xtcp/refcnt", -1);
	s->sk_objs = slab_objects("XTCP");
	s->tw_objs = slab_objects("xtcp_tw_bucket");
}

static bool same(const struct snap *a, const struct snap *b)
{
	return !memcmp(a->st, b->st, sizeof(a->st)) &&
	       a->refcnt == b->refcnt && a->sk_objs == b->sk_objs &&
	       a->tw_objs == b->tw_objs;
}

/* A fixture only for TEST_F_TIMEOUT (plain TEST() has 30 s). */
FIXTURE(lane)
{
	int unused;
};

FIXTURE_SETUP(lane)
{
}

FIXTURE_TEARDOWN(lane)
{
}

TEST_F_TIMEOUT(lane, connect_transfer_close_cycles, 3600)
{
	const char *e = getenv("XTCP_CHURN_CYCLES");
	long cycles = e && *e ? atol(e) : 1000, n, bytes = 0;
	int family = xtcp_family(), lfd, c, s;
	unsigned short port;
	struct snap before, after, peak = { 0 };
	char out[1024], in[1024];
	long long t0, ms;
	size_t i;

	ASSERT_GT(family, 0);
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo up"));
	ASSERT_EQ(0, write_str("/proc/sys/net/xtcp/msl_ms", "20"));
	ASSERT_EQ(0, write_str("/proc/sys/net/xtcp/fin_timeout_ms", "200"));

	snapshot(&before);
	TH_LOG("baseline: refcnt %ld, XTCP objects %ld, xtcp_tw_bucket objects %ld",
	       before.refcnt, before.sk_objs, before.tw_objs);
	if (before.sk_objs < 0 || before.tw_objs < 0)
		TH_LOG("slab caches not readable (merged, or no SLUB_DEBUG): not compared");

	lfd = xtcp_listen(NULL, family, 0, 128, true, &port);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < sizeof(out); i++)
		out[i] = i * 7;
	t0 = xtcp_now_ms();
	for (n = 0; n < cycles; n++) {
		c = xtcp_connect(NULL, family, port, false);
		ASSERT_GE(c, 0) TH_LOG("cycle %ld: connect: %s", n,
				       strerror(errno));
		s = accept(lfd, NULL, NULL);
		ASSERT_GE(s, 0);
		ASSERT_EQ((ssize_t)sizeof(out), write(c, out, sizeof(out)));
		ASSERT_EQ((ssize_t)sizeof(in), recv(s, in, sizeof(in), MSG_WAITALL));
		ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
		ASSERT_EQ((ssize_t)sizeof(in), write(s, in, sizeof(in)));
		ASSERT_EQ((ssize_t)sizeof(out), recv(c, out, sizeof(out), MSG_WAITALL));
		bytes += 2 * sizeof(out);
		/* Alternate who closes first: TIME_WAIT on either side. */
		if (n & 1) {
			close(s);
			close(c);
		} else {
			close(c);
			close(s);
		}
		if (n == cycles / 2)
			snapshot(&peak);
	}
	ms = xtcp_now_ms() - t0;
	close(lfd);
	TH_LOG("%ld cycles, %ld bytes in %lld ms (%lld cycles/s); half-way: TIME_WAIT %ld, XTCP objects %ld, tw buckets %ld",
	       cycles, bytes, ms, ms ? cycles * 1000 / ms : 0, peak.st[5],
	       peak.sk_objs, peak.tw_objs);

	EXPECT_TRUE(XTCP_WAIT_FOR(20000,
			(snapshot(&after), same(&before, &after))));
	for (i = 0; i < NSTATES; i++)
		if (after.st[i] != before.st[i])
			TH_LOG("%s: %ld, was %ld", states[i], after.st[i],
			       before.st[i]);
	TH_LOG("after: refcnt %ld (was %ld), XTCP objects %ld (was %ld), tw buckets %ld (was %ld)",
	       after.refcnt, before.refcnt, after.sk_objs, before.sk_objs,
	       after.tw_objs, before.tw_objs);
}

TEST_HARNESS_MAIN
