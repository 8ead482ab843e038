// SPDX-License-Identifier: GPL-2.0
/*
 * Socket options at every level: SOL_XTCP here, SO_KEEPALIVE's hook for
 * sock_setsockopt(), and everything else passed to IPv4's handlers. Values
 * and errnos follow TCP's options of the same meaning (net/ipv4/tcp.c).
 * Adding an option: its number in include/uapi/linux/xtcp.h, a case in
 * both switches below, a line in Documentation/protocol.md.
 */

#include <linux/uaccess.h>
#include <net/ip.h>
#include <net/sock.h>

#include "netns.h"
#include "output.h"
#include "proto.h"
#include "timer.h"
#include "xtcp.h"

/*
 * The IP-level options xtcp honours: ip_queue_xmit() sends with the
 * socket's TOS, TTL and DF bit, bind() honours IP_FREEBIND; none of them
 * holds anything that must be undone at close. The rest of ip_setsockopt()
 * is refused. A multicast join would succeed on an xtcp socket (it is no
 * connection socket to ip_setsockopt()), and nothing drops the group at
 * close(): xtcp's release is not inet_release(). IP_ADD_MEMBERSHIP and
 * IP_DROP_MEMBERSHIP fail with EPROTO, IP_MULTICAST_IF and _TTL with
 * EINVAL, as on TCP; the source and group_req joins, which TCP accepts
 * (and drops at close), fail with EPROTO too. Everything else, which xtcp
 * would accept and ignore (IP_PKTINFO, IP_RECVERR, IP_OPTIONS,
 * IP_TRANSPARENT, IP_LOCAL_PORT_RANGE, ...), is ENOPROTOOPT.
 */
static int xtcp_ip_setsockopt_allowed(int optname)
{
	switch (optname) {
	case IP_TOS:
	case IP_TTL:
	case IP_MTU_DISCOVER:
	case IP_FREEBIND:
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

int xtcp_setsockopt(struct socket *sock, int level, int optname,
		    sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int val, err = 0;

	if (level == SOL_IP) {
		err = xtcp_ip_setsockopt_allowed(optname);
		return err ? : ip_setsockopt(sk, level, optname, optval,
					     optlen);
	}
	if (level != SOL_XTCP)
		return -ENOPROTOOPT;
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case XTCP_NODELAY:
		xs->nodelay = !!val;
		if (val)
			xtcp_push(sk);
		break;
	case XTCP_KEEPIDLE:
	case XTCP_KEEPINTVL:
		if (val < 1 || val > XTCP_MAX_KEEP_S) {
			err = -EINVAL;
			break;
		}
		if (optname == XTCP_KEEPIDLE)
			xs->keepidle_ms = val * MSEC_PER_SEC;
		else
			xs->keepintvl_ms = val * MSEC_PER_SEC;
		xtcp_timer_keepalive_changed(sk);
		break;
	case XTCP_KEEPCNT:
		if (val < 1 || val > XTCP_RETRIES_MAX)
			err = -EINVAL;
		else
			xs->keepcnt = val;
		break;
	case XTCP_SYNCNT:
		if (val < 1 || val > XTCP_RETRIES_MAX)
			err = -EINVAL;
		else
			xs->syn_retries = val;
		break;
	case XTCP_LINGER2:
		if (val < 0)
			xs->linger2 = -1;
		else
			xs->linger2 = min(val, XTCP_LINGER2_MAX_S);
		break;
	default:
		err = -ENOPROTOOPT;
	}
	release_sock(sk);
	return err;
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
	release_sock(sk);
}

int xtcp_getsockopt(struct socket *sock, int level, int optname,
		    char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	const struct xtcp_sysctl *sc = &xtcp_pernet(sock_net(sk))->sysctl;
	struct xtcp_info info;
	int val, len;

	if (level != SOL_XTCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case XTCP_INFO:
		xtcp_get_info(sk, &info);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	case XTCP_NODELAY:
		val = xs->nodelay;
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
	default:
		return -ENOPROTOOPT;
	}
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/* SO_KEEPALIVE, with the socket locked, before SOCK_KEEPOPEN changes. */
void xtcp_keepalive(struct sock *sk, int val)
{
	sock_valbool_flag(sk, SOCK_KEEPOPEN, val);
	xtcp_timer_keepalive_changed(sk);
}
