// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: byte-exact transfers both ways at once, from 1 byte up,
 * over loopback and over veth with tc netem loss, reordering, duplication
 * and delay; both ends checksum what they sent and what they received.
 * The counters that tell how the stream was repaired (RetransSegs,
 * FastRetrans, OfoQueue, DupData) must move when netem gives them cause.
 * Also: a zero-window stall that recovers, keepalive against a silently
 * dead peer, and XTCP_INFO's congestion state.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

/* The byte at offset @off of stream @seed. */
static inline uint8_t pattern(uint64_t off, uint32_t seed)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	return (uint8_t)(x >> 29) ^ (uint8_t)(off >> 12);
}

/* FNV-1a, 64 bit. */
static inline uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

struct end {
	int fd;
	uint32_t seed_out;	/* what this end sends */
	uint32_t seed_in;	/* what it expects */
	size_t len;		/* bytes each way */
	size_t sent, got;
	uint64_t h_sent, h_got, h_expect;
	bool eof, shut, bad;
};

/* Non-blocking pump of both ends; 0 when both saw EOF after all bytes. */
static int pump(struct end *e, int n, long long deadline_ms, char *why,
		size_t whylen)
{
	static uint8_t buf[65536];
	int i;

	for (i = 0; i < n; i++) {
		fcntl(e[i].fd, F_SETFL, fcntl(e[i].fd, F_GETFL) | O_NONBLOCK);
		e[i].h_sent = e[i].h_got = e[i].h_expect = FNV_INIT;
	}
	for (;;) {
		struct pollfd p[8];
		bool done = true;

		for (i = 0; i < n; i++) {
			p[i].fd = e[i].fd;
			p[i].events = POLLIN;
			if (e[i].sent < e[i].len)
				p[i].events |= POLLOUT;
			done &= e[i].eof && e[i].shut;
		}
		if (done)
			return 0;
		if (xtcp_now_ms() > deadline_ms) {
			snprintf(why, whylen, "stalled: sent %zu/%zu got %zu/%zu",
				 e[0].sent, e[1].sent, e[0].got, e[1].got);
			return -1;
		}
		if (poll(p, n, 1000) < 0)
			return -1;
		for (i = 0; i < n; i++) {
			struct end *x = &e[i];
			ssize_t r;
			size_t k, chunk;

			if (p[i].revents & POLLOUT) {
				chunk = x->len - x->sent;
				if (chunk > sizeof(buf))
					chunk = sizeof(buf);
				for (k = 0; k < chunk; k++)
					buf[k] = pattern(x->sent + k, x->seed_out);
				r = send(x->fd, buf, chunk, MSG_NOSIGNAL);
				if (r > 0) {
					x->h_sent = fnv(x->h_sent, buf, r);
					x->sent += r;
				} else if (r < 0 && errno != EAGAIN) {
					snprintf(why, whylen, "send: %s",
						 strerror(errno));
					return -1;
				}
			}
			if (x->sent == x->len && !x->shut) {
				shutdown(x->fd, SHUT_WR);
				x->shut = true;
			}
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				r = recv(x->fd, buf, sizeof(buf), 0);
				if (r > 0) {
					for (k = 0; k < (size_t)r; k++) {
						uint8_t want = pattern(x->got + k,
								       x->seed_in);

						x->h_expect = fnv(x->h_expect,
								  &want, 1);
						if (buf[k] != want && !x->bad) {
							x->bad = true;
							snprintf(why, whylen,
								 "byte %zu differs",
								 x->got + k);
						}
					}
					x->h_got = fnv(x->h_got, buf, r);
					x->got += r;
				} else if (r == 0) {
					x->eof = true;
				} else if (errno != EAGAIN) {
					snprintf(why, whylen, "recv: %s",
						 strerror(errno));
					return -1;
				}
			}
		}
	}
}

FIXTURE(xfer)
{
	struct xtcp_conn c;
};

FIXTURE_VARIANT(xfer)
{
	bool veth;
	const char *netem;	/* NULL: none */
	size_t len;		/* each way */
	bool lossy, reorder, dup;
};

FIXTURE_VARIANT_ADD(xfer, loopback)
{
	.veth = false,
	.len = 64 << 20,
};

FIXTURE_VARIANT_ADD(xfer, veth)
{
	.veth = true,
	.len = 8 << 20,
};

