// SPDX-License-Identifier: GPL-2.0
/*
 * TCP's options on xtcp segments (RFC 9293 3.1, RFC 7323, RFC 2018): the
 * one parser and the one writer, and the timestamp option's state.
 *
 * Timestamps are offered on a SYN when the namespace's "timestamps"
 * sysctl is on and used only if both SYNs carry them. A connection that
 * uses them sends TSval (its clock) and TSecr (TS.Recent) on every
 * segment, takes RTT samples from echoed TSecr where sequence numbers
 * cannot give one (cong.c/timer.c's estimator, fed by state.c), and
 * rejects old duplicates by PAWS (RFC 7323 5): a segment whose TSval is
 * older than TS.Recent. RST is exempt from PAWS. A segment without the
 * option on such a connection is accepted, as Linux TCP does, rather
 * than dropped as RFC 7323 3.2 suggests.
 */

#include <linux/net.h>
#include <linux/siphash.h>
#include <linux/skbuff.h>
#include <linux/timekeeping.h>
#include <net/ip.h>
#include <net/sock.h>

#include "compat.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "proto.h"
#include "request.h"
#include "timer.h"
#include "xtcp.h"

/*
 * A SACK option of @olen bytes: whole blocks only, the first
 * XTCP_NUM_SACKS of them, as sent (validating them is sack.c's). A length
 * that is no whole number of blocks makes the option ignored.
 */
static void xtcp_opts_parse_sack(const u8 *opt, u8 olen,
				 struct xtcp_opts *opts)
{
	unsigned int n = (olen - XTCP_OPT_SACK_BASE) / XTCP_OPT_SACK_BLOCK;
	unsigned int i;

	if (olen < XTCP_OPT_SACK_BASE + XTCP_OPT_SACK_BLOCK ||
	    (olen - XTCP_OPT_SACK_BASE) % XTCP_OPT_SACK_BLOCK)
		return;
	n = min_t(unsigned int, n, XTCP_NUM_SACKS);
	for (i = 0; i < n; i++) {
		const u8 *b = opt + XTCP_OPT_SACK_BASE + i * XTCP_OPT_SACK_BLOCK;

		opts->sacks[i].start = get_unaligned_be32(b);
		opts->sacks[i].end = get_unaligned_be32(b + 4);
	}
	opts->nr_sacks = n;
}

void xtcp_opts_parse_th(const struct xtcphdr *th, struct xtcp_opts *opts)
{
	const u8 *opt = (const u8 *)(th + 1);
	int len = xtcp_hdr_doff(th) - XTCP_HDR_LEN;

	opts->mss = XTCP_MSS_DEFAULT;
	opts->wscale = -1;
	opts->ts = false;
	opts->sack_ok = false;
	opts->nr_sacks = 0;
	opts->tsval = 0;
	opts->tsecr = 0;
	while (len > 0) {
		u8 kind = opt[0], olen;

		if (kind == XTCP_OPT_EOL)
			break;
		if (kind == XTCP_OPT_NOP) {
			opt++;
			len--;
			continue;
		}
		if (len < 2)
			break;
		olen = opt[1];
		if (olen < 2 || olen > len)
			break;
		if (kind == XTCP_OPT_MSS && olen == XTCP_OPT_MSS_LEN) {
			u16 mss = get_unaligned_be16(opt + 2);

			if (mss >= XTCP_MSS_MIN)
				opts->mss = min_t(u16, mss, XTCP_SEG_MAX);
		}
		if (kind == XTCP_OPT_WSCALE && olen == XTCP_OPT_WSCALE_LEN)
			opts->wscale = min_t(u8, opt[2], XTCP_WSCALE_MAX);
		if (kind == XTCP_OPT_SACK_PERM && olen == XTCP_OPT_SACK_PERM_LEN)
			opts->sack_ok = true;
		if (kind == XTCP_OPT_TS && olen == XTCP_OPT_TS_LEN) {
			opts->ts = true;
			opts->tsval = get_unaligned_be32(opt + 2);
			opts->tsecr = get_unaligned_be32(opt + 6);
		}
		if (kind == XTCP_OPT_SACK_PERM && olen == XTCP_OPT_SACK_PERM_LEN)
			opts->sack_ok = true;
		if (kind == XTCP_OPT_SACK)
			xtcp_opts_parse_sack(opt, olen, opts);
		opt += olen;
		len -= olen;
	}
}

