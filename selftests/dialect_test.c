// SPDX-License-Identifier: GPL-2.0
/*
 * TCP's socket-option dialect on xtcp sockets: every test runs the same
 * steps on an xtcp connection and on a Linux TCP connection (the control)
 * between two namespaces over veth, and asserts the same outcome on both:
 * level IPPROTO_TCP with TCP's option numbers, values and errnos;
 * TCP_MAXSEG capping the MSS; TCP_CORK and MSG_MORE holding partial
 * segments until uncorked, flushed or closed; TCP_NOTSENT_LOWAT and
 * SO_RCVLOWAT deciding poll(); TCP_USER_TIMEOUT ending a connection whose
 * peer vanished long before the retries would; TCP_INFO in struct
 * tcp_info's layout agreeing with XTCP_INFO and with the bytes moved;
 * TCP_DEFER_ACCEPT holding accept() until data (or the deferral's end); and
 * xtcp's own XTCP_REPORT_INET.
 */
#include <linux/tcp.h>

#ifndef SOL_TCP
#define SOL_TCP IPPROTO_TCP
#endif
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

/* Both protocols, xtcp first: 0 is xtcp's family in the library. */
static const int families[] = { 0, AF_INET };
#define FOR_EACH_FAMILY(f) \
	for (int __i = 0; __i < 2 && ((f) = families[__i], 1); __i++)
#define NAME(f) ((f) ? "tcp" : "xtcp")

FIXTURE(dialect)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(dialect)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
}

FIXTURE_TEARDOWN(dialect)
{
	xtcp_topo_teardown(&self->t);
}

static int geti(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -12345;

	if (getsockopt(fd, level, opt, &v, &len) || len != sizeof(int))
		return -12345;
	return v;
}

static int seti(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) ? errno : 0;
}

/* The protocol number a socket of family @f is created with. */
TEST_F(dialect, socket_ipproto_tcp)
{
	int fd = socket(self->t.family, SOCK_STREAM, IPPROTO_TCP);

	ASSERT_GE(fd, 0) TH_LOG("socket(xtcp, STREAM, IPPROTO_TCP): %s",
				strerror(errno));
	/* It is an xtcp socket all the same. */
	EXPECT_EQ(self->t.ipproto, geti(fd, SOL_SOCKET, SO_PROTOCOL));
	close(fd);
}

