// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer autotuning, against Linux TCP as the control in the same test:
 * the per-namespace rmem/wmem sysctls (min default max, checked on write)
 * give new sockets their buffers as tcp_rmem/tcp_wmem do; a bulk transfer
 * grows the receiver's buffer (and the window it advertises beyond what
 * the initial buffer allowed) and the sender's, up to the maxima;
 * SO_RCVBUF/SO_SNDBUF fix them; the window scale is chosen from the
 * maximum; TCP_INFO's busy/rwnd-limited/sndbuf-limited clocks say what
 * held a sender.
 */
#include <pthread.h>
#include <linux/tcp.h>

#ifndef SOL_TCP
#define SOL_TCP IPPROTO_TCP
#endif

#include "kselftest_harness.h"
#include "xtcp_lib.h"

static const int families[] = { 0, AF_INET };
#define FOR_EACH_FAMILY(f) \
	for (int __i = 0; __i < 2 && ((f) = families[__i], 1); __i++)
#define NAME(f) ((f) ? "tcp" : "xtcp")

/* A sysctl file of @side, as text: write @val (0 or errno), or read it. */
static int sysctl_write(const struct xtcp_topo *t, int side, const char *path,
			const char *val)
{
	int fd, err = 0;

	if (xtcp_topo_enter(t, side))
		return errno;
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	xtcp_topo_leave(t);
	return err;
}

static int sysctl_read3(const struct xtcp_topo *t, int side, const char *path,
			int v[3])
{
	int n = -1;
	FILE *f;

	if (xtcp_topo_enter(t, side))
		return -1;
	f = fopen(path, "r");
	if (f) {
		n = fscanf(f, "%d %d %d", &v[0], &v[1], &v[2]);
		fclose(f);
	}
	xtcp_topo_leave(t);
	return n == 3 ? 0 : -1;
}

#define XRMEM "/proc/sys/net/xtcp/rmem"
#define XWMEM "/proc/sys/net/xtcp/wmem"
#define TRMEM "/proc/sys/net/ipv4/tcp_rmem"
#define TWMEM "/proc/sys/net/ipv4/tcp_wmem"

static const char *const rmem_path[2] = { XRMEM, TRMEM };
static const char *const wmem_path[2] = { XWMEM, TWMEM };

static int geti(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, opt, &v, &len))
		return -1;
	return v;
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len);
}

FIXTURE(tune)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(tune)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
}

FIXTURE_TEARDOWN(tune)
{
	xtcp_topo_teardown(&self->t);
}

/*
 * Three sizes in order, each at least 4096: anything else is refused with
 * EINVAL and changes nothing; a namespace's values are its own.
 */
TEST_F(tune, sysctls_checked_per_netns)
{
	static const char *const bad[] = {
		"8192 4096 16384",	/* min > default */
		"4096 65536 32768",	/* default > max */
		"100 200 300",		/* below the minimum */
		"4096 65536 x",
	};
	int before[3], v[3], other[3];
	size_t k;

	ASSERT_EQ(0, sysctl_read3(&self->t, CLI, XRMEM, before));
	EXPECT_LE(before[0], before[1]);
	EXPECT_LE(before[1], before[2]);
	ASSERT_EQ(0, sysctl_read3(&self->t, SRV, XWMEM, v));
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		EXPECT_EQ(EINVAL, sysctl_write(&self->t, CLI, XRMEM, bad[k]))
			TH_LOG("rmem \"%s\"", bad[k]);
		ASSERT_EQ(0, sysctl_read3(&self->t, CLI, XRMEM, v));
		EXPECT_EQ(0, memcmp(v, before, sizeof(v)))
			TH_LOG("rmem changed by \"%s\"", bad[k]);
	}
	ASSERT_EQ(0, sysctl_write(&self->t, CLI, XRMEM, "8192 100000 2000000"));
	ASSERT_EQ(0, sysctl_read3(&self->t, CLI, XRMEM, v));
	EXPECT_EQ(8192, v[0]);
	EXPECT_EQ(100000, v[1]);
	EXPECT_EQ(2000000, v[2]);
	ASSERT_EQ(0, sysctl_read3(&self->t, SRV, XRMEM, other));
	EXPECT_EQ(0, memcmp(other, before, sizeof(other)))
		TH_LOG("the server's namespace saw the client's write");
}

