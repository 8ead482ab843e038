/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The socket's timer, driven by protocol events. All hrtimers of a full
 * socket live here: the rest of the module says what happened
 * (xtcp_timer_syn_sent(), xtcp_timer_ack_received(), ...) and this file
 * decides what to arm. Callers hold the socket lock.
 */
#ifndef _XTCP_TIMER_H
#define _XTCP_TIMER_H

#include <linux/types.h>

struct net;
struct sock;

void xtcp_timer_init(struct sock *sk);
void xtcp_timer_stop(struct sock *sk);
void xtcp_timer_release_cb(struct sock *sk);
s64 xtcp_timer_expires_ms(const struct sock *sk);

u32 xtcp_rto_backoff_us(const struct xtcp_sysctl *sc, u32 base_us, u8 backoff);
void xtcp_timer_reset(struct sock *sk);

void xtcp_timer_syn_sent(struct sock *sk);
void xtcp_timer_data_sent(struct sock *sk);
void xtcp_timer_window_closed(struct sock *sk);
void xtcp_timer_ack_received(struct sock *sk);
void xtcp_timer_fin_wait2(struct sock *sk);
void xtcp_timer_segment_in(struct sock *sk);
void xtcp_timer_keepalive_changed(struct sock *sk);
void xtcp_timer_established(struct sock *sk);
void xtcp_timer_rtt_sample(struct sock *sk, u32 us);
void xtcp_timer_delack(struct sock *sk);
void xtcp_timer_ack_sent(struct sock *sk);

#endif /* _XTCP_TIMER_H */
