/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wire format, and the protocol's named constants: a TCP-shaped header
 * carried directly over IPv4 with IP protocol number "ipproto".
 * Documentation/protocol.md describes it byte by byte; the layout equals
 * TCP's so that packet dumps read naturally.
 */
#ifndef _XTCP_PROTO_H
#define _XTCP_PROTO_H

#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/skbuff.h>
#include <linux/types.h>
#include <net/ip.h>

struct xtcphdr {
	__be16	source;
	__be16	dest;
	__be32	seq;
	__be32	ack_seq;
	__u8	doff_res;	/* header length in 32-bit words, high nibble */
	__u8	flags;		/* XTCP_FLAG_* */
	__be16	window;		/* receive window in bytes, unscaled */
	__sum16	check;		/* over the IPv4 pseudo-header and segment */
	__be16	reserved;	/* TCP's urgent pointer; sent as zero */
};

#define XTCP_FLAG_FIN	0x01
#define XTCP_FLAG_SYN	0x02
#define XTCP_FLAG_RST	0x04
#define XTCP_FLAG_PSH	0x08
#define XTCP_FLAG_ACK	0x10

#define XTCP_HDR_LEN		((int)sizeof(struct xtcphdr))
#define XTCP_MAX_HDR_LEN	60
/* Option kinds, as TCP's: end of list, no-op, maximum segment size. */
#define XTCP_OPT_EOL		0
#define XTCP_OPT_NOP		1
#define XTCP_OPT_MSS		2
#define XTCP_OPT_MSS_LEN	4
#define XTCP_OPT_WSCALE		3	/* window scale: kind, 3, shift */
#define XTCP_OPT_WSCALE_LEN	3
#define XTCP_OPT_SACK_PERM	4	/* SACK-permitted: kind, 2 */
#define XTCP_OPT_SACK_PERM_LEN	2
#define XTCP_WSCALE_MAX		14	/* RFC 7323 */
#define XTCP_OPT_TS		8	/* timestamps: kind, 10, TSval, TSecr */
#define XTCP_OPT_TS_LEN		10
#define XTCP_OPT_TS_ALIGNED	12	/* with two NOPs before it */
#define XTCP_OPT_SACK_PERM	4	/* SACK permitted (RFC 2018): kind, 2 */
#define XTCP_OPT_SACK_PERM_LEN	2
#define XTCP_OPT_SACK		5	/* SACK: kind, 2 + 8n, n blocks of 2 seqs */
#define XTCP_OPT_SACK_BASE	2	/* the kind and length bytes */
#define XTCP_OPT_SACK_BLOCK	8	/* left edge, right edge */
#define XTCP_OPT_SPACE		40	/* the most options a header takes */
/* SACK blocks a segment carries at most: 4 fit in 40 bytes, 3 beside TS. */
#define XTCP_NUM_SACKS		4
/* RFC 7323 5.5: a TS.Recent idle this long (24 days, s) no longer rejects. */
#define XTCP_PAWS_IDLE_S	(24 * 24 * 60 * 60)
/* An RTT sample from an echoed timestamp is believed below this (ms). */
#define XTCP_TS_RTT_MAX_MS	60000

#define XTCP_WND_MAX		65535	/* the 16-bit field; more with a scale */
#define XTCP_USER_MSS_MAX	32767	/* XTCP_MAXSEG's limit, as TCP's */

/*
 * The protocol's named constants, in one place (as include/net/tcp.h).
 *
 * Segment sizes. Without segmentation offload every segment is one linear
 * skb; keeping the payload under 16 KiB keeps allocations small.
 */
#define XTCP_SEG_MAX		15360	/* largest payload per segment */
#define XTCP_MSS_DEFAULT	536	/* RFC 9293: when the peer sends no MSS */
#define XTCP_MSS_MIN		88	/* smaller MSS options are ignored, as TCP's */
#define XTCP_MTU_FALLBACK	576	/* IPv4's minimum reassembly size, RFC 791 */
/* Small writes, and small segments received, share skbs up to this. */
#define XTCP_COALESCE_MAX	2048
/* Out-of-order data is collapsed into skbs of at most one page each. */
#define XTCP_COLLAPSE_SIZE	SKB_WITH_OVERHEAD(PAGE_SIZE)

/* Congestion control (RFC 5681, 6582, 6928). */
#define XTCP_INIT_CWND		10	/* segments */
#define XTCP_INFINITE_SSTHRESH	0x7fffffff
#define XTCP_INFO_INFINITE_SSTHRESH 0x7fffffff /* TCP_INFO's "none", in segments */
#define XTCP_DUPACK_THRESHOLD	3	/* duplicate ACKs that start fast retransmit */

