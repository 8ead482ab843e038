// SPDX-License-Identifier: GPL-2.0
/*
 * The socket layer: the address family, struct proto and proto_ops, and
 * the socket's life from creation to destruction. Socket options are
 * sockopt.c's, sendmsg() and recvmsg() stream.c's.
 *
 * The rule for every call is "what Linux TCP would show the application":
 * the same errnos in the same order of checks, the same poll bits, the same
 * bind() conflicts. net/ipv4/af_inet.c and tcp.c are the reference.
 *
 * References: sk_alloc()'s reference belongs to the socket's existence and
 * is dropped by xtcp_destroy_sock() once the socket is closed and orphaned.
 * The tables, an armed timer, the accept queue and every lookup hold their
 * own.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/percpu_counter.h>
#include <linux/poll.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "compat.h"
#include "cong.h"
#include "icmp.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "output.h"
#include "proto.h"
#include "request.h"
#include "sack.h"
#include "timer.h"
#include "trace.h"
#include "tune.h"
#include "xtcp.h"

static struct proto xtcp_prot;

/* ---- memory and orphans, accounted as TCP's (struct proto) ---- */

static atomic_long_t xtcp_memory_allocated;	/* pages */
static DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
static struct percpu_counter xtcp_sockets_allocated;
static unsigned long xtcp_memory_pressure;	/* jiffies it began; 0: none */
static DEFINE_PER_CPU(unsigned int, xtcp_orphan_count);
#if !defined(XTCP_HAVE_SK_CHARGE) && defined(CONFIG_MEMCG)
/*
 * Associate an accepted @child, made in softirq where no memory cgroup
 * is associated, with the acceptor's (cgroup v2, not the root), and
 * charge that cgroup the pages the child already holds, as TCP's
 * accept() does. These kernels export no way to charge a memory cgroup
 * alone, so the charge goes through __sk_mem_schedule(), which charges
 * the cgroup and xtcp's total together and grants as much forward
 * allocation; both of those are taken back at once, leaving the
 * cgroup's charge. The request is of the send kind and larger than the
 * send buffer (sk_sndbuf is 0 for the call, and locked so that the core
 * does not raise it), which the core never refuses: over the cgroup's
 * limit it charges with __GFP_NOFAIL, as TCP's accept() does. From
 * here on every uncharge of the child's memory uncharges the cgroup
 * too, which is why what it holds now must be charged first. Process
 * context, @child owned by us, so neither the receive path nor a timer
 * changes its memory meanwhile.
 */
void xtcp_memcg_accept(struct sock *child)
{
	struct mem_cgroup *memcg;
	int pages, sndbuf, locks;

	if (!mem_cgroup_sockets_enabled || child->sk_memcg || !in_task() ||
	    !cgroup_subsys_on_dfl(memory_cgrp_subsys))
		return;
	rcu_read_lock();
	memcg = mem_cgroup_from_task(current);
	if (memcg && (!memcg->css.parent || !css_tryget(&memcg->css)))
		memcg = NULL;
	rcu_read_unlock();
	if (!memcg)
		return;

	pages = sk_mem_pages(child->sk_forward_alloc +
			     atomic_read(&child->sk_rmem_alloc) +
			     child->sk_wmem_queued);
	child->sk_memcg = memcg;
	if (!pages)
		return;
	sndbuf = child->sk_sndbuf;
	locks = child->sk_userlocks;
	child->sk_userlocks |= SOCK_SNDBUF_LOCK;
	WRITE_ONCE(child->sk_sndbuf, 0);
	if (__sk_mem_schedule(child, pages << PAGE_SHIFT, SK_MEM_SEND)) {
		sk_forward_alloc_add(child, -(pages << PAGE_SHIFT));
		atomic_long_sub(pages, &xtcp_memory_allocated);
	} else {
		/* Not reached (see above); if it were, stay uncharged. */
		child->sk_memcg = NULL;
		css_put(&memcg->css);
	}
	child->sk_userlocks = locks;
	WRITE_ONCE(child->sk_sndbuf, sndbuf);
}
#endif

/*
 * Only the first of each is read, by the core under memory pressure: the
 * buffer every socket keeps (tcp_rmem[0], tcp_wmem[0]). The core reads
 * them from struct proto, so one pair serves every namespace: the initial
 * namespace's rmem/wmem minima (sysctl.c keeps them in step). Buffer
 * sizes otherwise come from each namespace's sysctls (tune.c).
 */
