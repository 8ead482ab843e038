// SPDX-License-Identifier: GPL-2.0
/*
 * Large segments (issue 14): one stream queues skbs of many MSS-sized
 * segments and sends them as GSO skbs; loopback and veth carry them
 * whole, a device without the feature gets them cut in software by
 * xtcp's offload. Over loopback and over veth:
 *   - bulk: 8 MiB arrive byte-exact, GsoSkbs moved on the sender and
 *     InGsoSkbs on the receiver (it took skbs longer than one MSS), and
 *     InSegs counts wire segments (at least one per MSS); Linux TCP moves
 *     the same bytes in the same topology as the control;
 *   - sysctl_off (2 MiB, as the next two): gso=0 in the sender's namespace: no GSO skb either end;
 *   - fault_here: a fault rule (one that never fires) in the sender's
 *     namespace: no GSO skb, so every rule sees wire segments;
 *   - fault_elsewhere: the same rule in another namespace (the test's
 *     own): GSO skbs still;
 *   - dev_max_segs: the sending device's gso_max_segs (3) bounds every
 *     packet leaving it, for xtcp as for TCP;
 *   - sw_segment: the sending device's GSO off (ethtool): the stack cuts
 *     in software through the offload; every xtcp packet captured
 *     leaving the device (a packet socket) is at most one MSS of payload
 *     plus headers, the receiver sees no GSO skb, the bytes are exact.
 */
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define XFER		(8 << 20)
#define SW_XFER		(1 << 20)
#define SMALL_XFER	(2 << 20)	/* the switches: enough for many skbs */

FIXTURE(gso)
{
	struct xtcp_topo t;
	bool home_rule;
};

XTCP_TOPO_VARIANTS(gso);

FIXTURE_SETUP(gso)
{
	ASSERT_GT(xtcp_family(), 0) TH_LOG("xtcp.ko not loaded?");
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, variant->veth));
	self->home_rule = false;
}

FIXTURE_TEARDOWN(gso)
{
	if (self->home_rule)
		xtcp_sh("echo clear > /proc/net/xtcp/faults");
	xtcp_topo_teardown(&self->t);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

struct sender {
	int fd;
	size_t len;
	int err;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	static uint8_t buf[256 * 1024];
	size_t off = 0, i;
	ssize_t n;

	while (off < s->len) {
		size_t chunk = s->len - off < sizeof(buf) ? s->len - off :
			       sizeof(buf);

		for (i = 0; i < chunk; i++)
			buf[i] = pattern(off + i);
		n = send(s->fd, buf, chunk, MSG_NOSIGNAL);
		if (n <= 0) {
			s->err = 1;
			return NULL;
		}
		off += n;
		/* a short send: the rest of the chunk goes next round */
	}
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

/*
 * Send @len bytes from the client to the server of a new connection of
 * @family (0: xtcp, AF_INET: TCP) and check every byte; 0 on success.
 * *@mss: the client's MSS.
 */
static int transfer(const struct xtcp_topo *t, int family, size_t len,
		    unsigned int *mss)
{
	static uint8_t buf[256 * 1024];
	struct sender snd = { .len = len };
	size_t got = 0, i;
	int c, s, l, bad = 0;
	pthread_t th;
	ssize_t n;

	if (xtcp_pair(t, family, &c, &s, &l))
		return -1;
	if (mss && family == AF_INET) {
		socklen_t ml = sizeof(*mss);

		if (getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, mss, &ml))
			*mss = 0;
	} else if (mss) {
		struct xtcp_info info;

		*mss = xtcp_get_info(c, &info) ? 0 : info.xtcpi_mss;
	}
	snd.fd = c;
	if (pthread_create(&th, NULL, send_all, &snd))
		return -1;
	while ((n = recv(s, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pattern(got + i))
				bad++;
		got += n;
	}
	pthread_join(th, NULL);
	close(c);
	close(s);
	close(l);
	if (n < 0 || snd.err || got != len || bad) {
		fprintf(stderr, "# transfer: got %zu of %zu, %d bad, err %d\n",
			got, len, bad, snd.err);
		return -1;
	}
	return 0;
}

TEST_F_TIMEOUT(gso, bulk, 240)
{
	long long gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
	long long in0 = xtcp_counter(&self->t, SRV, "InGsoSkbs");
	long long segs0 = xtcp_counter(&self->t, SRV, "InSegs");
	unsigned int mss = 0;

	ASSERT_GE(gso0, 0);
	ASSERT_EQ(1, xtcp_sysctl_get(&self->t, CLI, "gso"));
	ASSERT_EQ(0, transfer(&self->t, 0, XFER, &mss));
	ASSERT_GT(mss, 0);
	EXPECT_GT(xtcp_counter(&self->t, CLI, "GsoSkbs"), gso0);
	EXPECT_GT(xtcp_counter(&self->t, SRV, "InGsoSkbs"), in0);
	/* Wire segments, not skbs: at least one per MSS of data. */
	EXPECT_GE(xtcp_counter(&self->t, SRV, "InSegs") - segs0,
		  (long long)(XFER / mss));
	/* The control: TCP moves the same bytes in the same topology. */
	EXPECT_EQ(0, transfer(&self->t, AF_INET, XFER, NULL));
}

TEST_F_TIMEOUT(gso, sysctl_off, 120)
{
	long long gso0, in0;

	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, CLI, "gso", 0));
	gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
	in0 = xtcp_counter(&self->t, SRV, "InGsoSkbs");
	ASSERT_EQ(0, transfer(&self->t, 0, SMALL_XFER, NULL));
	EXPECT_EQ(gso0, xtcp_counter(&self->t, CLI, "GsoSkbs"));
	EXPECT_EQ(in0, xtcp_counter(&self->t, SRV, "InGsoSkbs"));
}

