// SPDX-License-Identifier: GPL-2.0
/*
 * The socket family itself: which sockets can be created, what the socket
 * reports about itself, which IP-level options it takes (those it honours,
 * as TCP; multicast fails as on TCP), and that creating xtcp sockets
 * leaves other families alone.
 */
#include <errno.h>
#include <net/if.h>
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

static int sockopt_errno(int fd, int opt, const void *val, socklen_t len)
{
	return setsockopt(fd, IPPROTO_IP, opt, val, len) ? errno : 0;
}

/*
 * IP-level options, xtcp and a TCP socket side by side: what xtcp honours
 * is set and read back as on TCP; the multicast options TCP refuses fail
 * with TCP's errno (EPROTO for IP_ADD/DROP_MEMBERSHIP, EINVAL for
 * IP_MULTICAST_IF/TTL); the joins TCP takes (and undoes in
 * inet_release(), which xtcp has not) fail with EPROTO on xtcp; an option
 * xtcp would ignore (IP_PKTINFO) is ENOPROTOOPT.
 */
TEST_F(xtcp, ip_options_like_tcp)
{
	const int tos = 0x10, ttl = 32, pmtu = IP_PMTUDISC_DO, one = 1;
	struct ip_mreqn mreq = { .imr_ifindex = if_nametoindex("lo") };
	struct group_req greq = { .gr_interface = mreq.imr_ifindex };
	struct ip_mreq_source msrc;
	const struct {
		const char *name;
		int opt;
		const void *val;
		socklen_t len;
	} honoured[] = {
		{ "IP_TOS", IP_TOS, &tos, sizeof(tos) },
		{ "IP_TTL", IP_TTL, &ttl, sizeof(ttl) },
		{ "IP_MTU_DISCOVER", IP_MTU_DISCOVER, &pmtu, sizeof(pmtu) },
		{ "IP_FREEBIND", IP_FREEBIND, &one, sizeof(one) },
		/* ICMP errors reported at once (icmp.c), as on TCP. */
		{ "IP_RECVERR", IP_RECVERR, &one, sizeof(one) },
	}, refused[] = {
		{ "IP_ADD_MEMBERSHIP", IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq) },
		{ "IP_DROP_MEMBERSHIP", IP_DROP_MEMBERSHIP, &mreq,
		  sizeof(mreq) },
		{ "IP_MULTICAST_IF", IP_MULTICAST_IF, &mreq, sizeof(mreq) },
		{ "IP_MULTICAST_TTL", IP_MULTICAST_TTL, &ttl, sizeof(ttl) },
	}, stricter[] = {
		/* TCP takes these, and drops the group in inet_release(). */
		{ "IP_ADD_SOURCE_MEMBERSHIP", IP_ADD_SOURCE_MEMBERSHIP, &msrc,
		  sizeof(msrc) },
		{ "MCAST_JOIN_GROUP", MCAST_JOIN_GROUP, &greq, sizeof(greq) },
	};
	struct sockaddr_in *grp = (struct sockaddr_in *)&greq.gr_group;
	int x, t, xe, te, xv, tv;
	socklen_t len;
	size_t i;

	ASSERT_GT(mreq.imr_ifindex, 0);
	inet_pton(AF_INET, "239.1.2.3", &mreq.imr_multiaddr);
	grp->sin_family = AF_INET;
	grp->sin_addr = mreq.imr_multiaddr;
	msrc.imr_multiaddr = mreq.imr_multiaddr;
	inet_pton(AF_INET, "127.0.0.1", &msrc.imr_interface);
	inet_pton(AF_INET, "127.0.0.2", &msrc.imr_sourceaddr);

	x = socket(self->family, SOCK_STREAM, 0);
	t = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(x, 0);
	ASSERT_GE(t, 0);
	for (i = 0; i < ARRAY_SIZE(honoured); i++) {
		EXPECT_EQ(0, sockopt_errno(t, honoured[i].opt, honoured[i].val,
					   honoured[i].len))
			TH_LOG("tcp %s", honoured[i].name);
		EXPECT_EQ(0, sockopt_errno(x, honoured[i].opt, honoured[i].val,
					   honoured[i].len))
			TH_LOG("xtcp %s", honoured[i].name);
		xv = tv = -1;
		len = sizeof(xv);
		EXPECT_EQ(0, getsockopt(x, IPPROTO_IP, honoured[i].opt, &xv,
					&len));
		len = sizeof(tv);
		EXPECT_EQ(0, getsockopt(t, IPPROTO_IP, honoured[i].opt, &tv,
					&len));
		EXPECT_EQ(tv, xv) TH_LOG("%s read back", honoured[i].name);
	}
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		te = sockopt_errno(t, refused[i].opt, refused[i].val,
				   refused[i].len);
		xe = sockopt_errno(x, refused[i].opt, refused[i].val,
				   refused[i].len);
		EXPECT_NE(0, te) TH_LOG("tcp takes %s", refused[i].name);
		EXPECT_EQ(te, xe) TH_LOG("%s: tcp %s, xtcp %s", refused[i].name,
					 strerror(te), strerror(xe));
	}
	for (i = 0; i < ARRAY_SIZE(stricter); i++) {
		xe = sockopt_errno(x, stricter[i].opt, stricter[i].val,
				   stricter[i].len);
		EXPECT_EQ(EPROTO, xe) TH_LOG("xtcp %s", stricter[i].name);
	}
	EXPECT_EQ(ENOPROTOOPT, sockopt_errno(x, IP_PKTINFO, &one, sizeof(one)));
	close(x);
	close(t);
}

TEST_HARNESS_MAIN
