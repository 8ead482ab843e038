// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit checksum offload (issue 11, item 15). xtcp hands a segment to
 * the device with CHECKSUM_PARTIAL only if the device can checksum any
 * protocol (NETIF_F_HW_CSUM, ethtool's tx-checksum-ip-generic); otherwise
 * it computes the checksum itself. A device with only NETIF_F_IP_CSUM
 * would otherwise be handed our segment by the stack's fallback, which
 * recognises the checksum by its offset alone (TCP's = xtcp's).
 *
 * No virtual device offers IP_CSUM without HW_CSUM, so the test turns the
 * client's veth's tx-checksum-ip-generic (or all tx checksumming) off, and
 * checks, while 512 KiB go from the client to the server:
 *   - the bytes arrive exactly, the server counts no InCsumErrors;
 *   - every xtcp segment captured leaving the client's veth (a packet
 *     socket with PACKET_AUXDATA) carries a complete, correct checksum:
 *     none is CHECKSUM_PARTIAL (TP_STATUS_CSUMNOTREADY);
 *   - the stack's software fallback, skb_checksum_help() (counted with a
 *     kprobe), ran for fewer than a tenth of the segments sent: xtcp did
 *     the work. Before the fix it ran for every one.
 * With the feature on (the default) the same transfer must still use the
 * offload: data segments leave CHECKSUM_PARTIAL. Then they may leave as
 * GSO skbs (gso_test), captured whole: each counts as the wire segments
 * it stands for. With the checksum feature off the stack cuts them first
 * (xtcp's offload), and each segment's checksum is checked.
 */
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define XFER		(512 * 1024)
#define TRACEFS		"/sys/kernel/tracing"
#define KPROBE		"xtcp_csum_help"

FIXTURE(csum)
{
	struct xtcp_topo t;
	int pkt;
	bool kprobe;
};

FIXTURE_VARIANT(csum)
{
	const char *ethtool;	/* what to turn off on v0, or NULL */
	bool offload;		/* expect CHECKSUM_PARTIAL segments */
};

FIXTURE_VARIANT_ADD(csum, hw_csum_on)
{
	.ethtool = NULL,
	.offload = true,
};

FIXTURE_VARIANT_ADD(csum, generic_off)
{
	.ethtool = "tx-checksum-ip-generic off",
	.offload = false,
};

FIXTURE_VARIANT_ADD(csum, tx_off)
{
	.ethtool = "tx off",
	.offload = false,
};

static int tracefs_write(const char *file, const char *line, bool append)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), TRACEFS "/%s", file);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -1;
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		ret = -1;
	close(fd);
	return ret;
}

/* A kprobe on skb_checksum_help(), enabled; false if unavailable. */
static bool kprobe_setup(void)
{
	struct stat st;

	if (stat(TRACEFS "/kprobe_events", &st))
		xtcp_sh("mount -t tracefs tracefs " TRACEFS);
	tracefs_write("kprobe_events", "-:xtcp_csum_test/" KPROBE "\n", true);
	return !tracefs_write("kprobe_events",
			      "p:xtcp_csum_test/" KPROBE " skb_checksum_help\n",
			      true) &&
	       !tracefs_write("events/xtcp_csum_test/" KPROBE "/enable", "1",
			      false);
}

static void kprobe_teardown(void)
{
	tracefs_write("events/xtcp_csum_test/" KPROBE "/enable", "0", false);
	tracefs_write("kprobe_events", "-:xtcp_csum_test/" KPROBE "\n", true);
}

/* How often skb_checksum_help() ran since the probe was set; -1. */
static long long kprobe_hits(void)
{
	char name[128], line[256];
	long long hits = -1, n;
	FILE *f = fopen(TRACEFS "/kprobe_profile", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %127s %lld", name, &n) == 2 &&
		    !strcmp(name, KPROBE))
			hits = n;
	fclose(f);
	return hits;
}

FIXTURE_SETUP(csum)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
	};
	int one = 1, big = 16 << 20;

	self->pkt = -1;
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	if (variant->ethtool) {
		ASSERT_EQ(0, xtcp_sh("ip netns exec %s ethtool -K v0 %s",
				     self->t.name[CLI], variant->ethtool))
			TH_LOG("ethtool -K v0 %s failed", variant->ethtool);
		ASSERT_EQ(0, xtcp_sh("ip netns exec %s ethtool -k v0 | grep -q 'tx-checksum-ip-generic: off'",
				     self->t.name[CLI]));
	}

	/* Everything leaving the client's veth, with its checksum status. */
	ASSERT_EQ(0, xtcp_topo_enter(&self->t, CLI));
	self->pkt = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ll.sll_ifindex = if_nametoindex("v0");
	xtcp_topo_leave(&self->t);
	ASSERT_GE(self->pkt, 0);
	ASSERT_GT(ll.sll_ifindex, 0);
	ASSERT_EQ(0, setsockopt(self->pkt, SOL_SOCKET, SO_RCVBUFFORCE, &big,
				sizeof(big)));
	ASSERT_EQ(0, setsockopt(self->pkt, SOL_PACKET, PACKET_AUXDATA, &one,
				sizeof(one)));
	ASSERT_EQ(0, bind(self->pkt, (struct sockaddr *)&ll, sizeof(ll)));

	self->kprobe = kprobe_setup();
	if (!self->kprobe)
		TH_LOG("no kprobe on skb_checksum_help: that check is skipped");
}

