/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp's tracepoints: /sys/kernel/tracing/events/xtcp/. The reference is
 * Documentation/guide.md ("Tracepoints"); scripts/xtcp-ladder parses the
 * TP_printk() formats below, so change them together.
 *
 * Every event names the connection by its 4-tuple from the point of view
 * of the side that emits it: src is the local end for state, retransmit
 * and TIME_WAIT events, the sender for segments. Events are emitted with
 * no lock taken and never sleep.
 *
 * This header is read twice by trace.c (CREATE_TRACE_POINTS); the other
 * files include it once for the trace_xtcp_*() calls.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xtcp

#if !defined(_XTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XTCP_TRACE_H

#include <linux/tracepoint.h>
#include <linux/types.h>
#include <net/tcp_states.h>

#include "options.h"
#include "proto.h"
#include "timewait.h"

#ifndef _XTCP_TRACE_ENUMS
#define _XTCP_TRACE_ENUMS
/* What a xtcp_retransmit event resent. */
enum xtcp_retrans_kind {
	XTCP_RETRANS_SYN,
	XTCP_RETRANS_SYNACK,
	XTCP_RETRANS_DATA,
	XTCP_RETRANS_FIN,
};

/* What an ICMP error about a connection did (icmp.c). */
enum xtcp_icmp_action {
	XTCP_ICMP_IGNORED,	/* a message xtcp takes no action on */
	XTCP_ICMP_OUT_OF_WINDOW, /* quoted seq outside SND.UNA..SND.NXT */
	XTCP_ICMP_HARD,		/* ended the connection attempt */
	XTCP_ICMP_SOFT,		/* a soft error of a synchronized connection */
	XTCP_ICMP_PMTU,		/* fragmentation needed: the path MTU */
	XTCP_ICMP_DEFERRED,	/* left to release_sock() */
};

/* Why a RST was sent. */
enum xtcp_rst_reason {
	XTCP_RST_REPLY,		/* answer to a segment no connection takes */
	XTCP_RST_ABORT,		/* a connection aborted (linger 0, timeout, ...) */
};

struct sock;

/*
 * For the call sites that have a socket: each emits one event with the
 * socket's 4-tuple (trace.c). Cheap when the event is disabled.
 */
void xtcp_trace_state(const struct sock *sk, int oldstate, int newstate);
void xtcp_trace_retransmit(const struct sock *sk);
void xtcp_trace_loss_probe(const struct sock *sk, u32 seq, u32 len,
			   bool resent);
void xtcp_trace_reset_abort(const struct sock *sk);
void xtcp_trace_reset_recv(const struct sock *sk, int err);
#endif

TRACE_DEFINE_ENUM(TCP_ESTABLISHED);
TRACE_DEFINE_ENUM(TCP_SYN_SENT);
TRACE_DEFINE_ENUM(TCP_SYN_RECV);
TRACE_DEFINE_ENUM(TCP_FIN_WAIT1);
TRACE_DEFINE_ENUM(TCP_FIN_WAIT2);
TRACE_DEFINE_ENUM(TCP_TIME_WAIT);
TRACE_DEFINE_ENUM(TCP_CLOSE);
TRACE_DEFINE_ENUM(TCP_CLOSE_WAIT);
TRACE_DEFINE_ENUM(TCP_LAST_ACK);
TRACE_DEFINE_ENUM(TCP_LISTEN);
TRACE_DEFINE_ENUM(TCP_CLOSING);
TRACE_DEFINE_ENUM(XTCP_RETRANS_SYN);
TRACE_DEFINE_ENUM(XTCP_RETRANS_SYNACK);
TRACE_DEFINE_ENUM(XTCP_RETRANS_DATA);
TRACE_DEFINE_ENUM(XTCP_RETRANS_FIN);
TRACE_DEFINE_ENUM(XTCP_ICMP_IGNORED);
TRACE_DEFINE_ENUM(XTCP_ICMP_OUT_OF_WINDOW);
TRACE_DEFINE_ENUM(XTCP_ICMP_HARD);
TRACE_DEFINE_ENUM(XTCP_ICMP_SOFT);
TRACE_DEFINE_ENUM(XTCP_ICMP_PMTU);
TRACE_DEFINE_ENUM(XTCP_ICMP_DEFERRED);