TEST_F_TIMEOUT(gso, fault_here, 120)
{
	long long gso0;

	/* Port 1 is never used here: the rule exists and never fires. */
	ASSERT_EQ(0, xtcp_fault_add(&self->t, CLI, "out rst port=1"));
	gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
	ASSERT_EQ(0, transfer(&self->t, 0, SMALL_XFER, NULL));
	EXPECT_EQ(gso0, xtcp_counter(&self->t, CLI, "GsoSkbs"));
}

TEST_F_TIMEOUT(gso, fault_elsewhere, 120)
{
	long long gso0;

	/* The test's own namespace holds neither end. */
	ASSERT_EQ(0, xtcp_sh("echo 'out rst port=1' > /proc/net/xtcp/faults"));
	self->home_rule = true;
	gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
	ASSERT_EQ(0, transfer(&self->t, 0, SMALL_XFER, NULL));
	EXPECT_GT(xtcp_counter(&self->t, CLI, "GsoSkbs"), gso0);
}

/* The longest xtcp packet (IP total length) the socket holds; -1: none. */
static long capture_max(int fd, int ipproto, long *count)
{
	static uint8_t frame[70000];
	long max = -1;

	*count = 0;
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		const struct iphdr *ip;
		ssize_t n;
		size_t off;

		n = recvfrom(fd, frame, sizeof(frame), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (from.sll_pkttype != PACKET_OUTGOING)
			continue;
		/* lo and veth frames both carry an Ethernet header. */
		off = ETH_HLEN;
		if ((size_t)n < off + sizeof(*ip))
			continue;
		ip = (const struct iphdr *)(frame + off);
		if (ip->version != 4 || ip->protocol != ipproto)
			continue;
		(*count)++;
		if (ntohs(ip->tot_len) > max)
			max = ntohs(ip->tot_len);
	}
	return max;
}

