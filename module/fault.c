// SPDX-License-Identifier: GPL-2.0
/*
 * Deterministic fault injection through /proc/net/xtcp/faults, one rule
 * list per network namespace. Documentation/faults.md has the full text;
 * in short, each write is one line:
 *
 *   DIR KIND [port=N] [sport=N] [dport=N] [sack=0|1] [skip=N] [count=N]
 *       [nth=N]
 *   del ID
 *   clear
 *
 * DIR is "in" (receive path), "out" (transmit path) or "child" (a
 * listener making the child of a completed handshake: the rule sees the
 * completing segment and makes the child fail). KIND is one of
 * syn, synack, ack, fin, rst, data, any; a segment's kind is the first of
 *   rst     RST set
 *   synack  SYN and ACK set
 *   syn     SYN set
 *   fin     FIN set (with or without data)
 *   data    payload_len > 0
 *   ack     anything else (a pure ACK, or no flag at all)
 * port= matches the source or the destination port, sport= and dport= only
 * that one; ports are 1..65535. sack=1 matches only segments that carry
 * a SACK option (RFC 2018, D-SACK included), sack=0 only others. Every
 * segment a rule matches is numbered 1, 2, 3 ... in that rule's "seen"
 * counter, independently of other rules.
 * The rule drops segment number n if
 *   nth=N given:   n == N
 *   otherwise:     n > skip && (no count || n <= skip + count)
 * so "out syn" drops every SYN, "out syn count=2" the next two, "in ack
 * nth=3" the third ACK and "out fin skip=1 count=1" the second FIN. nth
 * excludes skip and count. A segment is dropped if any rule drops it; each
 * dropping rule counts "fired" and the segment counts FaultDrops once.
 *
 * A malformed line fails with -EINVAL, the 65th rule with -ENOSPC and "del"
 * of an unknown id with -ENOENT. Reading prints one rule per line:
 *   ID DIR KIND [OPTIONS] seen=N fired=N
 * where the rule part is in the grammar above and can be written back.
 *
 * The lookup runs for every segment, in softirq and in process context.
 * While no namespace has a rule it is a patched-out static branch; with
 * rules it walks an RCU list and counts with atomics. Writers serialize on
 * a per-namespace mutex.
 *
 * Opening for writing takes CAP_NET_ADMIN in the user namespace that owns
 * the network namespace (file_ns_capable(); checked again on each write,
 * still against the opener, so a descriptor handed to a privileged writer
 * confers nothing). Root of an unprivileged user namespace owns its
 * network namespaces and may write there; the rules only ever touch that
 * namespace's segments. The static
 * branch, though, is global, and switching it patches kernel text on every
 * CPU: it is switched off by a delayed work XTCP_FAULT_HOOK_DELAY after the
 * last rule anywhere went, so an add/delete loop patches text at most about
 * twice per delay, not twice per loop. The module defers by itself rather
 * than with a deferred static key, whose rate limit exists only in kernels
 * built with CONFIG_JUMP_LABEL (the debug kernel is not). FaultHookOn counts, in the
 * namespace whose rule did it, each time the branch is switched on.
 */

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "fault.h"
#include "mib.h"
#include "netns.h"
#include "options.h"
#include "proto.h"
#include "trace.h"

#define XTCP_FAULT_MAX_RULES	64
#define XTCP_FAULT_MAX_LINE	256

/* The header's flag bits, as the callers pass them. */
#define XTCP_FAULT_FIN		0x01
#define XTCP_FAULT_SYN		0x02
#define XTCP_FAULT_RST		0x04
#define XTCP_FAULT_ACK		0x10

enum xtcp_fault_kind {
	XTCP_FK_ANY,
	XTCP_FK_SYN,
	XTCP_FK_SYNACK,
	XTCP_FK_ACK,
	XTCP_FK_FIN,
	XTCP_FK_RST,
	XTCP_FK_DATA,
	XTCP_FK_MAX
};

static const char * const xtcp_fault_kind_names[XTCP_FK_MAX] = {
	[XTCP_FK_ANY]		= "any",
	[XTCP_FK_SYN]		= "syn",
	[XTCP_FK_SYNACK]	= "synack",
	[XTCP_FK_ACK]		= "ack",
	[XTCP_FK_FIN]		= "fin",
	[XTCP_FK_RST]		= "rst",
	[XTCP_FK_DATA]		= "data",
};

