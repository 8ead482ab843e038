// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp/ renderers. Each file is produced by one loop over the
 * tables declared in mib.h, so adding a counter or a state needs no change
 * here. The sockets file walks the tables itself: listeners with their
 * request entries, then connected sockets and TIME_WAIT buckets.
 */

#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "hash.h"
#include "mib.h"
#include "netns.h"
#include "proc.h"
#include "request.h"
#include "timer.h"
#include "timewait.h"
#include "xtcp.h"

/* The "tr" column of /proc/net/xtcp/sockets, numbered as /proc/net/tcp's. */
enum {
	XTCP_PROC_TIMER_NONE		= 0,
	XTCP_PROC_TIMER_RETRANS		= 1,	/* SYN, SYN-ACK, data, FIN */
	XTCP_PROC_TIMER_FIN_WAIT2	= 2,	/* orphan's fin_timeout */
	XTCP_PROC_TIMER_TIME_WAIT	= 3,
	XTCP_PROC_TIMER_PROBE		= 4,	/* zero window probe */
};

static int xtcp_snmp_show(struct seq_file *seq, void *v)
{
	const struct net *net = seq_file_single_net(seq);
	int i;

	for (i = 0; i < XTCP_MIB_MAX; i++)
		seq_printf(seq, "%-24s%llu\n", xtcp_mib_names[i],
			   xtcp_mib_sum(net, i));
	return 0;
}

/* "NAME current entered" for every state. */
static int xtcp_states_show(struct seq_file *seq, void *v)
{
	const struct net *net = seq_file_single_net(seq);
	int state;

	for (state = XTCP_ESTABLISHED; state < XTCP_MAX_STATES; state++) {
		unsigned long entered;
		long current_nr;

		xtcp_state_sum(net, state, &current_nr, &entered);
		seq_printf(seq, "%-12s %ld %lu\n", xtcp_state_names[state],
			   current_nr, entered);
	}
	return 0;
}

/* "FROM TO count" for every transition taken at least once. */
static int xtcp_transitions_show(struct seq_file *seq, void *v)
{
	const struct net *net = seq_file_single_net(seq);
	int from, to;

	for (from = XTCP_ESTABLISHED; from < XTCP_MAX_STATES; from++) {
		for (to = XTCP_ESTABLISHED; to < XTCP_MAX_STATES; to++) {
			unsigned long n = xtcp_transition_sum(net, from, to);

			if (n)
				seq_printf(seq, "%s %s %lu\n",
					   xtcp_state_names[from],
					   xtcp_state_names[to], n);
		}
	}
	return 0;
}

/*
 * One /proc/net/xtcp/sockets row, in /proc/net/tcp's columns; "tm->when"
 * is the time to expiry in milliseconds (hex), "retrnsmt" the
 * retransmissions of the current segment.
 */
static void xtcp_proc_row(struct seq_file *seq, int row, __be32 laddr,
			  __be16 lport, __be32 raddr, __be16 rport, int state,
			  u32 txq, u32 rxq, int timer, s64 expires_ms,
			  int retrans, uid_t uid, unsigned long ino)
{
	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu\n",
		   row, (__force u32)laddr, ntohs(lport), (__force u32)raddr,
		   ntohs(rport), state, txq, rxq, timer,
		   timer ? (unsigned long)max_t(s64, expires_ms, 0) : 0UL,
		   retrans, uid, 0, ino);
}

static void xtcp_sock_row(struct seq_file *seq, struct sock *sk, int row)
{
	static const u8 kinds[] = {
		[XTCP_TIMER_NONE]	= XTCP_PROC_TIMER_NONE,
		[XTCP_TIMER_RETRANS]	= XTCP_PROC_TIMER_RETRANS,
		[XTCP_TIMER_PROBE]	= XTCP_PROC_TIMER_PROBE,
		[XTCP_TIMER_FIN_WAIT2]	= XTCP_PROC_TIMER_FIN_WAIT2,
		/* As /proc/net/tcp: 2 is TCP's sk_timer, keepalive included. */
		[XTCP_TIMER_KEEPALIVE]	= XTCP_PROC_TIMER_FIN_WAIT2,
	};
	const struct xtcp_sock *xs = xtcp_sk(sk);
	u8 kind = READ_ONCE(xs->timer_kind);
	int state = READ_ONCE(sk->sk_state);

	xtcp_proc_row(seq, row, sk->sk_rcv_saddr, htons(sk->sk_num),
		      sk->sk_daddr, sk->sk_dport, state,
		      state == TCP_LISTEN ? 0 : READ_ONCE(xs->write_seq) -
						READ_ONCE(xs->snd_una),
		      state == TCP_LISTEN ? READ_ONCE(sk->sk_ack_backlog) :
		      READ_ONCE(xs->rcv_nxt) - READ_ONCE(xs->copied_seq),
		      kind < ARRAY_SIZE(kinds) ? kinds[kind] : 0,
		      xtcp_timer_expires_ms(sk), READ_ONCE(xs->retransmits),
		      from_kuid_munged(seq_user_ns(seq), sk->sk_uid),
		      sock_i_ino(sk));
}