#define xtcp_show_state(s)					\
	__print_symbolic(s,					\
		{ 0,			"NONE" },		\
		{ TCP_ESTABLISHED,	"ESTABLISHED" },	\
		{ TCP_SYN_SENT,		"SYN_SENT" },		\
		{ TCP_SYN_RECV,		"SYN_RECV" },		\
		{ TCP_FIN_WAIT1,	"FIN_WAIT1" },		\
		{ TCP_FIN_WAIT2,	"FIN_WAIT2" },		\
		{ TCP_TIME_WAIT,	"TIME_WAIT" },		\
		{ TCP_CLOSE,		"CLOSE" },		\
		{ TCP_CLOSE_WAIT,	"CLOSE_WAIT" },		\
		{ TCP_LAST_ACK,		"LAST_ACK" },		\
		{ TCP_LISTEN,		"LISTEN" },		\
		{ TCP_CLOSING,		"CLOSING" })

#define xtcp_show_flags(f)					\
	__print_flags(f, "|",					\
		{ XTCP_FLAG_FIN, "FIN" },			\
		{ XTCP_FLAG_SYN, "SYN" },			\
		{ XTCP_FLAG_RST, "RST" },			\
		{ XTCP_FLAG_PSH, "PSH" },			\
		{ XTCP_FLAG_ACK, "ACK" })

/* The four address fields every event starts with. */
#define XTCP_TUPLE_FIELDS					\
	__array(__u8, saddr, 4)					\
	__array(__u8, daddr, 4)					\
	__field(__u16, sport)					\
	__field(__u16, dport)

#define XTCP_TUPLE_ASSIGN(s, sp, d, dp)				\
	do {							\
		memcpy(__entry->saddr, &(s), 4);		\
		memcpy(__entry->daddr, &(d), 4);		\
		__entry->sport = ntohs(sp);			\
		__entry->dport = ntohs(dp);			\
	} while (0)

#define XTCP_TUPLE_FMT		"src=%pI4:%u dst=%pI4:%u"
#define XTCP_TUPLE_ARGS		__entry->saddr, __entry->sport,	\
				__entry->daddr, __entry->dport

/*
 * A socket, request entry or TIME_WAIT bucket @obj changed state. @obj
 * identifies the object across events (a connecting socket's first event,
 * CLOSE -> SYN_SENT, may still have source port 0).
 */
TRACE_EVENT(xtcp_state,
	TP_PROTO(const void *obj, __be32 saddr, __be16 sport, __be32 daddr,
		 __be16 dport, int oldstate, int newstate),
	TP_ARGS(obj, saddr, sport, daddr, dport, oldstate, newstate),
	TP_STRUCT__entry(
		__field(const void *, obj)
		XTCP_TUPLE_FIELDS
		__field(int, oldstate)
		__field(int, newstate)
	),
	TP_fast_assign(
		__entry->obj = obj;
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->oldstate = oldstate;
		__entry->newstate = newstate;
	),
	TP_printk("obj=%p " XTCP_TUPLE_FMT " old=%s new=%s", __entry->obj,
		  XTCP_TUPLE_ARGS, xtcp_show_state(__entry->oldstate),
		  xtcp_show_state(__entry->newstate))
);

/* A segment entered (checksum good, before the fault rules) or left. */
DECLARE_EVENT_CLASS(xtcp_segment,
	TP_PROTO(const struct xtcphdr *th, __be32 saddr, __be32 daddr,
		 unsigned int len),
	TP_ARGS(th, saddr, daddr, len),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(__u32, seq)
		__field(__u32, ack)
		__field(__u32, len)
		__field(__u16, window)
		__field(__u8, flags)
		__field(__u8, ts)
		__field(__u32, tsval)
		__field(__u32, tsecr)
		__field(__u8, sackok)
		__field(__u8, sacks)
		__field(__u32, sle)
		__field(__u32, sre)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, th->source, daddr, th->dest);
		__entry->seq = ntohl(th->seq);
		__entry->ack = ntohl(th->ack_seq);
		__entry->len = len;
		__entry->window = ntohs(th->window);
		__entry->flags = th->flags;
		__entry->ts = xtcp_opts_ts(th, &__entry->tsval,
					   &__entry->tsecr);
		__entry->sackok = xtcp_opts_sack(th, &__entry->sacks,
						 &__entry->sle, &__entry->sre);
	),
	/*
	 * ts=0: no timestamp option; tsval and tsecr are then 0. sackok:
	 * SACK-permitted; sacks: SACK blocks, the first sle..sre (0 none).
	 */
	TP_printk(XTCP_TUPLE_FMT " flags=%s seq=%u ack=%u len=%u win=%u ts=%u tsval=%u tsecr=%u sackok=%u sacks=%u sle=%u sre=%u",
		  XTCP_TUPLE_ARGS, xtcp_show_flags(__entry->flags),
		  __entry->seq, __entry->ack, __entry->len, __entry->window,
		  __entry->ts, __entry->tsval, __entry->tsecr,
		  __entry->sackok, __entry->sacks, __entry->sle, __entry->sre)
);