static const char * const xtcp_fault_dir_names[] = {
	[XTCP_FAULT_IN]		= "in",
	[XTCP_FAULT_OUT]	= "out",
	[XTCP_FAULT_CHILD]	= "child",
};

/* The "name=value" options, printed back in this order. */
enum xtcp_fault_opt {
	XTCP_FO_PORT,
	XTCP_FO_SPORT,
	XTCP_FO_DPORT,
	XTCP_FO_SACK,
	XTCP_FO_SKIP,
	XTCP_FO_COUNT,
	XTCP_FO_NTH,
	XTCP_FO_MAX
};

static const struct {
	const char *name;
	u32 min;
	u32 max;
} xtcp_fault_opts[XTCP_FO_MAX] = {
	[XTCP_FO_PORT]	= { "port",	1, U16_MAX },
	[XTCP_FO_SPORT]	= { "sport",	1, U16_MAX },
	[XTCP_FO_DPORT]	= { "dport",	1, U16_MAX },
	[XTCP_FO_SACK]	= { "sack",	0, 1 },
	[XTCP_FO_SKIP]	= { "skip",	0, U32_MAX },
	[XTCP_FO_COUNT]	= { "count",	1, U32_MAX },
	[XTCP_FO_NTH]	= { "nth",	1, U32_MAX },
};

struct xtcp_fault_rule {
	struct list_head list;		/* in xtcp_faults.rules, RCU */
	struct rcu_head rcu;
	u32 id;
	enum xtcp_fault_dir dir;
	enum xtcp_fault_kind kind;
	unsigned long set;		/* bit per xtcp_fault_opt given */
	u32 opt[XTCP_FO_MAX];		/* ports in host order */
	atomic64_t seen;		/* matching segments observed */
	atomic64_t fired;		/* of those, dropped by this rule */
};

struct xtcp_faults {
	struct mutex lock;		/* serializes writers */
	struct list_head rules;		/* RCU readers on the fast path */
	unsigned int nr_rules;		/* READ_ONCE() without the lock */
	u32 next_id;
	struct proc_dir_entry *pde;
	struct rcu_head rcu;
};

#define XTCP_FAULT_HOOK_DELAY	HZ

DEFINE_STATIC_KEY_FALSE(xtcp_fault_active);
/* Serializes xtcp_fault_rules with switching the key, across namespaces. */
static DEFINE_MUTEX(xtcp_fault_hook_lock);
static unsigned int xtcp_fault_rules;	/* in every namespace */

static void xtcp_fault_hook_off(struct work_struct *work)
{
	mutex_lock(&xtcp_fault_hook_lock);
	if (!xtcp_fault_rules)
		static_branch_disable(&xtcp_fault_active);
	mutex_unlock(&xtcp_fault_hook_lock);
}

static DECLARE_DELAYED_WORK(xtcp_fault_hook_work, xtcp_fault_hook_off);

static enum xtcp_fault_kind xtcp_fault_classify(u8 flags,
						unsigned int payload_len)
{
	if (flags & XTCP_FAULT_RST)
		return XTCP_FK_RST;
	if ((flags & (XTCP_FAULT_SYN | XTCP_FAULT_ACK)) ==
	    (XTCP_FAULT_SYN | XTCP_FAULT_ACK))
		return XTCP_FK_SYNACK;
	if (flags & XTCP_FAULT_SYN)
		return XTCP_FK_SYN;
	if (flags & XTCP_FAULT_FIN)
		return XTCP_FK_FIN;
	if (payload_len)
		return XTCP_FK_DATA;
	return XTCP_FK_ACK;
}

static bool xtcp_fault_match(const struct xtcp_fault_rule *r,
			     enum xtcp_fault_dir dir,
			     enum xtcp_fault_kind kind, u16 sport, u16 dport,
			     bool sack)
{
	if (r->dir != dir)
		return false;
	if (r->kind != XTCP_FK_ANY && r->kind != kind)
		return false;
	if ((r->set & BIT(XTCP_FO_PORT)) &&
	    r->opt[XTCP_FO_PORT] != sport && r->opt[XTCP_FO_PORT] != dport)
		return false;
	if ((r->set & BIT(XTCP_FO_SPORT)) && r->opt[XTCP_FO_SPORT] != sport)
		return false;
	if ((r->set & BIT(XTCP_FO_DPORT)) && r->opt[XTCP_FO_DPORT] != dport)
		return false;
	if ((r->set & BIT(XTCP_FO_SACK)) && r->opt[XTCP_FO_SACK] != sack)
		return false;
	return true;
}

