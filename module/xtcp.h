/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xtcp socket and the few things every part of the module shares.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/rbtree.h>
#include <linux/timekeeping.h>
#include <net/inet_sock.h>
#include <uapi/linux/xtcp.h>

#include "hash.h"

struct xtcp_net;

/* Module parameters, fixed once the module has loaded. */
extern int xtcp_family;
extern int xtcp_ipproto;
extern bool xtcp_report_inet;
extern unsigned int xtcp_ehash_entries;
extern unsigned int xtcp_bhash_entries;

/* What the socket's main hrtimer is doing (timer.c). */
enum xtcp_timer_kind {
	XTCP_TIMER_NONE,
	XTCP_TIMER_RETRANS,	/* SYN, SYN-ACK, data or FIN unacknowledged */
	XTCP_TIMER_PROBE,	/* data waits for a zero window to open */
	XTCP_TIMER_FIN_WAIT2,	/* orphan waits for the peer's FIN */
	XTCP_TIMER_KEEPALIVE,	/* idle connection with SO_KEEPALIVE */
	XTCP_TIMER_TLP,		/* tail loss probe due, then the RTO */
};

/* Bits of xtcp_sock.flags, changed with atomic bitops in any context. */
enum {
	XTCP_F_TIMER_DEFERRED,	/* the timer fired while user context owned us */
	XTCP_F_DELACK_DEFERRED,	/* the delayed ACK timer did, likewise */
	XTCP_F_TIMER_REF,	/* a pending main timer expiry holds a ref */
	XTCP_F_DELACK_REF,	/* a pending delayed ACK expiry holds one */
	XTCP_F_DESTROYED,	/* xtcp_destroy_sock() ran */
	XTCP_F_ORPHAN,		/* counted in the orphan count */
	XTCP_F_MTU_DEFERRED,	/* an ICMP lowered mtu_info while user owned us */
	XTCP_F_ERR_DEFERRED,	/* an ICMP left icmp_err while user owned us */
	XTCP_F_ACK_DEFERRED,	/* the backlog owes an ACK to release_sock() */
};

/*
 * struct inet_sock comes first so that IPv4 output and the generic inet
 * helpers can treat an xtcp socket as an inet socket.
 *
 * Everything below inet is protected by the socket lock (owner or
 * bh_lock_sock), except the listener queues, which have their own lock so
 * that the receive path never waits for a listener's owner.
 */
struct xtcp_sock {
	struct inet_sock	inet;
	struct xtcp_ehnode	eh;		/* established hash */

	/* Sequence space (RFC 9293 names). */
	u32			iss;
	u32			irs;
	u32			snd_una;
	u32			snd_nxt;
	u32			write_seq;	/* end of the data queued by the user */
	u32			snd_wnd;
	u32			rcv_nxt;
	u32			rcv_wnd;	/* last advertised */
	u32			copied_seq;	/* next byte recvmsg() returns */
	u16			mss;		/* largest payload we send */
	u16			peer_mss;
	u8			snd_wscale;	/* the peer's window scale shift */
	u8			rcv_wscale;	/* ours; both 0 unless negotiated */
	u32			max_window;	/* largest window the peer offered */
	u8			fin_queued:1,
				nodelay:1,
				ack_pending:1,	/* an ACK is owed (delayed) */
				quickack:1,	/* ACK the next segment at once */
				cork:1,		/* XTCP_CORK: hold partial segments */
				quickack_off:1,	/* XTCP_QUICKACK was set to 0 */
				report_inet:1,	/* names carry AF_INET */
				ts_ok:1;	/* timestamps offered (SYN_SENT), used */
	u16			user_mss;	/* XTCP_MAXSEG; 0: none */
	u8			defer_accept;	/* SYN-ACKs to wait for data; 0: off */
	u32			user_timeout_ms; /* XTCP_USER_TIMEOUT; 0: retries */
	u32			notsent_lowat;	/* XTCP_NOTSENT_LOWAT; 0: none */
	u8			syn_retries;	/* XTCP_SYNCNT; 0: the sysctl */
	int			linger2;	/* XTCP_LINGER2 in s; 0: sysctl, <0 off */
	struct sk_buff		*send_head;	/* first skb never transmitted */

	/* Retransmission (timer.c). */
	struct hrtimer		timer;
	ktime_t			timer_expires;
	u8			timer_kind;	/* enum xtcp_timer_kind */
	u8			retransmits;
	u8			backoff;
	u32			rto_us;
	unsigned long		flags;		/* XTCP_F_* bits */
	struct hrtimer		delack_timer;
	ktime_t			delack_expires;	/* when the owed ACK is due */
	u8			probes;		/* unanswered persist/keepalive probes */
	u8			keepcnt;	/* 0: the sysctl */
	u32			keepidle_ms;	/* 0: the sysctl */
	u32			keepintvl_ms;	/* 0: the sysctl */
	u32			rcv_tstamp;	/* jiffies of the last segment in */
	/* Timestamps (options.c), with ts_ok. */
	u32			ts_off;		/* added to our clock in TSval */
	u32			ts_recent;	/* TS.Recent: the TSval we echo */
	u32			ts_recent_stamp; /* s when taken; 0: none */
	u32			last_oow_ack;	/* jiffies; output.c's rate limit */
	u32			mtu_info;	/* icmp.c: the path MTU an ICMP gave */
	int			icmp_err;	/* icmp.c: an errno left for release */

