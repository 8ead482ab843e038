// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options at every level: SOL_XTCP here, and the same options at
 * SOL_TCP under TCP's names and numbers (TCP_INFO there in struct
 * tcp_info's layout), SO_KEEPALIVE's hook for sock_setsockopt(), and the
 * IP level passed to IPv4's handlers. Values and errnos follow TCP's
 * options of the same meaning (net/ipv4/tcp.c).
 * Adding an option: its number in include/uapi/linux/xtcp.h, a case in
 * xtcp_set_opt() and in xtcp_getsockopt(), a line in
 * Documentation/protocol.md.
 */

#include <linux/tcp.h>
#include <linux/uaccess.h>
#include <net/ip.h>
#include <net/sock.h>

#include "compat.h"
#include "cong.h"
#include "icmp.h"
#include "netns.h"
#include "output.h"
#include "proto.h"
#include "reuseport.h"
#include "timer.h"
#include "tune.h"
#include "xtcp.h"

/*
 * The IP-level options xtcp honours: ip_queue_xmit() sends with the
 * socket's TOS, TTL, IP options and DF bit (IP_MTU_DISCOVER, path MTU
 * discovery by default, icmp.c), bind() honours IP_FREEBIND, icmp.c
 * honours IP_RECVERR; none of them holds anything that must be undone at
 * close (inet_sock_destruct() frees the options and the error queue).
 * IP options shrink the MSS (xtcp_mss_for_path()). The rest of ip_setsockopt()
 * is refused. A multicast join would succeed on an xtcp socket (it is no
 * connection socket to ip_setsockopt()), and nothing drops the group at
 * close(): xtcp's release is not inet_release(). IP_ADD_MEMBERSHIP and
 * IP_DROP_MEMBERSHIP fail with EPROTO, IP_MULTICAST_IF and _TTL with
 * EINVAL, as on TCP; the source and group_req joins, which TCP accepts
 * (and drops at close), fail with EPROTO too. Everything else, which xtcp
 * would accept and ignore (IP_PKTINFO, IP_TRANSPARENT, IP_LOCAL_PORT_RANGE, ...), is ENOPROTOOPT.
 */
static int xtcp_ip_setsockopt_allowed(int optname)
{
	switch (optname) {
	case IP_TOS:
	case IP_TTL:
	case IP_MTU_DISCOVER:
	case IP_FREEBIND:
	case IP_RECVERR:
	case IP_OPTIONS:
		return 0;
	case IP_MULTICAST_IF:
	case IP_MULTICAST_TTL:
		return -EINVAL;		/* TCP: not for SOCK_STREAM */
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
	case IP_MSFILTER:
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP:
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
	case MCAST_MSFILTER:
		return -EPROTO;		/* TCP's answer */
	default:
		return -ENOPROTOOPT;
	}
}

/* TCP_CONGESTION: the name is a string, not an int. */
static int xtcp_set_congestion(struct sock *sk, sockptr_t optval,
			       unsigned int optlen)
{
	char name[XTCP_CA_NAME_MAX];
	const struct xtcp_cong_ops *ops;
	long n;

	if (optlen < 1)
		return -EINVAL;
	n = strncpy_from_sockptr(name, optval,
				 min_t(long, XTCP_CA_NAME_MAX - 1, optlen));
	if (n < 0)
		return -EFAULT;
	name[n] = 0;
	ops = xtcp_cong_find(name);
	if (!ops)
		return -ENOENT;
	lock_sock(sk);
	xtcp_cong_set(sk, ops);
	release_sock(sk);
	return 0;
}

/*
 * TCP_DEFER_ACCEPT is given in seconds and kept as a number of SYN-ACK
 * timeouts, counted as TCP counts them whatever xtcp's own timers are:
 * the first after 1 s, each next one twice as long, at most 120 s. A
 * setting becomes the fewest timeouts that last at least that long (at
 * most 255), and reads back as their total: 5 s reads 7 (1 + 2 + 4).
 */
#define XTCP_DEFER_FIRST_S	1
#define XTCP_DEFER_MAX_S	120