DEFINE_EVENT(xtcp_segment, xtcp_segment_in,
	TP_PROTO(const struct xtcphdr *th, __be32 saddr, __be32 daddr,
		 unsigned int len),
	TP_ARGS(th, saddr, daddr, len)
);

DEFINE_EVENT(xtcp_segment, xtcp_segment_out,
	TP_PROTO(const struct xtcphdr *th, __be32 saddr, __be32 daddr,
		 unsigned int len),
	TP_ARGS(th, saddr, daddr, len)
);

/*
 * The retransmission timer resent a segment starting at @seq; @backoff is
 * the number of consecutive timeouts so far, @rto_ms the next timeout.
 */
TRACE_EVENT(xtcp_retransmit,
	TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		 u32 seq, int kind, int backoff, u32 rto_ms),
	TP_ARGS(saddr, sport, daddr, dport, seq, kind, backoff, rto_ms),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(__u32, seq)
		__field(int, kind)
		__field(int, backoff)
		__field(__u32, rto_ms)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->seq = seq;
		__entry->kind = kind;
		__entry->backoff = backoff;
		__entry->rto_ms = rto_ms;
	),
	TP_printk(XTCP_TUPLE_FMT " kind=%s seq=%u backoff=%d rto_ms=%u",
		  XTCP_TUPLE_ARGS,
		  __print_symbolic(__entry->kind,
				   { XTCP_RETRANS_SYN, "SYN" },
				   { XTCP_RETRANS_SYNACK, "SYN-ACK" },
				   { XTCP_RETRANS_DATA, "DATA" },
				   { XTCP_RETRANS_FIN, "FIN" }),
		  __entry->seq, __entry->backoff, __entry->rto_ms)
);

/*
 * The loss probe timer sent a probe (RFC 8985 7.3) of @len bytes at @seq:
 * new data, or the last segment sent again (@resent). The retransmission
 * timer runs next.
 */
TRACE_EVENT(xtcp_loss_probe,
	TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		 u32 seq, u32 len, bool resent),
	TP_ARGS(saddr, sport, daddr, dport, seq, len, resent),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(__u32, seq)
		__field(__u32, len)
		__field(bool, resent)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->seq = seq;
		__entry->len = len;
		__entry->resent = resent;
	),
	TP_printk(XTCP_TUPLE_FMT " seq=%u len=%u probe=%s",
		  XTCP_TUPLE_ARGS, __entry->seq, __entry->len,
		  __entry->resent ? "resent" : "new")
);

/*
 * A RST is being sent. REPLY answers a segment (flags @state is then the
 * answered segment's flags); ABORT ends a connection in state @state.
 */
TRACE_EVENT(xtcp_reset_send,
	TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		 int reason, int state),
	TP_ARGS(saddr, sport, daddr, dport, reason, state),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(int, reason)
		__field(int, state)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->reason = reason;
		__entry->state = state;
	),
	TP_printk(XTCP_TUPLE_FMT " reason=%s %s=%s", XTCP_TUPLE_ARGS,
		  __entry->reason == XTCP_RST_REPLY ? "reply" : "abort",
		  __entry->reason == XTCP_RST_REPLY ? "to" : "state",
		  __entry->reason == XTCP_RST_REPLY ?
		  xtcp_show_flags(__entry->state) :
		  xtcp_show_state(__entry->state))
);

/*
 * A socket in @state is reset with @err: by an acceptable RST, or by a
 * local abort that has just sent one (xtcp_reset_send reason=abort).
 */
TRACE_EVENT(xtcp_reset_recv,
	TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		 int state, int err),
	TP_ARGS(saddr, sport, daddr, dport, state, err),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(int, state)
		__field(int, err)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->state = state;
		__entry->err = err;
	),
	TP_printk(XTCP_TUPLE_FMT " state=%s err=%d", XTCP_TUPLE_ARGS,
		  xtcp_show_state(__entry->state), __entry->err)
);