/* Defaults, accepted values, refused values: the same on both. */
TEST_F(dialect, options_like_tcp)
{
	static const struct {
		int opt, val, err;
	} sets[] = {
		{ TCP_NODELAY, 1, 0 },
		{ TCP_MAXSEG, 1000, 0 },
		{ TCP_MAXSEG, 10, EINVAL },
		{ TCP_MAXSEG, 40000, EINVAL },
		{ TCP_CORK, 1, 0 },
		{ TCP_KEEPIDLE, 30, 0 },
		{ TCP_KEEPIDLE, 0, EINVAL },
		{ TCP_KEEPINTVL, 40000, EINVAL },
		{ TCP_KEEPCNT, 0, EINVAL },
		{ TCP_KEEPCNT, 5, 0 },
		{ TCP_SYNCNT, 200, EINVAL },
		{ TCP_SYNCNT, 3, 0 },
		{ TCP_QUICKACK, 0, 0 },
		{ TCP_USER_TIMEOUT, -1, EINVAL },
		{ TCP_USER_TIMEOUT, 2500, 0 },
		{ TCP_NOTSENT_LOWAT, 4096, 0 },
		{ 12345, 1, ENOPROTOOPT },
	};
	static const int defaults[] = { TCP_NODELAY, TCP_CORK, TCP_QUICKACK,
					TCP_USER_TIMEOUT, TCP_NOTSENT_LOWAT,
					TCP_MAXSEG };
	int fd[2], f, i;
	size_t k;

	FOR_EACH_FAMILY(f) {
		fd[!!f] = xtcp_socket(&self->t, CLI, f);
		ASSERT_GE(fd[!!f], 0);
	}
	/* Fresh sockets: TCP_QUICKACK reads 1, TCP_MAXSEG 536, others 0. */
	for (k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++) {
		int x = geti(fd[0], SOL_TCP, defaults[k]);

		EXPECT_EQ(geti(fd[1], SOL_TCP, defaults[k]), x)
			TH_LOG("default of option %d", defaults[k]);
		EXPECT_NE(-12345, x);
	}
	for (k = 0; k < sizeof(sets) / sizeof(sets[0]); k++) {
		int e[2];

		for (i = 0; i < 2; i++)
			e[i] = seti(fd[i], SOL_TCP, sets[k].opt, sets[k].val);
		EXPECT_EQ(sets[k].err, e[1])
			TH_LOG("tcp: option %d = %d", sets[k].opt, sets[k].val);
		EXPECT_EQ(e[1], e[0])
			TH_LOG("xtcp: option %d = %d: %s, tcp: %s", sets[k].opt,
			       sets[k].val, strerror(e[0]), strerror(e[1]));
		if (sets[k].err)
			continue;
		EXPECT_EQ(geti(fd[1], SOL_TCP, sets[k].opt),
			  geti(fd[0], SOL_TCP, sets[k].opt))
			TH_LOG("option %d read back", sets[k].opt);
	}
	/* The same options at SOL_XTCP are the same settings. */
	EXPECT_EQ(2500, geti(fd[0], SOL_XTCP, XTCP_USER_TIMEOUT));
	EXPECT_EQ(0, seti(fd[0], SOL_XTCP, XTCP_USER_TIMEOUT, 700));
	EXPECT_EQ(700, geti(fd[0], SOL_TCP, TCP_USER_TIMEOUT));
	/* xtcp's own options exist only at SOL_XTCP. */
	EXPECT_EQ(ENOPROTOOPT, seti(fd[0], SOL_TCP, XTCP_REPORT_INET, 1));
	/* A short option buffer: EINVAL on both. */
	for (i = 0; i < 2; i++) {
		char c = 1;

		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd[i], SOL_TCP, TCP_NODELAY, &c, 1));
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", NAME(i));
	}
	close(fd[0]);
	close(fd[1]);
}

TEST_F(dialect, congestion_names)
{
	char name[16];
	socklen_t len;
	int fd[2], f, i;

	FOR_EACH_FAMILY(f)
		ASSERT_GE(fd[!!f] = xtcp_socket(&self->t, CLI, f), 0);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(ENOENT, seti(fd[i], SOL_TCP, TCP_CONGESTION, 0))
			TH_LOG("%s: a name of NULs", NAME(i));
		errno = 0;
		EXPECT_EQ(-1, setsockopt(fd[i], SOL_TCP, TCP_CONGESTION,
					 "no-such-cc", 10));
		EXPECT_EQ(ENOENT, errno) TH_LOG("%s", NAME(i));
		EXPECT_EQ(0, setsockopt(fd[i], SOL_TCP, TCP_CONGESTION,
					"reno", 4)) TH_LOG("%s", NAME(i));
		memset(name, 'x', sizeof(name));
		len = sizeof(name);
		ASSERT_EQ(0, getsockopt(fd[i], SOL_TCP, TCP_CONGESTION, name,
					&len));
		EXPECT_EQ(16, len);
		EXPECT_EQ(0, name[len - 1]);
		/* TCP's NewReno is "reno"; xtcp's answers to both names. */
		EXPECT_STREQ(i ? "reno" : "newreno", name);
	}
	EXPECT_EQ(0, setsockopt(fd[0], SOL_XTCP, XTCP_CONGESTION, "newreno",
				7));
	close(fd[0]);
	close(fd[1]);
}

/*
 * A connection of family @f whose listener and client had option @opt at
 * @level set to @val before the handshake.
 */
