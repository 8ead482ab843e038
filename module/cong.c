// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion control. The state machine reports what an ACK or a timer
 * told it (xtcp_cong_ack(), _dupack(), _rto()); the algorithm, behind
 * struct xtcp_cong_ops, decides cwnd and ssthresh and when to retransmit
 * early. NewReno: slow start with appropriate byte counting (RFC 3465,
 * L = 2), congestion avoidance, fast retransmit after three duplicate
 * ACKs and NewReno recovery with partial ACKs (RFC 5681, RFC 6582), and
 * after a timeout everything outstanding deemed lost (output.c resends it
 * as cwnd grows). A connection that negotiated SACK recovers as RFC 6675
 * says instead: recovery also starts when SACK shows SND.UNA lost, cwnd
 * is not inflated by duplicate ACKs but compared with the pipe (sack.c),
 * and output.c resends the holes the scoreboard deems lost, not just the
 * first one per partial ACK; after a timeout too, where what the peer
 * SACKed is not resent.
 */

#include <net/sock.h>

#include "cong.h"
#include "mib.h"
#include "output.h"
#include "proto.h"
#include "sack.h"
#include "xtcp.h"

static void xtcp_newreno_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->cwnd = XTCP_INIT_CWND * xs->mss;
	xs->ssthresh = XTCP_INFINITE_SSTHRESH;
	xs->cwnd_acked = 0;
	xs->recover = xs->snd_una;
	xs->rtx_seq = xs->snd_una;
	xs->ca_state = XTCP_CA_OPEN;
	xs->dupacks = 0;
}

/*
 * Bytes in the network: with SACK, RFC 6675's pipe (after a timeout the
 * scoreboard deems all that was outstanding lost); without, after a
 * timeout only what was resent since.
 */
static u32 xtcp_newreno_in_flight(const struct xtcp_sock *xs)
{
	if (xs->sack_ok)
		return xtcp_sack_pipe(xs);
	if (xs->ca_state == XTCP_CA_LOSS &&
	    xtcp_before(xs->rtx_seq, xs->snd_nxt))
		return xtcp_after(xs->rtx_seq, xs->snd_una) ?
		       xs->rtx_seq - xs->snd_una : 0;
	return xs->snd_nxt - xs->snd_una;
}

/* Slow start or congestion avoidance, for a window in use only. */
static void xtcp_newreno_grow(struct xtcp_sock *xs, u32 acked, u32 flight)
{
	/* Grow only a window in use (RFC 7661): not while the app idles. */
	if (flight + 2 * xs->mss < xs->cwnd)
		return;
	if (xs->cwnd < xs->ssthresh) {
		xs->cwnd += min(acked, 2U * xs->mss);	/* RFC 3465, L = 2 */
	} else {
		xs->cwnd_acked += acked;
		if (xs->cwnd_acked >= xs->cwnd) {
			xs->cwnd_acked -= xs->cwnd;
			xs->cwnd += xs->mss;
		}
	}
	xs->cwnd = min_t(u32, xs->cwnd, XTCP_INFINITE_SSTHRESH);
}

/*
 * New data was acknowledged: grow cwnd, or in recovery retransmit after a
 * partial ACK and leave recovery on a full one.
 */
static void xtcp_newreno_ack(struct sock *sk, u32 acked, u32 flight)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (xs->ca_state) {
	case XTCP_CA_RECOVERY:
		if (xtcp_before(xs->snd_una, xs->recover)) {
			/* Partial ACK: the next hole is lost too. */
			XTCP_INC_STATS(sock_net(sk), PARTIAL_ACKS);
			/*
			 * With SACK the scoreboard knows which (output.c);
			 * without any SACK information, NewReno's guess.
			 */
			if (xs->sack_ok) {
				if (!xs->sacked_out)
					xtcp_sack_retransmit(sk, true);
				return;
			}
			xtcp_retransmit_head(sk);
			xs->cwnd -= min(acked, xs->cwnd - xs->mss);
			if (acked >= xs->mss)
				xs->cwnd += xs->mss;
			return;
		}
		xs->cwnd = max(min(xs->ssthresh, xtcp_in_flight(xs) + xs->mss),
			       2U * xs->mss);
		xs->ca_state = XTCP_CA_OPEN;
		xs->dupacks = 0;
		return;
	case XTCP_CA_LOSS:
		if (!xtcp_before(xs->snd_una, xs->recover))
			xs->ca_state = XTCP_CA_OPEN;
		break;
	default:
		xs->ca_state = XTCP_CA_OPEN;
		break;
	}
	xs->dupacks = 0;
	xtcp_newreno_grow(xs, acked, flight);
}

/*
 * SACK's fast retransmit (RFC 6675 5): ssthresh and cwnd half the
 * flight, the first hole resent at once, the others as the pipe allows.
 */