FIXTURE_TEARDOWN(csum)
{
	if (self->kprobe)
		kprobe_teardown();
	if (self->pkt >= 0)
		close(self->pkt);
	xtcp_topo_teardown(&self->t);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 11));
}

static void *sender(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t buf[XFER];
	size_t i, off = 0;
	ssize_t n;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(i);
	while (off < sizeof(buf)) {
		n = send(fd, buf + off, sizeof(buf) - off, MSG_NOSIGNAL);
		if (n <= 0)
			return (void *)1;
		off += n;
	}
	shutdown(fd, SHUT_WR);
	return NULL;
}

struct capture {
	long segs;		/* xtcp segments seen leaving v0 */
	long partial;		/* of those, CHECKSUM_PARTIAL */
	long bad;		/* complete but wrong checksum */
};

/* Read every frame the packet socket holds. */
static void capture_read(int fd, int ipproto, struct capture *c)
{
	uint8_t frame[2048], ctl[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	struct sockaddr_ll from;

	for (;;) {
		struct iovec iov = { frame, sizeof(frame) };
		struct msghdr m = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl, .msg_controllen = sizeof(ctl),
		};
		const struct iphdr *ip = (const struct iphdr *)(frame + ETH_HLEN);
		const struct tpacket_auxdata *aux = NULL;
		struct in_addr src, dst;
		struct cmsghdr *cm;
		ssize_t n;
		size_t len;
		long w;

		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		if (from.sll_pkttype != PACKET_OUTGOING ||
		    n < ETH_HLEN + (ssize_t)sizeof(*ip) ||
		    ntohs(*(uint16_t *)(frame + 12)) != ETH_P_IP ||
		    ip->protocol != ipproto)
			continue;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_PACKET &&
			    cm->cmsg_type == PACKET_AUXDATA)
				aux = (const void *)CMSG_DATA(cm);
		/*
		 * A GSO skb (gso_test) leaves the veth whole: count the
		 * wire segments it stands for, of at most the MTU (1500).
		 */
		len = ntohs(ip->tot_len) - ip->ihl * 4;
		w = 1;
		if (ntohs(ip->tot_len) > 1500 &&
		    n >= ETH_HLEN + ip->ihl * 4 + 13) {
			size_t doff = (frame[ETH_HLEN + ip->ihl * 4 + 12] >> 4) * 4;
			size_t per = 1500 - ip->ihl * 4 - doff;

			w = (len - doff + per - 1) / per;
		}
		c->segs += w;
		if (aux && (aux->tp_status & TP_STATUS_CSUMNOTREADY)) {
			c->partial += w;
			continue;
		}
		if ((ssize_t)(ETH_HLEN + ip->ihl * 4 + len) > n) {
			c->bad++;
			continue;
		}
		src.s_addr = ip->saddr;
		dst.s_addr = ip->daddr;
		if (xtcp_seg_csum(src, dst, ipproto,
				  frame + ETH_HLEN + ip->ihl * 4, len))
			c->bad++;
	}
}

TEST_F_TIMEOUT(csum, transfer, 120)
{
	struct xtcp_topo *t = &self->t;
	long long csum0, err0, out0, hits0 = 0, hits = 0, out;
	static uint8_t buf[65536];
	struct capture cap = { 0 };
	size_t got = 0, i, wrong = 0;
	int cfd, afd, lfd;
	pthread_t th;
	void *ret;
	ssize_t n;

	csum0 = xtcp_counter(t, SRV, "InCsumErrors");
	err0 = xtcp_counter(t, SRV, "InErrs");
	out0 = xtcp_counter(t, CLI, "OutSegs");
	ASSERT_EQ(0, xtcp_pair(t, 0, &cfd, &afd, &lfd));
	if (self->kprobe)
		hits0 = kprobe_hits();

	ASSERT_EQ(0, pthread_create(&th, NULL, sender, &cfd));
	while ((n = recv(afd, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < (size_t)n; i++)
			wrong += buf[i] != pattern(got + i);
		got += n;
	}
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(NULL, ret);
	if (self->kprobe)
		hits = kprobe_hits() - hits0;
	out = xtcp_counter(t, CLI, "OutSegs") - out0;

	EXPECT_EQ(XFER, got);
	EXPECT_EQ(0, wrong);
	EXPECT_EQ(0, xtcp_counter(t, SRV, "InCsumErrors") - csum0);
	EXPECT_EQ(0, xtcp_counter(t, SRV, "InErrs") - err0);

	capture_read(self->pkt, t->ipproto, &cap);
	TH_LOG("%s: %lld segments sent, %ld captured, %ld CHECKSUM_PARTIAL, %ld bad, skb_checksum_help() %lld",
	       variant->ethtool ?: "defaults", out, cap.segs, cap.partial,
	       cap.bad, self->kprobe ? hits : -1);
	EXPECT_GE(cap.segs, XFER / 1500);
	EXPECT_EQ(0, cap.bad);
	if (variant->offload) {
		/* The data went out CHECKSUM_PARTIAL, for veth to carry. */
		EXPECT_GE(cap.partial, XFER / 1500 / 2);
	} else {
		EXPECT_EQ(0, cap.partial);
		if (self->kprobe)
			EXPECT_LT(hits * 10, out);
	}

	close(cfd);
	close(afd);
	close(lfd);
	/* Without the probe the check that fails without the fix is gone. */
	if (!variant->offload && !self->kprobe)
		SKIP(return, "no kprobe on skb_checksum_help()");
}

TEST_HARNESS_MAIN