static int opt_pair(struct xtcp_topo *t, int f, int level, int opt, int val,
		    int *c, int *s)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, f, 0);
	socklen_t len = sizeof(a);
	int l = xtcp_socket(t, SRV, f);

	if (l < 0 || seti(l, level, opt, val) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	*c = xtcp_socket(t, CLI, f);
	a = xtcp_addr(t, SRV, f, ntohs(a.sin_port));
	if (*c < 0 || seti(*c, level, opt, val) ||
	    connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = xtcp_accept_wait(l, 10000);
	close(l);
	return *s < 0 ? -1 : 0;
}

TEST_F(dialect, maxseg_caps_the_mss)
{
	int f, c, s, got[2][2] = { { 0 } };

	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, opt_pair(&self->t, f, SOL_TCP, TCP_MAXSEG, 1000,
				      &c, &s))
			TH_LOG("%s", NAME(f));
		/* Both subtract their timestamp option (on by default). */
		got[!!f][0] = geti(c, SOL_TCP, TCP_MAXSEG);
		got[!!f][1] = geti(s, SOL_TCP, TCP_MAXSEG);
		EXPECT_LE(got[!!f][0], 1000);
		EXPECT_GE(got[!!f][0], 900);
		EXPECT_LE(got[!!f][1], 1000);
		EXPECT_GE(got[!!f][1], 900);
		if (!f) {
			struct xtcp_info xi;

			ASSERT_EQ(0, xtcp_get_info(c, &xi));
			EXPECT_EQ(got[0][0], xi.xtcpi_mss);
		}
		close(c);
		close(s);
	}
	/* The same segment size as Linux TCP's with the same settings. */
	TH_LOG("TCP_MAXSEG client/server: xtcp %d/%d, TCP %d/%d", got[0][0],
	       got[0][1], got[1][0], got[1][1]);
	EXPECT_EQ(got[1][0], got[0][0]);
	EXPECT_EQ(got[1][1], got[0][1]);
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) ? -1 : (int)len;
}

static int sent_segs(int fd)
{
	struct tcp_info ti;

	return tcp_info_of(fd, &ti) < 0 ? -1 : (int)ti.tcpi_data_segs_out;
}

static int inq(int fd)
{
	int n = -1;

	ioctl(fd, SIOCINQ, &n);
	return n;
}

TEST_F(dialect, cork_and_msg_more)
{
	char buf[600], got[600];
	int f, c, s, l, i;

	memset(buf, 'c', sizeof(buf));
	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, xtcp_pair(&self->t, f, &c, &s, &l)) TH_LOG("%s", NAME(f));
		close(l);
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_NODELAY, 1));

		/*
		 * Corked: small writes wait for a full segment (sending is
		 * synchronous in send(): had it gone, it would be counted).
		 */
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_CORK, 1));
		for (i = 0; i < 3; i++)
			ASSERT_EQ(100, send(c, buf, 100, 0));
		EXPECT_EQ(0, sent_segs(c)) TH_LOG("%s: corked data went out", NAME(f));
		EXPECT_EQ(0, inq(s));
		/* Uncorking sends what waits, in one segment. */
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_CORK, 0));
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, inq(s) == 300)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(1, sent_segs(c));
		ASSERT_EQ(300, recv(s, got, 300, 0));

		/* MSG_MORE holds a write; the next plain one takes it along. */
		ASSERT_EQ(200, send(c, buf, 200, MSG_MORE));
		EXPECT_EQ(1, sent_segs(c)) TH_LOG("%s: MSG_MORE data went out", NAME(f));
		EXPECT_EQ(0, inq(s));
		ASSERT_EQ(100, send(c, buf, 100, 0));
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, inq(s) == 300)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(2, sent_segs(c));
		ASSERT_EQ(300, recv(s, got, 300, 0));

		/*
		 * Corked data is not held for ever: with nothing in flight the
		 * probe timer sends it after an RTO (TCP's "200 ms ceiling").
		 */
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_CORK, 1));
		ASSERT_EQ(100, send(c, buf, 100, 0));
		EXPECT_EQ(2, sent_segs(c));
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, inq(s) == 100)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(3, sent_segs(c));
		ASSERT_EQ(100, recv(s, got, 100, 0));
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_CORK, 0));

		/* A corked tail is flushed by the FIN. */
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_CORK, 1));
		ASSERT_EQ(50, send(c, buf, 50, 0));
		ASSERT_EQ(0, shutdown(c, SHUT_WR));
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, inq(s) == 50)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(50, recv(s, got, sizeof(got), 0));
		EXPECT_EQ(0, recv(s, got, sizeof(got), 0));
		close(c);
		close(s);
	}
}