static u8 xtcp_defer_secs_to_timeouts(int secs)
{
	unsigned int n = 0, step = XTCP_DEFER_FIRST_S, total = 0;

	if (secs <= 0)
		return 0;
	while (total < (unsigned int)secs && n < U8_MAX) {
		n++;
		total += step;
		step = min_t(unsigned int, step * 2, XTCP_DEFER_MAX_S);
	}
	return n;
}

static int xtcp_defer_timeouts_to_secs(u8 n)
{
	unsigned int step = XTCP_DEFER_FIRST_S, total = 0;

	while (n--) {
		total += step;
		step = min_t(unsigned int, step * 2, XTCP_DEFER_MAX_S);
	}
	return total;
}

/*
 * The options of SOL_XTCP and, under TCP's names, of SOL_TCP: @tcp says
 * which level asked (xtcp's own options exist only at SOL_XTCP).
 */
static int xtcp_set_opt(struct sock *sk, bool tcp, int optname, int val)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	switch (optname) {
	case XTCP_NODELAY:
		xs->nodelay = !!val;
		if (val) {
			xtcp_clock_refresh(sk);
			xtcp_push_force(sk);
		}
		return 0;
	case XTCP_MAXSEG:
		if (val && (val < XTCP_MSS_MIN || val > XTCP_USER_MSS_MAX))
			return -EINVAL;
		xs->user_mss = val;
		return 0;
	case XTCP_CORK:
		xs->cork = !!val;
		if (!val) {
			xtcp_clock_refresh(sk);
			xtcp_push_force(sk);
		}
		return 0;
	case XTCP_KEEPIDLE:
	case XTCP_KEEPINTVL:
		if (val < 1 || val > XTCP_MAX_KEEP_S)
			return -EINVAL;
		if (optname == XTCP_KEEPIDLE)
			xs->keepidle_ms = val * MSEC_PER_SEC;
		else
			xs->keepintvl_ms = val * MSEC_PER_SEC;
		xtcp_timer_keepalive_changed(sk);
		return 0;
	case XTCP_KEEPCNT:
		if (val < 1 || val > XTCP_RETRIES_MAX)
			return -EINVAL;
		xs->keepcnt = val;
		return 0;
	case XTCP_SYNCNT:
		if (val < 1 || val > XTCP_RETRIES_MAX)
			return -EINVAL;
		xs->syn_retries = val;
		return 0;
	case XTCP_LINGER2:
		if (val < 0)
			xs->linger2 = -1;
		else
			xs->linger2 = min(val, XTCP_LINGER2_MAX_S);
		return 0;
	case XTCP_DEFER_ACCEPT:
		/* The receive path reads it under the queue lock only. */
		WRITE_ONCE(xs->defer_accept, xtcp_defer_secs_to_timeouts(val));
		return 0;
	case XTCP_QUICKACK:
		xs->quickack_off = !val;
		if (val) {
			xs->quickack = 1;
			if (xs->ack_pending) {
				xtcp_clock_refresh(sk);
				xtcp_send_ack(sk);
			}
		}
		return 0;
	case XTCP_USER_TIMEOUT:
		if (val < 0)
			return -EINVAL;
		xs->user_timeout_ms = val;
		return 0;
	case XTCP_NOTSENT_LOWAT:
		WRITE_ONCE(xs->notsent_lowat, val);
		sk->sk_write_space(sk);
		return 0;
	case XTCP_REPORT_INET:
		if (tcp)
			break;
		xs->report_inet = !!val;
		return 0;
	case XTCP_REUSEPORT:
		if (tcp)
			break;
		xtcp_reuseport_set(sk, val);
		return 0;
	}
	return -ENOPROTOOPT;
}

int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	int val, err;

	if (level == SOL_IP) {
		err = xtcp_ip_setsockopt_allowed(optname) ? :
		      ip_setsockopt(sk, level, optname, optval, optlen);
		if (!err && optname == IP_OPTIONS)
			xtcp_icmp_options_changed(sk);
		return err;
	}
	if (level != SOL_XTCP && level != SOL_TCP)
		return -ENOPROTOOPT;
	if (optname == XTCP_CONGESTION)
		return xtcp_set_congestion(sk, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	err = xtcp_set_opt(sk, level == SOL_TCP, optname, val);
	release_sock(sk);
	return err;
}

