/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The listener's side of the handshake: light SYN_RCVD request entries in
 * a SYN queue, and the accept queue of children whose handshake completed.
 */
#ifndef _XTCP_REQUEST_H
#define _XTCP_REQUEST_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/refcount.h>

struct sock;
struct sk_buff;

/*
 * Not a socket: what is needed to retransmit the SYN-ACK and to build the
 * child. Lives on its listener's syn_queue (under queue_lock), which holds
 * one reference; its armed timer holds another. Holds its listener.
 */
struct xtcp_request {
	struct list_head	node;
	struct hlist_node	hnode;		/* in the listener's syn_hash */
	struct hrtimer		timer;
	refcount_t		refcnt;
	bool			queued;		/* on the syn_queue */
	bool			acked;		/* a bare ACK came during deferral */
	bool			cookie;		/* on the stack, from a SYN cookie */
	u8			retransmits;
	u16			peer_mss;
	u16			snd_wnd;
	u16			mss;
	s8			peer_wscale;	/* -1: the peer sent none */
	u8			rcv_wscale;
	u16			rcv_wnd;	/* what the SYN-ACK offers */
	bool			ts_ok;		/* timestamps used (options.c) */
	bool			sack_ok;	/* the SYN offered SACK-permitted */
	u32			ts_recent;	/* the SYN's TSval */
	struct sock		*listener;
	__be32			laddr;
	__be32			raddr;
	__be16			lport;
	__be16			rport;
	u32			iss;
	u32			irs;
	u32			last_oow_ack;	/* jiffies; output.c's rate limit */
	ktime_t			expires;
};

int xtcp_syn_hash_size(struct sock *lsk, int backlog);
void xtcp_listen_rcv(struct sock *lsk, struct sk_buff *skb);
void xtcp_listen_stop(struct sock *lsk);
bool xtcp_request_icmp(struct sock *lsk, __be32 laddr, __be16 lport,
		       __be32 raddr, __be16 rport, u32 seq, bool abort);
struct sock *xtcp_accept_dequeue(struct sock *lsk);

/*
 * A walk of @lsk's SYN queue, oldest first, for /proc; any context, the
 * listener kept from being freed by the caller (RCU or a reference).
 * Returns the entry after @prev (the first if @prev is NULL) with a
 * reference the caller owns until it passes the entry back as @prev or
 * to xtcp_request_release(); drops the reference on @prev. NULL at the
 * end of the queue, or if @prev left it meanwhile (the rest of the queue
 * is then not walked). An entry's addresses and ports never change;
 * expires and retransmits are read with READ_ONCE().
 */
struct xtcp_request *xtcp_request_next(struct sock *lsk,
				       struct xtcp_request *prev);
void xtcp_request_release(struct xtcp_request *req);

#endif /* _XTCP_REQUEST_H */
