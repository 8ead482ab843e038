// SPDX-License-Identifier: GPL-2.0
/*
 * Socket-call fuzzer: several threads issue random sequences of socket,
 * bind, listen, connect, accept, send, recv, shutdown, setsockopt,
 * getsockopt, poll, getsockname/getpeername and close, with random sizes,
 * lengths, families, levels, option names and values, on one shared table
 * of xtcp sockets (so calls race on the same socket).  Nothing may crash
 * or report; afterwards every socket closes and every state drains to
 * zero, and the family still works.
 *
 * A slot's fd is only closed or replaced under the slot's write lock, so
 * a call never lands on a foreign file that reused the number; the calls
 * themselves share the read lock and run concurrently.  Every socket is
 * non-blocking, SO_LINGER times are kept to 0..1 s.
 *
 * XTCP_FUZZ_CALLS sets the number of calls (default 20000; debug lane:
 * 200000), XTCP_FUZZ_SEED the seed.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define SLOTS		12
#define THREADS		4
#define PORT0		7000
#define NPORTS		4

enum op { O_SOCKET, O_BIND, O_LISTEN, O_CONNECT, O_ACCEPT, O_SEND, O_RECV,
	  O_SHUTDOWN, O_SETSOCKOPT, O_GETSOCKOPT, O_POLL, O_NAME, O_CLOSE,
	  O_MAX };
static const char * const op_name[O_MAX] = {
	"socket", "bind", "listen", "connect", "accept", "send", "recv",
	"shutdown", "setsockopt", "getsockopt", "poll", "getname", "close",
};

static struct {
	pthread_rwlock_t lock;
	int fd;
} slot[SLOTS];

static int family;
static long calls_per_thread;
static uint64_t seed0;
static long op_count[O_MAX], op_ok[O_MAX];
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

#define R(n)	(rnd(&rs) % (n))

static int new_socket(uint64_t *s)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			rnd(s) % 8 ? 0 : rnd(s) % 300);
	struct sockaddr_in a = { .sin_family = family };
	int one = 1;

	if (fd < 0)
		return fd;
	if (rnd(s) % 2)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A third become listeners on our ports right away. */
	if (rnd(s) % 3 == 0) {
		a.sin_port = htons(PORT0 + rnd(s) % NPORTS);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (!bind(fd, (struct sockaddr *)&a, sizeof(a)))
			listen(fd, 1 + rnd(s) % 16);
	}
	return fd;
}

/* Replace slot @i's socket by @fd (may be -1); closes the old one. */
static void slot_put(int i, int fd)
{
	pthread_rwlock_wrlock(&slot[i].lock);
	if (slot[i].fd >= 0)
		close(slot[i].fd);
	slot[i].fd = fd;
	pthread_rwlock_unlock(&slot[i].lock);
}

static socklen_t addr_len(uint64_t *s)
{
	switch (rnd(s) % 6) {
	case 0: return rnd(s) % 32;
	case 1: return 2;
	default: return sizeof(struct sockaddr_in);
	}
}

static void fill_addr(uint64_t *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	static const int fams[] = { -1, -1, -1, AF_INET, AF_UNSPEC, AF_INET6,
				    AF_UNIX, 77 };

	memset(ss, 0, sizeof(*ss));
	a->sin_family = fams[rnd(s) % 8];
	if (a->sin_family == (sa_family_t)-1)
		a->sin_family = family;
	a->sin_port = htons(rnd(s) % 5 ? PORT0 + rnd(s) % NPORTS :
			    rnd(s) % 4 ? 0 : rnd(s));
	switch (rnd(s) % 6) {
	case 0: a->sin_addr.s_addr = htonl(INADDR_ANY); break;
	case 1: a->sin_addr.s_addr = rnd(s); break;
	case 2: a->sin_addr.s_addr = htonl(0xe0000001); break; /* multicast */
	case 3: a->sin_addr.s_addr = htonl(INADDR_BROADCAST); break;
	default: a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	if (rnd(s) % 16 == 0)
		for (size_t k = 0; k < sizeof(*ss); k++)
			((uint8_t *)ss)[k] = rnd(s);
}

/* Half the time a well-formed loopback address on one of our ports. */
static void pick_addr(uint64_t *s, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	if (rnd(s) % 2) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		memset(ss, 0, sizeof(*ss));
		a->sin_family = family;
		a->sin_port = htons(PORT0 + rnd(s) % NPORTS);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		fill_addr(s, ss);
		*len = addr_len(s);
	}
}