/*
 * The options the handshake agreed on, as TCPI_OPT_* bits. Before the
 * peer's SYN, ts_ok and sack_ok say only what we offered.
 */
static u32 xtcp_info_options(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 opts = 0;

	BUILD_BUG_ON(TCPI_OPT_TIMESTAMPS != XTCPI_OPT_TIMESTAMPS);
	BUILD_BUG_ON(TCPI_OPT_WSCALE != XTCPI_OPT_WSCALE);
	BUILD_BUG_ON(TCPI_OPT_SACK != XTCPI_OPT_SACK);
	if (xs->ts_ok && !((1 << sk->sk_state) &
			   (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT)))
		opts |= XTCPI_OPT_TIMESTAMPS;
	if (xs->snd_wscale || xs->rcv_wscale)
		opts |= XTCPI_OPT_WSCALE;
	if (xs->sack_ok && !((1 << sk->sk_state) &
			     (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT)))
		opts |= XTCPI_OPT_SACK;
	return opts;
}

static void xtcp_get_info(struct sock *sk, struct xtcp_info *info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	memset(info, 0, sizeof(*info));
	lock_sock(sk);
	info->xtcpi_state = sk->sk_state;
	info->xtcpi_retransmits = xs->retransmits;
	info->xtcpi_backoff = xs->backoff;
	info->xtcpi_rto = xs->rto_us;
	info->xtcpi_iss = xs->iss;
	info->xtcpi_irs = xs->irs;
	info->xtcpi_snd_una = xs->snd_una;
	info->xtcpi_snd_nxt = xs->snd_nxt;
	info->xtcpi_rcv_nxt = xs->rcv_nxt;
	info->xtcpi_snd_wnd = xs->snd_wnd;
	info->xtcpi_rcv_wnd = xs->rcv_wnd;
	info->xtcpi_mss = xs->mss;
	info->xtcpi_rtt = xs->srtt_us >> 3;
	info->xtcpi_rttvar = xs->rttvar_us >> 2;
	info->xtcpi_snd_cwnd = xs->cwnd;
	info->xtcpi_snd_ssthresh = xs->ssthresh;
	info->xtcpi_ca_state = xs->ca_state;
	info->xtcpi_dupacks = xs->dupacks;
	info->xtcpi_snd_wscale = xs->snd_wscale;
	info->xtcpi_rcv_wscale = xs->rcv_wscale;
	info->xtcpi_unacked = xs->snd_nxt - xs->snd_una;
	info->xtcpi_total_retrans = xs->total_retrans;
	info->xtcpi_fast_retrans = xs->fast_retrans;
	info->xtcpi_rto_timeouts = xs->rto_count;
	info->xtcpi_ooo_segs = xs->ooo_segs;
	info->xtcpi_rcv_queued = xs->rcv_nxt - xs->copied_seq;
	info->xtcpi_rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	info->xtcpi_sndbuf = READ_ONCE(sk->sk_sndbuf);
	info->xtcpi_rcv_rtt = xs->rcv_rtt_us;
	info->xtcpi_rcv_space = xs->rcvq_space;
	info->xtcpi_options = xtcp_info_options(sk);
	info->xtcpi_ts_recent = xs->ts_ok ? xs->ts_recent : 0;
	info->xtcpi_sacked_out = xs->sacked_out;
	info->xtcpi_lost_out = xs->lost_out;
	info->xtcpi_retrans_out = xs->retrans_out;
	info->xtcpi_sack_retrans = xs->sack_retrans;
	info->xtcpi_dsack_recv = xs->dsack_recv;
	info->xtcpi_dsack_sent = xs->dsack_sent;
	xtcp_chrono_read(sk, &info->xtcpi_busy_time, &info->xtcpi_rwnd_limited,
			 &info->xtcpi_sndbuf_limited);
	release_sock(sk);
}

/* Segments of @mss in @bytes, rounded up, as TCP counts its windows. */
static u32 xtcp_segs(u32 bytes, u16 mss)
{
	return mss ? DIV_ROUND_UP(bytes, mss) : 0;
}

