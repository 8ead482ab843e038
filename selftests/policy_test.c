// SPDX-License-Identifier: GPL-2.0
/*
 * The policy a machine's administrator sets on sockets, honoured by xtcp
 * as by TCP (issue 11, "safe to load on a real machine"), each case run
 * at an xtcp socket and, in the same case, at a Linux TCP socket as the
 * control:
 *
 *  - SO_BINDTODEVICE on a listener: a connection arriving on another
 *    device is refused; a child inherits the listener's bound device,
 *    mark, priority, owner uid and cgroup (a cgroup's egress BPF program
 *    applies to it), not those of whoever ran the softirq.
 *  - Socket filters: SO_ATTACH_FILTER (classic BPF, on a listener and
 *    so on its children) and SO_ATTACH_BPF (a socket filter program)
 *    drop received segments (FilterDrops); the sender retransmits; once
 *    detached the data arrives.
 *
 * Topology: a client and a server namespace joined by two veth pairs,
 * v0 <-> v1 (10.99.0.0/24) and w0 <-> w1 (10.98.0.0/24).
 */
#include <linux/bpf.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "xtcp_lib.h"

#define W_SRV_ADDR	"10.98.0.2"

FIXTURE(dev)
{
	struct xtcp_topo t;
};

FIXTURE_SETUP(dev)
{
	ASSERT_EQ(0, xtcp_topo_setup(&self->t, true));
	ASSERT_EQ(0, xtcp_sh("ip -n %s link add w0 type veth peer name w1 netns %s",
			     self->t.name[CLI], self->t.name[SRV]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s addr add 10.98.0.1/24 dev w0",
			     self->t.name[CLI]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s addr add " W_SRV_ADDR "/24 dev w1",
			     self->t.name[SRV]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s link set w0 up", self->t.name[CLI]));
	ASSERT_EQ(0, xtcp_sh("ip -n %s link set w1 up", self->t.name[SRV]));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_min_ms", 100));
	ASSERT_EQ(0, xtcp_sysctl_set(&self->t, BOTH, "rto_init_ms", 300));
}

FIXTURE_TEARDOWN(dev)
{
	xtcp_topo_teardown(&self->t);
}

/* A listener of @family on the server, any address, bound to @dev. */
static int listen_on_dev(const struct xtcp_topo *t, int family,
			 const char *dev)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, SRV_PORT);
	int fd = xtcp_socket(t, SRV, family), one = 1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
			       strlen(dev) + 1)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Blocking connect from the client to @addr:SRV_PORT: the fd, or -errno. */
static int connect_to(const struct xtcp_topo *t, int family,
		      const char *addr)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, SRV_PORT);
	int fd = xtcp_socket(t, CLI, family), err;
	struct timeval tv = { .tv_sec = 15 };

	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, addr, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static const char *fam_name(int family)
{
	return family == AF_INET ? "TCP" : "xtcp";
}

/*
 * A listener bound to v1 takes a connection that arrives on v1 and
 * refuses (RST: ECONNREFUSED) one that arrives on w1, like TCP's.
 */
TEST_F(dev, bindtodevice_listener)
{
	int fams[2] = { 0, AF_INET }, i;

	for (i = 0; i < 2; i++) {
		long long nosock;
		int lfd, cfd, afd, ret;

		TH_LOG("%s", fam_name(fams[i]));
		lfd = listen_on_dev(&self->t, fams[i], "v1");
		ASSERT_GE(lfd, 0) TH_LOG("listener: %s", strerror(errno));

		cfd = connect_to(&self->t, fams[i], "10.99.0.2");
		ASSERT_GE(cfd, 0) TH_LOG("via v1: %s", strerror(-cfd));
		afd = xtcp_accept_wait(lfd, 10000);
		ASSERT_GE(afd, 0);
		close(afd);
		close(cfd);

		nosock = xtcp_counter(&self->t, SRV, "InNoSocket");
		ret = connect_to(&self->t, fams[i], W_SRV_ADDR);
		EXPECT_EQ(-ECONNREFUSED, ret) TH_LOG("%s via w1: %s",
			fam_name(fams[i]), ret < 0 ? strerror(-ret) : "connected");
		if (ret >= 0)
			close(ret);
		EXPECT_EQ(-1, xtcp_accept_wait(lfd, 300));
		if (!fams[i])
			EXPECT_LE(nosock + 1,
				  xtcp_counter(&self->t, SRV, "InNoSocket"));

		/* Unbound, the same listener takes both. */
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE,
					"", 0));
		cfd = connect_to(&self->t, fams[i], W_SRV_ADDR);
		ASSERT_GE(cfd, 0) TH_LOG("unbound, via w1: %s", strerror(-cfd));
		afd = xtcp_accept_wait(lfd, 10000);
		EXPECT_GE(afd, 0);
		if (afd >= 0)
			close(afd);
		close(cfd);
		close(lfd);
	}
}

