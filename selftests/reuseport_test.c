// SPDX-License-Identifier: GPL-2.0
/*
 * XTCP_REUSEPORT, SO_REUSEPORT's semantics at SOL_XTCP, against Linux
 * TCP's SO_REUSEPORT as the control (the same steps on both, between two
 * namespaces over veth): listeners of one user share a port when all set
 * the option before bind(); new connections are spread over them (every
 * listener gets some of 200); a listener that closes leaves the others
 * serving; a socket without the option, or of another user, cannot bind
 * the port (EADDRINUSE).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/fsuid.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

static const int families[] = { 0, AF_INET };
#define FOR_EACH_FAMILY(f) \
	for (int __i = 0; __i < 2 && ((f) = families[__i], 1); __i++)
#define NAME(f) ((f) ? "tcp" : "xtcp")

#define NLISTEN		4
#define NCONN		200
#define OTHER_UID	65534

FIXTURE(reuseport)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(reuseport)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
}

FIXTURE_TEARDOWN(reuseport)
{
	xtcp_topo_teardown(&self->t);
}

/* The option: SOL_SOCKET's on TCP, SOL_XTCP's on xtcp; 0 or errno. */
static int set_reuseport(int fd, int f, int on)
{
	int r = f ? setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) :
		    setsockopt(fd, SOL_XTCP, XTCP_REUSEPORT, &on, sizeof(on));

	return r ? errno : 0;
}

/* A server-side socket of family @f created by user @uid. */
static int srv_socket(struct xtcp_topo *t, int f, uid_t uid)
{
	int fd;

	if (xtcp_topo_enter(t, SRV))
		return -1;
	setfsuid(uid);
	fd = socket(f ? AF_INET : t->family, SOCK_STREAM, 0);
	setfsuid(0);
	xtcp_topo_leave(t);
	return fd;
}

/* bind() to the server's address, port @port: 0 or errno. */
static int bind_to(struct xtcp_topo *t, int fd, int f, unsigned short port)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, f, port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
}

/* @n listeners with the option on one port, which *@port receives. */
static int listeners(struct xtcp_topo *t, int f, int *l, int n,
		     unsigned short *port)
{
	int i;

	*port = 0;
	for (i = 0; i < n; i++) {
		l[i] = srv_socket(t, f, 0);
		if (l[i] < 0 || set_reuseport(l[i], f, 1) ||
		    bind_to(t, l[i], f, *port) || listen(l[i], NCONN) ||
		    xtcp_set_nonblock(l[i]))
			return -1;
		if (!*port)
			*port = xtcp_local_port(l[i]);
	}
	return 0;
}

/*
 * @nconn connections to @port, one after the other; each is accepted by
 * whichever of the @n listeners (-1: closed) has it, counted in @got.
 * Returns how many were accepted.
 */
static int spread(struct xtcp_topo *t, int f, unsigned short port,
		  const int *l, int n, int nconn, int *got)
{
	int i, k, c, s, total = 0;

	memset(got, 0, n * sizeof(*got));
	for (i = 0; i < nconn; i++) {
		c = xtcp_connect(t, f, port, false);
		if (c < 0)
			return total;
		s = -1;
		XTCP_WAIT_FOR(5000, ({
			for (k = 0; k < n && s < 0; k++)
				if (l[k] >= 0 && (s = accept(l[k], NULL,
							     NULL)) >= 0)
					got[k]++;
			s >= 0;
		}));
		if (s < 0) {
			close(c);
			return total;
		}
		total++;
		close(c);
		close(s);
	}
	return total;
}