/* Number the matching segment and decide whether this rule drops it. */
static bool xtcp_fault_fire(struct xtcp_fault_rule *r)
{
	u64 n = atomic64_inc_return(&r->seen);
	u64 skip = r->opt[XTCP_FO_SKIP];
	bool drop;

	if (r->set & BIT(XTCP_FO_NTH))
		drop = n == r->opt[XTCP_FO_NTH];
	else
		drop = n > skip && (!(r->set & BIT(XTCP_FO_COUNT)) ||
				    n - skip <= r->opt[XTCP_FO_COUNT]);
	if (drop)
		atomic64_inc(&r->fired);
	return drop;
}

bool __xtcp_fault_net_active(struct net *net)
{
	struct xtcp_faults *f;
	bool active;

	rcu_read_lock();
	f = READ_ONCE(xtcp_pernet(net)->faults);
	active = f && READ_ONCE(f->nr_rules);
	rcu_read_unlock();
	return active;
}

bool __xtcp_fault_should_drop(struct net *net, enum xtcp_fault_dir dir,
			      u16 flags, unsigned int payload_len,
			      __be16 sport, __be16 dport)
{
	struct xtcp_fault_rule *r;
	enum xtcp_fault_kind kind;
	struct xtcp_faults *f;
	bool drop = false;

	rcu_read_lock();
	f = READ_ONCE(xtcp_pernet(net)->faults);
	if (!f || !READ_ONCE(f->nr_rules))
		goto out;

	kind = xtcp_fault_classify(flags, payload_len);
	/* Every rule sees the segment, so their counts stay independent. */
	list_for_each_entry_rcu(r, &f->rules, list)
		if (xtcp_fault_match(r, dir, kind, ntohs(sport), ntohs(dport),
				     flags & XTCP_FAULT_F_SACK) &&
		    xtcp_fault_fire(r))
			drop = true;
	if (drop) {
		XTCP_INC_STATS(net, FAULT_DROPS);
		trace_xtcp_fault_drop(dir, (u8)flags, payload_len, sport,
				      dport);
	}
out:
	rcu_read_unlock();
	return drop;
}

/* A whole segment: its flags, and whether it carries SACK blocks. */
bool __xtcp_fault_should_drop_th(struct net *net, enum xtcp_fault_dir dir,
				 const struct xtcphdr *th,
				 unsigned int payload_len)
{
	u16 flags = th->flags;
	u32 sle, sre;
	u8 nr;

	xtcp_opts_sack(th, &nr, &sle, &sre);
	if (nr)
		flags |= XTCP_FAULT_F_SACK;
	return __xtcp_fault_should_drop(net, dir, flags, payload_len,
					th->source, th->dest);
}

/* Next blank-separated word of *s, or NULL at the end of the line. */
static char *xtcp_fault_word(char **s)
{
	char *w;

	do {
		w = strsep(s, " \t");
	} while (w && !*w);
	return w;
}

static int xtcp_fault_lookup(const char *word, const char * const *names,
			     int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (names[i] && !strcmp(word, names[i]))
			return i;
	return -EINVAL;
}

