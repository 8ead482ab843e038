// SPDX-License-Identifier: GPL-2.0
/*
 * When the receiver ACKs in-order data (Documentation/protocol.md,
 * "Delayed ACK"), across two namespaces joined by veth:
 *   - data the application leaves unread draws no ACK at once (the window's
 *     right edge could not move), and the read that takes it sends the ACK
 *     it owes, without waiting for the delayed-ACK timer;
 *   - segments that arrive while the application holds the socket (here:
 *     a recv() whose copy stops on a userfaultfd page) wait in the backlog,
 *     and all of them draw one ACK when the owner releases the socket
 *     (AcksDeferred counts the ACKs folded so).
 * Linux TCP runs the second case as the control: xtcp may send no more
 * ACKs than it. TCP's count is not fixed: its backlog ACK deferral exists
 * only since 6.8, so 6.1's TCP answers each segment. The first case has
 * no TCP twin: TCP starts a connection in quickack mode, ACKing its first
 * segments at once.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <linux/userfaultfd.h>

#ifndef SOL_TCP
#define SOL_TCP IPPROTO_TCP
#endif

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define NAME(f) ((f) ? "tcp" : "xtcp")
#define SEG	1448	/* the payload of a full segment over veth */

FIXTURE(ack)
{
	struct xtcp_conn c;
};

FIXTURE_SETUP(ack)
{
	ASSERT_EQ(0, xtcp_conn_setup(&self->c, true));
}

