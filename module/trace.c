// SPDX-License-Identifier: GPL-2.0
/*
 * The tracepoints' one instantiation (CREATE_TRACE_POINTS), and helpers
 * that turn a socket into the raw fields the events take.
 */

#include <net/inet_sock.h>
#include <net/sock.h>

#include "proto.h"
#include "xtcp.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

void xtcp_trace_state(const struct sock *sk, int oldstate, int newstate)
{
	trace_xtcp_state(sk, sk->sk_rcv_saddr, htons(sk->sk_num),
			 sk->sk_daddr, sk->sk_dport, oldstate, newstate);
}

/* After a timeout of @sk resent the oldest unacknowledged segment. */
void xtcp_trace_retransmit(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	const struct sk_buff *skb;
	int kind;
	u32 seq;

	if (!trace_xtcp_retransmit_enabled())
		return;
	if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV) {
		kind = sk->sk_state == TCP_SYN_SENT ? XTCP_RETRANS_SYN :
						      XTCP_RETRANS_SYNACK;
		seq = xs->iss;
	} else {
		skb = skb_peek(&sk->sk_write_queue);
		if (!skb)
			return;
		kind = XTCP_SKB_CB(skb)->flags & XTCP_FLAG_FIN ?
		       XTCP_RETRANS_FIN : XTCP_RETRANS_DATA;
		seq = XTCP_SKB_CB(skb)->seq;
	}
	trace_xtcp_retransmit(sk->sk_rcv_saddr, htons(sk->sk_num),
			      sk->sk_daddr, sk->sk_dport, seq, kind,
			      xs->backoff, xs->rto_us / USEC_PER_MSEC);
}

/* After the loss probe timer of @sk sent @len bytes at @seq. */
void xtcp_trace_loss_probe(const struct sock *sk, u32 seq, u32 len,
			   bool resent)
{
	trace_xtcp_loss_probe(sk->sk_rcv_saddr, htons(sk->sk_num),
			      sk->sk_daddr, sk->sk_dport, seq, len, resent);
}

void xtcp_trace_reset_abort(const struct sock *sk)
{
	trace_xtcp_reset_send(sk->sk_rcv_saddr, htons(sk->sk_num),
			      sk->sk_daddr, sk->sk_dport, XTCP_RST_ABORT,
			      sk->sk_state);
}

void xtcp_trace_reset_recv(const struct sock *sk, int err)
{
	trace_xtcp_reset_recv(sk->sk_rcv_saddr, htons(sk->sk_num),
			      sk->sk_daddr, sk->sk_dport, sk->sk_state, err);
}