/* A packet socket on the client's device @dev; the fd (ASSERTs). */
static int open_capture(struct __test_metadata *_metadata,
			const struct xtcp_topo *t, const char *dev)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int pkt, big = 64 << 20;

	ASSERT_EQ(0, xtcp_topo_enter(t, CLI));
	pkt = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ll.sll_ifindex = if_nametoindex(dev);
	xtcp_topo_leave(t);
	ASSERT_GE(pkt, 0);
	ASSERT_GT(ll.sll_ifindex, 0);
	ASSERT_EQ(0, setsockopt(pkt, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				sizeof(big)));
	ASSERT_EQ(0, bind(pkt, (struct sockaddr *)&ll, sizeof(ll)));
	return pkt;
}

TEST_F_TIMEOUT(gso, sw_segment, 120)
{
	const char *dev = variant->veth ? "v0" : "lo";
	long long gso0, in0;
	unsigned int mss = 0;
	long max, count;
	int pkt;

	/* tx-sctp-segmentation is the feature our GSO type needs. */
	ASSERT_EQ(0, xtcp_sh("ip netns exec %s ethtool -K %s tx-sctp-segmentation off",
			     self->t.name[CLI], dev));
	xtcp_sh("ip netns exec %s ethtool -K %s gso off tso off",
		self->t.name[CLI], dev);
	ASSERT_EQ(0, xtcp_sh("ip netns exec %s ethtool -k %s | grep -q 'tx-sctp-segmentation: off'",
			     self->t.name[CLI], dev));
	pkt = open_capture(_metadata, &self->t, dev);

	gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
	in0 = xtcp_counter(&self->t, SRV, "InGsoSkbs");
	ASSERT_EQ(0, transfer(&self->t, 0, SW_XFER, &mss));
	max = capture_max(pkt, self->t.ipproto, &count);
	close(pkt);
	/* The socket still sent GSO skbs; the stack cut them. */
	EXPECT_GT(xtcp_counter(&self->t, CLI, "GsoSkbs"), gso0);
	EXPECT_EQ(in0, xtcp_counter(&self->t, SRV, "InGsoSkbs"));
	EXPECT_GT(count, (long)(SW_XFER / mss / 2));
	/* IP header, our header with every option, one MSS: no more. */
	EXPECT_LE(max, (long)(mss + 20 + 60));
	TH_LOG("%s: %ld packets captured, longest %ld, mss %u", dev, count,
	       max, mss);
}

/*
 * The sending device's gso_max_segs bounds xtcp's skbs as it bounds
 * TCP's: at 3, every xtcp packet leaving the device carries at most three
 * segments and some carry more than one (GsoSkbs moves); Linux TCP, the
 * control, the same (over loopback its MSS fills 64 KiB alone, so only
 * the bound applies to it there).
 */
TEST_F_TIMEOUT(gso, dev_max_segs, 120)
{
	static const int families[] = { 0, AF_INET };
	const char *dev = variant->veth ? "v0" : "lo";

	ASSERT_EQ(0, xtcp_sh("ip -n %s link set dev %s gso_max_segs 3",
			     self->t.name[CLI], dev));
	for (int f = 0; f < 2; f++) {
		int family = families[f];
		long long gso0 = xtcp_counter(&self->t, CLI, "GsoSkbs");
		unsigned int mss = 0;
		long max, count;
		int pkt;

		pkt = open_capture(_metadata, &self->t, dev);
		ASSERT_EQ(0, transfer(&self->t, family, SW_XFER, &mss));
		max = capture_max(pkt, family ? IPPROTO_TCP : self->t.ipproto,
				  &count);
		close(pkt);
		TH_LOG("%s over %s, gso_max_segs 3: %ld packets, longest %ld, mss %u",
		       family ? "tcp" : "xtcp", dev, count, max, mss);
		ASSERT_GT(mss, 0);
		/* IP header, transport header with every option. */
		EXPECT_LE(max, (long)(3 * mss + 20 + 60));
		if (!family) {
			EXPECT_GT(max, (long)(mss + 20 + 60));
			EXPECT_GT(xtcp_counter(&self->t, CLI, "GsoSkbs"), gso0);
		} else if (variant->veth) {
			EXPECT_GT(max, (long)(mss + 20 + 60));
		}
	}
}

TEST_HARNESS_MAIN