static int xtcp_sysctl_rmem[3] = { XTCP_BUF_MIN, 131072, 6291456 };
static int xtcp_sysctl_wmem[3] = { XTCP_BUF_MIN, 16384, 4194304 };

/* A new floor for all namespaces; a negative value leaves that one. */
void xtcp_set_mem_floor(int rmem0, int wmem0)
{
	if (rmem0 >= 0)
		WRITE_ONCE(xtcp_sysctl_rmem[0], rmem0);
	if (wmem0 >= 0)
		WRITE_ONCE(xtcp_sysctl_wmem[0], wmem0);
}

static void xtcp_enter_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		return;
	if (!cmpxchg(&xtcp_memory_pressure, 0UL, jiffies ? : 1UL))
		XTCP_INC_STATS(sock_net(sk), MEMORY_PRESSURES);
}

static void xtcp_leave_memory_pressure(struct sock *sk)
{
	if (READ_ONCE(xtcp_memory_pressure))
		WRITE_ONCE(xtcp_memory_pressure, 0);
}

static long xtcp_orphan_count_sum(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += (int)per_cpu(xtcp_orphan_count, cpu);
	return max(sum, 0L);
}

/*
 * An orphan costs memory nobody will read or write again: give up on it
 * (RST, CLOSED) when there are more than max_orphans, or when it holds
 * send data while the protocol is over its hard memory limit, as
 * tcp_out_of_resources() does. True if the socket is done.
 */
bool xtcp_out_of_resources(struct sock *sk)
{
	bool orphans = xtcp_orphan_count_sum() > READ_ONCE(xtcp_max_orphans);
	bool oom = sk->sk_wmem_queued > SOCK_MIN_SNDBUF &&
		   atomic_long_read(&xtcp_memory_allocated) >
		   READ_ONCE(xtcp_sysctl_mem[2]);

	if (!orphans && !oom)
		return false;
	if (orphans)
		net_info_ratelimited("xtcp: too many orphaned sockets\n");
	if (oom)
		net_info_ratelimited("xtcp: out of memory -- consider tuning net.xtcp.mem\n");
	XTCP_INC_STATS(sock_net(sk), ABORT_ON_MEMORY);
	xtcp_send_active_reset(sk);
	xtcp_done(sk);
	return true;
}

/* /proc/net/xtcp/sockstat: the numbers /proc/net/sockstat has for TCP. */
void xtcp_sockstat(struct net *net, long *inuse, long *orphans, long *alloc,
		   long *mem)
{
	*inuse = sock_prot_inuse_get(net, &xtcp_prot);
	*orphans = xtcp_orphan_count_sum();
	*alloc = percpu_counter_sum_positive(&xtcp_sockets_allocated);
	*mem = max(0L, atomic_long_read(&xtcp_memory_allocated));
}

/* ---- life and death ---- */

static void xtcp_write_queue_purge(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue))) {
		sk_wmem_queued_add(sk, -skb->truesize);
		sk_mem_uncharge(sk, skb->truesize);
		kfree_skb(skb);
	}
	xtcp_sk(sk)->send_head = NULL;
}