/* New sockets take the middle values, as TCP's take tcp_rmem/tcp_wmem's. */
TEST_F(tune, new_sockets_take_the_defaults)
{
	int f;

	FOR_EACH_FAMILY(f) {
		int fd;

		ASSERT_EQ(0, sysctl_write(&self->t, CLI, rmem_path[!!f],
					  "4096 98304 1048576"));
		ASSERT_EQ(0, sysctl_write(&self->t, CLI, wmem_path[!!f],
					  "4096 49152 1048576"));
		fd = xtcp_socket(&self->t, CLI, f);
		ASSERT_GE(fd, 0);
		EXPECT_EQ(98304, geti(fd, SOL_SOCKET, SO_RCVBUF))
			TH_LOG("%s", NAME(f));
		EXPECT_EQ(49152, geti(fd, SOL_SOCKET, SO_SNDBUF))
			TH_LOG("%s", NAME(f));
		close(fd);
	}
}

struct bulk {
	int initial_rcvbuf, initial_sndbuf;	/* at connect/accept */
	int rcvbuf, sndbuf;			/* after the transfer */
	unsigned int max_rcv_wnd;		/* xtcp: largest window advertised */
	unsigned int rcv_wscale, rcv_rtt;	/* xtcp: the receiver's */
	long long moved;
};

/*
 * Moves @bytes from the client to the server, both non-blocking in one
 * thread: the reader drains whatever is there whenever the writer cannot
 * write, so it always keeps up. @lock_rcv/@lock_snd: SO_RCVBUF on the
 * listener, SO_SNDBUF on the client, before the connection (0: none).
 */
static int bulk(const struct xtcp_topo *t, int f, long long bytes,
		int lock_rcv, int lock_snd, struct bulk *b)
{
	static char buf[65536];
	long long sent = 0, got = 0;
	int l, c, s, ret = -1;
	long long deadline = xtcp_now_ms() + 60000;

	memset(b, 0, sizeof(*b));
	l = xtcp_socket(t, SRV, f);
	c = xtcp_socket(t, CLI, f);
	if (l < 0 || c < 0)
		return -1;
	if (lock_rcv)
		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &lock_rcv, sizeof(int));
	if (lock_snd)
		setsockopt(c, SOL_SOCKET, SO_SNDBUF, &lock_snd, sizeof(int));
	{
		struct sockaddr_in a = xtcp_addr(t, SRV, f, SRV_PORT);
		int one = 1;

		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (void *)&a, sizeof(a)) || listen(l, 4) ||
		    connect(c, (void *)&a, sizeof(a)))
			goto out_l;
	}
	s = xtcp_accept_wait(l, 10000);
	if (s < 0)
		goto out_l;
	b->initial_rcvbuf = geti(s, SOL_SOCKET, SO_RCVBUF);
	b->initial_sndbuf = geti(c, SOL_SOCKET, SO_SNDBUF);
	xtcp_set_nonblock(c);
	xtcp_set_nonblock(s);
	while (got < bytes && xtcp_now_ms() < deadline) {
		ssize_t n;

		while (sent < bytes) {
			n = send(c, buf, (size_t)(bytes - sent < (long long)sizeof(buf) ?
					   bytes - sent : (long long)sizeof(buf)), 0);
			if (n <= 0)
				break;
			sent += n;
		}
		while ((n = recv(s, buf, sizeof(buf), 0)) > 0)
			got += n;
		if (!f) {
			struct xtcp_info xi;

			if (!xtcp_get_info(s, &xi) &&
			    xi.xtcpi_rcv_wnd > b->max_rcv_wnd)
				b->max_rcv_wnd = xi.xtcpi_rcv_wnd;
		}
		if (n == 0)
			break;
		{
			struct pollfd p[2] = { { c, POLLOUT, 0 }, { s, POLLIN, 0 } };

			poll(p, 2, 100);
		}
	}
	b->moved = got;
	b->rcvbuf = geti(s, SOL_SOCKET, SO_RCVBUF);
	b->sndbuf = geti(c, SOL_SOCKET, SO_SNDBUF);
	if (!f) {
		struct xtcp_info xi;

		if (!xtcp_get_info(s, &xi)) {
			b->rcv_wscale = xi.xtcpi_rcv_wscale;
			b->rcv_rtt = xi.xtcpi_rcv_rtt;
		}
	}
	ret = got == bytes ? 0 : -1;
	close(s);