static void xtcp_newreno_sack_recovery(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ssthresh = max((xs->snd_nxt - xs->snd_una) / 2, 2U * xs->mss);
	xs->cwnd = xs->ssthresh;
	xs->recover = xs->snd_nxt;
	xs->ca_state = XTCP_CA_RECOVERY;
	xs->fast_retrans++;
	XTCP_INC_STATS(sock_net(sk), FAST_RETRANS);
	XTCP_INC_STATS(sock_net(sk), SACK_RECOVERY);
	xtcp_sack_recovery_start(sk);
	xtcp_sack_retransmit(sk, true);
}

/*
 * A duplicate ACK: the third in a row starts fast retransmit, and so
 * does SACK showing the oldest segment lost.
 */
static void xtcp_newreno_dupack(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->dupacks = min_t(u32, xs->dupacks + 1, U8_MAX);
	switch (xs->ca_state) {
	case XTCP_CA_RECOVERY:
		if (!xs->sack_ok)
			xs->cwnd += xs->mss;	/* each one left the network */
		return;
	case XTCP_CA_LOSS:
		return;
	}
	if (xs->dupacks < XTCP_DUPACK_THRESHOLD && !xtcp_sack_head_lost(sk)) {
		xs->ca_state = XTCP_CA_DISORDER;
		return;
	}
	/* RFC 6582 3.2 step 2: not for losses of an earlier episode. */
	if (!xtcp_after(xs->snd_una, xs->recover) &&
	    xs->recover != xs->snd_una) {
		xs->ca_state = XTCP_CA_DISORDER;
		return;
	}
	if (xs->sack_ok) {
		xtcp_newreno_sack_recovery(sk);
		return;
	}
	xs->ssthresh = max(xtcp_in_flight(xs) / 2, 2U * xs->mss);
	xs->recover = xs->snd_nxt;
	xs->cwnd = xs->ssthresh + XTCP_DUPACK_THRESHOLD * xs->mss;
	xs->ca_state = XTCP_CA_RECOVERY;
	xs->fast_retrans++;
	XTCP_INC_STATS(sock_net(sk), FAST_RETRANS);
	xtcp_retransmit_head(sk);
}

/*
 * Halve ssthresh (once per loss episode), one segment of cwnd; everything
 * unacknowledged is deemed lost. With SACK the flight halved is all that
 * is outstanding (RFC 5681 FlightSize), SACKed or not.
 */
static void xtcp_newreno_loss(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 flight = xs->sack_ok ? xs->snd_nxt - xs->snd_una :
		     xtcp_in_flight(xs);

	if (xs->ca_state != XTCP_CA_LOSS || !xs->retransmits)
		xs->ssthresh = max(flight / 2, 2U * xs->mss);
	xs->cwnd = xs->mss;
	xs->cwnd_acked = 0;
	xs->ca_state = XTCP_CA_LOSS;
	xs->recover = xs->snd_nxt;
	xs->rtx_seq = xs->snd_una;
	xs->dupacks = 0;
}

static const struct xtcp_cong_ops xtcp_newreno = {
	.name		= "newreno",
	.init		= xtcp_newreno_init,
	.ack		= xtcp_newreno_ack,
	.dupack		= xtcp_newreno_dupack,
	.loss		= xtcp_newreno_loss,
	.in_flight	= xtcp_newreno_in_flight,
};

/* The algorithms, and the names they answer to (Linux calls NewReno "reno"). */
static const struct {
	const char *name;
	const struct xtcp_cong_ops *ops;
} xtcp_cong_names[] = {
	{ "newreno", &xtcp_newreno },
	{ "reno", &xtcp_newreno },
};

const struct xtcp_cong_ops *xtcp_cong_find(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(xtcp_cong_names); i++)
		if (!strcmp(name, xtcp_cong_names[i].name))
			return xtcp_cong_names[i].ops;
	return NULL;
}

/* XTCP_CONGESTION: a synchronized connection restarts with @ops at once. */
void xtcp_cong_set(struct sock *sk, const struct xtcp_cong_ops *ops)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (xs->ca_ops == ops)
		return;
	WRITE_ONCE(xs->ca_ops, ops);
	ops->init(sk);
}

/* Start the socket's algorithm, NewReno unless XTCP_CONGESTION chose. */
void xtcp_cong_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ca_ops)
		xs->ca_ops = &xtcp_newreno;
	xs->ca_ops->init(sk);
}

void xtcp_cong_ack(struct sock *sk, u32 acked, u32 flight)
{
	xtcp_sk(sk)->ca_ops->ack(sk, acked, flight);
}

void xtcp_cong_dupack(struct sock *sk)
{
	xtcp_sk(sk)->ca_ops->dupack(sk);
}

/* The retransmission timer expired with data outstanding: count, react. */
void xtcp_cong_rto(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->rto_count++;
	XTCP_INC_STATS(sock_net(sk), RTO_TIMEOUTS);
	xtcp_sack_rto(sk);
	xs->ca_ops->loss(sk);
	xtcp_sack_update(sk);
}

u32 xtcp_in_flight(const struct xtcp_sock *xs)
{
	return xs->ca_ops->in_flight(xs);
}
