// SPDX-License-Identifier: GPL-2.0
/*
 * Connection establishment over loopback: sequence arithmetic, names,
 * refusal, non-blocking connect, the connect()/bind() errnos (compared with
 * TCP where TCP can run the same scenario), ports held in TIME_WAIT, and
 * simultaneous open.
 */
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

FIXTURE(hs)
{
	struct xtcp_topo t;
	int family;
	int rto_init_ms;
	int msl_ms;
};

FIXTURE_SETUP(hs)
{
	self->family = xtcp_family();
	ASSERT_GT(self->family, 0) TH_LOG("xtcp.ko not loaded?");
	/* A private namespace: counters and netem are the test's alone. */
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, false));
	ASSERT_EQ(0, xtcp_topo_move(&self->t, CLI));
	self->rto_init_ms = xtcp_sysctl_get(&self->t, CLI, "rto_init_ms");
	self->msl_ms = xtcp_sysctl_get(&self->t, CLI, "msl_ms");
	ASSERT_GT(self->rto_init_ms, 0);
}

FIXTURE_TEARDOWN(hs)
{
	xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", self->rto_init_ms);
	xtcp_sysctl_set(&self->t, BOTH, "msl_ms", self->msl_ms);
	xtcp_fault_add(&self->t, BOTH, "clear");
	xtcp_topo_teardown(&self->t);
}

/* Peer's ack = ISS + 1 both ways, and each side's IRS is the other's ISS. */
TEST_F(hs, seq_ack_arithmetic)
{
	struct xtcp_topo *t = &self->t;
	long long act = xtcp_counter(t, BOTH, "ActiveOpens");
	long long pas = xtcp_counter(t, BOTH, "PassiveOpens");
	long long est = xtcp_counter(t, BOTH, "CurrEstab");
	struct xtcp_info ci, si;
	int c, s, l;

	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	ASSERT_EQ(0, xtcp_get_info(c, &ci));
	ASSERT_EQ(0, xtcp_get_info(s, &si));

	EXPECT_EQ(XTCP_ESTABLISHED, ci.xtcpi_state);
	EXPECT_EQ(XTCP_ESTABLISHED, si.xtcpi_state);
	XTCP_EXPECT_SYNCED(ci, si);
	EXPECT_EQ(ci.xtcpi_iss + 1, ci.xtcpi_snd_nxt);
	EXPECT_NE(ci.xtcpi_iss, si.xtcpi_iss);
	EXPECT_GT(ci.xtcpi_mss, 0);

	EXPECT_EQ(act + 1, xtcp_counter(t, BOTH, "ActiveOpens"));
	EXPECT_EQ(pas + 1, xtcp_counter(t, BOTH, "PassiveOpens"));
	EXPECT_EQ(est + 2, xtcp_counter(t, BOTH, "CurrEstab"));

	close(c);
	close(s);
	close(l);
}

/* getsockname/getpeername/accept report the xtcp family and real ports. */
TEST_F(hs, names_report_family)
{
	struct xtcp_topo *t = &self->t;
	struct sockaddr_in a, b;
	socklen_t len;
	unsigned short port = 0;
	int c, s, l;

	l = xtcp_listen(t, self->family, 0, 4, false, &port);
	ASSERT_GE(l, 0);
	c = xtcp_connect(t, AF_INET, port,
			 false);	/* AF_INET-tagged is accepted */
	if (c < 0) {
		/* ... on an xtcp socket, that is. */
		struct sockaddr_in in = xtcp_addr(t, SRV, AF_INET, port);

		c = socket(self->family, SOCK_STREAM, 0);
		ASSERT_GE(c, 0);
		ASSERT_EQ(0, connect(c, (struct sockaddr *)&in, sizeof(in)));
	}
	len = sizeof(a);
	s = accept(l, (struct sockaddr *)&a, &len);
	ASSERT_GE(s, 0);
	EXPECT_EQ(sizeof(a), len);
	EXPECT_EQ(self->family, a.sin_family);
	EXPECT_EQ(htonl(INADDR_LOOPBACK), a.sin_addr.s_addr);

	len = sizeof(b);
	ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&b, &len));
	EXPECT_EQ(self->family, b.sin_family);
	EXPECT_EQ(a.sin_port, b.sin_port);

	len = sizeof(b);
	ASSERT_EQ(0, getpeername(c, (struct sockaddr *)&b, &len));
	EXPECT_EQ(self->family, b.sin_family);
	EXPECT_EQ(htons(port), b.sin_port);

	len = sizeof(b);
	ASSERT_EQ(0, getpeername(s, (struct sockaddr *)&b, &len));
	EXPECT_EQ(a.sin_port, b.sin_port);
	close(c);
	close(s);
	close(l);
}