out_l:
	close(l);
	close(c);
	return ret;
}

/*
 * A transfer whose reader keeps up grows both buffers on both protocols,
 * never beyond the sysctls' maxima; xtcp's window then goes beyond what
 * the initial receive buffer could have announced.
 */
TEST_F_TIMEOUT(tune, bulk_grows_both_buffers, 300)
{
	int f, rmem[3], wmem[3];

	FOR_EACH_FAMILY(f) {
		struct bulk b;

		ASSERT_EQ(0, sysctl_read3(&self->t, SRV, rmem_path[!!f], rmem));
		ASSERT_EQ(0, sysctl_read3(&self->t, CLI, wmem_path[!!f], wmem));
		ASSERT_EQ(0, bulk(&self->t, f, 24 << 20, 0, 0, &b))
			TH_LOG("%s: moved %lld of %d bytes", NAME(f), b.moved,
			       24 << 20);
		TH_LOG("%s: rcvbuf %d -> %d (max %d), sndbuf %d -> %d (max %d)",
		       NAME(f), b.initial_rcvbuf, b.rcvbuf, rmem[2],
		       b.initial_sndbuf, b.sndbuf, wmem[2]);
		EXPECT_GT(b.rcvbuf, b.initial_rcvbuf) TH_LOG("%s", NAME(f));
		EXPECT_GT(b.sndbuf, b.initial_sndbuf) TH_LOG("%s", NAME(f));
		EXPECT_LE(b.rcvbuf, rmem[2]) TH_LOG("%s", NAME(f));
		EXPECT_LE(b.sndbuf, wmem[2]) TH_LOG("%s", NAME(f));
		if (!f) {
			TH_LOG("xtcp: largest window %u, wscale %u, rcv_rtt %u us",
			       b.max_rcv_wnd, b.rcv_wscale, b.rcv_rtt);
			EXPECT_GT(b.max_rcv_wnd, (unsigned int)b.initial_rcvbuf / 2);
			EXPECT_GT(b.rcv_rtt, 0U);
		}
	}
}

/* SO_RCVBUF and SO_SNDBUF set before the connection fix the buffers. */
TEST_F_TIMEOUT(tune, setsockopt_locks_the_buffers, 300)
{
	int f;

	FOR_EACH_FAMILY(f) {
		struct bulk b;

		ASSERT_EQ(0, bulk(&self->t, f, 8 << 20, 65536, 65536, &b))
			TH_LOG("%s: moved %lld", NAME(f), b.moved);
		/* The core doubles the value asked for, on both. */
		EXPECT_EQ(131072, b.initial_rcvbuf) TH_LOG("%s", NAME(f));
		EXPECT_EQ(131072, b.initial_sndbuf) TH_LOG("%s", NAME(f));
		EXPECT_EQ(b.initial_rcvbuf, b.rcvbuf) TH_LOG("%s", NAME(f));
		EXPECT_EQ(b.initial_sndbuf, b.sndbuf) TH_LOG("%s", NAME(f));
	}
}

/*
 * The window scale lets the largest buffer autotuning may reach be
 * announced (half of it, the other half pays for the skbs): the smallest
 * shift with 65535 << shift >= rmem max / 2, for any maximum.
 */
TEST_F(tune, wscale_from_the_maximum)
{
	static const char *const sets[] = {
		"4096 131072 6291456", "4096 131072 33554432",
	};
	size_t k;

	/* rmem_max (the core's SO_RCVBUF limit) counts too, if larger. */
	long rmem_max = xtcp_read_long_file("/proc/sys/net/core/rmem_max", 0);

	ASSERT_GT(rmem_max, 0);
	for (k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		struct xtcp_info xi;
		unsigned int max, ws;
		int c, s, l;

		ASSERT_EQ(0, sysctl_write(&self->t, SRV, XRMEM, sets[k]));
		ASSERT_EQ(0, sysctl_write(&self->t, CLI, XRMEM, sets[k]));
		ASSERT_EQ(1, sscanf(strrchr(sets[k], ' ') + 1, "%u", &max));
		if ((long)max < rmem_max)
			max = rmem_max;
		ASSERT_EQ(0, xtcp_pair(&self->t, 0, &c, &s, &l));
		ASSERT_EQ(0, xtcp_get_info(s, &xi));
		ws = xi.xtcpi_rcv_wscale;
		EXPECT_GE(65535ULL << ws, max / 2) TH_LOG("max %u ws %u", max, ws);
		if (ws)
			EXPECT_LT(65535ULL << (ws - 1), max / 2)
				TH_LOG("max %u ws %u", max, ws);
		close(c);
		close(s);
		close(l);
	}
}