/* Leave every table; a port bound explicitly stays until destruction. */
static void xtcp_unhash(struct sock *sk)
{
	xtcp_timer_stop(sk);
	xtcp_ehash_del_sk(sk);
	xtcp_lhash_del(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_unbind_port(sk);
}

/*
 * Final teardown of a closed, orphaned socket (locked). Drops the socket's
 * own reference; callers always hold another one.
 */
static void xtcp_destroy_sock(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	if (test_and_set_bit(XTCP_F_DESTROYED, &xs->flags))
		return;
	xtcp_unhash(sk);
	xtcp_unbind_port(sk);
	xtcp_write_queue_purge(sk);
	__skb_queue_purge(&sk->sk_receive_queue);
	xtcp_ooo_purge(sk);
	if (test_and_clear_bit(XTCP_F_ORPHAN, &xs->flags))
		this_cpu_dec(xtcp_orphan_count);
	xtcp_state_gone(sock_net(sk), sk->sk_state);
	sock_put(sk);
}

/* Enter CLOSED for good; an orphan is destroyed, others are woken. */
void xtcp_done(struct sock *sk)
{
	if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV)
		XTCP_INC_STATS(sock_net(sk), ATTEMPT_FAILS);
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_unhash(sk);
	xtcp_write_queue_purge(sk);
	xtcp_ooo_purge(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (sock_flag(sk, SOCK_DEAD))
		xtcp_destroy_sock(sk);
	else
		sk->sk_state_change(sk);
}

/* An acceptable RST arrived: the errno is the one TCP reports. */
void xtcp_reset(struct sock *sk)
{
	bool dead = sock_flag(sk, SOCK_DEAD);
	int err;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	WRITE_ONCE(sk->sk_err, err);
	xtcp_trace_reset_recv(sk, err);
	/* The error is visible before the state: pairs with xtcp_poll(). */
	smp_wmb();
	xtcp_done(sk);
	if (!dead)
		sk_error_report(sk);
}

/* Wake writers once a third of the send buffer is free, as TCP does. */
static void xtcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !sk_stream_is_writeable(sk))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	rcu_read_unlock();
	sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
}

/* The last reference is gone: the socket leaves the protocol's counts. */
static void xtcp_sock_destruct(struct sock *sk)
{
	kvfree(xtcp_sk(sk)->syn_hash);
	inet_sock_destruct(sk);
	sk_sockets_allocated_dec(sk);
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, -1);
}

static void xtcp_sock_init(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->xn = xtcp_pernet(sock_net(sk));
	sk->sk_type = SOCK_STREAM;
	sk->sk_protocol = xtcp_ipproto;
	sk->sk_destruct = xtcp_sock_destruct;
	sk_sockets_allocated_inc(sk);
	sock_prot_inuse_add(sock_net(sk), sk->sk_prot, 1);
	sk->sk_write_space = xtcp_write_space;
	sk->sk_backlog_rcv = xtcp_backlog_rcv;
	sock_set_flag(sk, SOCK_RCU_FREE);
	inet_sk(sk)->uc_ttl = -1;
	xtcp_buf_init_sock(sk);
	/* DF on, the path MTU discovered (icmp.c), as TCP's inet_create(). */
	inet_sk(sk)->pmtudisc =
		READ_ONCE(sock_net(sk)->ipv4.sysctl_ip_no_pmtu_disc) ?
		IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;

	xs->rcv_wnd = XTCP_WND_MAX;
	xs->mss = XTCP_MSS_DEFAULT;
	xs->peer_mss = XTCP_MSS_DEFAULT;
	xs->report_inet = READ_ONCE(xtcp_report_inet);
	xtcp_cong_init(sk);
	xs->ooo_queue = RB_ROOT;
	spin_lock_init(&xs->queue_lock);
	INIT_LIST_HEAD(&xs->syn_queue);
	INIT_LIST_HEAD(&xs->accept_queue);
	INIT_LIST_HEAD(&xs->accept_node);
	xtcp_timer_init(sk);
}

/* ---- proto_ops ---- */

static int xtcp_close_state(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		xtcp_set_state(sk, TCP_FIN_WAIT1);
		return 1;
	case TCP_CLOSE_WAIT:
		xtcp_set_state(sk, TCP_LAST_ACK);
		return 1;
	}
	return 0;
}

static bool xtcp_need_reset(int state)
{
	return (1 << state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
			       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_SYN_RECV);
}

static void xtcp_stop_listening(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);

	spin_lock_bh(&xs->queue_lock);
	xs->listening = false;
	spin_unlock_bh(&xs->queue_lock);
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_unhash(sk);
	xtcp_listen_stop(sk);
}

/* Linger: wait until the FIN is acknowledged, or the time runs out. */
static void xtcp_wait_close(struct sock *sk, long timeout)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while (timeout && !signal_pending(current) &&
	       ((1 << sk->sk_state) &
		(TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK)))
		sk_wait_event(sk, &timeout,
			      !((1 << sk->sk_state) & (TCPF_FIN_WAIT1 |
						       TCPF_CLOSING |
						       TCPF_LAST_ACK)), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
}