/* The uid column of @side's row in LISTEN.. state @st on local @port. */
static long proc_uid(const struct xtcp_topo *t, int side, const char *file,
		     int port, int st)
{
	unsigned int lport, state, uid;
	long ret = -1;
	char line[512];
	FILE *f;

	if (xtcp_topo_enter(t, side))
		return -1;
	f = fopen(file, "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %u",
			   &lport, &state, &uid) != 3)
			continue;
		if ((int)lport == port && (int)state == st) {
			ret = uid;
			break;
		}
	}
	fclose(f);
	return ret;
}

#define OWNER_UID	4242
#define ACCEPT_UID	4343
#define MARK		42
#define PRIO		5

/*
 * A listener owned by uid OWNER_UID (its creator's fsuid), bound to v1,
 * with a mark and a priority. Its child keeps the device and the mark,
 * as TCP's; accept() makes the acceptor (fsuid ACCEPT_UID) its owner, as
 * on TCP. Before accept() xtcp's child is owned by the listener's owner
 * (/proc/net/xtcp/sockets shows sk_uid; /proc/net/tcp shows the owner of
 * the socket file, root until accept()). xtcp's child keeps the priority
 * too; TCP's is reset to 0 (sk_clone_lock()), a difference the test
 * records.
 */
TEST_F(dev, child_inherits)
{
	int fams[2] = { 0, AF_INET }, i;

	for (i = 0; i < 2; i++) {
		int lfd, cfd, afd, val, one = 1, prio = PRIO, mark = MARK;
		const char *proc = fams[i] ? "/proc/net/tcp" :
				   "/proc/net/xtcp/sockets";
		struct sockaddr_in a = xtcp_addr(&self->t, SRV, fams[i],
						 SRV_PORT);
		char name[IFNAMSIZ] = "";
		struct pollfd p;
		socklen_t len;

		TH_LOG("%s", fam_name(fams[i]));
		setfsuid(OWNER_UID);
		lfd = xtcp_socket(&self->t, SRV, fams[i]);
		ASSERT_EQ(OWNER_UID, setfsuid(0));
		ASSERT_GE(lfd, 0);
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
					sizeof(one)));
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_BINDTODEVICE, "v1",
					3));
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_MARK, &mark,
					sizeof(mark)));
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_PRIORITY, &prio,
					sizeof(prio)));
		ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&a, sizeof(a)));
		ASSERT_EQ(0, listen(lfd, 8));
		EXPECT_EQ(OWNER_UID, proc_uid(&self->t, SRV, proc, SRV_PORT, 10));

		cfd = connect_to(&self->t, fams[i], "10.99.0.2");
		ASSERT_GE(cfd, 0) TH_LOG("connect: %s", strerror(-cfd));
		p = (struct pollfd){ .fd = lfd, .events = POLLIN };
		ASSERT_EQ(1, poll(&p, 1, 10000));
		EXPECT_EQ(fams[i] ? 0 : OWNER_UID,
			  proc_uid(&self->t, SRV, proc, SRV_PORT, 1));

		setfsuid(ACCEPT_UID);
		afd = accept(lfd, NULL, NULL);
		setfsuid(0);
		ASSERT_GE(afd, 0);
		EXPECT_EQ(ACCEPT_UID, proc_uid(&self->t, SRV, proc, SRV_PORT, 1));
		len = sizeof(name);
		ASSERT_EQ(0, getsockopt(afd, SOL_SOCKET, SO_BINDTODEVICE, name,
					&len));
		EXPECT_STREQ("v1", name);
		len = sizeof(val);
		ASSERT_EQ(0, getsockopt(afd, SOL_SOCKET, SO_MARK, &val, &len));
		EXPECT_EQ(MARK, val);
		ASSERT_EQ(0, getsockopt(afd, SOL_SOCKET, SO_PRIORITY, &val,
					&len));
		EXPECT_EQ(fams[i] ? 0 : PRIO, val);
		close(afd);
		close(cfd);
		close(lfd);
	}
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Load @n instructions as a program of @type: its fd, or -1. */
static int bpf_load(enum bpf_prog_type type, const struct bpf_insn *insns,
		    int n)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.insns = (unsigned long)insns;
	attr.insn_cnt = n;
	attr.license = (unsigned long)"GPL";
	return sys_bpf(BPF_PROG_LOAD, &attr);
}