static int xtcp_fault_parse_u32(const char *s, u32 min, u32 max, u32 *val)
{
	u32 v;

	/* Plain decimal digits only: no sign, no base prefix. */
	if (!isdigit(*s) || kstrtou32(s, 10, &v) || v < min || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

/* Fills @r from the words after the command; @line is modified. */
static int xtcp_fault_parse_rule(char *line, struct xtcp_fault_rule *r)
{
	char *word, *val;
	int i;

	word = xtcp_fault_word(&line);
	if (!word)
		return -EINVAL;
	i = xtcp_fault_lookup(word, xtcp_fault_dir_names,
			      ARRAY_SIZE(xtcp_fault_dir_names));
	if (i < 0)
		return i;
	r->dir = i;

	word = xtcp_fault_word(&line);
	if (!word)
		return -EINVAL;
	i = xtcp_fault_lookup(word, xtcp_fault_kind_names, XTCP_FK_MAX);
	if (i < 0)
		return i;
	r->kind = i;

	while ((word = xtcp_fault_word(&line))) {
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		for (i = 0; i < XTCP_FO_MAX; i++)
			if (!strcmp(word, xtcp_fault_opts[i].name))
				break;
		if (i == XTCP_FO_MAX || (r->set & BIT(i)))
			return -EINVAL;
		if (xtcp_fault_parse_u32(val, xtcp_fault_opts[i].min,
					 xtcp_fault_opts[i].max, &r->opt[i]))
			return -EINVAL;
		r->set |= BIT(i);
	}

	if ((r->set & BIT(XTCP_FO_NTH)) &&
	    (r->set & (BIT(XTCP_FO_SKIP) | BIT(XTCP_FO_COUNT))))
		return -EINVAL;
	return 0;
}

static void xtcp_fault_unlink(struct xtcp_faults *f,
			      struct xtcp_fault_rule *r)
{
	lockdep_assert_held(&f->lock);
	list_del_rcu(&r->list);
	WRITE_ONCE(f->nr_rules, f->nr_rules - 1);
	kfree_rcu(r, rcu);
	mutex_lock(&xtcp_fault_hook_lock);
	if (!--xtcp_fault_rules)
		schedule_delayed_work(&xtcp_fault_hook_work,
				      XTCP_FAULT_HOOK_DELAY);
	mutex_unlock(&xtcp_fault_hook_lock);
}

static void xtcp_fault_hook_get(struct net *net)
{
	mutex_lock(&xtcp_fault_hook_lock);
	if (!static_key_enabled(&xtcp_fault_active)) {
		XTCP_INC_STATS(net, FAULT_HOOK_ON);
		static_branch_enable(&xtcp_fault_active);
	}
	xtcp_fault_rules++;
	mutex_unlock(&xtcp_fault_hook_lock);
}

static void xtcp_fault_clear(struct xtcp_faults *f)
{
	struct xtcp_fault_rule *r, *tmp;

	lockdep_assert_held(&f->lock);
	list_for_each_entry_safe(r, tmp, &f->rules, list)
		xtcp_fault_unlink(f, r);
}

static int xtcp_fault_add(struct net *net, struct xtcp_faults *f,
			  char *line)
{
	struct xtcp_fault_rule *r;
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	err = xtcp_fault_parse_rule(line, r);
	if (err)
		goto err_free;

	mutex_lock(&f->lock);
	if (f->nr_rules >= XTCP_FAULT_MAX_RULES) {
		mutex_unlock(&f->lock);
		err = -ENOSPC;
		goto err_free;
	}
	r->id = ++f->next_id;
	xtcp_fault_hook_get(net);
	list_add_tail_rcu(&r->list, &f->rules);
	WRITE_ONCE(f->nr_rules, f->nr_rules + 1);
	mutex_unlock(&f->lock);
	return 0;

err_free:
	kfree(r);
	return err;
}

static int xtcp_fault_del(struct xtcp_faults *f, char *line)
{
	struct xtcp_fault_rule *r;
	char *word;
	int err = -ENOENT;
	u32 id;

	word = xtcp_fault_word(&line);
	if (!word || xtcp_fault_parse_u32(word, 1, U32_MAX, &id) ||
	    xtcp_fault_word(&line))
		return -EINVAL;

	mutex_lock(&f->lock);
	list_for_each_entry(r, &f->rules, list) {
		if (r->id == id) {
			xtcp_fault_unlink(f, r);
			err = 0;
			break;
		}
	}
	mutex_unlock(&f->lock);
	return err;
}

/* May the opener of @file change @net's rules? */
static bool xtcp_fault_may_write(struct file *file, struct net *net)
{
	return file_ns_capable(file, net->user_ns, CAP_NET_ADMIN);
}

/* @buf is a NUL-terminated kernel copy of the @size bytes written. */
static int xtcp_fault_cmd(struct file *file, char *buf, size_t size)
{
	struct seq_file *seq = file->private_data;
	struct net *net = seq_file_single_net(seq);
	struct xtcp_faults *f = xtcp_pernet(net)->faults;
	size_t len = strlen(buf);
	char *cmd, *rest;

	if (!xtcp_fault_may_write(file, net))
		return -EPERM;
	/* One line, at most one trailing newline, no embedded NUL. */
	if (len != size || len > XTCP_FAULT_MAX_LINE)
		return -EINVAL;
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (strchr(buf, '\n'))
		return -EINVAL;

	rest = buf;
	cmd = xtcp_fault_word(&rest);
	if (!cmd)
		return -EINVAL;
	if (!strcmp(cmd, "clear")) {
		if (xtcp_fault_word(&rest))
			return -EINVAL;
		mutex_lock(&f->lock);
		xtcp_fault_clear(f);
		mutex_unlock(&f->lock);
		return 0;
	}
	if (!strcmp(cmd, "del"))
		return xtcp_fault_del(f, rest);

	/* A rule: parse it again from its first word. */
	if (rest)
		rest[-1] = ' ';
	return xtcp_fault_add(net, f, cmd);
}

static int xtcp_fault_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct xtcp_faults *f = xtcp_pernet(net)->faults;
	const struct xtcp_fault_rule *r;
	int i;

	mutex_lock(&f->lock);
	list_for_each_entry(r, &f->rules, list) {
		seq_printf(seq, "%u %s %s", r->id,
			   xtcp_fault_dir_names[r->dir],
			   xtcp_fault_kind_names[r->kind]);
		for (i = 0; i < XTCP_FO_MAX; i++)
			if (r->set & BIT(i))
				seq_printf(seq, " %s=%u", xtcp_fault_opts[i].name,
					   r->opt[i]);
		seq_printf(seq, " seen=%llu fired=%llu\n",
			   (u64)atomic64_read(&r->seen),
			   (u64)atomic64_read(&r->fired));
	}
	mutex_unlock(&f->lock);
	return 0;
}

/*
 * The file as proc_create_net_single_write() would make it, with the
 * capability checked when it is opened for writing: the opener's, in the
 * user namespace owning the network namespace (file_ns_capable()).
 */
static int xtcp_fault_open(struct inode *inode, struct file *file)
{
	struct net *net = maybe_get_net(pde_data(inode));
	int err;

	if (!net)
		return -ENXIO;
	err = -EPERM;
	if (!(file->f_mode & FMODE_WRITE) || xtcp_fault_may_write(file, net))
		err = single_open(file, xtcp_fault_show, net);
	if (err)
		put_net(net);
	return err;
}

static int xtcp_fault_release(struct inode *inode, struct file *file)
{
	struct seq_file *seq = file->private_data;

	put_net(seq_file_single_net(seq));
	return single_release(inode, file);
}

static ssize_t xtcp_fault_write(struct file *file, const char __user *ubuf,
				size_t size, loff_t *pos)
{
	char *buf;
	int ret;

	if (size == 0 || size > PAGE_SIZE - 1)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, size);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = xtcp_fault_cmd(file, buf, size);
	kfree(buf);
	return ret ? ret : size;
}