/* @lsk's SYN_RCVD request entries. */
static void xtcp_request_rows(struct seq_file *seq, struct sock *lsk, int *row)
{
	struct xtcp_sock *lxs = xtcp_sk(lsk);
	struct xtcp_request *req;

	spin_lock_bh(&lxs->queue_lock);
	list_for_each_entry(req, &lxs->syn_queue, node)
		xtcp_proc_row(seq, (*row)++, req->laddr, req->lport,
			      req->raddr, req->rport, TCP_SYN_RECV, 0, 0,
			      XTCP_PROC_TIMER_RETRANS,
			      ktime_ms_delta(req->expires, ktime_get()),
			      req->retransmits,
			      from_kuid_munged(seq_user_ns(seq), lsk->sk_uid), 0);
	spin_unlock_bh(&lxs->queue_lock);
}

/* Listeners with their SYN_RCVD request entries, then the established
 * table: connected sockets and TIME_WAIT buckets.
 */
static int xtcp_sockets_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct xtcp_ehnode *n;
	struct sock *sk;
	unsigned int i;
	int row = 0;

	seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
	for (i = 0; i <= xtcp_lhash_mask; i++) {
		struct xtcp_hbucket *b = &xtcp_lhash[i];

		spin_lock_bh(&b->lock);
		sk_for_each(sk, &b->chain) {
			if (!net_eq(sock_net(sk), net))
				continue;
			xtcp_sock_row(seq, sk, row++);
			xtcp_request_rows(seq, sk, &row);
		}
		spin_unlock_bh(&b->lock);
	}
	for (i = 0; i <= xtcp_ehash_mask; i++) {
		struct xtcp_ehbucket *b = &xtcp_ehash[i];
		const struct hlist_nulls_node *pos;

		spin_lock_bh(&b->lock);
		hlist_nulls_for_each_entry(n, pos, &b->chain, node) {
			struct xtcp_tw *tw;

			if (!net_eq(read_pnet(&n->net), net))
				continue;
			if (n->kind == XTCP_EH_SOCK) {
				sk = &container_of(n, struct xtcp_sock, eh)->inet.sk;
				xtcp_sock_row(seq, sk, row++);
				continue;
			}
			tw = container_of(n, struct xtcp_tw, eh);
			xtcp_proc_row(seq, row++, n->laddr, n->lport, n->raddr,
				      n->rport, TCP_TIME_WAIT, 0, 0,
				      XTCP_PROC_TIMER_TIME_WAIT,
				      xtcp_tw_expires_ms(tw), 0, 0, 0);
		}
		spin_unlock_bh(&b->lock);
	}
	return 0;
}

/*
 * "XTCP: inuse N orphan N tw N alloc N mem N", /proc/net/sockstat's TCP
 * line: sockets of this namespace, then orphans, sockets and pages of
 * the whole machine (struct proto's counts), and this namespace's
 * TIME_WAIT buckets.
 */
static int xtcp_sockstat_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	long inuse, orphans, alloc, mem;

	xtcp_sockstat(net, &inuse, &orphans, &alloc, &mem);
	seq_printf(seq, "XTCP: inuse %ld orphan %ld tw %d alloc %ld mem %ld\n",
		   inuse, orphans, atomic_read(&xtcp_pernet(net)->tw_count),
		   alloc, mem);
	return 0;
}

int xtcp_proc_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xn->proc_dir = proc_net_mkdir(net, "xtcp", net->proc_net);
	if (!xn->proc_dir)
		return -ENOMEM;

	if (!proc_create_net_single("snmp", 0444, xn->proc_dir,
				    xtcp_snmp_show, NULL) ||
	    !proc_create_net_single("states", 0444, xn->proc_dir,
				    xtcp_states_show, NULL) ||
	    !proc_create_net_single("transitions", 0444, xn->proc_dir,
				    xtcp_transitions_show, NULL) ||
	    !proc_create_net_single("sockets", 0444, xn->proc_dir,
				    xtcp_sockets_show, NULL) ||
	    !proc_create_net_single("sockstat", 0444, xn->proc_dir,
				    xtcp_sockstat_show, NULL)) {
		remove_proc_subtree("xtcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void xtcp_proc_exit(struct net *net)
{
	remove_proc_subtree("xtcp", net->proc_net);
}
