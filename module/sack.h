/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Selective acknowledgment (RFC 2018), D-SACK (RFC 2883) and the
 * sender's scoreboard for SACK-based loss recovery (RFC 6675): what the
 * receive path, the ACK path, the writer of options and congestion
 * control call. The retransmissions themselves are output.c's.
 */
#ifndef _XTCP_SACK_H
#define _XTCP_SACK_H

#include <linux/types.h>

struct net;
struct sk_buff;
struct sock;
struct xtcp_opts;
struct xtcp_skb_cb;
struct xtcp_sock;

/* Negotiation: SYN, SYN-ACK, a listener's SYN. */
bool xtcp_sack_enabled(const struct net *net);
void xtcp_sack_connect(struct sock *sk);
void xtcp_sack_synack(struct sock *sk, const struct xtcp_opts *opts);
bool xtcp_sack_syn_ok(struct net *net, const struct xtcp_opts *opts);
void xtcp_sack_init(struct sock *sk);

/* Receiver: what the out-of-order queue holds, and duplicates. */
void xtcp_sack_ooo_seen(struct sock *sk, u32 seq);
void xtcp_sack_dsack(struct sock *sk, u32 start, u32 end);
void xtcp_sack_out(struct sock *sk, struct xtcp_opts *opts);

/* Sender: the scoreboard. */
bool xtcp_sack_tag(struct sock *sk, u32 ack, const struct xtcp_opts *opts);
void xtcp_sack_update(struct sock *sk);
void xtcp_rack_delivered(struct sock *sk, const struct xtcp_skb_cb *cb);
void xtcp_sack_check_reneging(struct sock *sk);
void xtcp_sack_rto(struct sock *sk);
void xtcp_sack_recovery_start(struct sock *sk);
bool xtcp_sack_head_lost(const struct sock *sk);
u32 xtcp_sack_pipe(const struct xtcp_sock *xs);

#endif /* _XTCP_SACK_H */