static u32 xtcp_ago_ms(u32 stamp)
{
	return stamp ? jiffies_to_msecs(jiffies - stamp) : 0;
}

/*
 * struct tcp_info for TCP_INFO at SOL_TCP: every field xtcp keeps, in
 * TCP's units (windows in segments, times in us, ages in ms); fields for
 * mechanisms xtcp lacks (pacing, delivery rate, ...) stay zero.
 */
static void xtcp_get_tcp_info(struct sock *sk, struct tcp_info *info)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;
	bool synced;

	memset(info, 0, sizeof(*info));
	lock_sock(sk);
	synced = !((1 << sk->sk_state) &
		   (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT));
	info->tcpi_state = sk->sk_state;
	info->tcpi_ca_state = xs->ca_state;
	info->tcpi_retransmits = xs->retransmits;
	info->tcpi_probes = xs->probes;
	info->tcpi_backoff = xs->backoff;
	info->tcpi_options = xtcp_info_options(sk);
	if (xs->snd_wscale || xs->rcv_wscale) {
		info->tcpi_snd_wscale = xs->snd_wscale;
		info->tcpi_rcv_wscale = xs->rcv_wscale;
	}
	info->tcpi_rto = xs->rto_us;
	info->tcpi_ato = READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.delack_ms) *
			 USEC_PER_MSEC;
	info->tcpi_snd_mss = xs->mss;
	info->tcpi_rcv_mss = xs->peer_mss;
	info->tcpi_advmss = xs->user_mss ? : xs->mss;
	if (sk->sk_state == TCP_LISTEN) {
		/* TCP's convention: the queues' lengths. */
		info->tcpi_unacked = READ_ONCE(sk->sk_ack_backlog);
		info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog);
	} else if (synced) {
		info->tcpi_unacked = xtcp_segs(xs->snd_nxt - xs->snd_una,
					       xs->mss);
		info->tcpi_sacked = xtcp_segs(xs->sacked_out, xs->mss);
		info->tcpi_lost = xtcp_segs(xs->lost_out, xs->mss);
		info->tcpi_retrans = xtcp_segs(xs->retrans_out, xs->mss);
	}
	info->tcpi_last_data_sent = xtcp_ago_ms(xs->last_data_sent);
	info->tcpi_last_data_recv = xtcp_ago_ms(xs->last_data_recv);
	info->tcpi_last_ack_recv = synced ? xtcp_ago_ms(xs->rcv_tstamp) : 0;
	dst = __sk_dst_get(sk);
	info->tcpi_pmtu = dst ? dst_mtu(dst) : 0;
	info->tcpi_rcv_ssthresh = xs->rcv_wnd;
	info->tcpi_rtt = xs->srtt_us >> 3;
	info->tcpi_rttvar = xs->rttvar_us >> 2;
	info->tcpi_snd_ssthresh = xs->ssthresh >= XTCP_INFINITE_SSTHRESH ?
				  XTCP_INFO_INFINITE_SSTHRESH :
				  xtcp_segs(xs->ssthresh, xs->mss);
	info->tcpi_snd_cwnd = xtcp_segs(xs->cwnd, xs->mss);
	info->tcpi_reordering = XTCP_DUPACK_THRESHOLD;
	info->tcpi_rcv_space = xs->rcvq_space;
	info->tcpi_rcv_rtt = xs->rcv_rtt_us;
	xtcp_chrono_read(sk, &info->tcpi_busy_time, &info->tcpi_rwnd_limited,
			 &info->tcpi_sndbuf_limited);
	info->tcpi_total_retrans = xs->total_retrans;
	info->tcpi_bytes_acked = xs->bytes_acked;
	info->tcpi_bytes_received = xs->bytes_received;
	info->tcpi_segs_out = xs->segs_out;
	info->tcpi_segs_in = xs->segs_in;
	if (synced)
		info->tcpi_notsent_bytes = xs->write_seq - xs->snd_nxt -
					   xs->fin_queued;
	info->tcpi_min_rtt = xtcp_min_rtt(xs) ? : ~0U;
	info->tcpi_data_segs_in = xs->data_segs_in;
	info->tcpi_data_segs_out = xs->data_segs_out;
	info->tcpi_bytes_sent = xs->bytes_sent;
	info->tcpi_bytes_retrans = xs->bytes_retrans;
	info->tcpi_dsack_dups = xs->dsack_recv;
	info->tcpi_snd_wnd = xs->snd_wnd;
	xtcp_tcp_info_compat(info, xs->rcv_wnd);
	release_sock(sk);
}