static int do_op(uint64_t *sp, int op, int fd)
{
	uint64_t rs = *sp;
	struct sockaddr_storage ss;
	static __thread char buf[131072];
	socklen_t len;
	int v, ret = -1, nfd;
	static const int levels[] = { SOL_SOCKET, SOL_XTCP, IPPROTO_IP,
				      IPPROTO_TCP, 0, 12345 };

	switch (op) {
	case O_BIND:
		pick_addr(&rs, &ss, &len);
		ret = bind(fd, (struct sockaddr *)&ss, len);
		break;
	case O_LISTEN:
		ret = listen(fd, R(4) ? (int)R(64) : (int)rnd(&rs));
		break;
	case O_CONNECT:
		pick_addr(&rs, &ss, &len);
		ret = connect(fd, (struct sockaddr *)&ss, len);
		if (ret && errno == EINPROGRESS)
			ret = 0;
		break;
	case O_ACCEPT:
		len = R(2) ? sizeof(ss) : R(20);
		nfd = accept4(fd, R(4) ? (struct sockaddr *)&ss : NULL,
			      R(4) ? &len : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		ret = nfd < 0 ? -1 : 0;
		*sp = rs;
		return nfd < 0 ? -1 : nfd + 1000000;	/* the caller stores it */
	case O_SEND:
		v = R(8) ? (int)R(2048) : (int)R(sizeof(buf));
		ret = send(fd, buf, v, MSG_DONTWAIT | MSG_NOSIGNAL |
			   (R(8) ? 0 : (int)(rnd(&rs) & (MSG_OOB | MSG_MORE |
							 MSG_EOR))));
		break;
	case O_RECV:
		v = R(8) ? (int)R(4096) : (int)R(sizeof(buf));
		ret = recv(fd, buf, v, MSG_DONTWAIT |
			   (R(4) ? 0 : (int)(rnd(&rs) & (MSG_PEEK | MSG_OOB |
							 MSG_TRUNC |
							 MSG_WAITALL))));
		break;
	case O_SHUTDOWN:
		ret = shutdown(fd, R(5) - 1);
		break;
	case O_SETSOCKOPT: {
		int level = levels[R(6)], name = R(4) ? (int)R(80) : (int)rnd(&rs);

		for (v = 0; v < 64; v += 4)
			*(uint32_t *)(buf + v) = R(3) ? R(4) : rnd(&rs);
		if (level == SOL_SOCKET && name == SO_LINGER) {
			struct linger *l = (struct linger *)buf;

			l->l_linger = R(2);
		}
		/* Never block forever: no timeouts on a non-blocking socket
		 * matter, but SO_LINGER above is bounded. */
		len = R(4) ? sizeof(int) : R(64);
		ret = setsockopt(fd, level, name, R(32) ? buf : NULL, len);
		break;
	}
	case O_GETSOCKOPT: {
		int level = levels[R(6)], name = R(4) ? (int)R(80) : (int)rnd(&rs);

		len = R(3) ? sizeof(int) : R(256);
		ret = getsockopt(fd, level, name, buf, R(32) ? &len : NULL);
		break;
	}
	case O_POLL: {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT |
				    POLLPRI | POLLRDHUP };

		ret = poll(&p, 1, 0);
		break;
	}
	case O_NAME:
		len = R(3) ? sizeof(ss) : R(20);
		ret = R(2) ? getsockname(fd, (struct sockaddr *)&ss, &len) :
			     getpeername(fd, (struct sockaddr *)&ss, &len);
		break;
	}
	*sp = rs;
	return ret;
}

/*
 * Weighted: sockets must live long enough to get bound, listen, connect
 * and carry data, so socket and close are rarer than the rest.
 */
static int pick_op(uint64_t *s)
{
	static const int weight[O_MAX] = {
		[O_SOCKET] = 3, [O_BIND] = 8, [O_LISTEN] = 8,
		[O_CONNECT] = 8, [O_ACCEPT] = 10, [O_SEND] = 10,
		[O_RECV] = 10, [O_SHUTDOWN] = 2, [O_SETSOCKOPT] = 8,
		[O_GETSOCKOPT] = 8, [O_POLL] = 4, [O_NAME] = 4, [O_CLOSE] = 2,
	};
	int r = rnd(s) % 85, op;

	for (op = 0; op < O_MAX - 1 && r >= weight[op]; op++)
		r -= weight[op];
	return op;
}