	/* RTT estimation (RFC 6298) and congestion control (cong.c). */
	u32			srtt_us;	/* smoothed RTT, us << 3; 0: none */
	u32			rttvar_us;	/* RTT variation, us << 2 */
	u32			min_rtt_us;	/* lowest recent RTT sample; 0: none */
	u32			min_rtt_stamp;	/* jiffies when taken */
	const struct xtcp_cong_ops *ca_ops;
	u32			cwnd;		/* congestion window, bytes */
	u32			ssthresh;	/* bytes */
	u32			cwnd_acked;	/* bytes acked towards the next CA step */
	u32			recover;	/* snd_nxt when loss recovery began */
	u32			rtx_seq;	/* after an RTO: next byte to resend */
	u8			ca_state;	/* XTCP_CA_* */
	u8			dupacks;
	u32			total_retrans;
	u32			fast_retrans;
	u32			rto_count;
	u32			rtx_stamp;	/* jiffies: oldest unacked sent; 0 none */

	/* SACK (sack.c): negotiated, the sender's scoreboard (bytes). */
	u8			sack_ok:1,	/* offered (SYN_SENT), used */
				dsack_pending:1, /* dsack goes on the next ACK */
				rack_ok:1,	/* rack_tx_us holds a time */
				tlp_out:1;	/* a loss probe awaits its ACK */
	u32			rack_tx_us;	/* RACK: latest send of what arrived */
	u32			sacked_out;	/* SACKed, not yet acknowledged */
	u32			lost_out;	/* deemed lost (RFC 6675 IsLost) */
	u32			retrans_out;	/* resent in this recovery, in flight */
	u32			high_sacked;	/* end of the highest SACKed skb */
	u32			sack_retrans;	/* segments resent by SACK recovery */
	u32			dsack_recv;	/* D-SACK blocks received */
	u32			dsack_sent;	/* ... and sent */
	u32			sack_last_seq;	/* receiver: the latest out-of-order seq */
	u32			dsack_start;	/* receiver: the duplicate to report */
	u32			dsack_end;

	u64			clock_ns;	/* xtcp_clock_refresh() */
	struct xtcp_net		*xn;		/* xtcp_sk_pernet() */

	/* What TCP_INFO reports (RFC 4898 names). */
	u64			bytes_sent;	/* payload sent, retransmissions too */
	u64			bytes_retrans;
	u64			bytes_acked;
	u64			bytes_received;
	u32			segs_out;
	u32			segs_in;
	u32			data_segs_out;
	u32			data_segs_in;
	u32			last_data_sent;	/* jiffies */
	u32			last_data_recv;	/* jiffies */
	u8			chrono_type;	/* tune.c: XTCP_CHRONO_* now */
	u64			chrono_start_us;
	u64			chrono_us[3];	/* busy, rwnd-, sndbuf-limited */

	/* Receive side. */
	u32			rcv_wup;	/* rcv_nxt at the last advertisement */
	u32			rcvq_space;	/* tune.c: bytes read in the last RTT */
	u32			rcvq_seq;	/* copied_seq when that period began */
	u64			rcvq_time_us;	/* ... and when */
	u32			rcv_rtt_us;	/* receiver's RTT estimate; 0: none */
	u32			rcv_rtt_seq;	/* its measurement ends at this seq */
	u64			rcv_rtt_time_us; /* ... begun then */
	u32			ooo_segs;	/* segments queued out of order */
	struct rb_root		ooo_queue;	/* by seq, no overlaps (skb->rbnode) */
	struct sk_buff		*ooo_last;	/* its highest, NULL if empty */
	bool			ooo_compact;	/* nothing in it to collapse */