static void xtcp_close(struct sock *sk, long timeout)
{
	bool unread;

	lock_sock(sk);
	sock_hold(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);

	if (sk->sk_state == TCP_LISTEN) {
		xtcp_stop_listening(sk);
		goto orphan;
	}

	unread = !skb_queue_empty(&sk->sk_receive_queue);
	__skb_queue_purge(&sk->sk_receive_queue);
	xtcp_ooo_purge(sk);

	if (sk->sk_state == TCP_CLOSE)
		goto orphan;
	if (sk->sk_state == TCP_SYN_SENT) {
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (unread ||
		   (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)) {
		/* Data lost, or SO_LINGER {1, 0}: abort with RST (RFC 9293). */
		if (xtcp_need_reset(sk->sk_state))
			xtcp_send_active_reset(sk);
		xtcp_set_state(sk, TCP_CLOSE);
	} else if (xtcp_close_state(sk)) {
		xtcp_queue_fin(sk);
		if (timeout)
			xtcp_wait_close(sk, timeout);
	}

orphan:
	sock_orphan(sk);
	if (sk->sk_state != TCP_CLOSE) {
		set_bit(XTCP_F_ORPHAN, &xtcp_sk(sk)->flags);
		this_cpu_inc(xtcp_orphan_count);
		if (xtcp_out_of_resources(sk))
			goto out;
	}
	if (sk->sk_state == TCP_CLOSE)
		xtcp_done(sk);
	else if (sk->sk_state == TCP_FIN_WAIT2)
		xtcp_timer_fin_wait2(sk);
out:
	release_sock(sk);
	sock_put(sk);
}

static int xtcp_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	long timeout = 0;

	if (!sk)
		return 0;
	if (sock_flag(sk, SOCK_LINGER) && !(current->flags & PF_EXITING))
		timeout = sk->sk_lingertime;
	xtcp_close(sk, timeout);
	sock->sk = NULL;
	return 0;
}

/* Accept sockaddr_in tagged AF_INET or the xtcp family, as TCP accepts. */
static bool xtcp_family_ok(sa_family_t family)
{
	return family == AF_INET || family == xtcp_family;
}

static int xtcp_bind(struct socket *sock, struct xtcp_sockaddr *uaddr,
		     int len)
{
	struct sockaddr_in *addr = (struct sockaddr_in *)uaddr;
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	u16 snum;
	int chk, err;

	if (len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (!xtcp_family_ok(addr->sin_family)) {
		/* AF_UNSPEC is tolerated for INADDR_ANY, as by inet_bind(). */
		if (addr->sin_family != AF_UNSPEC ||
		    addr->sin_addr.s_addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}

	chk = inet_addr_type(net, addr->sin_addr.s_addr);
	if (!inet_addr_valid_or_nonlocal(net, inet, addr->sin_addr.s_addr, chk))
		return -EADDRNOTAVAIL;
	snum = ntohs(addr->sin_port);
	if (snum && inet_port_requires_bind_service(net, snum) &&
	    !ns_capable(net->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_CLOSE || inet->inet_num)
		goto out;

	inet->inet_rcv_saddr = addr->sin_addr.s_addr;
	inet->inet_saddr = addr->sin_addr.s_addr;
	if (chk == RTN_MULTICAST || chk == RTN_BROADCAST)
		inet->inet_saddr = 0;
	err = xtcp_bind_port(sk, snum);
	if (err) {
		inet->inet_rcv_saddr = 0;
		inet->inet_saddr = 0;
		err = -EADDRINUSE;
		goto out;
	}
	if (inet->inet_rcv_saddr)
		sk->sk_userlocks |= SOCK_BINDADDR_LOCK;
	if (snum)
		sk->sk_userlocks |= SOCK_BINDPORT_LOCK;
	inet->inet_daddr = 0;
	inet->inet_dport = 0;
	sk_dst_reset(sk);
out:
	release_sock(sk);
	return err;
}

/* No peer any more; a local address chosen by connect() goes too. */
static void xtcp_forget_peer(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);

	inet->inet_dport = 0;
	inet->inet_daddr = 0;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		inet->inet_rcv_saddr = 0;
	}
}

/* connect(AF_UNSPEC) and friends: back to a fresh CLOSED socket, as TCP. */
static int xtcp_disconnect(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	int old = sk->sk_state;

	if (old == TCP_LISTEN) {
		xtcp_stop_listening(sk);
	} else if (xtcp_need_reset(old)) {
		xtcp_send_active_reset(sk);
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	} else if (old == TCP_SYN_SENT) {
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}
	if (old != TCP_CLOSE) {
		xtcp_set_state(sk, TCP_CLOSE);
		xtcp_unhash(sk);
	}
	xtcp_write_queue_purge(sk);
	__skb_queue_purge(&sk->sk_receive_queue);
	xtcp_ooo_purge(sk);

	xtcp_forget_peer(sk);
	WRITE_ONCE(sk->sk_shutdown, 0);
	sock_reset_flag(sk, SOCK_DONE);
	xs->fin_queued = 0;
	xs->rcv_wnd = XTCP_WND_MAX;
	xs->rcv_wup = 0;
	xtcp_timer_reset(sk);
	xs->snd_wscale = 0;
	xs->rcv_wscale = 0;
	xs->ts_ok = 0;
	xs->sack_ok = 0;
	xtcp_cong_init(sk);
	sk_dst_reset(sk);
	sk_error_report(sk);
	return 0;
}

/* Routed, bound and hashed: choose the ISS and send the SYN. */
static void xtcp_connect_start(struct sock *sk, struct dst_entry *dst)
{
	struct inet_sock *inet = inet_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);

	xs->mss = xtcp_mss_for_path(sk, dst_mtu(dst));
	xs->snd_wscale = 0;
	xs->rcv_wscale = xtcp_wscale_for(sk);
	sk_dst_set(sk, dst);

	xs->iss = xtcp_isn(inet->inet_saddr, inet->inet_daddr,
			   inet->inet_sport, inet->inet_dport);
	xtcp_ts_connect(sk);
	xtcp_sack_connect(sk);
	xs->snd_una = xs->iss;
	xs->snd_nxt = xs->iss + 1;
	xs->write_seq = xs->iss + 1;
	atomic_set(&inet->inet_id, get_random_u16());

	XTCP_INC_STATS(sock_net(sk), ACTIVE_OPENS);
	xtcp_send_syn(sk);
	xtcp_timer_syn_sent(sk);
}

