/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Congestion control behind one small ops structure, shaped like Linux's
 * struct tcp_congestion_ops: the receive path and the timers report
 * events, the algorithm owns cwnd, ssthresh and ca_state. NewReno
 * (RFC 5681, RFC 6582) is the one algorithm today; another is a second
 * struct xtcp_cong_ops in cong.c with its names in xtcp_cong_names[], which
 * XTCP_CONGESTION (TCP_CONGESTION) chooses from.
 */
#ifndef _XTCP_CONG_H
#define _XTCP_CONG_H

#include <linux/types.h>

struct sock;
struct xtcp_sock;

struct xtcp_cong_ops {
	const char *name;
	/* Before the handshake, and again when the connection is synchronized. */
	void (*init)(struct sock *sk);
	/* @acked new bytes were acknowledged; @flight were in flight before. */
	void (*ack)(struct sock *sk, u32 acked, u32 flight);
	/* An ACK that acknowledged nothing new, with data outstanding. */
	void (*dupack)(struct sock *sk);
	/* The retransmission timer expired with data outstanding. */
	void (*loss)(struct sock *sk);
	/* Bytes in the network: sent, not acknowledged, not deemed lost. */
	u32 (*in_flight)(const struct xtcp_sock *xs);
};

const struct xtcp_cong_ops *xtcp_cong_find(const char *name);
void xtcp_cong_set(struct sock *sk, const struct xtcp_cong_ops *ops);
void xtcp_cong_init(struct sock *sk);
void xtcp_cong_ack(struct sock *sk, u32 acked, u32 flight);
void xtcp_cong_dupack(struct sock *sk);
void xtcp_cong_rto(struct sock *sk);
u32 xtcp_in_flight(const struct xtcp_sock *xs);

#endif /* _XTCP_CONG_H */