TEST_F(hs, closed_port_refused)
{
	struct xtcp_topo *t = &self->t;
	long long nosock = xtcp_counter(t, BOTH, "InNoSocket");
	long long rsts = xtcp_counter(t, BOTH, "OutRsts");
	long long fails = xtcp_counter(t, BOTH, "AttemptFails");
	unsigned short port = 0;
	int l, c;

	/* A port nobody listens on: bind and close a listener. */
	l = xtcp_listen(t, self->family, 0, 1, false, &port);
	ASSERT_GE(l, 0);
	close(l);

	c = xtcp_connect(t, self->family, port, false);
	EXPECT_EQ(-1, c);
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(nosock + 1, xtcp_counter(t, BOTH, "InNoSocket"));
	EXPECT_EQ(rsts + 1, xtcp_counter(t, BOTH, "OutRsts"));
	EXPECT_EQ(fails + 1, xtcp_counter(t, BOTH, "AttemptFails"));
}

struct nb_result {
	int r1, e1, pollout, soerr, r2, e2, r3, e3;
};

static void nb_connect(const struct xtcp_topo *t, int family,
		       struct nb_result *r)
{
	struct pollfd p = { .events = POLLOUT };
	unsigned short port = 0;
	struct sockaddr_in a;
	socklen_t len = sizeof(int);
	int l, c, s;

	memset(r, 0, sizeof(*r));
	l = xtcp_listen(t, family, 0, 4, false, &port);
	a = xtcp_addr(t, SRV, family, port);
	c = socket(family, SOCK_STREAM, 0);
	xtcp_set_nonblock(c);
	errno = 0;
	r->r1 = connect(c, (struct sockaddr *)&a, sizeof(a));
	r->e1 = errno;
	p.fd = c;
	poll(&p, 1, 10000);
	r->pollout = p.revents;
	r->soerr = -1;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &r->soerr, &len);
	errno = 0;
	r->r2 = connect(c, (struct sockaddr *)&a, sizeof(a));
	r->e2 = errno;
	errno = 0;
	r->r3 = connect(c, (struct sockaddr *)&a, sizeof(a));
	r->e3 = errno;
	s = accept(l, NULL, NULL);
	close(s);
	close(c);
	close(l);
}

/* EINPROGRESS, POLLOUT, SO_ERROR 0, then what TCP says to connect again. */
TEST_F(hs, nonblocking_connect_like_tcp)
{
	struct nb_result t, x;

	nb_connect(&self->t, AF_INET, &t);
	nb_connect(&self->t, self->family, &x);
	EXPECT_EQ(-1, x.r1);
	EXPECT_EQ(EINPROGRESS, x.e1);
	EXPECT_TRUE(x.pollout & POLLOUT);
	EXPECT_EQ(0, x.soerr);
	EXPECT_EQ(t.r1, x.r1);
	EXPECT_EQ(t.e1, x.e1);
	EXPECT_EQ(t.pollout, x.pollout);
	EXPECT_EQ(t.soerr, x.soerr);
	EXPECT_EQ(t.r2, x.r2);
	EXPECT_EQ(t.e2, x.e2);
	EXPECT_EQ(t.r3, x.r3);
	EXPECT_EQ(t.e3, x.e3);
	EXPECT_EQ(EISCONN, x.e3);
}

/* Non-blocking connect to a closed port: SO_ERROR carries ECONNREFUSED. */
TEST_F(hs, nonblocking_refused_so_error)
{
	struct xtcp_topo *t = &self->t;
	struct pollfd p = { .events = POLLOUT };
	unsigned short port = 0;
	struct sockaddr_in a;
	socklen_t len = sizeof(int);
	int l, c, err = 0;

	l = xtcp_listen(t, self->family, 0, 1, false, &port);
	ASSERT_GE(l, 0);
	close(l);
	a = xtcp_addr(t, SRV, self->family, port);
	c = socket(self->family, SOCK_STREAM, 0);
	ASSERT_EQ(0, xtcp_set_nonblock(c));
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINPROGRESS, errno);
	p.fd = c;
	ASSERT_EQ(1, poll(&p, 1, 10000));
	EXPECT_TRUE(p.revents & POLLERR);
	ASSERT_EQ(0, getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len));
	EXPECT_EQ(ECONNREFUSED, err);
	close(c);
}