/* The active open (tcp_v4_connect's steps). */
static int xtcp_v4_connect(struct sock *sk, struct xtcp_sockaddr *uaddr,
			   int len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	__be16 orig_sport, orig_dport;
	struct flowi4 *fl4;
	struct rtable *rt;
	__be32 daddr;
	int err;

	if (len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (!xtcp_family_ok(usin->sin_family))
		return -EAFNOSUPPORT;

	daddr = usin->sin_addr.s_addr;
	orig_sport = inet->inet_sport;
	orig_dport = usin->sin_port;
	fl4 = &inet->cork.fl.u.ip4;
	rt = ip_route_connect(fl4, daddr, inet->inet_saddr,
			      sk->sk_bound_dev_if, xtcp_ipproto, orig_sport,
			      orig_dport, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}

	if (!inet->inet_saddr) {
		inet->inet_saddr = fl4->saddr;
		inet->inet_rcv_saddr = fl4->saddr;
	}
	inet->inet_dport = usin->sin_port;
	inet->inet_daddr = daddr;

	xtcp_set_state(sk, TCP_SYN_SENT);
	if (!inet->inet_num) {
		err = xtcp_bind_port(sk, 0);
		if (err)
			goto failure;
		err = xtcp_ehash_add_sk(sk);
	} else {
		err = xtcp_ehash_connect_bound(sk);
	}
	if (err)
		goto failure;

	rt = ip_route_newports(fl4, rt, orig_sport, orig_dport,
			       inet->inet_sport, inet->inet_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		goto failure;
	}
	xtcp_connect_start(sk, &rt->dst);
	return 0;

failure:
	if (rt)
		ip_rt_put(rt);
	xtcp_set_state(sk, TCP_CLOSE);
	xtcp_unhash(sk);
	xtcp_forget_peer(sk);
	return err;
}

static long xtcp_wait_for_connect(struct sock *sk, long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	while ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		release_sock(sk);
		timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, timeo);
		lock_sock(sk);
		if (signal_pending(current) || !timeo)
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return timeo;
}