FIXTURE_VARIANT_ADD(xfer, veth_loss_3pct)
{
	.veth = true,
	.netem = "loss 3%",
	.len = 2 << 20,
	.lossy = true,
};

FIXTURE_VARIANT_ADD(xfer, veth_reorder)
{
	.veth = true,
	.netem = "delay 2ms reorder 25% 50%",
	.len = 2 << 20,
	.reorder = true,
};

FIXTURE_VARIANT_ADD(xfer, veth_duplicate)
{
	.veth = true,
	.netem = "duplicate 5%",
	.len = 2 << 20,
	.dup = true,
};

FIXTURE_VARIANT_ADD(xfer, veth_mix_5pct)
{
	.veth = true,
	.netem = "delay 1ms loss 5% duplicate 2% reorder 10%",
	.len = 1 << 20,
	.lossy = true,
};

FIXTURE_SETUP(xfer)
{
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, variant->veth));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_min_ms", 40));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->c.t, BOTH, "rto_init_ms", 300));
	if (variant->netem)
		ASSERT_EQ(0, xtcp_topo_netem(&self->c.t, "%s limit 10000",
					     variant->netem));
	self->c.lfd = xtcp_listen(&self->c.t, 0, SRV_PORT, 16, true, NULL);
	ASSERT_GE(self->c.lfd, 0);
}

/*
 * Abort what a test leaves open: the namespaces go next, and an orderly
 * close would leave orphans retransmitting FIN into a deleted link for
 * minutes, each holding a module reference.
 */
static void abort_close(int *fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (*fd < 0)
		return;
	setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(*fd);
	*fd = -1;
}

FIXTURE_TEARDOWN(xfer)
{
	abort_close(&self->c.afd);
	abort_close(&self->c.cfd);
	xtcp_conn_teardown(&self->c);
}

#define CNT(side, name)	xtcp_counter(&self->c.t, side, name)
#define CNT2(name)	CNT(BOTH, name)

static void transfer(struct __test_metadata *_metadata,
		     FIXTURE_DATA(xfer) * self, size_t len, int secs)
{
	struct end e[2] = {
		{ .fd = self->c.cfd, .seed_out = 1, .seed_in = 2, .len = len },
		{ .fd = self->c.afd, .seed_out = 2, .seed_in = 1, .len = len },
	};
	char why[128] = "";

	ASSERT_EQ(0, pump(e, 2, xtcp_now_ms() + secs * 1000LL, why, sizeof(why)))
		TH_LOG("%zu bytes: %s", len, why);
	EXPECT_FALSE(e[0].bad || e[1].bad) TH_LOG("%s", why);
	EXPECT_EQ(len, e[0].got);
	EXPECT_EQ(len, e[1].got);
	/* What each end sent hashes to what the other received. */
	EXPECT_EQ(e[0].h_sent, e[1].h_got);
	EXPECT_EQ(e[1].h_sent, e[0].h_got);
	EXPECT_EQ(e[0].h_expect, e[0].h_got);
	EXPECT_EQ(e[1].h_expect, e[1].h_got);
}