void xtcp_opts_parse(const struct sk_buff *skb, struct xtcp_opts *opts)
{
	xtcp_opts_parse_th(xtcp_hdr(skb), opts);
}

/* The tracepoints' view: the timestamp option of @th, if it has one. */
bool xtcp_opts_ts(const struct xtcphdr *th, u32 *tsval, u32 *tsecr)
{
	struct xtcp_opts opts;

	xtcp_opts_parse_th(th, &opts);
	*tsval = opts.tsval;
	*tsecr = opts.tsecr;
	return opts.ts;
}

/*
 * The tracepoints' view of SACK: whether @th is SACK-permitted, and its
 * number of SACK blocks with the first one (0 and 0..0 if none).
 */
bool xtcp_opts_sack(const struct xtcphdr *th, u8 *nr, u32 *sle, u32 *sre)
{
	struct xtcp_opts opts;

	xtcp_opts_parse_th(th, &opts);
	*nr = opts.nr_sacks;
	*sle = opts.nr_sacks ? opts.sacks[0].start : 0;
	*sre = opts.nr_sacks ? opts.sacks[0].end : 0;
	return opts.sack_ok;
}

/* Bytes the options take, a multiple of 4. */
unsigned int xtcp_opts_size(const struct xtcp_opts *opts)
{
	unsigned int len = 0;

	if (opts->mss)
		len += XTCP_OPT_MSS_LEN;
	if (opts->ts)
		len += XTCP_OPT_TS_ALIGNED;
	if (opts->wscale >= 0)
		len += 1 + XTCP_OPT_WSCALE_LEN;
	if (opts->sack_ok && !opts->ts)
		len += 2 + XTCP_OPT_SACK_PERM_LEN;
	if (opts->nr_sacks)
		len += 2 + XTCP_OPT_SACK_BASE +
		       opts->nr_sacks * XTCP_OPT_SACK_BLOCK;
	return len;
}

/* SACK blocks that still fit beside the options @opts has already. */
unsigned int xtcp_opts_sack_room(const struct xtcp_opts *opts)
{
	unsigned int used = xtcp_opts_size(opts) + 2 + XTCP_OPT_SACK_BASE;

	if (used >= XTCP_OPT_SPACE)
		return 0;
	return min_t(unsigned int, XTCP_NUM_SACKS,
		     (XTCP_OPT_SPACE - used) / XTCP_OPT_SACK_BLOCK);
}

/*
 * MSS, then NOP NOP TS, then NOP WS, then NOP NOP SACK: each option
 * 32-bit aligned. SACK-permitted takes the two NOPs' place in front of
 * TS (Linux's layout: a SYN's options stay 20 bytes), or comes as NOP
 * NOP SACK-permitted after WS without timestamps.
 */