/* inet_stream_connect()'s state machine over struct socket's state. */
static int xtcp_connect(struct socket *sock, struct xtcp_sockaddr *uaddr,
			int len, int flags)
{
	struct sock *sk = sock->sk;
	long timeo;
	int err;

	if (len < (int)sizeof(uaddr->sa_family))
		return -EINVAL;

	lock_sock(sk);
	if (uaddr->sa_family == AF_UNSPEC) {
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		goto out;
	}

	switch (sock->state) {
	default:
		err = -EINVAL;
		goto out;
	case SS_CONNECTED:
		err = -EISCONN;
		goto out;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	case SS_UNCONNECTED:
		err = -EISCONN;
		if (sk->sk_state != TCP_CLOSE)
			goto out;
		err = xtcp_v4_connect(sk, uaddr, len);
		if (err < 0)
			goto out;
		sock->state = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		/* Error code is set above */
		if (!timeo || !xtcp_wait_for_connect(sk, timeo))
			goto out;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			goto out;
	}

	/* Refused, reset or timed out while we waited. */
	if (sk->sk_state == TCP_CLOSE) {
		err = sock_error(sk) ? : -ECONNABORTED;
		sock->state = SS_UNCONNECTED;
		goto out;
	}
	sock->state = SS_CONNECTED;
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int xtcp_accept(XTCP_ACCEPT_ARGS)
{
	struct sock *sk = sock->sk, *child;
	struct xtcp_sock *xs = xtcp_sk(sk);
	long timeo;
	int err;

	lock_sock(sk);
	err = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out;
	timeo = sock_rcvtimeo(sk, XTCP_ACCEPT_FLAGS & O_NONBLOCK);
	while (!(child = xtcp_accept_dequeue(sk))) {
		DEFINE_WAIT_FUNC(wait, woken_wake_function);

		err = -EAGAIN;
		if (!timeo)
			goto out;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			goto out;
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo,
			      !list_empty(&xs->accept_queue) ||
			      sk->sk_state != TCP_LISTEN, &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			goto out;
	}
	release_sock(sk);

	lock_sock(child);
	xtcp_accept_graft(sock, newsock, child);
	release_sock(child);
	sock_put(child);	/* the accept queue's reference */
	return 0;
out:
	release_sock(sk);
	return err;
}

static int xtcp_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	DECLARE_SOCKADDR(struct sockaddr_in *, sin, uaddr);
	struct sock *sk = sock->sk;
	struct inet_sock *inet = inet_sk(sk);

	lock_sock(sk);
	sin->sin_family = xtcp_sk(sk)->report_inet ? AF_INET : xtcp_family;
	if (peer) {
		if (!inet->inet_dport ||
		    (((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_SYN_SENT)) &&
		     peer == 1)) {
			release_sock(sk);
			return -ENOTCONN;
		}
		sin->sin_port = inet->inet_dport;
		sin->sin_addr.s_addr = inet->inet_daddr;
	} else {
		sin->sin_port = inet->inet_sport;
		sin->sin_addr.s_addr = inet->inet_rcv_saddr ? :
				       inet->inet_saddr;
	}
	release_sock(sk);
	memset(sin->sin_zero, 0, sizeof(sin->sin_zero));
	return sizeof(*sin);
}

/*
 * Enough to read for poll: SO_RCVLOWAT bytes (at least one) in order; the
 * end of the stream and errors are reported by poll's other checks.
 */
static bool xtcp_readable(const struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int avail = READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq);

	return avail > 0 && avail >= sock_rcvlowat(sk, 0, INT_MAX);
}

/*
 * XTCP_NOTSENT_LOWAT: writable while fewer bytes than the mark are queued
 * unsent (half of it to wake a writer, as TCP does); 0 means no mark.
 */
static bool xtcp_stream_memory_free(const struct sock *sk, int wake)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u32 lowat = READ_ONCE(xs->notsent_lowat);
	u32 notsent;

	if (!lowat)
		return true;
	notsent = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_nxt);
	return ((u64)notsent << wake) < lowat;
}

/*
 * SO_RCVLOWAT (socket locked): a mark the receive buffer can hold, whose
 * window the buffer grows to unless SO_RCVBUF fixed it (as TCP does;
 * otherwise a mark above the window would never be reached).
 */
