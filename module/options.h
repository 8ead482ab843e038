/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP's options on xtcp segments: one parser for every option a segment
 * carries, one writer for the ones we send, and the state of the
 * timestamp option (RFC 7323): its clock, TS.Recent and the PAWS test.
 */
#ifndef _XTCP_OPTIONS_H
#define _XTCP_OPTIONS_H

#include <linux/types.h>

#include "proto.h"

struct net;
struct sk_buff;
struct sock;
struct xtcp_request;
struct xtcphdr;

/*
 * A segment's options, parsed, or the options to write on one. Parsed:
 * mss is RFC 9293's default without the option, wscale -1 without one.
 * Written: mss 0 and wscale -1 leave them out.
 */
struct xtcp_sack_block {
	u32	start;		/* the first sequence number SACKed */
	u32	end;		/* the one after the last */
};

struct xtcp_opts {
	u16	mss;
	s8	wscale;
	bool	ts;		/* a timestamp option: tsval and tsecr */
	bool	sack_ok;	/* SACK-permitted (RFC 2018; SYNs only) */
	u8	nr_sacks;	/* blocks of a SACK option in sacks[] */
	u32	tsval;
	u32	tsecr;
	struct xtcp_sack_block sacks[XTCP_NUM_SACKS];
};

/* @th: a whole header, options included (doff checked by the caller). */
void xtcp_opts_parse_th(const struct xtcphdr *th, struct xtcp_opts *opts);
void xtcp_opts_parse(const struct sk_buff *skb, struct xtcp_opts *opts);
bool xtcp_opts_ts(const struct xtcphdr *th, u32 *tsval, u32 *tsecr);
bool xtcp_opts_sack(const struct xtcphdr *th, u8 *nr, u32 *sle, u32 *sre);
unsigned int xtcp_opts_size(const struct xtcp_opts *opts);
void xtcp_opts_write(u8 *p, const struct xtcp_opts *opts);
unsigned int xtcp_opts_sack_room(const struct xtcp_opts *opts);

/*
 * Timestamps. The clock ticks in milliseconds (RFC 7323 asks for 1 ms to
 * 1 s); a connection adds its own offset, a keyed hash of its 4-tuple, so
 * that TSval tells nothing about uptime or about other connections while
 * successive incarnations of one 4-tuple keep one clock.
 */
u32 xtcp_ts_clock(void);
u32 xtcp_ts_off(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport);
bool xtcp_ts_enabled(const struct net *net);
bool xtcp_paws_reject(u32 ts_recent, u32 ts_recent_stamp, u32 tsval);
u32 xtcp_ts_stamp(void);

/* A full socket's side (@sk locked). */
void xtcp_ts_connect(struct sock *sk);
void xtcp_ts_synack(struct sock *sk, const struct xtcp_opts *opts);
void xtcp_ts_child_init(struct sock *sk, bool ts_ok, u32 ts_recent,
			const struct sk_buff *skb, const struct xtcp_opts *opts);
void xtcp_ts_update_recent(struct sock *sk, const struct sk_buff *skb,
			   const struct xtcp_opts *opts);
bool xtcp_ts_rtt(struct sock *sk, const struct xtcp_opts *opts);
void xtcp_ts_out(const struct sock *sk, struct xtcp_opts *out);
u16 xtcp_ts_mss_cost(const struct sock *sk);

/* A request entry's: what the SYN (its options @opts) offered. */
void xtcp_ts_request_init(struct xtcp_request *req, struct net *net,
			  const struct xtcp_opts *opts);

#endif /* _XTCP_OPTIONS_H */