/*
 * An ICMP error quoting a segment of a connection (src: our end): its
 * type, code, the quoted sequence number, the ICMP's info (the next
 * hop's MTU for fragmentation needed), what it did and the errno (0:
 * none).
 */
TRACE_EVENT(xtcp_icmp,
	TP_PROTO(__be32 saddr, __be16 sport, __be32 daddr, __be16 dport,
		 u8 type, u8 code, u32 seq, u32 info, int action, int err),
	TP_ARGS(saddr, sport, daddr, dport, type, code, seq, info, action, err),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(__u8, type)
		__field(__u8, code)
		__field(__u32, seq)
		__field(__u32, info)
		__field(int, action)
		__field(int, err)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(saddr, sport, daddr, dport);
		__entry->type = type;
		__entry->code = code;
		__entry->seq = seq;
		__entry->info = info;
		__entry->action = action;
		__entry->err = err;
	),
	TP_printk(XTCP_TUPLE_FMT " type=%u code=%u seq=%u info=%u action=%s err=%d",
		  XTCP_TUPLE_ARGS, __entry->type, __entry->code, __entry->seq,
		  __entry->info,
		  __print_symbolic(__entry->action,
				   { XTCP_ICMP_IGNORED,	"ignored" },
				   { XTCP_ICMP_OUT_OF_WINDOW, "out-of-window" },
				   { XTCP_ICMP_HARD,	"hard" },
				   { XTCP_ICMP_SOFT,	"soft" },
				   { XTCP_ICMP_PMTU,	"pmtu" },
				   { XTCP_ICMP_DEFERRED, "deferred" }),
		  __entry->err)
);

/* TIME_WAIT buckets: created, expired (2 x MSL), reused (SYN), killed (RST). */
DECLARE_EVENT_CLASS(xtcp_tw,
	TP_PROTO(const struct xtcp_tw *tw),
	TP_ARGS(tw),
	TP_STRUCT__entry(
		XTCP_TUPLE_FIELDS
		__field(__u32, snd_nxt)
		__field(__u32, rcv_nxt)
	),
	TP_fast_assign(
		XTCP_TUPLE_ASSIGN(tw->eh.laddr, tw->eh.lport, tw->eh.raddr,
				  tw->eh.rport);
		__entry->snd_nxt = tw->snd_nxt;
		__entry->rcv_nxt = tw->rcv_nxt;
	),
	TP_printk(XTCP_TUPLE_FMT " snd_nxt=%u rcv_nxt=%u", XTCP_TUPLE_ARGS,
		  __entry->snd_nxt, __entry->rcv_nxt)
);

DEFINE_EVENT(xtcp_tw, xtcp_tw_create,
	TP_PROTO(const struct xtcp_tw *tw), TP_ARGS(tw));
DEFINE_EVENT(xtcp_tw, xtcp_tw_expire,
	TP_PROTO(const struct xtcp_tw *tw), TP_ARGS(tw));
DEFINE_EVENT(xtcp_tw, xtcp_tw_reuse,
	TP_PROTO(const struct xtcp_tw *tw), TP_ARGS(tw));
DEFINE_EVENT(xtcp_tw, xtcp_tw_kill,
	TP_PROTO(const struct xtcp_tw *tw), TP_ARGS(tw));

/*
 * A fault rule dropped a segment (dir 0: in, 1: out). It follows the
 * xtcp_segment_in/out event of the same segment on the same CPU.
 */
TRACE_EVENT(xtcp_fault_drop,
	TP_PROTO(int dir, u8 flags, unsigned int len, __be16 sport,
		 __be16 dport),
	TP_ARGS(dir, flags, len, sport, dport),
	TP_STRUCT__entry(
		__field(int, dir)
		__field(__u8, flags)
		__field(__u32, len)
		__field(__u16, sport)
		__field(__u16, dport)
	),
	TP_fast_assign(
		__entry->dir = dir;
		__entry->flags = flags;
		__entry->len = len;
		__entry->sport = ntohs(sport);
		__entry->dport = ntohs(dport);
	),
	TP_printk("dir=%s sport=%u dport=%u flags=%s len=%u",
		  __print_symbolic(__entry->dir, { 0, "in" }, { 1, "out" },
				   { 2, "child" }),
		  __entry->sport, __entry->dport,
		  xtcp_show_flags(__entry->flags), __entry->len)
);

#endif /* _XTCP_TRACE_H */

/* Out of tree: define_trace.h finds this file through -I$(src)/module. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