/* EALREADY while the SYN is outstanding (the SYN is dropped on the way). */
TEST_F(hs, ealready_while_syn_sent)
{
	struct xtcp_topo *t = &self->t;
	unsigned short port = 0;
	struct sockaddr_in a;
	int l, c;

	l = xtcp_listen(t, self->family, 0, 4, false, &port);
	ASSERT_GE(l, 0);
	if (xtcp_fault_add(t, BOTH, "out syn count=1"))
		SKIP(close(l); return, "no /proc/net/xtcp/faults");
	a = xtcp_addr(t, SRV, self->family, port);
	c = socket(self->family, SOCK_STREAM, 0);
	ASSERT_EQ(0, xtcp_set_nonblock(c));
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(XTCP_SYN_SENT, xtcp_sock_state(c));
	EXPECT_EQ(-1, connect(c, (struct sockaddr *)&a, sizeof(a)));
	EXPECT_EQ(EALREADY, errno);
	/* The retransmitted SYN gets through. */
	EXPECT_TRUE(XTCP_WAIT_FOR(30000,
				  xtcp_sock_state(c) == XTCP_ESTABLISHED));
	close(c);
	close(l);
}

struct errnos {
	int peer, recv, shut, conn_twice, bind_short, bind_family, bind_inuse,
	    bind_twice, bind_nonlocal, listen_connected, send_unconn;
};

static void collect_errnos(const struct xtcp_topo *t, int family,
			   struct errnos *e)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, 0), b;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	socklen_t len = sizeof(b);
	unsigned short port = 0;
	int fd, fd2, l, c, s;
	char buf[4];

	memset(e, 0, sizeof(*e));
	fd = socket(family, SOCK_STREAM, 0);
	errno = 0;
	getpeername(fd, (struct sockaddr *)&b, &len);
	e->peer = errno;
	errno = 0;
	recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	e->recv = errno;
	errno = 0;
	shutdown(fd, SHUT_RDWR);
	e->shut = errno;
	errno = 0;
	send(fd, "x", 1, MSG_NOSIGNAL);
	e->send_unconn = errno;
	errno = 0;
	bind(fd, (struct sockaddr *)&a, sizeof(a) - 1);
	e->bind_short = errno;
	errno = 0;
	bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	e->bind_family = errno;
	a.sin_addr.s_addr = inet_addr("192.0.2.1");
	errno = 0;
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	e->bind_nonlocal = errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	errno = 0;
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	e->bind_twice = errno;

	l = xtcp_listen(t, family, 0, 4, false, &port);
	fd2 = socket(family, SOCK_STREAM, 0);
	a.sin_port = htons(port);
	errno = 0;
	bind(fd2, (struct sockaddr *)&a, sizeof(a));
	e->bind_inuse = errno;

	c = xtcp_connect(t, family, port, false);
	s = accept(l, NULL, NULL);
	errno = 0;
	connect(c, (struct sockaddr *)&a, sizeof(a));
	e->conn_twice = errno;
	errno = 0;
	listen(c, 1);
	e->listen_connected = errno;
	close(s);
	close(c);
	close(l);
	close(fd2);
	close(fd);
}

/* The errnos of the classic mistakes, compared with TCP's. */
TEST_F(hs, errnos_like_tcp)
{
	struct errnos t, x;

	collect_errnos(&self->t, AF_INET, &t);
	collect_errnos(&self->t, self->family, &x);
	EXPECT_EQ(ENOTCONN, x.peer);
	EXPECT_EQ(t.peer, x.peer);
	EXPECT_EQ(t.recv, x.recv);
	EXPECT_EQ(t.shut, x.shut);
	EXPECT_EQ(t.send_unconn, x.send_unconn);
	EXPECT_EQ(EINVAL, x.bind_short);
	EXPECT_EQ(t.bind_short, x.bind_short);
	EXPECT_EQ(EAFNOSUPPORT, x.bind_family);
	EXPECT_EQ(t.bind_family, x.bind_family);
	EXPECT_EQ(EADDRNOTAVAIL, x.bind_nonlocal);
	EXPECT_EQ(t.bind_nonlocal, x.bind_nonlocal);
	EXPECT_EQ(t.bind_twice, x.bind_twice);
	EXPECT_EQ(EADDRINUSE, x.bind_inuse);
	EXPECT_EQ(t.bind_inuse, x.bind_inuse);
	EXPECT_EQ(EISCONN, x.conn_twice);
	EXPECT_EQ(t.conn_twice, x.conn_twice);
	EXPECT_EQ(t.listen_connected, x.listen_connected);
}

struct tw_result {
	int inuse_errno, reuse_ret, listen_ret;
};