void xtcp_opts_write(u8 *p, const struct xtcp_opts *opts)
{
	if (opts->mss) {
		p[0] = XTCP_OPT_MSS;
		p[1] = XTCP_OPT_MSS_LEN;
		put_unaligned_be16(opts->mss, p + 2);
		p += XTCP_OPT_MSS_LEN;
	}
	if (opts->ts) {
		if (opts->sack_ok) {
			p[0] = XTCP_OPT_SACK_PERM;
			p[1] = XTCP_OPT_SACK_PERM_LEN;
		} else {
			p[0] = XTCP_OPT_NOP;
			p[1] = XTCP_OPT_NOP;
		}
		p[2] = XTCP_OPT_TS;
		p[3] = XTCP_OPT_TS_LEN;
		put_unaligned_be32(opts->tsval, p + 4);
		put_unaligned_be32(opts->tsecr, p + 8);
		p += XTCP_OPT_TS_ALIGNED;
	}
	if (opts->wscale >= 0) {
		p[0] = XTCP_OPT_NOP;
		p[1] = XTCP_OPT_WSCALE;
		p[2] = XTCP_OPT_WSCALE_LEN;
		p[3] = opts->wscale;
		p += 1 + XTCP_OPT_WSCALE_LEN;
	}
	if (opts->sack_ok && !opts->ts) {
		p[0] = XTCP_OPT_NOP;
		p[1] = XTCP_OPT_NOP;
		p[2] = XTCP_OPT_SACK_PERM;
		p[3] = XTCP_OPT_SACK_PERM_LEN;
		p += 2 + XTCP_OPT_SACK_PERM_LEN;
	}
	if (opts->nr_sacks) {
		unsigned int i;

		p[0] = XTCP_OPT_NOP;
		p[1] = XTCP_OPT_NOP;
		p[2] = XTCP_OPT_SACK;
		p[3] = XTCP_OPT_SACK_BASE + opts->nr_sacks * XTCP_OPT_SACK_BLOCK;
		p += 2 + XTCP_OPT_SACK_BASE;
		for (i = 0; i < opts->nr_sacks; i++) {
			put_unaligned_be32(opts->sacks[i].start, p);
			put_unaligned_be32(opts->sacks[i].end, p + 4);
			p += XTCP_OPT_SACK_BLOCK;
		}
	}
}

/* ---- timestamps ---- */

static siphash_aligned_key_t xtcp_ts_secret;

/* Milliseconds of the monotonic clock, wrapping every 49.7 days. */
u32 xtcp_ts_clock(void)
{
	return (u32)div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

u32 xtcp_ts_off(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	net_get_random_once(&xtcp_ts_secret, sizeof(xtcp_ts_secret));
	return siphash_3u32((__force u32)saddr, (__force u32)daddr,
			    ((__force u32)sport << 16) | (__force u32)dport,
			    &xtcp_ts_secret);
}

bool xtcp_ts_enabled(const struct net *net)
{
	return READ_ONCE(xtcp_pernet(net)->sysctl.timestamps);
}

/* When TS.Recent was taken: seconds of the monotonic clock, never 0. */
u32 xtcp_ts_stamp(void)
{
	return max_t(u32, ktime_get_seconds(), 1);
}

/*
 * PAWS (RFC 7323 5.3 R1): is @tsval older than TS.Recent? Not if there is
 * no TS.Recent (@ts_recent_stamp 0), nor if it is more than 24 days old
 * (5.5: the sender's clock may have wrapped meanwhile).
 */
bool xtcp_paws_reject(u32 ts_recent, u32 ts_recent_stamp, u32 tsval)
{
	return ts_recent_stamp && (s32)(tsval - ts_recent) < 0 &&
	       (s32)(xtcp_ts_stamp() - ts_recent_stamp) < XTCP_PAWS_IDLE_S;
}

/* connect(): offer timestamps if the namespace says so. */
void xtcp_ts_connect(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ts_ok = xtcp_ts_enabled(sock_net(sk));
	xs->ts_off = xtcp_ts_off(inet->inet_saddr, inet->inet_daddr,
				 inet->inet_sport, inet->inet_dport);
	xs->ts_recent = 0;
	xs->ts_recent_stamp = 0;
}

/*
 * SYN_SENT received the peer's SYN (or SYN-ACK): timestamps are used if
 * we offered them and it carries them too.
 */
void xtcp_ts_synack(struct sock *sk, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ts_ok || !opts->ts) {
		xs->ts_ok = 0;
		return;
	}
	xs->ts_recent = opts->tsval;
	xs->ts_recent_stamp = xtcp_ts_stamp();
}

