/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state: tunables, counters, the control socket,
 * fault rules and the procfs and sysctl entries that expose them. Every
 * xtcp object belongs to exactly one namespace and reaches its state
 * through xtcp_pernet(); a full socket keeps it (xtcp_sk_pernet()).
 */
#ifndef _XTCP_NETNS_H
#define _XTCP_NETNS_H

#include <net/net_namespace.h>
#include <net/netns/generic.h>

/* The tunables under /proc/sys/net/xtcp/, each range-checked on write. */
struct xtcp_sysctl {
	int rto_init_ms;
	int rto_min_ms;
	int rto_max_ms;
	int syn_retries;
	int synack_retries;
	int msl_ms;
	int fin_timeout_ms;
	int max_tw_buckets;
	int max_syn_backlog;
	int rfc1337;
	int timestamps;		/* offer and accept RFC 7323 timestamps */
	int sack;		/* offer and accept SACK (RFC 2018) */
	int rack;		/* RACK loss detection with SACK (RFC 8985) */
	int tlp;		/* tail loss probes with SACK (RFC 8985 7) */
	int gso;		/* send skbs of many segments (output.c) */
	/*
	 * "tw_reuse": connect() takes over TIME_WAIT (0, 1, 2 loopback).
	 * Not named so: <net/inet_timewait_sock.h> defines tw_reuse.
	 */
	int tw_reuse_connect;
	int delack_ms;
	int keepalive_time_ms;
	int keepalive_intvl_ms;
	int keepalive_probes;
	int orphan_retries;
	int challenge_ack_limit;
	int invalid_ratelimit_ms;
	int syncookies;		/* 0 never, 1 when the SYN queue is full, 2 always */
	int rmem[3];		/* receive buffer: min, default, max (bytes) */
	int wmem[3];		/* send buffer, likewise */
};

/*
 * The global tunables, in the initial namespace only, as TCP's tcp_mem
 * and tcp_max_orphans: the memory they bound is the machine's, not a
 * namespace's. xtcp_sysctl_mem is struct proto's sysctl_mem, in pages.
 */
extern long xtcp_sysctl_mem[3];
extern int xtcp_max_orphans;
int xtcp_sysctl_init(void);
void xtcp_set_mem_floor(int rmem0, int wmem0);
void xtcp_sysctl_exit(void);

struct xtcp_faults;
struct xtcp_stats;

struct xtcp_net {
	struct xtcp_stats __percpu *stats;
	struct sock *ctl_sk;		/* sends segments that have no socket */
	atomic_t tw_count;		/* TIME_WAIT buckets alive */
	/* RFC 5961 challenge ACK budget (output.c): this second's, left. */
	unsigned long challenge_stamp;
	atomic_t challenge_count;
	struct xtcp_faults *faults;	/* fault.c: injection rules */
	struct xtcp_sysctl sysctl;
	struct ctl_table_header *sysctl_hdr;
	struct proc_dir_entry *proc_dir;
};

/* main.c composes a namespace's state from the pieces that own it. */
extern unsigned int xtcp_net_id;

static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

/* sysctl.c: /proc/sys/net/xtcp/, range-checked. */
int xtcp_sysctl_net_init(struct net *net);
void xtcp_sysctl_net_exit(struct net *net);

#endif /* _XTCP_NETNS_H */