#define INSN(c, d, s, o, i)	((struct bpf_insn){ .code = (c),	\
	.dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/*
 * A tc classifier that drops (TC_ACT_SHOT) every packet whose socket is
 * in the cgroup with id @cgid (bpf_skb_cgroup_id(), which reads the
 * socket's cgroup whatever its family) and passes the rest.
 */
static int bpf_drop_cgroup(uint64_t cgid)
{
	struct bpf_insn insns[] = {
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_cgroup_id),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, 0, 0, (uint32_t)cgid),
		INSN(0, 0, 0, 0, (uint32_t)(cgid >> 32)),
		INSN(BPF_JMP | BPF_JEQ | BPF_X, BPF_REG_0, BPF_REG_1, 2, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 2),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};

	return bpf_load(BPF_PROG_TYPE_SCHED_CLS, insns, 8);
}

#define CG_MNT	"/tmp/xtcp-policy-cg"
#define BPF_MNT	"/tmp/xtcp-policy-bpf"

/* Move this process into the cgroup directory @dir. */
static int cg_enter(const char *dir)
{
	char path[256];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ret = fprintf(f, "%d\n", getpid()) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/*
 * A listener made by a process in cgroup "srv" (cgroup v2); the client
 * and the accepting process are in the root cgroup. A tc program on the
 * server's egress drops what sockets of "srv" send: the accepted
 * child's data does not arrive, because the child, made in softirq,
 * belongs to its listener's cgroup; once the filter is gone it does.
 */
TEST_F(dev, child_cgroup)
{
	int fams[2] = { 0, AF_INET }, i, prog;
	union bpf_attr attr;
	struct stat st;

	mkdir(CG_MNT, 0755);
	if (mount("none", CG_MNT, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "cgroup2: %s", strerror(errno));
	mkdir(BPF_MNT, 0755);
	ASSERT_EQ(0, mount("none", BPF_MNT, "bpf", 0, NULL));
	mkdir(CG_MNT "/srv", 0755);
	ASSERT_EQ(0, stat(CG_MNT "/srv", &st));
	prog = bpf_drop_cgroup(st.st_ino);
	ASSERT_GE(prog, 0) TH_LOG("BPF_PROG_LOAD: %s", strerror(errno));
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (unsigned long)BPF_MNT "/drop";
	attr.bpf_fd = prog;
	ASSERT_EQ(0, sys_bpf(BPF_OBJ_PIN, &attr));
	ASSERT_EQ(0, xtcp_sh("tc -n %s qdisc add dev v1 clsact",
			     self->t.name[SRV]));

	for (i = 0; i < 2; i++) {
		struct pollfd p;
		char buf[8] = "";
		int lfd, cfd, afd;

		TH_LOG("%s", fam_name(fams[i]));
		ASSERT_EQ(0, cg_enter(CG_MNT "/srv"));
		lfd = listen_on_dev(&self->t, fams[i], NULL);
		ASSERT_EQ(0, cg_enter(CG_MNT));
		ASSERT_GE(lfd, 0);
		cfd = connect_to(&self->t, fams[i], "10.99.0.2");
		ASSERT_GE(cfd, 0) TH_LOG("connect: %s", strerror(-cfd));
		afd = xtcp_accept_wait(lfd, 10000);
		ASSERT_GE(afd, 0);

		ASSERT_EQ(0, xtcp_sh("tc -n %s filter add dev v1 egress bpf da pinned "
				     BPF_MNT "/drop", self->t.name[SRV]));
		ASSERT_EQ(4, send(afd, "ping", 4, MSG_NOSIGNAL));
		p = (struct pollfd){ .fd = cfd, .events = POLLIN };
		EXPECT_EQ(0, poll(&p, 1, 1500))
			TH_LOG("%s: the child is not in its listener's cgroup",
			       fam_name(fams[i]));

		ASSERT_EQ(0, xtcp_sh("tc -n %s filter del dev v1 egress",
				     self->t.name[SRV]));
		ASSERT_EQ(1, poll(&p, 1, 15000));
		EXPECT_EQ(4, recv(cfd, buf, sizeof(buf) - 1, 0));
		EXPECT_STREQ("ping", buf);
		close(afd);
		close(cfd);
		close(lfd);
	}
	close(prog);
	unlink(BPF_MNT "/drop");
	umount(BPF_MNT);
	rmdir(BPF_MNT);
	rmdir(CG_MNT "/srv");
	umount(CG_MNT);
	rmdir(CG_MNT);
}

/* Total retransmissions of @fd: XTCP_INFO or TCP_INFO. */
static long retrans(int fd, int family)
{
	struct xtcp_info xi;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (!family)
		return xtcp_get_info(fd, &xi) ? -1 : (long)xi.xtcpi_total_retrans;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	return ti.tcpi_total_retrans;
}

/*
 * Classic BPF over the transport header (xtcp's is TCP's layout): accept
 * a segment without payload, drop one with.
 */
static struct sock_filter no_payload[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 12),		/* data offset */
	BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),
	BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 2),		/* header bytes */
	BPF_STMT(BPF_MISC | BPF_TAX, 0),
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

