/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffer autotuning and the sender's clocks (tune.c). The socket is locked.
 */
#ifndef _XTCP_TUNE_H
#define _XTCP_TUNE_H

#include <linux/types.h>

struct sock;

/* What holds the sender, in precedence order (TCP's chrono types). */
enum {
	XTCP_CHRONO_NONE,	/* nothing queued: not measured */
	XTCP_CHRONO_BUSY,	/* sending, or held by the congestion window */
	XTCP_CHRONO_RWND,	/* held by the peer's receive window */
	XTCP_CHRONO_SNDBUF,	/* the writer waits for send buffer */
	XTCP_CHRONO_MAX = XTCP_CHRONO_SNDBUF,
};

void xtcp_buf_init_sock(struct sock *sk);
void xtcp_buf_init_transfer(struct sock *sk);
u32 xtcp_rcvbuf_max(const struct sock *sk);
void xtcp_sndbuf_expand(struct sock *sk);
void xtcp_rcv_rtt_measure(struct sock *sk);
void xtcp_rcv_space_adjust(struct sock *sk);

void xtcp_chrono_start(struct sock *sk, u8 type);
void xtcp_chrono_stop(struct sock *sk, u8 type);
void xtcp_chrono_read(const struct sock *sk, u64 *busy, u64 *rwnd,
		      u64 *sndbuf);

#endif /* _XTCP_TUNE_H */
