// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp/ renderers. Each file is produced by one loop over the
 * tables declared in mib.h, so adding a counter or a state needs no change
 * here. The sockets file is an iterator over the tables themselves:
 * listeners with their request entries, then connected sockets and
 * TIME_WAIT buckets.
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
		/* As TCP's loss probe: shown as the retransmission timer. */
		[XTCP_TIMER_TLP]	= XTCP_PROC_TIMER_RETRANS,
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

static void xtcp_request_row(struct seq_file *seq, struct sock *lsk,
			     const struct xtcp_request *req, int row)
{
	xtcp_proc_row(seq, row, req->laddr, req->lport, req->raddr,
		      req->rport, TCP_SYN_RECV, 0, 0, XTCP_PROC_TIMER_RETRANS,
		      ktime_ms_delta(READ_ONCE(req->expires), ktime_get()),
		      READ_ONCE(req->retransmits),
		      from_kuid_munged(seq_user_ns(seq), lsk->sk_uid), 0);
}

static void xtcp_ehnode_row(struct seq_file *seq, struct xtcp_ehnode *n,
			    int row)
{
	if (n->kind == XTCP_EH_SOCK) {
		xtcp_sock_row(seq, &container_of(n, struct xtcp_sock, eh)->inet.sk,
			      row);
		return;
	}
	xtcp_proc_row(seq, row, n->laddr, n->lport, n->raddr, n->rport,
		      TCP_TIME_WAIT, 0, 0, XTCP_PROC_TIMER_TIME_WAIT,
		      xtcp_tw_expires_ms(container_of(n, struct xtcp_tw, eh)),
		      0, 0, 0);
}

/*
 * /proc/net/xtcp/sockets is a seq_file iterator, so a read() formats only
 * what it returns: listeners (the listener table, bucket by bucket), each
 * followed by its SYN_RCVD request entries, then the established table
 * (connected sockets and TIME_WAIT buckets) bucket by bucket; only this
 * namespace's entries.
 *
 * Both tables are walked under RCU, as their lookups are: sockets are
 * SOCK_RCU_FREE and TIME_WAIT buckets are freed after a grace period, so
 * an entry seen in a chain can be read until stop() whatever happens to
 * it meanwhile. Request entries are freed at once, so the walk holds a
 * reference on the one it stands on (xtcp_request_next()), dropped when
 * it moves on or in stop(); the listener they hang off is read under RCU.
 *
 * A position (*pos) is the row's number plus one (0 is the header). The
 * iterator remembers where the last row was, as (table, bucket, offset:
 * rows of that bucket before it), and start() at the next position finds
 * it again by skipping offset rows of that bucket, so a read() costs what
 * it returns plus one bucket, not the table up to it. Any other position
 * (lseek()) is reached by walking from the start. Between read()s the
 * tables change: a row may then be missed or shown twice, as in
 * /proc/net/tcp, but every row is one entry's, formatted whole.
 */
enum xtcp_sockets_table {
	XTCP_SOCKETS_LISTEN,
	XTCP_SOCKETS_EST,
};

struct xtcp_sockets_iter {
	struct seq_net_private	p;	/* first: proc_create_net()'s */
	enum xtcp_sockets_table	table;
	unsigned int		bucket;
	unsigned int		offset;	/* rows of the bucket before this one */
	loff_t			last_pos;
	struct sock		*lsk;	/* the listener of this row or request */
	struct xtcp_request	*req;	/* the request entry shown; referenced */
};

static bool xtcp_sockets_mine(struct seq_file *seq, const struct net *net)
{
	return net_eq(net, seq_file_net(seq));
}

/* The first listener of @st's bucket or a later one. */
static void *xtcp_sockets_listen_first(struct seq_file *seq,
				       struct xtcp_sockets_iter *st)
{
	struct sock *sk;

	for (; st->bucket <= xtcp_lhash_mask; st->bucket++) {
		st->offset = 0;
		sk_for_each_rcu(sk, &xtcp_lhash[st->bucket].chain) {
			if (xtcp_sockets_mine(seq, sock_net(sk))) {
				st->lsk = sk;
				return sk;
			}
		}
	}
	return NULL;
}

/* After the listener or request entry @st stands on: its listener's next
 * request entry, the bucket's next listener, or a later bucket's.
 */
static void *xtcp_sockets_listen_next(struct seq_file *seq,
				      struct xtcp_sockets_iter *st)
{
	struct sock *sk = st->lsk;

	st->req = xtcp_request_next(sk, st->req);
	if (st->req) {
		st->offset++;
		return st->req;
	}
	hlist_for_each_entry_continue_rcu(sk, sk_node) {
		if (xtcp_sockets_mine(seq, sock_net(sk))) {
			st->lsk = sk;
			st->offset++;
			return sk;
		}
	}
	st->bucket++;
	return xtcp_sockets_listen_first(seq, st);
}

/* The first entry of @st's established bucket or a later one. */
static void *xtcp_sockets_est_first(struct seq_file *seq,
				    struct xtcp_sockets_iter *st)
{
	const struct hlist_nulls_node *pos;
	struct xtcp_ehnode *n;