/*
 * A reader that stops reading: the writer is held by the window (rwnd
 * limited), and the busy time covers that.
 */
TEST_F(tune, info_rwnd_limited)
{
	static char buf[65536];
	int f;

	FOR_EACH_FAMILY(f) {
		struct tcp_info ti;
		long long end;
		int c, s, l;

		ASSERT_EQ(0, xtcp_pair(&self->t, f, &c, &s, &l));
		xtcp_set_nonblock(c);
		end = xtcp_now_ms() + 800;
		while (xtcp_now_ms() < end) {
			if (send(c, buf, sizeof(buf), 0) < 0)
				xtcp_sleep_ms(20);
		}
		ASSERT_EQ(0, tcp_info_of(c, &ti));
		TH_LOG("%s, reader asleep: busy %llu rwnd %llu sndbuf %llu us",
		       NAME(f), (unsigned long long)ti.tcpi_busy_time,
		       (unsigned long long)ti.tcpi_rwnd_limited,
		       (unsigned long long)ti.tcpi_sndbuf_limited);
		EXPECT_GT(ti.tcpi_rwnd_limited, 400000ULL) TH_LOG("%s", NAME(f));
		EXPECT_GE(ti.tcpi_busy_time, ti.tcpi_rwnd_limited);
		close(c);
		close(s);
		close(l);
	}
}

/*
 * A send buffer smaller than the congestion window on a 20 ms path, no
 * Nagle, a reader that keeps up: all that is queued is in flight, the
 * congestion window has room, the writer waits for buffer: xtcp is
 * sndbuf limited for much of the time (TCP's figure is logged).
 */
TEST_F(tune, info_sndbuf_limited)
{
	static char buf[65536];
	int f;

	ASSERT_EQ(0, xtcp_topo_netem(&self->t, "delay 20ms"));
	FOR_EACH_FAMILY(f) {
		int c, s, l, small = 4096, one = 1;
		struct tcp_info ti;
		long long end;

		c = xtcp_socket(&self->t, CLI, f);
		ASSERT_GE(c, 0);
		ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small,
					sizeof(small)));
		ASSERT_EQ(0, setsockopt(c, SOL_TCP, TCP_NODELAY, &one,
					sizeof(one)));
		l = xtcp_listen(&self->t, f, SRV_PORT + 1 + !!f, 4, true, NULL);
		ASSERT_GE(l, 0);
		{
			struct sockaddr_in a = xtcp_addr(&self->t, SRV, f,
							 SRV_PORT + 1 + !!f);

			ASSERT_EQ(0, connect(c, (void *)&a, sizeof(a)));
		}
		s = xtcp_accept_wait(l, 10000);
		ASSERT_GE(s, 0);
		xtcp_set_nonblock(c);
		xtcp_set_nonblock(s);
		end = xtcp_now_ms() + 1500;
		while (xtcp_now_ms() < end) {
			struct pollfd p[2] = { { c, POLLOUT, 0 }, { s, POLLIN, 0 } };

			while (send(c, buf, 1024, 0) > 0)
				;
			poll(p, 2, 10);
			while (recv(s, buf, sizeof(buf), 0) > 0)
				;
		}
		ASSERT_EQ(0, tcp_info_of(c, &ti));
		TH_LOG("%s, small sndbuf: busy %llu rwnd %llu sndbuf %llu us",
		       NAME(f), (unsigned long long)ti.tcpi_busy_time,
		       (unsigned long long)ti.tcpi_rwnd_limited,
		       (unsigned long long)ti.tcpi_sndbuf_limited);
		EXPECT_GE(ti.tcpi_busy_time, ti.tcpi_sndbuf_limited);
		/*
		 * TCP is the reference here, not the control: in slow start
		 * it calls itself congestion limited until cwnd is twice the
		 * largest flight, so its clock may stay at 0 on this path.
		 */
		if (!f)
			EXPECT_GT(ti.tcpi_sndbuf_limited, ti.tcpi_busy_time / 4);
		close(c);
		close(s);
		close(l);
	}
}

TEST_HARNESS_MAIN
