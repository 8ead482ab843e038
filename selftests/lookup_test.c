// SPDX-License-Identifier: GPL-2.0
/*
 * Lookups and locking (issue 11, items 10-13), each case run at xtcp and,
 * where the behaviour is comparable, at Linux TCP in the same case:
 *
 *  - listen_race: two SO_REUSEADDR sockets bound to one port race
 *    listen(), LISTEN_RACE_PAIRS times, the two calls released together
 *    on two CPUs. Never may both succeed (TCP: never both either).
 *  - child_fail: the child of a completed handshake fails to be created
 *    (the "child" fault rule); the failure is counted, every state gauge
 *    is back where it was, the module's reference count returns and the
 *    client is answered as TCP answers a lost child.
 *
 * Every case runs in a namespace of its own, over loopback.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <stdatomic.h>
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

TEST_HARNESS_MAIN