static short pollev(int fd, short ev, int ms)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

TEST_F(dialect, notsent_lowat_decides_pollout)
{
	static char buf[8192];
	int f, c, s;

	FOR_EACH_FAMILY(f) {
		/* The receiver takes little and does not read yet. */
		ASSERT_EQ(0, opt_pair(&self->t, f, SOL_SOCKET, SO_RCVBUF, 2048,
				      &c, &s)) TH_LOG("%s", NAME(f));
		ASSERT_EQ(0, seti(c, SOL_SOCKET, SO_SNDBUF, 100000));
		xtcp_set_nonblock(c);
		ASSERT_EQ(sizeof(buf), send(c, buf, sizeof(buf), 0));
		/* Plenty of send buffer left: writable. */
		EXPECT_TRUE(pollev(c, POLLOUT, 0) & POLLOUT) TH_LOG("%s", NAME(f));
		/* With a low mark, bytes waiting unsent make it unwritable. */
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_NOTSENT_LOWAT, 1000));
		EXPECT_TRUE(XTCP_WAIT_FOR(5000, !(pollev(c, POLLOUT, 0) & POLLOUT)))
			TH_LOG("%s: writable with %d bytes unsent", NAME(f),
			       (int)sizeof(buf));
		/* Reading everything sends the rest: the writer is woken. */
		xtcp_set_nonblock(s);
		{
			long long dl = xtcp_now_ms() + 20000;
			size_t got = 0;
			ssize_t n;

			while (got < sizeof(buf) && xtcp_now_ms() < dl) {
				n = recv(s, buf, sizeof(buf), 0);
				if (n > 0)
					got += n;
				else
					pollev(s, POLLIN, 100);
			}
			EXPECT_EQ(sizeof(buf), got) TH_LOG("%s", NAME(f));
		}
		EXPECT_TRUE(pollev(c, POLLOUT, 10000) & POLLOUT) TH_LOG("%s", NAME(f));
		close(c);
		close(s);
	}
}

TEST_F(dialect, rcvlowat_decides_pollin)
{
	char buf[100] = { 0 };
	int f, c, s, l;

	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, xtcp_pair(&self->t, f, &c, &s, &l)) TH_LOG("%s", NAME(f));
		close(l);
		ASSERT_EQ(0, seti(s, SOL_SOCKET, SO_RCVLOWAT, 100));
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_NODELAY, 1));
		ASSERT_EQ(50, send(c, buf, 50, 0));
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, inq(s) == 50)) TH_LOG("%s", NAME(f));
		EXPECT_FALSE(pollev(s, POLLIN, 200) & POLLIN)
			TH_LOG("%s: readable below SO_RCVLOWAT", NAME(f));
		ASSERT_EQ(50, send(c, buf, 50, 0));
		EXPECT_TRUE(pollev(s, POLLIN, 10000) & POLLIN) TH_LOG("%s", NAME(f));
		EXPECT_EQ(100, recv(s, buf, sizeof(buf), 0));
		close(c);
		close(s);
	}
}

TEST_F(dialect, user_timeout_ends_a_dead_path)
{
	char buf[1000] = { 0 };
	int f, c, s, l;

	FOR_EACH_FAMILY(f) {
		struct tcp_info ti;
		long long t0, took;

		ASSERT_EQ(0, xtcp_pair(&self->t, f, &c, &s, &l)) TH_LOG("%s", NAME(f));
		close(l);
		ASSERT_EQ(0, seti(c, SOL_TCP, TCP_USER_TIMEOUT, 2000));
		/* The server's side of the path disappears. */
		ASSERT_EQ(0, xtcp_sh("ip -n %s link set v1 down", self->t.name[SRV]));
		t0 = xtcp_now_ms();
		ASSERT_EQ(sizeof(buf), send(c, buf, sizeof(buf), 0));
		/* Fifteen retries would take minutes; 2 s of silence do it. */
		EXPECT_TRUE(XTCP_WAIT_FOR(60000, tcp_info_of(c, &ti) > 0 &&
					  ti.tcpi_state == XTCP_CLOSE))
			TH_LOG("%s: still alive", NAME(f));
		took = xtcp_now_ms() - t0;
		EXPECT_EQ(ETIMEDOUT, xtcp_so_error(c)) TH_LOG("%s", NAME(f));
		EXPECT_GE(took, 1900) TH_LOG("%s: gave up early", NAME(f));
		EXPECT_LT(ti.tcpi_total_retrans, 15) TH_LOG("%s", NAME(f));
		ASSERT_EQ(0, xtcp_sh("ip -n %s link set v1 up", self->t.name[SRV]));
		close(c);
		close(s);
	}
}