/*
 * The server closes first, so its port sits in TIME_WAIT: bind() without
 * SO_REUSEADDR fails, with it succeeds (the old listener had it too).
 */
static void tw_port(const struct xtcp_topo *t, int family, struct tw_result *r)
{
	struct sockaddr_in a;
	unsigned short port = 0;
	int l, c, s, fd, one = 1;
	char buf[4];

	l = xtcp_listen(t, family, 0, 4, true, &port);
	c = xtcp_connect(t, family, port, false);
	s = accept(l, NULL, NULL);
	close(l);
	close(s);
	recv(c, buf, sizeof(buf), 0);	/* the server's FIN */
	close(c);
	xtcp_sleep_ms(100);

	a = xtcp_addr(t, SRV, family, port);
	fd = socket(family, SOCK_STREAM, 0);
	errno = 0;
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	r->inuse_errno = errno;
	close(fd);
	fd = socket(family, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	r->reuse_ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	r->listen_ret = listen(fd, 1);
	close(fd);
}

TEST_F(hs, time_wait_port_vs_reuseaddr)
{
	long long created = xtcp_counter(&self->t, BOTH, "TimeWaitCreated");
	long tw = xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL);
	struct tw_result t, x;

	tw_port(&self->t, AF_INET, &t);
	tw_port(&self->t, self->family, &x);
	EXPECT_EQ(created + 1, xtcp_counter(&self->t, BOTH, "TimeWaitCreated"));
	EXPECT_EQ(tw + 1, xtcp_state_count(&self->t, BOTH, "TIME_WAIT", NULL));
	EXPECT_EQ(EADDRINUSE, x.inuse_errno);
	EXPECT_EQ(0, x.reuse_ret);
	EXPECT_EQ(0, x.listen_ret);
	EXPECT_EQ(t.inuse_errno, x.inuse_errno);
	EXPECT_EQ(t.reuse_ret, x.reuse_ret);
	EXPECT_EQ(t.listen_ret, x.listen_ret);
}

/*
 * Both sides connect to each other and their SYNs cross in flight (netem
 * holds each for half a second): SYN_SENT -> SYN_RCVD -> ESTABLISHED on
 * both sides (RFC 9293 figure 8).
 */
TEST_F(hs, simultaneous_open)
{
	struct xtcp_topo *t = &self->t;
	long long act = xtcp_counter(t, BOTH, "ActiveOpens");
	struct sockaddr_in a1, a2;
	long trans0, est0;
	int s1, s2;

	trans0 = xtcp_transition_count(t, BOTH, "SYN_SENT", "SYN_RCVD");
	est0 = xtcp_transition_count(t, BOTH, "SYN_RCVD", "ESTABLISHED");
	s1 = socket(self->family, SOCK_STREAM, 0);
	s2 = socket(self->family, SOCK_STREAM, 0);
	a1 = xtcp_addr(t, SRV, self->family, 0);
	a2 = a1;
	ASSERT_EQ(0, bind(s1, (struct sockaddr *)&a1, sizeof(a1)));
	ASSERT_EQ(0, bind(s2, (struct sockaddr *)&a2, sizeof(a2)));
	a1.sin_port = htons(xtcp_local_port(s1));
	a2.sin_port = htons(xtcp_local_port(s2));
	ASSERT_EQ(0, xtcp_set_nonblock(s1));
	ASSERT_EQ(0, xtcp_set_nonblock(s2));
	ASSERT_EQ(0, xtcp_topo_netem(t, "delay %dms", 500));
	EXPECT_EQ(-1, connect(s1, (struct sockaddr *)&a2, sizeof(a2)));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_EQ(-1, connect(s2, (struct sockaddr *)&a1, sizeof(a1)));
	EXPECT_EQ(EINPROGRESS, errno);
	EXPECT_TRUE(XTCP_WAIT_FOR(30000,
				  xtcp_sock_state(s1) == XTCP_ESTABLISHED));
	EXPECT_TRUE(XTCP_WAIT_FOR(30000,
				  xtcp_sock_state(s2) == XTCP_ESTABLISHED));
	EXPECT_EQ(trans0 + 2, xtcp_transition_count(t, BOTH, "SYN_SENT",
						    "SYN_RCVD"));
	EXPECT_EQ(est0 + 2, xtcp_transition_count(t, BOTH, "SYN_RCVD",
						  "ESTABLISHED"));
	EXPECT_EQ(act + 2, xtcp_counter(t, BOTH, "ActiveOpens"));
	close(s1);
	close(s2);
}

TEST_HARNESS_MAIN
