/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels xtcp builds against lives here.
 * Differences are detected by feature: Kbuild greps the kernel's headers
 * and defines XTCP_HAVE_<feature>, or a macro's own presence tells.
 * Supported: Debian 6.1 and 6.12, and mainline as it moves.
 */
#ifndef _XTCP_COMPAT_H
#define _XTCP_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/inet_common.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
/* Since 6.10, the protocol memory helpers have a header of their own. */
#ifdef XTCP_HAVE_PROTO_MEMORY_H
#include <net/proto_memory.h>
#endif
/* Since 6.12, the unaligned access helpers moved from <asm/unaligned.h>. */
#ifdef XTCP_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * Since 6.6 sysctl tables are sized by the caller, and register_net_sysctl()
 * became a macro that measures a static array. xtcp registers a per-netns
 * copy of its table, so it passes the number of entries itself.
 */
static inline struct ctl_table_header *
xtcp_register_net_sysctl(struct net *net, const char *path,
			 struct ctl_table *table, size_t entries)
{
#ifdef register_net_sysctl
	return register_net_sysctl_sz(net, path, table, entries);
#else
	return register_net_sysctl(net, path, table);
#endif
}

/*
 * Newer kernels (Debian sid's 7.2 source) have no struct proto.orphan_count,
 * the per-CPU count the core's connection-socket helpers keep. xtcp keeps
 * its own for max_orphans on every kernel and shows it to the core where
 * the field exists.
 */
static inline void xtcp_proto_set_orphan_count(struct proto *prot,
					       unsigned int __percpu *count)
{
#ifdef XTCP_HAVE_PROTO_ORPHAN_COUNT
	prot->orphan_count = count;
#endif
}

/* Since 6.10, proto_ops->accept() takes its flags in struct proto_accept_arg. */
#ifdef XTCP_HAVE_PROTO_ACCEPT_ARG
#define XTCP_ACCEPT_ARGS	struct socket *sock, struct socket *newsock, \
				struct proto_accept_arg *arg
#define XTCP_ACCEPT_FLAGS	(arg->flags)
#else
#define XTCP_ACCEPT_ARGS	struct socket *sock, struct socket *newsock, \
				int flags, bool kern
#define XTCP_ACCEPT_FLAGS	(flags)
#endif

/*
 * Since 6.19, proto_ops->bind() and ->connect() take a
 * struct sockaddr_unsized (it has sa_family, like struct sockaddr).
 */
#ifdef XTCP_HAVE_SOCKADDR_UNSIZED
#define xtcp_sockaddr	sockaddr_unsized
#else
#define xtcp_sockaddr	sockaddr
#endif

/*
 * Since 6.13, hrtimer_setup() sets the callback with the clock and mode;
 * hrtimer_init() is gone since 6.17.
 */
static inline void
xtcp_hrtimer_setup(struct hrtimer *timer,
		   enum hrtimer_restart (*fn)(struct hrtimer *),
		   clockid_t clock, enum hrtimer_mode mode)
{
#ifdef XTCP_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/* Since 6.11, sysctl handlers take a const table. */
#ifdef XTCP_HAVE_CONST_CTL_TABLE
#define xtcp_ctl_table	const struct ctl_table
#else
#define xtcp_ctl_table	struct ctl_table
#endif

/* Since 6.7, struct tcp_info reports the advertised receive window. */
static inline void xtcp_tcp_info_compat(struct tcp_info *info, u32 rcv_wnd)
{
#ifdef XTCP_HAVE_TCP_INFO_RCV_WND
	info->tcpi_rcv_wnd = rcv_wnd;
#endif
}

/* Since 6.6, IP_RECVERR is a bit of inet_sock's atomic flags word. */
static inline bool xtcp_recverr(const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_FLAGS
	return inet_test_bit(RECVERR, sk);
#else
	return inet_sk(sk)->recverr;
#endif
}

static inline void xtcp_set_recverr(struct sock *sk, bool on)
{
#ifdef XTCP_HAVE_INET_FLAGS
	inet_assign_bit(RECVERR, sk, on);
#else
	inet_sk(sk)->recverr = on;
#endif
}

/*
 * Graft an accepted @child onto @newsock. Since __inet_accept() is
 * exported and charges the child to the acceptor's memory cgroup
 * (mem_cgroup_sk_alloc() and __sk_charge(), added together), xtcp
 * accepts through it, as inet_accept() does for TCP. Before, neither
 * mem_cgroup_sk_alloc() nor mem_cgroup_charge_skmem() is exported:
 * xtcp_memcg_accept() (socket.c) associates and charges the child from
 * exported pieces (Documentation/robustness.md). Called with @child
 * locked.
 */
#ifndef XTCP_HAVE_SK_CHARGE
#ifdef CONFIG_MEMCG
void xtcp_memcg_accept(struct sock *child);
#else
static inline void xtcp_memcg_accept(struct sock *child) {}
#endif
#endif

static inline void xtcp_accept_graft(struct socket *sock,
				     struct socket *newsock,
				     struct sock *child)
{
#ifdef XTCP_HAVE_SK_CHARGE
	__inet_accept(sock, newsock, child);
#else
	xtcp_memcg_accept(child);
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
#endif
}

#endif /* _XTCP_COMPAT_H */