static int xtcp_set_rcvlowat(struct sock *sk, int val)
{
	bool locked = sk->sk_userlocks & SOCK_RCVBUF_LOCK;
	int cap = locked ? READ_ONCE(sk->sk_rcvbuf) >> 1 :
		  READ_ONCE(xtcp_pernet(sock_net(sk))->sysctl.rmem[2]) >> 1;

	val = min(val, cap);
	WRITE_ONCE(sk->sk_rcvlowat, val ? : 1);
	if (!locked && 2 * val > READ_ONCE(sk->sk_rcvbuf)) {
		WRITE_ONCE(sk->sk_rcvbuf, 2 * val);
		if ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 |
					   TCPF_FIN_WAIT2))
			xtcp_send_ack(sk);	/* the larger window */
	}
	if (xtcp_readable(sk))
		sk->sk_data_ready(sk);
	return 0;
}

/* tcp_poll()'s rules, bit for bit. */
static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);

	/* Pairs with smp_store_release() in xtcp_set_state(). */
	state = smp_load_acquire(&sk->sk_state);
	if (state == TCP_LISTEN)
		return list_empty_careful(&xs->accept_queue) ?
		       0 : EPOLLIN | EPOLLRDNORM;

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (xtcp_readable(sk))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* Race breaker, as tcp_poll(). */
				smp_mb__after_atomic();
				if (sk_stream_is_writeable(sk))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* Pairs with the smp_wmb() in xtcp_reset(). */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

static int xtcp_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int answ;

	switch (cmd) {
	case SIOCINQ:
	case SIOCOUTQ:
	case SIOCOUTQNSD:
		break;
	default:
		return -ENOIOCTLCMD;
	}
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		release_sock(sk);
		return -EINVAL;
	}
	if (cmd == SIOCINQ)
		answ = xs->rcv_nxt - xs->copied_seq -
		       !!(sk->sk_shutdown & RCV_SHUTDOWN && sock_flag(sk, SOCK_DONE));
	else if (cmd == SIOCOUTQ)
		answ = xs->write_seq - xs->snd_una;
	else
		answ = xs->write_seq - xs->snd_nxt;
	if (sk->sk_state == TCP_SYN_SENT || answ < 0)
		answ = 0;
	release_sock(sk);
	return put_user(answ, (int __user *)arg);
}

static int xtcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct xtcp_sock *xs = xtcp_sk(sk);
	int old, err;

	lock_sock(sk);
	err = -EINVAL;
	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		goto out;
	old = sk->sk_state;
	if (!((1 << old) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	err = xtcp_syn_hash_size(sk, backlog);
	if (err)
		goto out;
	if (old != TCP_LISTEN) {
		if (!inet_sk(sk)->inet_num && xtcp_bind_port(sk, 0)) {
			err = -EADDRINUSE;
			goto out;
		}
		err = xtcp_bind_listen(sk);
		if (err)
			goto out;
		/* Not yet in the listener table: no segment has seen it. */
		spin_lock_bh(&xs->queue_lock);
		xs->listening = true;
		spin_unlock_bh(&xs->queue_lock);
		xtcp_lhash_add(sk);
	}
	err = 0;
out:
	release_sock(sk);
	return err;
}

static int xtcp_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err = 0;

	/* SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN, as inet. */
	how++;
	if ((how & ~SHUTDOWN_MASK) || !how)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_CONNECTING) {
		if ((1 << sk->sk_state) &
		    (TCPF_SYN_SENT | TCPF_SYN_RECV | TCPF_CLOSE))
			sock->state = SS_DISCONNECTING;
		else
			sock->state = SS_CONNECTED;
	}

	switch (sk->sk_state) {
	case TCP_CLOSE:
		err = -ENOTCONN;
		fallthrough;
	default:
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
		if ((how & SEND_SHUTDOWN) && xtcp_close_state(sk))
			xtcp_queue_fin(sk);
		break;
	case TCP_LISTEN:
		if (!(how & RCV_SHUTDOWN))
			break;
		fallthrough;
	case TCP_SYN_SENT:
		err = xtcp_disconnect(sk);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		break;
	}
	sk->sk_state_change(sk);
	release_sock(sk);
	return err;
}

/*
 * .family is left unset: the family is a module parameter, registered
 * through xtcp_family_ops, and the core reads proto_ops->family only to
 * recognise AF_UNIX sockets.
 */