/* Sizes from one byte up, each on a fresh connection, both ways at once. */
TEST_F_TIMEOUT(xfer, both_ways, 600)
{
	static const size_t small[] = { 1, 2, 1000, 1460, 1461, 65535, 65537,
					300001 };
	long long rx0 = CNT2("RetransSegs"), fr0 = CNT2("FastRetrans");
	long long ofo0 = CNT2("OfoQueue"), dup0 = CNT2("DupData");
	struct xtcp_info ci, si;
	size_t i;

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		ASSERT_EQ(0, xtcp_conn_establish(&self->c, 0, 10000));
		transfer(_metadata, self, small[i], 120);
		close(self->c.cfd);
		close(self->c.afd);
		self->c.cfd = self->c.afd = -1;
	}

	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 0, 10000));
	transfer(_metadata, self, variant->len, 400);
	ASSERT_EQ(0, xtcp_get_info(self->c.cfd, &ci));
	ASSERT_EQ(0, xtcp_get_info(self->c.afd, &si));
	TH_LOG("cli: rtt %u us rto %u us cwnd %u ssthresh %u retrans %u fast %u rto %u ooo %u ws %u/%u",
	       ci.xtcpi_rtt, ci.xtcpi_rto, ci.xtcpi_snd_cwnd,
	       ci.xtcpi_snd_ssthresh, ci.xtcpi_total_retrans,
	       ci.xtcpi_fast_retrans, ci.xtcpi_rto_timeouts,
	       ci.xtcpi_ooo_segs, ci.xtcpi_snd_wscale, ci.xtcpi_rcv_wscale);
	TH_LOG("counters: RetransSegs %lld FastRetrans %lld OfoQueue %lld DupData %lld Timeouts %lld",
	       CNT2("RetransSegs") - rx0, CNT2("FastRetrans") - fr0,
	       CNT2("OfoQueue") - ofo0, CNT2("DupData") - dup0,
	       CNT2("Timeouts"));
	EXPECT_GT(ci.xtcpi_rtt, 0);
	EXPECT_GT(ci.xtcpi_snd_cwnd, 0);
	EXPECT_GT(ci.xtcpi_rcv_wscale, 0);
	EXPECT_EQ(ci.xtcpi_rcv_wscale, si.xtcpi_snd_wscale);
	if (variant->lossy) {
		EXPECT_GT(CNT2("RetransSegs") - rx0, 0);
		EXPECT_GT(CNT2("FastRetrans") - fr0, 0);
		EXPECT_GT(ci.xtcpi_total_retrans + si.xtcpi_total_retrans, 0);
	}
	if (variant->reorder || variant->lossy)
		EXPECT_GT(CNT2("OfoQueue") - ofo0, 0);
	if (variant->dup)
		EXPECT_GT(CNT2("DupData") - dup0, 0);
}

/*
 * Single-connection tests. "misc" runs over both topologies; a test that
 * makes sense on one only gets a fixture of its own: "link" (veth, a link
 * to cut) and "crowd" (loopback, 200 clients in one namespace).
 */
#define MISC_FIXTURE(name)						\
	FIXTURE(name) {							\
		struct xtcp_conn c;					\
	}

#define MISC_SETUP(veth) do {						\
	struct xtcp_topo *t = &self->c.t;				\
									\
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, (veth)));		\
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_min_ms", 40));	\
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_init_ms", 300));	\
	ASSERT_EQ(0, xtcp_sysctl_set(t, BOTH, "rto_max_ms", 1000));	\
	self->c.lfd = xtcp_listen(t, 0, SRV_PORT, 256, true, NULL);	\
	ASSERT_GE(self->c.lfd, 0);					\
} while (0)

#define MISC_TEARDOWN() do {						\
	abort_close(&self->c.afd);					\
	abort_close(&self->c.cfd);					\
	xtcp_conn_teardown(&self->c);					\
} while (0)

MISC_FIXTURE(misc);
XTCP_TOPO_VARIANTS(misc);
FIXTURE_SETUP(misc) { MISC_SETUP(variant->veth); }
FIXTURE_TEARDOWN(misc) { MISC_TEARDOWN(); }

MISC_FIXTURE(link);
FIXTURE_SETUP(link) { MISC_SETUP(true); }
FIXTURE_TEARDOWN(link) { MISC_TEARDOWN(); }

MISC_FIXTURE(crowd);
FIXTURE_SETUP(crowd) { MISC_SETUP(false); }
FIXTURE_TEARDOWN(crowd) { MISC_TEARDOWN(); }

/*
 * The receiver stops reading: the sender fills the window, sees it shut,
 * probes it, and everything arrives once the reader resumes.
 */
