// SPDX-License-Identifier: GPL-2.0
/*
 * The byte stream as an application sees it: data both ways, EOF, EPIPE
 * and SIGPIPE, and poll bits. Most scenarios run twice, over AF_INET TCP
 * and over xtcp in the same VM, and compare what the calls returned; all
 * run over loopback and across two namespaces joined by veth.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

FIXTURE(data)
{
	struct xtcp_topo t;
	int family;
};

XTCP_TOPO_VARIANTS(data);

FIXTURE_SETUP(data)
{
	self->family = xtcp_family();
	ASSERT_GT(self->family, 0) TH_LOG("xtcp.ko not loaded?");
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, variant->veth));
	ASSERT_EQ(0, xtcp_topo_move(&self->t, CLI));
	signal(SIGPIPE, on_sigpipe);
}

FIXTURE_TEARDOWN(data)
{
	signal(SIGPIPE, SIG_DFL);
	xtcp_topo_teardown(&self->t);
}

/* Push @len bytes each way at once, with poll(), and check them. */
TEST_F(data, bytes_both_ways)
{
	struct xtcp_topo *t = &self->t;
	enum { LEN = 1 << 20 };
	static unsigned char out[LEN], in_c[LEN], in_s[LEN];
	size_t sent_c = 0, sent_s = 0, got_c = 0, got_s = 0;
	long long t_end = xtcp_now_ms() + 120000;
	long long segs = xtcp_counter(t, BOTH, "OutSegs");
	int c, s, l, i;

	for (i = 0; i < LEN; i++)
		out[i] = (i * 131) ^ (i >> 11);
	ASSERT_EQ(0, xtcp_pair(t, self->family, &c, &s, &l));
	ASSERT_EQ(0, xtcp_set_nonblock(c));
	ASSERT_EQ(0, xtcp_set_nonblock(s));

	while (got_c < LEN || got_s < LEN) {
		struct pollfd p[2] = {
			{ .fd = c, .events = POLLIN | (sent_c < LEN ? POLLOUT : 0) },
			{ .fd = s, .events = POLLIN | (sent_s < LEN ? POLLOUT : 0) },
		};
		ssize_t n;

		ASSERT_LT(xtcp_now_ms(), t_end) TH_LOG("stalled: %zu %zu %zu %zu",
						       sent_c, sent_s, got_c, got_s);
		ASSERT_GT(poll(p, 2, 1000), -1);
		if (p[0].revents & POLLOUT) {
			n = send(c, out + sent_c, LEN - sent_c, 0);
			if (n > 0)
				sent_c += n;
		}
		if (p[1].revents & POLLOUT) {
			n = send(s, out + sent_s, LEN - sent_s, 0);
			if (n > 0)
				sent_s += n;
		}
		if (p[0].revents & POLLIN) {
			n = recv(c, in_c + got_c, LEN - got_c, 0);
			ASSERT_NE(0, n);
			if (n > 0)
				got_c += n;
		}
		if (p[1].revents & POLLIN) {
			n = recv(s, in_s + got_s, LEN - got_s, 0);
			ASSERT_NE(0, n);
			if (n > 0)
				got_s += n;
		}
	}
	EXPECT_EQ(0, memcmp(out, in_c, LEN));
	EXPECT_EQ(0, memcmp(out, in_s, LEN));
	EXPECT_LT(segs + 2 * (LEN / 16384), xtcp_counter(t, BOTH, "OutSegs"));
	close(c);
	close(s);
	close(l);
}

struct stream_result {
	ssize_t eof1, eof2, send_shut, send_shut_nosig;
	int e_send_shut, e_send_shut_nosig, sigs;
	ssize_t send_after_rst, send_after_rst2;
	int e_after_rst, e_after_rst2, sigs_rst;
};

static void stream_scenario(const struct xtcp_topo *t, int family,
			    struct stream_result *r)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int c = -1, s = -1, l = -1, base;
	char buf[8];

	memset(r, 0, sizeof(*r));
	/* A failed set-up shows as a difference from TCP's results. */
	xtcp_pair(t, family, &c, &s, &l);

	/* EOF after the peer's FIN, and again. */
	shutdown(s, SHUT_WR);
	r->eof1 = recv(c, buf, sizeof(buf), 0);
	r->eof2 = recv(c, buf, sizeof(buf), 0);

	/* Writing after our own shutdown: EPIPE, SIGPIPE unless NOSIGNAL. */
	shutdown(c, SHUT_WR);
	base = sigpipes;
	errno = 0;
	r->send_shut = send(c, "x", 1, 0);
	r->e_send_shut = errno;
	errno = 0;
	r->send_shut_nosig = send(c, "x", 1, MSG_NOSIGNAL);
	r->e_send_shut_nosig = errno;
	r->sigs = sigpipes - base;
	close(c);
	close(s);

	/* Writing to a connection the peer reset. */
	xtcp_pair(t, family, &c, &s, &l);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	xtcp_sleep_ms(200);
	base = sigpipes;
	errno = 0;
	r->send_after_rst = send(c, "x", 1, 0);
	r->e_after_rst = errno;
	errno = 0;
	r->send_after_rst2 = send(c, "x", 1, 0);
	r->e_after_rst2 = errno;
	r->sigs_rst = sigpipes - base;
	close(c);
	close(l);
}