	/* Listener (request.c). */
	spinlock_t		queue_lock;	/* protects the six below */
	struct list_head	syn_queue;	/* struct xtcp_request, oldest first */
	struct hlist_head	*syn_hash;	/* the same, by 4-tuple */
	unsigned int		syn_hash_mask;
	struct list_head	accept_queue;	/* children, via accept_node */
	unsigned int		syn_queue_len;
	bool			listening;
	/* SYN cookies (request.c), without the lock: */
	bool			synflood_warned; /* the log line was written */
	unsigned long		synq_overflow;	/* jiffies of the last overflow cookie */
	struct list_head	accept_node;
	u8			reuseport;	/* XTCP_REUSEPORT (reuseport.c) */
	u32			reuseport_key;	/* its rank's key; 0: never set */
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/*
 * A full socket's namespace state, xtcp_pernet(sock_net(sk)) kept in the
 * socket: a socket never changes namespace and the namespace outlives
 * it, so the data path does without net_generic()'s RCU round trip on
 * every use.
 */
static inline struct xtcp_net *xtcp_sk_pernet(const struct sock *sk)
{
	return xtcp_sk(sk)->xn;
}

/*
 * The socket's clock: one reading of the monotonic clock per event, as
 * TCP's tcp_mstamp. xtcp_clock_refresh() takes it where an event enters
 * the protocol (a segment in, a push with something to send, a timer, a
 * read, a lone control segment from user context); within the event, send
 * times, TSvals, RTT samples, timer expiries and the sender's clocks all
 * read that one value.
 */
static inline void xtcp_clock_refresh(struct sock *sk)
{
	xtcp_sk(sk)->clock_ns = ktime_get_ns();
}

static inline u64 xtcp_clock_us64(const struct sock *sk)
{
	return div_u64(xtcp_sk(sk)->clock_ns, NSEC_PER_USEC);
}

/* Send times (xtcp_skb_cb.tx_us): us, wrapping. */
static inline u32 xtcp_clock_us(const struct sock *sk)
{
	return (u32)xtcp_clock_us64(sk);
}

/* The timestamp clock: ms, wrapping, as xtcp_ts_clock(). */
static inline u32 xtcp_clock_ms(const struct sock *sk)
{
	return (u32)div_u64(xtcp_sk(sk)->clock_ns, NSEC_PER_MSEC);
}

/*
 * What is left of the window we last advertised: the part of
 * [RCV.NXT, RCV.NXT + RCV.WND) the peer may still fill, never negative.
 */
static inline u32 xtcp_rcv_wnd_left(const struct xtcp_sock *xs)
{
	s32 left = (s32)(xs->rcv_wup + xs->rcv_wnd - xs->rcv_nxt);

	return left > 0 ? left : 0;
}

/* Two full segments of in-order data arrived since the last ACK. */
static inline bool xtcp_two_segs_unacked(const struct xtcp_sock *xs)
{
	return xs->rcv_nxt - xs->rcv_wup >= 2U * xs->mss;
}

/* The path's lowest recent RTT (RACK, TCP_INFO), us; 0: no sample yet. */
static inline u32 xtcp_min_rtt(const struct xtcp_sock *xs)
{
	return xs->min_rtt_us;
}

struct sk_buff;
struct xtcp_cong_ops;

/* socket.c */
void xtcp_done(struct sock *sk);
void xtcp_reset(struct sock *sk);
struct sock *xtcp_sk_alloc(struct net *net, gfp_t gfp, int kern);
bool xtcp_out_of_resources(struct sock *sk);
void xtcp_sockstat(struct net *net, long *inuse, long *orphans, long *alloc,
		   long *mem);
int xtcp_socket_register(void);
void xtcp_socket_unregister(void);

/* stream.c */
int xtcp_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int xtcp_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags);

/* sockopt.c */
int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen);
int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen);
void xtcp_keepalive(struct sock *sk, int val);

/* input.c */
int xtcp_input_register(void);
void xtcp_input_unregister(void);
int xtcp_backlog_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_rcv_sk(struct sock *sk, struct sk_buff *skb);

/* state.c: the state machine of a full socket; @sk is locked. */
void xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb);
void xtcp_ack_release_cb(struct sock *sk);
void xtcp_ooo_purge(struct sock *sk);
u32 xtcp_free_window(const struct sock *sk);
u16 xtcp_select_window(struct sock *sk);
u8 xtcp_wscale_for(const struct sock *sk);

/* isn.c */
u32 xtcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport);

/*
 * syncookie.c: what a SYN cookie carries, from the SYN to the child.
 * Without timestamps only the MSS; with them (ts) the window scale and
 * SACK-permitted ride in the SYN-ACK's TSval.
 */
struct xtcp_cookie_opts {
	u16	mss;		/* the peer's, rounded down to the table */
	s8	wscale;		/* the peer's shift; -1: none */
	bool	ts;		/* timestamps used */
	bool	sack_ok;	/* the SYN offered SACK-permitted */
};

struct xtcp_opts;

u32 xtcp_cookie_make(__be32 laddr, __be32 raddr, __be16 lport, __be16 rport,
		     u32 irs, const struct xtcp_cookie_opts *syn);
u32 xtcp_cookie_tsval(u32 now, const struct xtcp_cookie_opts *syn);
bool xtcp_cookie_check(__be32 laddr, __be32 raddr, __be16 lport,
		       __be16 rport, u32 irs, u32 cookie,
		       const struct xtcp_opts *ack,
		       struct xtcp_cookie_opts *opts);

#endif /* _XTCP_H */