TEST_F(dialect, tcp_info_layout)
{
	static char buf[50000];
	struct tcp_info ci, si;
	struct xtcp_info xi;
	int f, c, s, l;
	size_t got = 0;
	ssize_t n;

	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, xtcp_pair(&self->t, f, &c, &s, &l)) TH_LOG("%s", NAME(f));
		close(l);
		ASSERT_EQ(sizeof(buf), send(c, buf, sizeof(buf), 0));
		for (got = 0; got < sizeof(buf); got += n) {
			n = recv(s, buf, sizeof(buf), 0);
			ASSERT_GT(n, 0);
		}
		EXPECT_TRUE(XTCP_WAIT_FOR(10000, tcp_info_of(c, &ci) > 0 &&
					  ci.tcpi_unacked == 0));
		ASSERT_GE(tcp_info_of(s, &si), (int)offsetof(struct tcp_info,
							     tcpi_snd_wnd));
		EXPECT_EQ(XTCP_ESTABLISHED, ci.tcpi_state) TH_LOG("%s", NAME(f));
		/* TCP counts the SYN in bytes_acked; xtcp counts payload only. */
		EXPECT_GE(ci.tcpi_bytes_acked, sizeof(buf)) TH_LOG("%s", NAME(f));
		EXPECT_LE(ci.tcpi_bytes_acked, sizeof(buf) + 1);
		EXPECT_EQ(sizeof(buf), si.tcpi_bytes_received) TH_LOG("%s", NAME(f));
		EXPECT_GE(ci.tcpi_bytes_sent, sizeof(buf));
		EXPECT_GE(ci.tcpi_data_segs_out, sizeof(buf) / 65536 + 1);
		EXPECT_EQ(ci.tcpi_data_segs_out, si.tcpi_data_segs_in)
			TH_LOG("%s", NAME(f));
		EXPECT_GT(ci.tcpi_segs_out, 0);
		EXPECT_GT(si.tcpi_segs_in, 0);
		EXPECT_GT(ci.tcpi_rtt, 0);
		/* The lowest sample: measured, and never above the average. */
		EXPECT_GT(ci.tcpi_min_rtt, 0) TH_LOG("%s", NAME(f));
		EXPECT_LE(ci.tcpi_min_rtt, ci.tcpi_rtt) TH_LOG("%s", NAME(f));
		EXPECT_GT(ci.tcpi_rto, 0);
		EXPECT_GT(ci.tcpi_snd_cwnd, 0);
		EXPECT_GT(ci.tcpi_snd_mss, 500);
		EXPECT_GT(ci.tcpi_pmtu, 1000) TH_LOG("%s", NAME(f));
		EXPECT_GT(ci.tcpi_snd_wnd, 0);
		if (!f) {
			/* The same connection through XTCP_INFO. */
			ASSERT_EQ(0, xtcp_get_info(c, &xi));
			EXPECT_EQ(xi.xtcpi_mss, ci.tcpi_snd_mss);
			EXPECT_EQ(xi.xtcpi_rto, ci.tcpi_rto);
			EXPECT_EQ(xi.xtcpi_snd_wnd, ci.tcpi_snd_wnd);
			EXPECT_EQ(xi.xtcpi_total_retrans, ci.tcpi_total_retrans);
			EXPECT_EQ((xi.xtcpi_snd_cwnd + xi.xtcpi_mss - 1) /
				  xi.xtcpi_mss, ci.tcpi_snd_cwnd);
		}
		close(c);
		close(s);
	}
}

