/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TIME_WAIT buckets: what is left of a connection after both FINs, small
 * enough to keep many of them for 2 x MSL without keeping the socket.
 */
#ifndef _XTCP_TIMEWAIT_H
#define _XTCP_TIMEWAIT_H

#include <linux/timer.h>
#include <linux/refcount.h>

#include "hash.h"

struct sk_buff;
struct seq_file;

/*
 * A bucket is referenced by the tables (one reference for both) and by its
 * armed timer. The timer and the RCU head are never live at the same
 * time: the last reference goes only after the timer can no longer run.
 * Its size is what TIME_WAIT costs: XTCP_TW_BUCKET_SIZE bytes on x86-64
 * (without lockdep), as the timer is a timer_list (2 x MSL needs no
 * nanoseconds), not a 64-byte hrtimer. xtcp_tw_init() checks it.
 */
#define XTCP_TW_BUCKET_SIZE	120

struct xtcp_tw {
	struct xtcp_ehnode	eh;
	struct hlist_node	bind_node;
	refcount_t		refcnt;
	u32			rcv_nxt;
	u32			snd_nxt;
	u32			last_oow_ack;	/* jiffies; output.c's rate limit */
	/*
	 * Its socket's SO_BINDTODEVICE: the bucket answers only segments
	 * that arrive on that device, as the socket did (hash.c), and its
	 * ACKs leave through it. Routing by mark is not kept: room for it
	 * would cost a bucket 8 more bytes.
	 */
	int			bound_dev_if;
	/*
	 * TS.Recent, the peer's last TSval. It is taken only when the
	 * timer is (re)started, so its age needs no stamp of its own: it is
	 * the time since then (xtcp_tw_reusable()), and always below 2 x MSL
	 * (at most 20 minutes), far below PAWS's 24 days (options.c).
	 */
	u32			ts_recent;
	union {
		struct timer_list timer;	/* 2 x MSL, jiffies as TCP's */
		struct rcu_head	rcu;
	};
};

int xtcp_tw_init(void);
void xtcp_tw_exit(void);

void xtcp_time_wait(struct sock *sk);
struct sock *xtcp_tw_rcv(struct xtcp_tw *tw, struct sk_buff *skb);
void xtcp_tw_put(struct xtcp_tw *tw);
void xtcp_tw_purge(struct net *net);
s64 xtcp_tw_expires_ms(struct xtcp_tw *tw);
bool xtcp_tw_reusable(const struct xtcp_tw *tw);
void xtcp_tw_take_over(struct xtcp_tw *tw);

#endif /* _XTCP_TIMEWAIT_H */