TEST_F_TIMEOUT(misc, zero_window_recovers, 300)
{
	enum { LEN = 1 << 20 };
	static uint8_t buf[LEN];
	long long probes0 = CNT(CLI, "ZeroWindowProbes");
	int rcvbuf = 16384, i;
	struct xtcp_info ci;
	size_t sent = 0, got = 0;
	uint64_t hs = FNV_INIT, hr = FNV_INIT;

	close(self->c.lfd);
	self->c.lfd = -1;
	{
		int fd = xtcp_socket(&self->c.t, SRV, 0), one = 1;
		struct sockaddr_in a = xtcp_addr(&self->c.t, SRV, 0, SRV_PORT);

		ASSERT_GE(fd, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
					sizeof(rcvbuf)));
		ASSERT_EQ(0, bind(fd, (struct sockaddr *)&a, sizeof(a)));
		ASSERT_EQ(0, listen(fd, 4));
		self->c.lfd = fd;
	}
	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 0, 10000));
	for (i = 0; i < LEN; i++)
		buf[i] = pattern(i, 7);
	hs = fnv(hs, buf, LEN);
	fcntl(self->c.cfd, F_SETFL, O_NONBLOCK);

	/* Fill until the send buffer is full and the peer's window is 0. */
	ASSERT_TRUE(XTCP_WAIT_FOR(60000, ({
		ssize_t r = send(self->c.cfd, buf + sent, LEN - sent,
				 MSG_NOSIGNAL);

		if (r > 0)
			sent += r;
		xtcp_get_info(self->c.cfd, &ci);
		ci.xtcpi_snd_wnd == 0 && sent < LEN;
	}))) TH_LOG("window never closed: sent %zu snd_wnd %u", sent,
		    ci.xtcpi_snd_wnd);
	/* Shut: the sender probes, and the connection survives. */
	ASSERT_TRUE(XTCP_WAIT_FOR(60000,
			     CNT(CLI, "ZeroWindowProbes") - probes0 >= 2));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));

	/* The reader resumes; the rest flows. */
	fcntl(self->c.afd, F_SETFL, O_NONBLOCK);
	ASSERT_TRUE(XTCP_WAIT_FOR(120000, ({
		ssize_t r;
		static uint8_t in[65536];

		if (sent < LEN) {
			r = send(self->c.cfd, buf + sent, LEN - sent,
				 MSG_NOSIGNAL);
			if (r > 0)
				sent += r;
		}
		while ((r = recv(self->c.afd, in, sizeof(in), 0)) > 0) {
			hr = fnv(hr, in, r);
			got += r;
		}
		got == LEN;
	}))) TH_LOG("stalled after resume: sent %zu got %zu", sent, got);
	EXPECT_EQ(hs, hr);
}

/* A peer that vanishes silently is found by keepalive: ETIMEDOUT. */
TEST_F_TIMEOUT(link, keepalive_dead_peer, 120)
{
	int one = 1, idle = 1, cnt = 3, val;
	long long p0, t0;
	socklen_t len = sizeof(val);
	struct pollfd p;
	char c;

	ASSERT_EQ(0, xtcp_conn_establish(&self->c, 0, 10000));
	p0 = CNT(CLI, "KeepAliveProbes");
	t0 = CNT(CLI, "KeepAliveTimeouts");
	ASSERT_EQ(0, setsockopt(self->c.cfd, SOL_XTCP, XTCP_KEEPIDLE, &idle,
				sizeof(idle)));
	ASSERT_EQ(0, setsockopt(self->c.cfd, SOL_XTCP, XTCP_KEEPINTVL, &idle,
				sizeof(idle)));
	ASSERT_EQ(0, setsockopt(self->c.cfd, SOL_XTCP, XTCP_KEEPCNT, &cnt,
				sizeof(cnt)));
	ASSERT_EQ(0, getsockopt(self->c.cfd, SOL_XTCP, XTCP_KEEPCNT, &val,
				&len));
	EXPECT_EQ(3, val);
	ASSERT_EQ(0, setsockopt(self->c.cfd, SOL_SOCKET, SO_KEEPALIVE, &one,
				sizeof(one)));

	/* The peer answers probes while the link is up. */
	ASSERT_TRUE(XTCP_WAIT_FOR(30000, CNT(CLI,
					     "KeepAliveProbes") - p0 >= 2));
	EXPECT_EQ(XTCP_ESTABLISHED, xtcp_sock_state(self->c.cfd));

	/* Cut the link silently: the peer's side drops everything. */
	ASSERT_EQ(0, xtcp_sh("ip -n %s link set v1 down", self->c.t.name[SRV]));
	p.fd = self->c.cfd;
	p.events = POLLIN;
	ASSERT_TRUE(XTCP_WAIT_FOR(60000, poll(&p, 1, 0) == 1 &&
				    (p.revents & POLLERR)));
	EXPECT_EQ(-1, recv(self->c.cfd, &c, 1, MSG_DONTWAIT));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ(1, CNT(CLI, "KeepAliveTimeouts") - t0);
	EXPECT_GE(CNT(CLI, "KeepAliveProbes") - p0, 2 + 3);
}