/*
 * A passively opened child's timestamp state, whichever way the
 * handshake completed (a request entry, or the ACK alone): @ts_ok says
 * whether the SYN's offer was taken, @ts_recent is the SYN's TSval, and
 * @skb, the segment that completed the handshake, with its options
 * @opts, gives the 4-tuple (the child need not be bound yet) and a newer
 * TS.Recent if it carries one. Before xtcp_init_transfer(), which takes
 * the option's cost off the MSS.
 */
void xtcp_ts_child_init(struct sock *sk, bool ts_ok, u32 ts_recent,
			const struct sk_buff *skb, const struct xtcp_opts *opts)
{
	const struct xtcphdr *th = xtcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->ts_ok = ts_ok;
	xs->ts_recent_stamp = 0;
	if (!ts_ok)
		return;
	xs->ts_off = xtcp_ts_off(iph->daddr, iph->saddr, th->dest, th->source);
	xs->ts_recent = opts->ts ? opts->tsval : ts_recent;
	xs->ts_recent_stamp = xtcp_ts_stamp();
}

/*
 * An acceptable segment (RFC 7323 4.3): its TSval becomes TS.Recent if
 * it is not older and the segment starts at or before the last ACK we
 * sent (Last.ACK.sent is rcv_wup), so the echo measures the whole delay,
 * delayed ACKs included.
 */
void xtcp_ts_update_recent(struct sock *sk, const struct sk_buff *skb,
			   const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ts_ok || !opts->ts ||
	    xtcp_after(XTCP_SKB_CB(skb)->seq, xs->rcv_wup))
		return;
	if (xtcp_paws_reject(xs->ts_recent, xs->ts_recent_stamp, opts->tsval))
		return;
	xs->ts_recent = opts->tsval;
	xs->ts_recent_stamp = xtcp_ts_stamp();
}

/*
 * RTTM (RFC 7323 4): an RTT sample from the TSecr @opts echoes, if @sk
 * uses timestamps and the echo is plausible (not from the future, not
 * older than XTCP_TS_RTT_MAX_MS). The handshake's is the first: the
 * SYN-ACK's echo of our SYN, the third ACK's of our SYN-ACK, as TCP
 * seeds SRTT. Its resolution is the clock's, a millisecond. Returns
 * whether a sample was taken.
 */
bool xtcp_ts_rtt(struct sock *sk, const struct xtcp_opts *opts)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	u32 ms;

	if (!xs->ts_ok || !opts->ts || !opts->tsecr)
		return false;
	ms = xtcp_clock_ms(sk) + xs->ts_off - opts->tsecr;
	if (ms >= XTCP_TS_RTT_MAX_MS)
		return false;
	XTCP_INC_STATS(sock_net(sk), RTT_TS_SAMPLES);
	xtcp_timer_rtt_sample(sk, ms * USEC_PER_MSEC);
	return true;
}

/* The timestamp option of the next segment @sk sends, if it uses them. */
void xtcp_ts_out(const struct sock *sk, struct xtcp_opts *out)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (!xs->ts_ok)
		return;
	out->ts = true;
	out->tsval = xtcp_clock_ms(sk) + xs->ts_off;
	out->tsecr = xs->ts_recent;
}

/* Bytes of every segment's header the options take from the payload. */
u16 xtcp_ts_mss_cost(const struct sock *sk)
{
	return xtcp_sk(sk)->ts_ok ? XTCP_OPT_TS_ALIGNED : 0;
}

/* A SYN for a listener: take its offer if the namespace uses timestamps. */
void xtcp_ts_request_init(struct xtcp_request *req, struct net *net,
			  const struct xtcp_opts *opts)
{
	req->ts_ok = opts->ts && xtcp_ts_enabled(net);
	req->ts_recent = opts->tsval;
}