FIXTURE_TEARDOWN(ack)
{
	xtcp_conn_teardown(&self->c);
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Bytes waiting in @fd's receive queue (SIOCINQ), -1 on error. */
static int inq(int fd)
{
	int n;

	return ioctl(fd, SIOCINQ, &n) ? -1 : n;
}

/* Wait up to @ms until @fd holds @n bytes to read; true if it does. */
static bool wait_inq(int fd, int n, int ms)
{
	long long end = xtcp_now_ms() + ms;

	while (inq(fd) < n && xtcp_now_ms() < end)
		xtcp_sleep_ms(5);
	return inq(fd) >= n;
}

/* Wait up to @ms until the client's sent data is all acknowledged. */
static bool wait_acked(int fd, int ms)
{
	long long end = xtcp_now_ms() + ms;
	struct xtcp_info i;

	do {
		if (!xtcp_get_info(fd, &i) && !i.xtcpi_unacked)
			return true;
		xtcp_sleep_ms(5);
	} while (xtcp_now_ms() < end);
	return false;
}

static long long segs_of(const struct xtcp_topo *t, int family,
			 const char *name)
{
	return family ? xtcp_tcp_mib(t, SRV, name) :
			xtcp_counter(t, SRV, name);
}

/*
 * Eight KiB (five full segments and a part) reach a server that does not
 * read. With the delayed-ACK timer at its longest (1 s), no ACK may leave
 * before the read; the read sends it. The delayed ACK may still fire first
 * on a slow host: that attempt proves nothing, and the case is repeated.
 */
TEST_F_TIMEOUT(ack, unread_data_acked_by_the_read, 120)
{
	struct xtcp_topo *t = &self->c.t;
	static char buf[8192];
	long long d0, d1, o0, o1, o2;
	struct xtcp_info ci;
	int tries, c, srv;

	ASSERT_EQ(0, xtcp_sysctl_set(t, SRV, "delack_ms", 1000));
	ASSERT_EQ(0, xtcp_pair(t, 0, &self->c.cfd, &self->c.afd,
			       &self->c.lfd));
	c = self->c.cfd;
	srv = self->c.afd;
	nodelay(c);
	ASSERT_TRUE(wait_acked(c, 5000));

	for (tries = 1; tries <= 3; tries++) {
		d0 = xtcp_counter(t, SRV, "DelayedAcks");
		o0 = xtcp_counter(t, SRV, "OutSegs");
		ASSERT_EQ((ssize_t)sizeof(buf), send(c, buf, sizeof(buf), 0));
		ASSERT_TRUE(wait_inq(srv, sizeof(buf), 10000));
		ASSERT_EQ(0, xtcp_get_info(c, &ci));
		o1 = xtcp_counter(t, SRV, "OutSegs");
		d1 = xtcp_counter(t, SRV, "DelayedAcks");
		if (d1 != d0) {
			TH_LOG("try %d: the delayed ACK fired before the check",
			       tries);
			ASSERT_EQ((ssize_t)sizeof(buf),
				  recv(srv, buf, sizeof(buf), MSG_WAITALL));
			continue;
		}
		EXPECT_EQ(o0, o1) TH_LOG("ACKs sent while the data sat unread");
		EXPECT_EQ(sizeof(buf), ci.xtcpi_unacked);

		ASSERT_EQ((ssize_t)sizeof(buf),
			  recv(srv, buf, sizeof(buf), MSG_WAITALL));
		o2 = xtcp_counter(t, SRV, "OutSegs");
		if (xtcp_counter(t, SRV, "DelayedAcks") != d1) {
			TH_LOG("try %d: the delayed ACK fired during the read",
			       tries);
			continue;
		}
		/* recv() returned after sending it: no waiting needed. */
		EXPECT_EQ(1, o2 - o1) TH_LOG("segments sent by the read");
		EXPECT_TRUE(wait_acked(c, 5000));
		break;
	}
	ASSERT_LE(tries, 3) TH_LOG("the delayed ACK always came first");
}

struct fault_reader {
	int fd;
	char *page;
	ssize_t got;
};

static void *read_into_page(void *arg)
{
	struct fault_reader *r = arg;

	r->got = recv(r->fd, r->page, 1, 0);
	return NULL;
}

/*
 * A userfaultfd over one missing page: a copy to it blocks until the page
 * is supplied (UFFDIO_ZEROPAGE). -1 with errno if the kernel has none.
 */
static int uffd_page(char **page)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_api api = { .api = UFFD_API };
	int fd;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	*page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (unsigned long)*page;
	reg.range.len = psz;
	if (*page == MAP_FAILED || ioctl(fd, UFFDIO_API, &api) ||
	    ioctl(fd, UFFDIO_REGISTER, &reg)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait up to @ms for the fault on the page: true once it is pending. */
static bool uffd_faulted(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct uffd_msg m;

	return poll(&p, 1, ms) == 1 && read(fd, &m, sizeof(m)) == sizeof(m) &&
	       m.event == UFFD_EVENT_PAGEFAULT;
}

/*
 * One byte, then a recv() that stops in its copy holding the socket; ten
 * full segments arrive meanwhile (InSegs); then the page is supplied.
 * SO_RCVLOWAT (64 KiB, not reached) makes every two segments due for an
 * ACK whatever the window, so each would draw one without the deferral.
 * Returns the server's segments out while it owned the socket and after.
 */
static void owner_holds(struct __test_metadata *_metadata,
			FIXTURE_DATA(ack) *self, int family,
			long long *while_owned, long long *after)
{
	struct xtcp_topo *t = &self->c.t;
	struct fault_reader r = { .got = -2 };
	long psz = sysconf(_SC_PAGESIZE);
	static char seg[SEG];
	int lowat = 65536, uffd, i;
	struct uffdio_zeropage zp;
	long long in0, o0, o1, end;
	pthread_t th;

	ASSERT_EQ(0, xtcp_pair(t, family, &self->c.cfd, &self->c.afd,
			       &self->c.lfd));
	nodelay(self->c.cfd);
	ASSERT_EQ(0, setsockopt(self->c.afd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
				sizeof(lowat)));
	ASSERT_EQ(1, send(self->c.cfd, "x", 1, 0));
	ASSERT_TRUE(wait_inq(self->c.afd, 1, 10000));

	uffd = uffd_page(&r.page);
	ASSERT_LE(0, uffd);
	r.fd = self->c.afd;
	ASSERT_EQ(0, pthread_create(&th, NULL, read_into_page, &r));
	ASSERT_TRUE(uffd_faulted(uffd, 10000));

	in0 = segs_of(t, family, "InSegs");
	o0 = segs_of(t, family, "OutSegs");
	for (i = 0; i < 10; i++)
		ASSERT_EQ(SEG, send(self->c.cfd, seg, SEG, 0));
	end = xtcp_now_ms() + 10000;
	while (segs_of(t, family, "InSegs") < in0 + 10 && xtcp_now_ms() < end)
		xtcp_sleep_ms(5);
	EXPECT_LE(in0 + 10, segs_of(t, family, "InSegs"))
		TH_LOG("%s: segments that reached the server", NAME(family));
	o1 = segs_of(t, family, "OutSegs");

	memset(&zp, 0, sizeof(zp));
	zp.range.start = (unsigned long)r.page;
	zp.range.len = psz;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	pthread_join(th, NULL);
	EXPECT_EQ(1, r.got);
	/* The deferred ACK left from release_sock(), before recv() returned. */
	*while_owned = o1 - o0;
	*after = segs_of(t, family, "OutSegs") - o1;
	EXPECT_TRUE(wait_inq(self->c.afd, 10 * SEG, 10000));
	close(uffd);
	munmap(r.page, psz);
}

TEST_F_TIMEOUT(ack, backlog_acks_fold_into_one, 120)
{
	struct xtcp_topo *t = &self->c.t;
	long long owned, after, def0, tcp_owned, tcp_after;
	char *page;
	int uffd = uffd_page(&page);

	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	close(uffd);
	munmap(page, sysconf(_SC_PAGESIZE));
	/* One segment per send() from the client: ten backlog entries. */
	ASSERT_EQ(0, xtcp_sysctl_set(t, CLI, "gso", 0));
	ASSERT_EQ(0, xtcp_topo_write(t, CLI,
				     "/proc/sys/net/ipv4/tcp_autocorking", "0"));
	def0 = xtcp_counter(t, SRV, "AcksDeferred");
	owner_holds(_metadata, self, 0, &owned, &after);
	EXPECT_EQ(0, owned) TH_LOG("xtcp: ACKs sent while the owner held it");
	EXPECT_EQ(1, after) TH_LOG("xtcp: ACKs for ten backlog segments");
	EXPECT_LE(1, xtcp_counter(t, SRV, "AcksDeferred") - def0);
	EXPECT_TRUE(wait_acked(self->c.cfd, 5000));

	close(self->c.cfd);
	close(self->c.afd);
	close(self->c.lfd);
	self->c.cfd = self->c.afd = self->c.lfd = -1;
	owner_holds(_metadata, self, AF_INET, &tcp_owned, &tcp_after);
	TH_LOG("ten backlog segments drew %lld ACK(s) from xtcp, %lld from Linux TCP (%lld while owned)",
	       after, tcp_after, tcp_owned);
	EXPECT_LE(after, tcp_after);
}

TEST_HARNESS_MAIN