static void *fuzz_thread(void *arg)
{
	uint64_t rs = seed0 + (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
	long n, cnt[O_MAX] = { 0 }, ok[O_MAX] = { 0 };

	rs |= 1;
	for (n = 0; n < calls_per_thread; n++) {
		int op = pick_op(&rs), i = R(SLOTS), ret;

		cnt[op]++;
		if (op == O_SOCKET) {
			ret = new_socket(&rs);
			if (ret >= 0)
				ok[op]++;
			slot_put(i, ret);
			continue;
		}
		if (op == O_CLOSE) {
			slot_put(i, -1);
			ok[op]++;
			continue;
		}
		pthread_rwlock_rdlock(&slot[i].lock);
		if (slot[i].fd < 0) {
			pthread_rwlock_unlock(&slot[i].lock);
			continue;
		}
		ret = do_op(&rs, op, slot[i].fd);
		pthread_rwlock_unlock(&slot[i].lock);
		if (ret >= 0)
			ok[op]++;
		if (ret >= 1000000)	/* accepted: into a random slot */
			slot_put(R(SLOTS), ret - 1000000);
		if (n % 64 == 0)
			sched_yield();
	}
	pthread_mutex_lock(&count_lock);
	for (n = 0; n < O_MAX; n++) {
		op_count[n] += cnt[n];
		op_ok[n] += ok[n];
	}
	pthread_mutex_unlock(&count_lock);
	return NULL;
}

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static bool all_drained(void)
{
	static const char * const st[] = {
		"ESTABLISHED", "SYN_SENT", "SYN_RCVD", "FIN_WAIT_1",
		"FIN_WAIT_2", "TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK",
		"LISTEN", "CLOSING",
	};
	size_t i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		if (xtcp_state_count(NULL, BOTH, st[i], NULL) != 0)
			return false;
	return true;
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

TEST_F_TIMEOUT(lane, random_calls_on_shared_sockets, 3600)
{
	const char *e = getenv("XTCP_FUZZ_CALLS");
	long total = e && *e ? atol(e) : 20000, i, sum = 0, oks = 0;
	pthread_t th[THREADS];
	long long t0, ms;
	int fd;

	e = getenv("XTCP_FUZZ_SEED");
	seed0 = e && *e ? strtoull(e, NULL, 0) : (uint64_t)xtcp_now_ms() * 2654435761u;
	family = xtcp_family();
	ASSERT_GT(family, 0);
	/* A namespace of our own, with short timers so that all drains. */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, system("ip link set lo up"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/rto_init_ms", "50"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/rto_min_ms", "20"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/rto_max_ms", "100"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/syn_retries", "1"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/synack_retries", "1"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/fin_timeout_ms", "100"));
	ASSERT_EQ(0, write_file("/proc/sys/net/xtcp/msl_ms", "50"));
	TH_LOG("seed %llu (XTCP_FUZZ_SEED), %ld calls from %d threads on %d shared slots",
	       (unsigned long long)seed0, total, THREADS, SLOTS);

	for (i = 0; i < SLOTS; i++) {
		pthread_rwlock_init(&slot[i].lock, NULL);
		slot[i].fd = -1;
	}
	calls_per_thread = total / THREADS;
	t0 = xtcp_now_ms();
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fuzz_thread,
					    (void *)(uintptr_t)i));
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	ms = xtcp_now_ms() - t0;
	for (i = 0; i < O_MAX; i++) {
		TH_LOG("  %-10s %7ld calls, %7ld succeeded", op_name[i],
		       op_count[i], op_ok[i]);
		sum += op_count[i];
		oks += op_ok[i];
	}
	TH_LOG("%ld calls (%ld succeeded) in %lld ms", sum, oks, ms);
	EXPECT_EQ(calls_per_thread * THREADS, sum);

	for (i = 0; i < SLOTS; i++)
		slot_put(i, -1);
	EXPECT_TRUE(XTCP_WAIT_FOR(30000, all_drained()))
		TH_LOG("states did not drain: ESTABLISHED %ld FIN_WAIT_1 %ld FIN_WAIT_2 %ld TIME_WAIT %ld CLOSED %ld LAST_ACK %ld CLOSING %ld SYN_RCVD %ld",
		       xtcp_state_count(NULL, BOTH, "ESTABLISHED", NULL),
		       xtcp_state_count(NULL, BOTH, "FIN_WAIT_1", NULL),
		       xtcp_state_count(NULL, BOTH, "FIN_WAIT_2", NULL),
		       xtcp_state_count(NULL, BOTH, "TIME_WAIT", NULL),
		       xtcp_state_count(NULL, BOTH, "CLOSED", NULL),
		       xtcp_state_count(NULL, BOTH, "LAST_ACK", NULL),
		       xtcp_state_count(NULL, BOTH, "CLOSING", NULL),
		       xtcp_state_count(NULL, BOTH, "SYN_RCVD", NULL));

	/* The family still works in this namespace. */
	{
		int c, s, l;

		ASSERT_EQ(0, xtcp_pair(NULL, family, &c, &s, &l));
		EXPECT_EQ(3, write(c, "abc", 3));
		fd = s;
		EXPECT_TRUE(XTCP_WAIT_FOR(2000, recv(fd, (char[8]){ 0 }, 8,
						     MSG_DONTWAIT) == 3));
		close(c);
		close(s);
		close(l);
	}
}

TEST_HARNESS_MAIN