TEST_F(data, eof_epipe_sigpipe_like_tcp)
{
	struct stream_result t, x;

	stream_scenario(&self->t, AF_INET, &t);
	stream_scenario(&self->t, self->family, &x);

	EXPECT_EQ(0, x.eof1);
	EXPECT_EQ(0, x.eof2);
	EXPECT_EQ(-1, x.send_shut);
	EXPECT_EQ(EPIPE, x.e_send_shut);
	EXPECT_EQ(EPIPE, x.e_send_shut_nosig);
	EXPECT_EQ(1, x.sigs);
	EXPECT_EQ(ECONNRESET, x.e_after_rst);

	EXPECT_EQ(t.eof1, x.eof1);
	EXPECT_EQ(t.eof2, x.eof2);
	EXPECT_EQ(t.send_shut, x.send_shut);
	EXPECT_EQ(t.e_send_shut, x.e_send_shut);
	EXPECT_EQ(t.send_shut_nosig, x.send_shut_nosig);
	EXPECT_EQ(t.e_send_shut_nosig, x.e_send_shut_nosig);
	EXPECT_EQ(t.sigs, x.sigs);
	EXPECT_EQ(t.send_after_rst, x.send_after_rst);
	EXPECT_EQ(t.e_after_rst, x.e_after_rst);
	EXPECT_EQ(t.send_after_rst2, x.send_after_rst2);
	EXPECT_EQ(t.e_after_rst2, x.e_after_rst2);
	EXPECT_EQ(t.sigs_rst, x.sigs_rst);
}

#define NPOLL 9

static short poll_one(int fd)
{
	struct pollfd p = {
		.fd = fd,
		.events = POLLIN | POLLOUT | POLLRDHUP | POLLPRI,
	};

	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* revents at each step of a connection's life. */
static void poll_scenario(const struct xtcp_topo *t, int family, short *ev)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned short port = 0;
	int c, s, l, fd;
	char buf[8];

	fd = socket(family, SOCK_STREAM, 0);
	ev[0] = poll_one(fd);				/* fresh */
	close(fd);

	l = xtcp_listen(t, family, 0, 4, false, &port);
	ev[1] = poll_one(l);				/* idle listener */
	c = xtcp_connect(t, family, port, false);
	xtcp_sleep_ms(100);
	ev[2] = poll_one(l);				/* connection pending */
	s = accept(l, NULL, NULL);
	ev[3] = poll_one(c);				/* established, idle */
	send(s, "ab", 2, 0);
	xtcp_sleep_ms(100);
	ev[4] = poll_one(c);				/* data to read */
	recv(c, buf, sizeof(buf), 0);
	shutdown(s, SHUT_WR);
	xtcp_sleep_ms(100);
	ev[5] = poll_one(c);				/* peer's FIN */
	shutdown(c, SHUT_WR);
	xtcp_sleep_ms(100);
	ev[6] = poll_one(c);				/* both FINs */
	close(c);
	close(s);

	c = xtcp_connect(t, family, port, false);
	s = accept(l, NULL, NULL);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	xtcp_sleep_ms(100);
	ev[7] = poll_one(c);				/* reset by peer */
	recv(c, buf, sizeof(buf), 0);
	ev[8] = poll_one(c);				/* error consumed */
	close(c);
	close(l);
}

TEST_F(data, poll_bits_like_tcp)
{
	short t[NPOLL], x[NPOLL];
	int i;

	poll_scenario(&self->t, AF_INET, t);
	poll_scenario(&self->t, self->family, x);
	for (i = 0; i < NPOLL; i++) {
		short tb = t[i], xb = x[i];

		EXPECT_EQ(tb, xb) TH_LOG("step %d: tcp %#x xtcp %#x", i, tb, xb);
	}
	EXPECT_TRUE(x[4] & POLLIN);
	EXPECT_TRUE(x[7] & POLLERR);
}

/* MSG_PEEK, MSG_WAITALL and a short SO_RCVTIMEO behave as on TCP. */
TEST_F(data, recv_flags)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int c, s, l;
	char buf[16];

	ASSERT_EQ(0, xtcp_pair(&self->t, self->family, &c, &s, &l));
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(6, send(s, "abcdef", 6, 0));
	EXPECT_EQ(3, recv(c, buf, 3, MSG_PEEK | MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(6, recv(c, buf, 6, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(buf, "abcdef", 6));
	close(c);
	close(s);
	close(l);
}

TEST_HARNESS_MAIN