static const struct proto_ops xtcp_stream_ops = {
	.owner		= THIS_MODULE,
	.release	= xtcp_release,
	.bind		= xtcp_bind,
	.connect	= xtcp_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= xtcp_accept,
	.getname	= xtcp_getname,
	.poll		= xtcp_poll,
	.ioctl		= xtcp_ioctl,
	.listen		= xtcp_listen,
	.shutdown	= xtcp_shutdown,
	.setsockopt	= xtcp_setsockopt,
	.getsockopt	= xtcp_getsockopt,
	.sendmsg	= xtcp_sendmsg,
	.recvmsg	= xtcp_recvmsg,
	.mmap		= sock_no_mmap,
	.set_rcvlowat	= xtcp_set_rcvlowat,
};

/*
 * Work softirq left for the owner: timers first, then ICMP, then the ACK
 * the backlog deferred (unless one of those sent it).
 */
static void xtcp_release_cb(struct sock *sk)
{
	xtcp_timer_release_cb(sk);
	xtcp_icmp_release_cb(sk);
	xtcp_ack_release_cb(sk);
}

static struct proto xtcp_prot = {
	.name			= "XTCP",
	.owner			= THIS_MODULE,
	.obj_size		= sizeof(struct xtcp_sock),
	.backlog_rcv		= xtcp_backlog_rcv,
	.release_cb		= xtcp_release_cb,
	.keepalive		= xtcp_keepalive,
	/*
	 * Memory accounting: with these, sk_alloc() ties a socket made in
	 * task context to the task's memory cgroup, and every page the
	 * socket's queues take is charged there and to memory_allocated.
	 */
	.enter_memory_pressure	= xtcp_enter_memory_pressure,
	.leave_memory_pressure	= xtcp_leave_memory_pressure,
	.memory_allocated	= &xtcp_memory_allocated,
	.per_cpu_fw_alloc	= &xtcp_memory_per_cpu_fw_alloc,
	.sockets_allocated	= &xtcp_sockets_allocated,
	.memory_pressure	= &xtcp_memory_pressure,
	.sysctl_mem		= xtcp_sysctl_mem,
	.sysctl_wmem		= xtcp_sysctl_wmem,
	.sysctl_rmem		= xtcp_sysctl_rmem,
	.stream_memory_free	= xtcp_stream_memory_free,
};

/* A socket with no struct socket yet (a child), in state 0. */
struct sock *xtcp_sk_alloc(struct net *net, gfp_t gfp, int kern)
{
	struct sock *sk;

	sk = sk_alloc(net, xtcp_family, gfp, &xtcp_prot, kern);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	xtcp_sock_init(sk);
	return sk;
}

static int xtcp_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	/* IPPROTO_TCP too, for programs written for TCP. */
	if (protocol && protocol != xtcp_ipproto && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, xtcp_family, GFP_KERNEL, &xtcp_prot, kern);
	if (!sk)
		return -ENOBUFS;

	sock->state = SS_UNCONNECTED;
	sock->ops = &xtcp_stream_ops;
	sock_init_data(sock, sk);
	xtcp_sock_init(sk);
	sk->sk_state = 0;
	xtcp_set_state(sk, TCP_CLOSE);
	return 0;
}

/* .family is the module parameter, filled in before registration. */
static struct net_proto_family xtcp_family_ops __ro_after_init = {
	.create	= xtcp_create,
	.owner	= THIS_MODULE,
};

int xtcp_socket_register(void)
{
	int err;

	err = percpu_counter_init(&xtcp_sockets_allocated, 0, GFP_KERNEL);
	if (err)
		return err;
	xtcp_proto_set_orphan_count(&xtcp_prot, &xtcp_orphan_count);
	err = proto_register(&xtcp_prot, 1);
	if (err)
		goto err_counter;

	xtcp_family_ops.family = xtcp_family;
	err = sock_register(&xtcp_family_ops);
	if (err) {
		pr_err("address family %d is already registered (module parameter family=%d)\n",
		       xtcp_family, xtcp_family);
		proto_unregister(&xtcp_prot);
		goto err_counter;
	}
	return 0;

err_counter:
	percpu_counter_destroy(&xtcp_sockets_allocated);
	return err;
}

void xtcp_socket_unregister(void)
{
	sock_unregister(xtcp_family);
	proto_unregister(&xtcp_prot);
	/* Sockets pin the module: none is left to count. */
	percpu_counter_destroy(&xtcp_sockets_allocated);
}