	for (; st->bucket <= xtcp_ehash_mask; st->bucket++) {
		st->offset = 0;
		hlist_nulls_for_each_entry_rcu(n, pos,
					       &xtcp_ehash[st->bucket].chain,
					       node) {
			if (xtcp_sockets_mine(seq, read_pnet(&n->net)))
				return n;
		}
	}
	return NULL;
}

/*
 * The entry after @n in its chain, or the next bucket's first. An entry
 * that moved to another chain meanwhile leads into that chain: its rows
 * may be shown twice, never anything that is not an entry.
 */
static void *xtcp_sockets_est_next(struct seq_file *seq,
				   struct xtcp_sockets_iter *st,
				   struct xtcp_ehnode *n)
{
	const struct hlist_nulls_node *pos = &n->node;

	for (;;) {
		pos = rcu_dereference(hlist_nulls_next_rcu(pos));
		if (is_a_nulls(pos))
			break;
		n = hlist_nulls_entry(pos, struct xtcp_ehnode, node);
		if (xtcp_sockets_mine(seq, read_pnet(&n->net))) {
			st->offset++;
			return n;
		}
	}
	st->bucket++;
	return xtcp_sockets_est_first(seq, st);
}

/* From @st's table and bucket on: the first row there or later. */
static void *xtcp_sockets_first(struct seq_file *seq,
				struct xtcp_sockets_iter *st)
{
	void *v;

	if (st->table == XTCP_SOCKETS_LISTEN) {
		v = xtcp_sockets_listen_first(seq, st);
		if (v)
			return v;
		st->table = XTCP_SOCKETS_EST;
		st->bucket = 0;
	}
	return xtcp_sockets_est_first(seq, st);
}

static void *xtcp_sockets_next_row(struct seq_file *seq,
				   struct xtcp_sockets_iter *st, void *v)
{
	if (st->table == XTCP_SOCKETS_EST)
		return xtcp_sockets_est_next(seq, st, v);
	v = xtcp_sockets_listen_next(seq, st);
	if (v)
		return v;
	st->table = XTCP_SOCKETS_EST;
	st->bucket = 0;
	return xtcp_sockets_est_first(seq, st);
}

/* The row after the header at distance @n; walks from the start. */
static void *xtcp_sockets_idx(struct seq_file *seq,
			      struct xtcp_sockets_iter *st, loff_t n)
{
	void *v;

	st->table = XTCP_SOCKETS_LISTEN;
	st->bucket = 0;
	v = xtcp_sockets_first(seq, st);
	while (v && n--)
		v = xtcp_sockets_next_row(seq, st, v);
	return v;
}

/* The row @st last stood on: its bucket, offset rows skipped. */
static void *xtcp_sockets_resume(struct seq_file *seq,
				 struct xtcp_sockets_iter *st)
{
	enum xtcp_sockets_table table = st->table;
	unsigned int bucket = st->bucket, skip = st->offset;
	void *v;

	v = xtcp_sockets_first(seq, st);
	while (v && st->table == table && st->bucket == bucket &&
	       st->offset < skip)
		v = xtcp_sockets_next_row(seq, st, v);
	return v;
}

static void *xtcp_sockets_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct xtcp_sockets_iter *st = seq->private;
	void *v;

	rcu_read_lock();
	if (!*pos) {
		st->last_pos = 0;
		return SEQ_START_TOKEN;
	}
	if (*pos == st->last_pos)
		v = xtcp_sockets_resume(seq, st);
	else
		v = xtcp_sockets_idx(seq, st, *pos - 1);
	st->last_pos = *pos;
	return v;
}

static void *xtcp_sockets_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct xtcp_sockets_iter *st = seq->private;

	++*pos;
	if (v == SEQ_START_TOKEN)
		v = xtcp_sockets_idx(seq, st, 0);
	else
		v = xtcp_sockets_next_row(seq, st, v);
	st->last_pos = *pos;
	return v;
}

static void xtcp_sockets_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	struct xtcp_sockets_iter *st = seq->private;

	/* start() finds the row again by its place, not by this pointer. */
	if (st->req) {
		xtcp_request_release(st->req);
		st->req = NULL;
	}
	rcu_read_unlock();
}

static int xtcp_sockets_show(struct seq_file *seq, void *v)
{
	struct xtcp_sockets_iter *st = seq->private;
	int row = seq->index - 1;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
		return 0;
	}
	if (st->table == XTCP_SOCKETS_EST)
		xtcp_ehnode_row(seq, v, row);
	else if (st->req)
		xtcp_request_row(seq, st->lsk, st->req, row);
	else
		xtcp_sock_row(seq, v, row);
	return 0;
}

static const struct seq_operations xtcp_sockets_seq_ops = {
	.start	= xtcp_sockets_start,
	.next	= xtcp_sockets_next,
	.stop	= xtcp_sockets_stop,
	.show	= xtcp_sockets_show,
};

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
	    !proc_create_net("sockets", 0444, xn->proc_dir,
			     &xtcp_sockets_seq_ops,
			     sizeof(struct xtcp_sockets_iter)) ||
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