/*
 * 200 clients at once against one edge-triggered epoll server that echoes;
 * each client checks its echo byte for byte.
 */
TEST_F_TIMEOUT(crowd, epoll_200_clients_echo, 300)
{
	enum { N = 200, MSG = 3000 };
	struct conn {
		int fd;
		bool client;
		size_t sent, got;	/* client: of MSG; server: echo */
		uint8_t pend[MSG];	/* server: received, not echoed */
		size_t plen;
	} *c;
	int ep, i, done = 0, nconn = 0;
	struct epoll_event ev, evs[64];
	long long deadline = xtcp_now_ms() + 240000;

	c = calloc(2 * N + 1, sizeof(*c));
	ASSERT_NE(NULL, c);
	ep = epoll_create1(0);
	ASSERT_GE(ep, 0);
	fcntl(self->c.lfd, F_SETFL, O_NONBLOCK);
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u32 = 2 * N;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->c.lfd, &ev));

	for (i = 0; i < N; i++) {
		c[i].fd = xtcp_connect(&self->c.t, 0, SRV_PORT, true);
		ASSERT_GE(c[i].fd, 0);
		c[i].client = true;
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.u32 = i;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev));
	}

	while (done < N) {
		int n = epoll_wait(ep, evs, 64, 1000), k;

		ASSERT_LT(xtcp_now_ms(), deadline) TH_LOG("%d of %d done", done, N);
		for (k = 0; k < n; k++) {
			uint32_t id = evs[k].data.u32;
			uint8_t buf[4096];
			ssize_t r;

			if (id == 2 * N) {	/* accept everything pending */
				int fd;

				while ((fd = accept(self->c.lfd, NULL,
						    NULL)) >= 0) {
					struct conn *s = &c[N + nconn];

					ASSERT_LT(nconn, N);
					s->fd = fd;
					fcntl(fd, F_SETFL, O_NONBLOCK);
					ev.events = EPOLLIN | EPOLLOUT |
						    EPOLLRDHUP | EPOLLET;
					ev.data.u32 = N + nconn++;
					ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD,
							       fd, &ev));
				}
				ASSERT_EQ(EAGAIN, errno);
				continue;
			}
			if (c[id].client) {
				struct conn *x = &c[id];

				/* Edge-triggered: drain and fill until EAGAIN. */
				while (x->sent < MSG) {
					size_t j, m = MSG - x->sent;

					for (j = 0; j < m; j++)
						buf[j % sizeof(buf)] =
							pattern(x->sent + j, id);
					if (m > sizeof(buf))
						m = sizeof(buf);
					r = send(x->fd, buf, m, MSG_NOSIGNAL);
					if (r <= 0)
						break;
					x->sent += r;
				}
				while ((r = recv(x->fd, buf, sizeof(buf), 0)) > 0) {
					for (i = 0; i < r; i++)
						ASSERT_EQ(pattern(x->got + i, id),
							  buf[i]);
					x->got += r;
				}
				if (x->got == MSG) {
					x->got++;	/* count once */
					done++;
				}
			} else {
				struct conn *x = &c[id];

				while (x->plen < MSG &&
				       (r = recv(x->fd, x->pend + x->plen,
						 MSG - x->plen, 0)) > 0)
					x->plen += r;
				while (x->sent < x->plen) {
					r = send(x->fd, x->pend + x->sent,
						 x->plen - x->sent,
						 MSG_NOSIGNAL);
					if (r <= 0)
						break;
					x->sent += r;
				}
			}
		}
	}
	EXPECT_EQ(N, nconn);
	/* Half-close: each server side sees EPOLLRDHUP, then EOF. */
	for (i = 0; i < N; i++)
		shutdown(c[i].fd, SHUT_WR);
	for (i = 0; i < N; i++) {
		struct pollfd p = { .fd = c[N + i].fd, .events = POLLRDHUP };
		char b;

		EXPECT_EQ(1, poll(&p, 1, 30000));
		EXPECT_TRUE(p.revents & POLLRDHUP);
		EXPECT_EQ(0, recv(c[N + i].fd, &b, 1, 0));
	}
	for (i = 0; i < 2 * N; i++)
		close(c[i].fd);
	close(ep);
	free(c);
}

TEST_HARNESS_MAIN
