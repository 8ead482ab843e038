/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building and sending segments: from a full socket through
 * ip_queue_xmit(), and without one (SYN-ACKs of request entries, RSTs,
 * TIME_WAIT ACKs) with an IP header built here, on a route looked up for
 * the socket they speak for (xtcp_ctl_route(), xtcp_ctl_xmit()).
 */
#ifndef _XTCP_OUTPUT_H
#define _XTCP_OUTPUT_H

#include <linux/netdevice.h>
#include <linux/types.h>

#include "proto.h"

struct flowi4;
struct net;
struct rtable;
struct sock;
struct sk_buff;

/*
 * Everything a segment sent without a socket needs. @oif and @mark route
 * it (flowi4), as the socket it answers for would be routed: a reply
 * for a socket bound to a device leaves through that device. @sk, if
 * set, is a listener whose IP policy a SYN-ACK takes (TOS, TTL,
 * IP_MTU_DISCOVER, mark, priority), as TCP's SYN-ACK takes its
 * listener's; NULL: the namespace's control socket's (no TOS, the
 * route's TTL, path MTU discovery), with @mark. xtcp_ctl_xmit() says
 * when DF is set whatever the policy.
 */
struct xtcp_ctl_seg {
	__be32	saddr;
	__be32	daddr;
	__be16	sport;
	__be16	dport;
	u32	seq;
	u32	ack;
	u16	window;
	u16	mss;	/* non-zero: add the MSS option */
	s8	wscale;	/* with mss: >= 0 adds the window scale option */
	u8	flags;
	bool	ts;	/* add a timestamp option: tsval, tsecr */
	bool	sack_ok;	/* add SACK-permitted (a SYN-ACK) */
	u32	tsval;
	u32	tsecr;
	int	oif;	/* 0: any device */
	u32	mark;
	const struct sock *sk;
};

int xtcp_ctl_init(struct net *net);
void xtcp_ctl_exit(struct net *net);
struct rtable *xtcp_ctl_route(struct net *net, const struct xtcp_ctl_seg *seg,
			      struct flowi4 *fl4);
void xtcp_ctl_xmit(struct net *net, const struct xtcp_ctl_seg *seg,
		   struct rtable *rt, const struct flowi4 *fl4);
void xtcp_ctl_send(struct net *net, const struct xtcp_ctl_seg *seg);
void xtcp_send_reset_reply(struct net *net, const struct sock *sk,
			   const struct sk_buff *skb);

/* Room for IP and link headers in front of every segment we build. */
#define XTCP_SKB_HEADROOM	(MAX_HEADER + XTCP_MAX_HDR_LEN)

struct xtcp_sock;

void xtcp_send_ack(struct sock *sk);
void xtcp_send_challenge_ack(struct sock *sk);
bool __xtcp_oow_rate_limited(struct net *net, u32 *last);
bool xtcp_oow_rate_limited(struct net *net, const struct sk_buff *skb,
			   u32 *last);
void xtcp_send_syn(struct sock *sk);
void xtcp_send_active_reset(struct sock *sk);
void xtcp_send_probe(struct sock *sk);
void xtcp_init_transfer(struct sock *sk);
/* What a push may do with a partial segment at the tail of the queue. */
enum xtcp_push {
	XTCP_PUSH_NORMAL,	/* Nagle and XTCP_CORK decide */
	XTCP_PUSH_MORE,		/* MSG_MORE: hold it */
	XTCP_PUSH_FORCE,	/* uncork, XTCP_NODELAY set: send it */
};

void __xtcp_push(struct sock *sk, enum xtcp_push how);

static inline void xtcp_push(struct sock *sk)
{
	__xtcp_push(sk, XTCP_PUSH_NORMAL);
}

static inline void xtcp_push_force(struct sock *sk)
{
	__xtcp_push(sk, XTCP_PUSH_FORCE);
}

bool xtcp_retransmit_head(struct sock *sk);
void xtcp_sack_retransmit(struct sock *sk, bool force);
bool xtcp_send_loss_probe(struct sock *sk);
bool xtcp_probe_window(struct sock *sk);
void xtcp_queue_fin(struct sock *sk);
u16 xtcp_mss_for_mtu(unsigned int mtu);
void xtcp_mtu_resegment(struct sock *sk);
u32 xtcp_gso_goal(struct sock *sk);
bool xtcp_split_sent(struct sock *sk);
/* Largest payload of one queued skb: an IP packet of at most 64 KiB. */
#define XTCP_GSO_MAX	(65535 - 60 - XTCP_MAX_HDR_LEN)
int xtcp_offload_register(void);
void xtcp_offload_unregister(void);

#endif /* _XTCP_OUTPUT_H */
