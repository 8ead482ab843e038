// SPDX-License-Identifier: GPL-2.0
/*
 * The socket family itself: which sockets can be created, what the socket
 * reports about itself, and that creating xtcp sockets leaves other
 * families alone.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

FIXTURE(xtcp)
{
	int family;
	int ipproto;
};

FIXTURE_SETUP(xtcp)
{
	self->family = xtcp_family();
	self->ipproto = xtcp_ipproto();
	ASSERT_GT(self->family, 0) TH_LOG("xtcp.ko not loaded?");
	ASSERT_GT(self->ipproto, 0);
}

FIXTURE_TEARDOWN(xtcp)
{
}

TEST_F(xtcp, stream_socket_reports_itself)
{
	int fd, v;
	socklen_t len = sizeof(v);

	fd = socket(self->family, SOCK_STREAM, 0);
	ASSERT_GE(fd, 0) TH_LOG("socket: %s", strerror(errno));

	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len));
	EXPECT_EQ(self->family, v);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
	EXPECT_EQ(SOCK_STREAM, v);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len));
	EXPECT_EQ(self->ipproto, v);
	close(fd);

	/* Naming the protocol explicitly is the same socket. */
	fd = socket(self->family, SOCK_STREAM, self->ipproto);
	ASSERT_GE(fd, 0);
	close(fd);
}

TEST_F(xtcp, other_types_rejected)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW,
				     SOCK_RDM };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, socket(self->family, types[i], 0));
		EXPECT_EQ(ESOCKTNOSUPPORT, errno) TH_LOG("type %d", types[i]);
	}
}

TEST_F(xtcp, other_protocol_rejected)
{
	errno = 0;
	EXPECT_EQ(-1, socket(self->family, SOCK_STREAM, IPPROTO_UDP));
	EXPECT_EQ(EPROTONOSUPPORT, errno);
}

/* Unsupported calls fail exactly as they do on a TCP socket. */
TEST_F(xtcp, socketpair_like_tcp)
{
	int sv[2];

	errno = 0;
	EXPECT_EQ(-1, socketpair(AF_INET, SOCK_STREAM, 0, sv));
	EXPECT_EQ(EOPNOTSUPP, errno);
	errno = 0;
	EXPECT_EQ(-1, socketpair(self->family, SOCK_STREAM, 0, sv));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

/* A fresh, unconnected socket polls like a fresh TCP socket. */
TEST_F(xtcp, fresh_socket_poll_like_tcp)
{
	struct pollfd p[2] = {
		{ .events = POLLIN | POLLOUT | POLLRDHUP },
		{ .events = POLLIN | POLLOUT | POLLRDHUP },
	};

	p[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	p[1].fd = socket(self->family, SOCK_STREAM, 0);
	ASSERT_GE(p[0].fd, 0);
	ASSERT_GE(p[1].fd, 0);

	ASSERT_EQ(2, poll(p, 2, 0));
	EXPECT_EQ(p[0].revents, p[1].revents);
	EXPECT_TRUE(p[1].revents & POLLHUP);
	close(p[0].fd);
	close(p[1].fd);
}

/* Every socket is visible in the CLOSED gauge while it exists. */
TEST_F(xtcp, closed_gauge_follows_sockets)
{
	long before, during, after, entered0 = 0, entered1 = 0;
	int fds[5], i;

	before = xtcp_state_count(NULL, BOTH, "CLOSED", &entered0);
	ASSERT_GE(before, 0);
	for (i = 0; i < 5; i++) {
		fds[i] = socket(self->family, SOCK_STREAM, 0);
		ASSERT_GE(fds[i], 0);
	}
	during = xtcp_state_count(NULL, BOTH, "CLOSED", &entered1);
	EXPECT_EQ(before + 5, during);
	EXPECT_EQ(entered0 + 5, entered1);
	for (i = 0; i < 5; i++)
		close(fds[i]);
	after = xtcp_state_count(NULL, BOTH, "CLOSED", NULL);
	EXPECT_EQ(before, after);
}

/* xtcp sockets alive in the same process leave TCP over loopback intact. */
TEST_F(xtcp, tcp_unaffected)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int x, l, c, s;
	char buf[4];

	x = socket(self->family, SOCK_STREAM, 0);
	ASSERT_GE(x, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(l, 0);
	ASSERT_EQ(0, bind(l, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(l, 1));
	ASSERT_EQ(0, getsockname(l, (struct sockaddr *)&a, &alen));

	c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&a, sizeof(a)));
	s = accept(l, NULL, NULL);
	ASSERT_GE(s, 0);
	ASSERT_EQ(4, send(c, "ping", 4, 0));
	ASSERT_EQ(4, recv(s, buf, 4, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));

	close(s);
	close(c);
	close(l);
	close(x);
}

TEST_HARNESS_MAIN