/* Retransmission (RFC 6298). */
#define XTCP_RTO_GRANULARITY_US	1000	/* G: the floor of 4 x RTTVAR */
/* RFC 8985 7.2: the loss probe timeout's floor, and WCDelAckT. */
#define XTCP_TLP_MIN_US		10000
#define XTCP_TLP_DELACK_US	200000
/* The min RTT is the lowest sample of this window (jiffies), as TCP's. */
#define XTCP_MIN_RTT_WIN	(300 * HZ)
#define XTCP_BACKOFF_MAX	16	/* doublings of the RTO, sockets and requests */
/* Data and FIN give up after this many retransmissions (TCP's retries2). */
#define XTCP_DATA_RETRIES	15

/*
 * RFC 5961 7: challenge ACKs a second, per namespace, on average (the
 * challenge_ack_limit sysctl's default; each second's budget is drawn
 * from [limit/2, limit/2 + limit)). INT_MAX: no namespace budget.
 */
#define XTCP_CHALLENGE_ACK_LIMIT	1000
/*
 * At most one ACK in this many ms per socket, TIME_WAIT bucket or request
 * entry in reply to unacceptable segments (invalid_ratelimit_ms's
 * default, as net.ipv4.tcp_invalid_ratelimit).
 */
#define XTCP_INVALID_RATELIMIT_MS	500

/*
 * SYN cookies: the clock a cookie carries counts periods of this many
 * seconds; a cookie of the current or the previous period is accepted,
 * so one lives at most twice as long.
 */
#define XTCP_COOKIE_PERIOD_S	64
#define XTCP_COOKIE_LIFETIME_S	(2 * XTCP_COOKIE_PERIOD_S)

/* Limits of socket options and sysctls. */
/* XTCP_SYNCNT, XTCP_KEEPCNT, syn_retries and keepalive_probes at most */
#define XTCP_RETRIES_MAX	127
#define XTCP_SYNACK_RETRIES_MAX	255
#define XTCP_MAX_KEEP_S		32767	/* XTCP_KEEPIDLE, XTCP_KEEPINTVL, as TCP's */
#define XTCP_LINGER2_MAX_S	120	/* XTCP_LINGER2, as TCP's TCP_FIN_TIMEOUT_MAX */
#define XTCP_SYSCTL_MS_MAX	600000	/* the millisecond sysctls: ten minutes */
#define XTCP_BACKLOG_MAX	65535	/* max_syn_backlog */
#define XTCP_DELACK_MAX_MS	1000	/* delack_ms; RFC 9293 allows 500 */
/*
 * The rmem/wmem sysctls' bounds (bytes). A socket's buffer stays in
 * SOCK_MIN_RCVBUF..INT_MAX / 2 anyway; twice the maximum must fit an int.
 */
#define XTCP_BUF_MIN		4096
#define XTCP_BUF_MAX		(INT_MAX / 4)

static inline struct xtcphdr *xtcp_hdr(const struct sk_buff *skb)
{
	return (struct xtcphdr *)skb_transport_header(skb);
}

static inline unsigned int xtcp_hdr_doff(const struct xtcphdr *th)
{
	return (th->doff_res >> 4) * 4;
}

/*
 * Per-skb state. IPv4 keeps its own control block at the front of skb->cb
 * while a segment is inside IP, so ours comes after it.
 */
struct xtcp_skb_cb {
	struct inet_skb_parm h4;
	u32	seq;		/* first sequence number */
	u32	end_seq;	/* seq + payload + SYN + FIN */
	u32	ack_seq;	/* received segments only */
	u32	tx_us;		/* queued segments: last sent, us (RTT) */
	u16	window;		/* received segments only, unscaled */
	u8	flags;		/* XTCP_FLAG_* */
	/* Queued segments only: */
	u8	retrans:1,	/* ever retransmitted (Karn) */
		sacked:1,	/* the peer SACKed all of it (sack.c) */
		lost:1,		/* deemed lost by SACK (RFC 6675 IsLost) */
		rtx_sack:1,	/* retransmitted in this SACK recovery */
		probe:1;	/* last sent as a tail loss probe */
};

#define XTCP_SKB_CB(skb)	((struct xtcp_skb_cb *)&((skb)->cb[0]))

/* Sequence-space comparisons, modulo 2^32. */
static inline bool xtcp_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

#define xtcp_after(a, b)	xtcp_before(b, a)

#endif /* _XTCP_PROTO_H */