TEST_F(dialect, report_inet)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int c, s, l;

	/* The module parameter's default: off ("N" reads as no number). */
	EXPECT_EQ(0, access("/sys/module/xtcp/parameters/report_inet", R_OK));
	ASSERT_EQ(0, xtcp_pair(&self->t, 0, &c, &s, &l));
	ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&a, &len));
	EXPECT_EQ(self->t.family, a.sin_family);
	EXPECT_EQ(0, geti(c, SOL_XTCP, XTCP_REPORT_INET));
	ASSERT_EQ(0, seti(c, SOL_XTCP, XTCP_REPORT_INET, 1));
	EXPECT_EQ(1, geti(c, SOL_XTCP, XTCP_REPORT_INET));
	len = sizeof(a);
	ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&a, &len));
	EXPECT_EQ(AF_INET, a.sin_family);
	len = sizeof(a);
	ASSERT_EQ(0, getpeername(c, (struct sockaddr *)&a, &len));
	EXPECT_EQ(AF_INET, a.sin_family);
	EXPECT_EQ(self->t.addr[SRV].s_addr, a.sin_addr.s_addr);
	close(c);
	close(s);

	/* A listener's setting is its children's; accept() reports it. */
	ASSERT_EQ(0, seti(l, SOL_XTCP, XTCP_REPORT_INET, 1));
	len = sizeof(a);
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&a, &len));
	c = xtcp_connect(&self->t, 0, ntohs(a.sin_port), false);
	ASSERT_GE(c, 0);
	len = sizeof(a);
	memset(&a, 0, sizeof(a));
	s = accept(l, (struct sockaddr *)&a, &len);
	ASSERT_GE(s, 0);
	EXPECT_EQ(AF_INET, a.sin_family);
	EXPECT_EQ(self->t.addr[CLI].s_addr, a.sin_addr.s_addr);
	EXPECT_EQ(1, geti(s, SOL_XTCP, XTCP_REPORT_INET));
	close(c);
	close(s);
	close(l);
}

/* TCP_DEFER_ACCEPT's seconds read back rounded as TCP rounds them. */
TEST_F(dialect, defer_accept_values)
{
	static const int vals[] = { 0, 1, 2, 3, 4, 5, 7, 8, 16, 100, 1000,
				    100000, -1, 0 };
	int fd[2], f, i;
	size_t k;

	FOR_EACH_FAMILY(f)
		ASSERT_GE(fd[!!f] = xtcp_socket(&self->t, CLI, f), 0);
	for (k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
		int got[2];

		for (i = 0; i < 2; i++) {
			EXPECT_EQ(0, seti(fd[i], SOL_TCP, TCP_DEFER_ACCEPT,
					  vals[k])) TH_LOG("%s", NAME(i));
			got[i] = geti(fd[i], SOL_TCP, TCP_DEFER_ACCEPT);
		}
		EXPECT_EQ(got[1], got[0]) TH_LOG("set %d: tcp reads %d, xtcp %d",
						 vals[k], got[1], got[0]);
		/* Rounded up, below the cap of 255 timeouts (29887 s). */
		if (vals[k] <= 1000)
			EXPECT_GE(got[0], vals[k] > 0 ? vals[k] : 0);
	}
	/* SOL_XTCP is the same setting. */
	EXPECT_EQ(0, seti(fd[0], SOL_XTCP, XTCP_DEFER_ACCEPT, 5));
	EXPECT_EQ(geti(fd[0], SOL_TCP, TCP_DEFER_ACCEPT),
		  geti(fd[0], SOL_XTCP, XTCP_DEFER_ACCEPT));
	EXPECT_EQ(0, seti(fd[1], SOL_TCP, TCP_DEFER_ACCEPT, 5));
	EXPECT_EQ(geti(fd[1], SOL_TCP, TCP_DEFER_ACCEPT),
		  geti(fd[0], SOL_XTCP, XTCP_DEFER_ACCEPT));
	close(fd[0]);
	close(fd[1]);
}

/*
 * A listener with TCP_DEFER_ACCEPT @secs, a connected client of family
 * @f; the listener, the client and when the client connected.
 */