/*
 * @cfd sends "ping": nothing reaches @afd while its filter drops it, the
 * sender retransmits; after @detach the data arrives intact.
 */
static void filtered_then_flows(struct __test_metadata *_metadata,
				const struct xtcp_topo *t, int family, int cfd,
				int afd, int detach_opt)
{
	long long drops = xtcp_counter(t, SRV, "FilterDrops");
	struct pollfd p = { .fd = afd, .events = POLLIN };
	long rt = retrans(cfd, family);
	char buf[8] = "";
	int zero = 0;

	ASSERT_GE(rt, 0);
	ASSERT_EQ(4, send(cfd, "ping", 4, MSG_NOSIGNAL));
	EXPECT_EQ(0, poll(&p, 1, 1500)) TH_LOG("%s: the filter let data in",
					       fam_name(family));
	EXPECT_TRUE(XTCP_WAIT_FOR(10000, retrans(cfd, family) > rt));
	if (!family)
		EXPECT_LE(drops + 1, xtcp_counter(t, SRV, "FilterDrops"));
	TH_LOG("%s: %ld retransmissions, FilterDrops +%lld", fam_name(family),
	       retrans(cfd, family) - rt,
	       family ? 0 : xtcp_counter(t, SRV, "FilterDrops") - drops);

	ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, detach_opt, &zero,
				sizeof(zero)));
	ASSERT_EQ(1, poll(&p, 1, 15000));
	EXPECT_EQ(4, recv(afd, buf, sizeof(buf) - 1, 0));
	EXPECT_STREQ("ping", buf);
}

/*
 * SO_ATTACH_FILTER on a listener: its children run it, as TCP's do, so
 * the accepted socket drops data segments (the handshake, without
 * payload, passes); SO_DETACH_FILTER on the child lets the data in.
 */
TEST_F(dev, attach_filter)
{
	struct sock_fprog fp = {
		.len = sizeof(no_payload) / sizeof(no_payload[0]),
		.filter = no_payload,
	};
	int fams[2] = { 0, AF_INET }, i;

	for (i = 0; i < 2; i++) {
		int lfd, cfd, afd;

		TH_LOG("%s", fam_name(fams[i]));
		lfd = listen_on_dev(&self->t, fams[i], NULL);
		ASSERT_GE(lfd, 0);
		ASSERT_EQ(0, setsockopt(lfd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
					sizeof(fp)));
		cfd = connect_to(&self->t, fams[i], "10.99.0.2");
		ASSERT_GE(cfd, 0) TH_LOG("connect: %s", strerror(-cfd));
		afd = xtcp_accept_wait(lfd, 10000);
		ASSERT_GE(afd, 0);
		filtered_then_flows(_metadata, &self->t, fams[i], cfd, afd,
				    SO_DETACH_FILTER);
		close(afd);
		close(cfd);
		close(lfd);
	}
}

/*
 * SO_ATTACH_BPF with a BPF_PROG_TYPE_SOCKET_FILTER program that drops
 * everything, on the accepted socket; SO_DETACH_BPF lets data in.
 */
TEST_F(dev, attach_bpf)
{
	struct bpf_insn drop[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	int fams[2] = { 0, AF_INET }, i, prog;

	prog = bpf_load(BPF_PROG_TYPE_SOCKET_FILTER, drop, 2);
	ASSERT_GE(prog, 0) TH_LOG("BPF_PROG_LOAD: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		int lfd, cfd, afd;

		TH_LOG("%s", fam_name(fams[i]));
		lfd = listen_on_dev(&self->t, fams[i], NULL);
		ASSERT_GE(lfd, 0);
		cfd = connect_to(&self->t, fams[i], "10.99.0.2");
		ASSERT_GE(cfd, 0) TH_LOG("connect: %s", strerror(-cfd));
		afd = xtcp_accept_wait(lfd, 10000);
		ASSERT_GE(afd, 0);
		ASSERT_EQ(0, setsockopt(afd, SOL_SOCKET, SO_ATTACH_BPF, &prog,
					sizeof(prog)));
		filtered_then_flows(_metadata, &self->t, fams[i], cfd, afd,
				    SO_DETACH_BPF);
		close(afd);
		close(cfd);
		close(lfd);
	}
	close(prog);
}

TEST_HARNESS_MAIN