static const struct proc_ops xtcp_fault_ops = {
	.proc_open	= xtcp_fault_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_write	= xtcp_fault_write,
	.proc_release	= xtcp_fault_release,
};

int xtcp_fault_net_init(struct net *net, struct proc_dir_entry *dir)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_faults *f;
	kuid_t uid;
	kgid_t gid;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->rules);
	WRITE_ONCE(xn->faults, f);

	f->pde = proc_create_data("faults", 0644, dir, &xtcp_fault_ops, net);
	if (!f->pde) {
		WRITE_ONCE(xn->faults, NULL);
		mutex_destroy(&f->lock);
		kfree_rcu(f, rcu);
		return -ENOMEM;
	}
	/*
	 * Owned by the namespace's root, as its directory and sysctls are,
	 * so root of the owning user namespace may open it at all. Made
	 * together with its user namespace (unshare -Urn), a namespace has
	 * no root mapped yet: the file stays the global root's, as the
	 * kernel's own /proc/net entries do.
	 */
	uid = make_kuid(net->user_ns, 0);
	gid = make_kgid(net->user_ns, 0);
	if (uid_valid(uid) && gid_valid(gid))
		proc_set_user(f->pde, uid, gid);
	return 0;
}

void xtcp_fault_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_faults *f = xn->faults;

	if (!f)
		return;
	/* No writer or reader of the file once this returns. */
	proc_remove(f->pde);
	WRITE_ONCE(xn->faults, NULL);

	mutex_lock(&f->lock);
	xtcp_fault_clear(f);
	mutex_unlock(&f->lock);
	mutex_destroy(&f->lock);
	/* A segment in flight may still be looking at the empty list. */
	kfree_rcu(f, rcu);
}

/* Module unload, after every namespace: no switch-off may still be due. */
void xtcp_fault_exit(void)
{
	cancel_delayed_work_sync(&xtcp_fault_hook_work);
	static_branch_disable(&xtcp_fault_active);
}