static int defer_pair(struct xtcp_topo *t, int f, int secs, int *l, int *c,
		      long long *t0)
{
	unsigned short port;

	*l = xtcp_listen(t, f, 0, 8, false, &port);
	if (*l < 0 || seti(*l, SOL_TCP, TCP_DEFER_ACCEPT, secs))
		return -1;
	*c = xtcp_connect(t, f, port, false);
	*t0 = xtcp_now_ms();
	return *c < 0 ? -1 : 0;
}

/*
 * The handshake completes at the client, but accept() waits for the
 * first data (the deferral, 5 s, lasts 7 s: long after the data).
 */
TEST_F(dialect, defer_accept_waits_for_data)
{
	char buf[16];
	int f, c, s, l, st;

	FOR_EACH_FAMILY(f) {
		long long t0, drops = xtcp_counter(&self->t, SRV,
						   "DeferAcceptDrop");

		ASSERT_EQ(0, defer_pair(&self->t, f, 5, &l, &c, &t0))
			TH_LOG("%s", NAME(f));
		/* Established at the client; nothing to accept. */
		st = f ? -1 : xtcp_sock_state(c);
		EXPECT_TRUE(f || st == XTCP_ESTABLISHED) TH_LOG("state %d", st);
		EXPECT_EQ(0, pollev(l, POLLIN, 1500))
			TH_LOG("%s: accept ready without data", NAME(f));
		if (!f) {
			/* The bare third ACK was dropped, the entry kept. */
			EXPECT_EQ(drops + 1, xtcp_counter(&self->t, SRV,
							  "DeferAcceptDrop"));
			EXPECT_EQ(1, xtcp_state_count(&self->t, SRV, "SYN_RCVD",
						      NULL));
			EXPECT_EQ(0, xtcp_counter(&self->t, SRV,
						  "PassiveOpens"));
		}
		ASSERT_EQ(5, send(c, "hello", 5, 0));
		s = xtcp_accept_wait(l, 10000);
		ASSERT_GE(s, 0) TH_LOG("%s: no accept after data", NAME(f));
		/* Well before the deferral's end: the data did it. */
		EXPECT_LT(xtcp_now_ms() - t0, 5000) TH_LOG("%s", NAME(f));
		EXPECT_TRUE(XTCP_WAIT_FOR(5000, inq(s) == 5)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(5, recv(s, buf, sizeof(buf), 0));
		/* The child does not inherit the option, on either. */
		EXPECT_EQ(0, geti(s, SOL_TCP, TCP_DEFER_ACCEPT)) TH_LOG("%s", NAME(f));
		close(c);
		close(s);
		close(l);
	}
}

/*
 * No data ever: when the deferral (1 s: one SYN-ACK timeout) is over, the
 * SYN-ACK goes again, and the client's ACK to it is accepted (Linux's
 * behaviour since 4.x). The default SYN-ACK timeout is 1 s on both.
 */
TEST_F(dialect, defer_accept_gives_up_waiting)
{
	char buf[16];
	int f, c, s, l;

	FOR_EACH_FAMILY(f) {
		long long t0, took;

		ASSERT_EQ(0, defer_pair(&self->t, f, 1, &l, &c, &t0))
			TH_LOG("%s", NAME(f));
		s = xtcp_accept_wait(l, 20000);
		took = xtcp_now_ms() - t0;
		ASSERT_GE(s, 0) TH_LOG("%s: never accepted", NAME(f));
		EXPECT_GE(took, 800) TH_LOG("%s: accepted after %lld ms", NAME(f),
					    took);
		errno = 0;
		EXPECT_EQ(-1, recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		EXPECT_EQ(EAGAIN, errno);
		/* A working connection all the same. */
		ASSERT_EQ(3, send(c, "abc", 3, 0));
		EXPECT_TRUE(XTCP_WAIT_FOR(5000, inq(s) == 3)) TH_LOG("%s", NAME(f));
		if (!f) {
			EXPECT_GE(xtcp_counter(&self->t, SRV, "DeferAcceptDrop"), 1);
			EXPECT_GE(xtcp_counter(&self->t, SRV, "SynAckRetrans"), 1);
			EXPECT_EQ(1, xtcp_counter(&self->t, SRV, "PassiveOpens"));
		}
		close(c);
		close(s);
		close(l);
	}
}

TEST_HARNESS_MAIN