static int xtcp_put_opt(char __user *optval, int __user *optlen,
			const void *val, int len, unsigned int size)
{
	len = min_t(unsigned int, len, size);
	if (put_user(len, optlen) || copy_to_user(optval, val, len))
		return -EFAULT;
	return 0;
}

int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_sysctl *sc = &xtcp_pernet(sock_net(sk))->sysctl;
	char name[XTCP_CA_NAME_MAX] = {};
	union {
		struct xtcp_info x;
		struct tcp_info t;
	} info;
	int val, len;

	if (level != SOL_XTCP && level != SOL_TCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case XTCP_INFO:
		if (level == SOL_TCP) {
			xtcp_get_tcp_info(sk, &info.t);
			return xtcp_put_opt(optval, optlen, &info.t, len,
					    sizeof(info.t));
		}
		xtcp_get_info(sk, &info.x);
		return xtcp_put_opt(optval, optlen, &info.x, len,
				    sizeof(info.x));
	case XTCP_CONGESTION:
		strscpy(name, READ_ONCE(xs->ca_ops)->name, sizeof(name));
		return xtcp_put_opt(optval, optlen, name, len, sizeof(name));
	case XTCP_NODELAY:
		val = xs->nodelay;
		break;
	case XTCP_MAXSEG:
		/* TCP's answer: the cap while unconnected, else the MSS. */
		val = xs->mss;
		if (xs->user_mss &&
		    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
			val = xs->user_mss;
		break;
	case XTCP_CORK:
		val = xs->cork;
		break;
	case XTCP_KEEPIDLE:
		val = (xs->keepidle_ms ? :
		       READ_ONCE(sc->keepalive_time_ms)) / MSEC_PER_SEC;
		break;
	case XTCP_KEEPINTVL:
		val = (xs->keepintvl_ms ? :
		       READ_ONCE(sc->keepalive_intvl_ms)) / MSEC_PER_SEC;
		break;
	case XTCP_KEEPCNT:
		val = xs->keepcnt ? : READ_ONCE(sc->keepalive_probes);
		break;
	case XTCP_SYNCNT:
		val = xs->syn_retries ? : READ_ONCE(sc->syn_retries);
		break;
	case XTCP_LINGER2:
		val = READ_ONCE(xs->linger2);
		if (!val)
			val = READ_ONCE(sc->fin_timeout_ms) / MSEC_PER_SEC;
		break;
	case XTCP_DEFER_ACCEPT:
		val = xtcp_defer_timeouts_to_secs(READ_ONCE(xs->defer_accept));
		break;
	case XTCP_QUICKACK:
		val = !xs->quickack_off;
		break;
	case XTCP_USER_TIMEOUT:
		val = xs->user_timeout_ms;
		break;
	case XTCP_NOTSENT_LOWAT:
		val = READ_ONCE(xs->notsent_lowat);
		break;
	case XTCP_REPORT_INET:
		if (level == SOL_TCP)
			return -ENOPROTOOPT;
		val = xs->report_inet;
		break;
	case XTCP_REUSEPORT:
		if (level == SOL_TCP)
			return -ENOPROTOOPT;
		val = xtcp_reuseport_on(sk);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return xtcp_put_opt(optval, optlen, &val, len, sizeof(int));
}

/* SO_KEEPALIVE, with the socket locked, before SOCK_KEEPOPEN changes. */
void xtcp_keepalive(struct sock *sk, int val)
{
	sock_valbool_flag(sk, SOCK_KEEPOPEN, val);
	xtcp_timer_keepalive_changed(sk);
}