TEST_F_TIMEOUT(reuseport, spreads_connections, 300)
{
	int l[NLISTEN], got[NLISTEN], f, i;
	unsigned short port;

	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, listeners(&self->t, f, l, NLISTEN, &port))
			TH_LOG("%s: %d listeners on one port: %s", NAME(f),
			       NLISTEN, strerror(errno));
		EXPECT_EQ(NCONN, spread(&self->t, f, port, l, NLISTEN, NCONN,
					got)) TH_LOG("%s", NAME(f));
		for (i = 0; i < NLISTEN; i++) {
			EXPECT_GT(got[i], 0) TH_LOG("%s: listener %d idle",
						    NAME(f), i);
			TH_LOG("%s: listener %d accepted %d of %d", NAME(f), i,
			       got[i], NCONN);
			close(l[i]);
		}
	}
	/* Who carried them: xtcp's passive opens, one per connection. */
	EXPECT_EQ(NCONN, xtcp_counter(&self->t, SRV, "PassiveOpens"));
}

TEST_F(reuseport, closed_listener_leaves_the_others)
{
	int l[3], got[3], f, i;
	unsigned short port;

	FOR_EACH_FAMILY(f) {
		ASSERT_EQ(0, listeners(&self->t, f, l, 3, &port))
			TH_LOG("%s", NAME(f));
		close(l[1]);
		l[1] = -1;
		EXPECT_EQ(60, spread(&self->t, f, port, l, 3, 60, got))
			TH_LOG("%s: connections refused after a close", NAME(f));
		EXPECT_GT(got[0], 0) TH_LOG("%s", NAME(f));
		EXPECT_GT(got[2], 0) TH_LOG("%s", NAME(f));
		/* The last one alone takes everything. */
		close(l[0]);
		l[0] = -1;
		EXPECT_EQ(10, spread(&self->t, f, port, l, 3, 10, got))
			TH_LOG("%s", NAME(f));
		EXPECT_EQ(10, got[2]);
		for (i = 0; i < 3; i++)
			if (l[i] >= 0)
				close(l[i]);
	}
}

TEST_F(reuseport, bind_rules)
{
	int f, a, b;
	unsigned short port;

	FOR_EACH_FAMILY(f) {
		/* A listener with the option. */
		a = srv_socket(&self->t, f, 0);
		ASSERT_GE(a, 0);
		ASSERT_EQ(0, set_reuseport(a, f, 1));
		ASSERT_EQ(0, bind_to(&self->t, a, f, 0));
		ASSERT_EQ(0, listen(a, 4));
		port = xtcp_local_port(a);

		/* Without the option: refused. */
		b = srv_socket(&self->t, f, 0);
		ASSERT_GE(b, 0);
		EXPECT_EQ(EADDRINUSE, bind_to(&self->t, b, f, port))
			TH_LOG("%s: no option", NAME(f));
		close(b);

		/* With it, but another user's: refused. */
		b = srv_socket(&self->t, f, OTHER_UID);
		ASSERT_GE(b, 0);
		ASSERT_EQ(0, set_reuseport(b, f, 1));
		EXPECT_EQ(EADDRINUSE, bind_to(&self->t, b, f, port))
			TH_LOG("%s: another uid", NAME(f));
		close(b);

		/* The same user's with the option: shares it, and listens. */
		b = srv_socket(&self->t, f, 0);
		ASSERT_GE(b, 0);
		ASSERT_EQ(0, set_reuseport(b, f, 1));
		EXPECT_EQ(0, bind_to(&self->t, b, f, port)) TH_LOG("%s", NAME(f));
		EXPECT_EQ(0, listen(b, 4)) TH_LOG("%s", NAME(f));
		close(b);
		close(a);
	}
	/* xtcp's reads back; it is not a SOL_TCP option. */
	a = srv_socket(&self->t, 0, 0);
	ASSERT_GE(a, 0);
	{
		int v = -1;
		socklen_t len = sizeof(v);

		ASSERT_EQ(0, set_reuseport(a, 0, 1));
		ASSERT_EQ(0, getsockopt(a, SOL_XTCP, XTCP_REUSEPORT, &v, &len));
		EXPECT_EQ(1, v);
		errno = 0;
		EXPECT_EQ(-1, setsockopt(a, IPPROTO_TCP, XTCP_REUSEPORT, &v,
					 sizeof(v)));
		EXPECT_EQ(ENOPROTOOPT, errno);
	}
	close(a);
}

TEST_HARNESS_MAIN
