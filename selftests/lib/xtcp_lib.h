/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The selftests' helper library (lib/xtcp_lib.c, linked into every test
 * and tool): the module's runtime numbers, a two-sided topology with
 * per-side counters, sysctls and fault rules, sockets made on either
 * side, crafted segments through a raw IP socket, polling with deadlines,
 * and one fixture for an established connection.
 *
 * Every helper that reads or writes a namespace takes the topology
 * explicitly; there is no hidden global.  @side is CLI or SRV, or BOTH
 * where a sum or a write over the whole topology makes sense (both
 * namespaces over veth, the one namespace over loopback).  A NULL topology
 * means the caller's own namespace (then @family 0 is not allowed).
 *
 * Every test runs in its own freshly created namespaces, so the sysctls it
 * shrinks and the fault rules it writes vanish with them: nothing needs
 * restoring in the namespace the suite runs in.
 *
 * Nothing here includes kselftest_harness.h: XTCP_TOPO_VARIANTS and
 * XTCP_EXPECT_SYNCED are macros expanded in the tests that use them.
 */
#ifndef _XTCP_SELFTEST_LIB_H
#define _XTCP_SELFTEST_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

/* ---- the module and the clock -------------------------------------- */

/* The number a one-number file (sysfs, procfs) holds, or @dflt. */
long xtcp_read_long_file(const char *path, long dflt);

/* The address family and IP protocol the loaded module registered; -1. */
int xtcp_family(void);
int xtcp_ipproto(void);

/* Monotonic milliseconds, for deadlines (never for tight assertions). */
long long xtcp_now_ms(void);
void xtcp_sleep_ms(long ms);

/*
 * Poll EXPR every 10 ms until it holds or MS pass; evaluates to whether
 * it held.  The one wait-for helper: wait for a socket state with
 * XTCP_WAIT_FOR(ms, xtcp_sock_state(fd) == st), for a counter with
 * XTCP_WAIT_FOR(ms, xtcp_counter(t, BOTH, name) >= n), and so on.
 */
#define XTCP_WAIT_FOR(ms, expr) ({					\
	long long __dl = xtcp_now_ms() + (ms);				\
	bool __ok;							\
	while (!(__ok = (expr)) && xtcp_now_ms() < __dl)		\
		xtcp_sleep_ms(10);					\
	__ok;								\
})

/* Run a shell command quietly; 0 if it succeeded. */
int xtcp_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the topology --------------------------------------------------- */

/*
 * Where the two ends of a test connection live.  Loopback: both in one
 * fresh namespace, on 127.0.0.1.  Veth: the client (CLI) in one namespace
 * and the server (SRV) in another, joined by a veth pair v0 <-> v1
 * (10.99.0.1 <-> 10.99.0.2).
 */
enum { CLI, SRV, BOTH };

#define XTCP_HOME	(-1)	/* the namespace the test started in */

struct xtcp_topo {
	bool veth;
	int home;		/* fd of the test's own netns */
	int ns[2];		/* CLI, SRV (the same netns over loopback) */
	int live;		/* where the caller lives: XTCP_HOME or a side */
	char name[2][32];
	struct in_addr addr[2];
	int family;
	int ipproto;
};

/*
 * Creates the namespaces (and the veth pair); 0 on success, on failure
 * the reason is printed.  The caller stays in its own namespace.
 */
int xtcp_topo_setup(struct xtcp_topo *t, bool veth);
/* Back home, and the namespaces deleted. */
void xtcp_topo_teardown(struct xtcp_topo *t);

/*
 * xtcp_topo_enter() switches the calling thread to @side's namespace for
 * a moment (0 on success; BOTH is no namespace); xtcp_topo_leave() returns it to where it lives
 * (aborts if it cannot).  xtcp_topo_move() makes @side (or XTCP_HOME) where
 * it lives from now on: plain socket() calls then make sockets there, and
 * every helper returns there.
 */
int xtcp_topo_enter(const struct xtcp_topo *t, int side);
void xtcp_topo_leave(const struct xtcp_topo *t);
int xtcp_topo_move(struct xtcp_topo *t, int side);

/*
 * Adds a root netem qdisc with parameters @fmt on every side's device
 * (lo over loopback, v0 and v1 over veth); 0 on success.
 */
int xtcp_topo_netem(const struct xtcp_topo *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Runs every test of @fixture twice, over loopback and over veth
 * (kselftest_harness.h variants); the setup reads variant->veth.
 */
#define XTCP_TOPO_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) { bool veth; };			\
	FIXTURE_VARIANT_ADD(fixture, loopback) { .veth = false };	\
	FIXTURE_VARIANT_ADD(fixture, veth) { .veth = true }

/* ---- /proc/net/xtcp and /proc/sys/net/xtcp -------------------------- */

/* "Name value" of /proc/net/xtcp/snmp; -1 if the counter is missing. */
long long xtcp_counter(const struct xtcp_topo *t, int side, const char *name);

/*
 * Current population of a state ("CLOSED", "LISTEN", ...) from
 * /proc/net/xtcp/states, -1 if missing; *@entered (if not NULL) receives
 * how often it was entered.
 */
long xtcp_state_count(const struct xtcp_topo *t, int side, const char *state,
		      long *entered);

/*
 * Field @key ("inuse", "orphan", "tw", "alloc", "mem") of xtcp's sockstat
 * line (@family 0) or TCP's (AF_INET, /proc/net/sockstat); -1 if missing.
 * "alloc", "orphan" and "mem" count the whole machine, as on TCP.
 */
long long xtcp_sockstat(const struct xtcp_topo *t, int side, int family,
			const char *key);

/* Linux TCP's "TcpExt" counter @name of /proc/net/netstat; -1 if missing. */
long long xtcp_tcpext(const struct xtcp_topo *t, int side, const char *name);
/* ... and its "Tcp" counter @name of /proc/net/snmp (InSegs, OutSegs, ...). */
long long xtcp_tcp_mib(const struct xtcp_topo *t, int side, const char *name);

/* "FROM TO count" of /proc/net/xtcp/transitions (0 if never taken). */
long xtcp_transition_count(const struct xtcp_topo *t, int side,
			   const char *from, const char *to);

/* /proc/sys/net/xtcp/@name of @side (CLI or SRV): read (-1 on error). */
int xtcp_sysctl_get(const struct xtcp_topo *t, int side, const char *name);
/* ... and write: 0 or -errno. */
int xtcp_sysctl_set(const struct xtcp_topo *t, int side, const char *name,
		    int val);
/* Writes @line to @path in @side's namespace(s): 0 or the first -errno. */
int xtcp_topo_write(const struct xtcp_topo *t, int side, const char *path,
		    const char *line);

/*
 * Writes one rule to /proc/net/xtcp/faults: 0 or -errno.  With BOTH over
 * veth each namespace gets the rule and counts its own occurrences.
 */
int xtcp_fault_add(const struct xtcp_topo *t, int side, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "seen" and "fired" of rule @id in @side's namespace; -1 if absent. */
int xtcp_fault_stats(const struct xtcp_topo *t, int side, int id,
		     long long *seen, long long *fired);

/* ---- sockets -------------------------------------------------------- */

#define SRV_PORT	5000

/*
 * A stream socket of @family (0: xtcp; AF_INET for a TCP twin) made in
 * @side's namespace.
 */
int xtcp_socket(const struct xtcp_topo *t, int side, int family);

/*
 * @side's address (127.0.0.1 over loopback or with no topology), port
 * @port in host order, tagged with @family (0: xtcp).
 */
struct sockaddr_in xtcp_addr(const struct xtcp_topo *t, int side, int family,
			     unsigned short port);

/*
 * A listener of @family in the server's namespace on its address, port
 * @port (0: any free port), SO_REUSEADDR set if @reuse; the fd, the port
 * it got in *@portp (if not NULL).
 */
int xtcp_listen(const struct xtcp_topo *t, int family, unsigned short port,
		int backlog, bool reuse, unsigned short *portp);

/*
 * A connect from the client's namespace to the server's address, port
 * @port.  Blocking: the fd, or -1 with errno.  @nonblock: the fd with the
 * handshake under way (xtcp_connect_wait() for its end).
 */
int xtcp_connect(const struct xtcp_topo *t, int family, unsigned short port,
		 bool nonblock);

/* Client, accepted server side and listener of one blocking connection. */
int xtcp_pair(const struct xtcp_topo *t, int family, int *c, int *s, int *l);

/* Wait up to @ms for a pending accept; the accepted fd or -1. */
int xtcp_accept_wait(int lfd, int ms);
/* Wait up to @ms for a non-blocking connect to finish; its SO_ERROR. */
int xtcp_connect_wait(int fd, int ms);

int xtcp_so_error(int fd);
int xtcp_set_nonblock(int fd);

/* The port a socket is bound to (host order), or 0. */
int xtcp_local_port(int fd);

/* XTCP_INFO of @fd: 0, or -1 with errno. */
int xtcp_get_info(int fd, struct xtcp_info *info);
/* Its state (XTCP_ESTABLISHED, ...), or -1. */
int xtcp_sock_state(int fd);

/*
 * In a test (kselftest_harness.h): the ends of a connection that has
 * carried nothing yet agree on the sequence numbers.  Each side's IRS is
 * the other's ISS, and each side's SND.UNA and its peer's RCV.NXT are its
 * ISS + 1.  @c, @s: struct xtcp_info of the client and the server side.
 */
#define XTCP_EXPECT_SYNCED(c, s) do {					\
	EXPECT_EQ((c).xtcpi_iss, (s).xtcpi_irs);			\
	EXPECT_EQ((s).xtcpi_iss, (c).xtcpi_irs);			\
	EXPECT_EQ((c).xtcpi_iss + 1, (c).xtcpi_snd_una);		\
	EXPECT_EQ((s).xtcpi_iss + 1, (s).xtcpi_snd_una);		\
	EXPECT_EQ((s).xtcpi_iss + 1, (c).xtcpi_rcv_nxt);		\
	EXPECT_EQ((c).xtcpi_iss + 1, (s).xtcpi_rcv_nxt);		\
} while (0)

/* ---- one established connection: the scenario tests' fixture -------- */

struct xtcp_conn {
	struct xtcp_topo t;
	int lfd;		/* listener on SRV_PORT */
	int cfd;		/* client */
	int afd;		/* accepted server side */
	int raw;		/* raw socket for crafted segments, if any */
};

/* The topology, with every fd -1; 0 on success. */
int xtcp_conn_setup(struct xtcp_conn *c, bool veth);

/*
 * Listens on SRV_PORT with @backlog unless a listener is open already,
 * then connects and accepts, each with a deadline of @ms; 0 when both
 * ends are connected, otherwise -1 and the failing step printed.
 */
int xtcp_conn_establish(struct xtcp_conn *c, int backlog, int ms);

/* Closes every fd that is open, then tears the topology down. */
void xtcp_conn_teardown(struct xtcp_conn *c);

/* ---- crafted segments ---------------------------------------------- */

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* The wire header: TCP's layout (Documentation/protocol.md). */
struct xseg {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff;		/* words << 4 */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg;
} __attribute__((packed));

/*
 * Checksum over the IPv4 pseudo-header and @len bytes of @seg (network
 * order).  Over a segment that carries a correct checksum it is 0.
 */
uint16_t xtcp_seg_csum(struct in_addr src, struct in_addr dst, int proto,
		       const void *seg, size_t len);

/*
 * Build a segment in @buf: header (doff 5) plus @dlen bytes of @data, with
 * a correct checksum from @from to @to.  Returns its length.
 */
size_t xtcp_seg_build(const struct xtcp_topo *t, uint8_t *buf, int from,
		      int to, int sport, int dport, uint32_t seq, uint32_t ack,
		      uint8_t flags, const void *data, size_t dlen);

/* A raw IP socket of protocol ipproto in @side's namespace. */
int xtcp_raw_socket(const struct xtcp_topo *t, int side);

/* Send @len bytes as the payload of an IPv4 packet to @to; 0 or -1. */
int xtcp_raw_send(const struct xtcp_topo *t, int rawfd, int to,
		  const void *seg, size_t len);

/*
 * Receive on a raw socket until a segment from @sport to @dport with all
 * of @flags set arrives (or @ms pass); copies its header to @out.
 */
int xtcp_raw_wait(int rawfd, int sport, int dport, uint8_t flags, int ms,
		  struct xseg *out);
/* The same, the whole segment (options, payload) into @seg; its length. */
ssize_t xtcp_raw_wait_seg(int rawfd, int sport, int dport, uint8_t flags,
			  int ms, uint8_t *seg, size_t size);

/*
 * The option @kind in a segment's header (@seg, whole): *@opt points at
 * its kind byte. xtcp_seg_ts() reads the timestamp option's TSval and
 * TSecr (host order). Both false if the segment has none.
 */
bool xtcp_seg_opt(const uint8_t *seg, int kind, const uint8_t **opt);
bool xtcp_seg_ts(const uint8_t *seg, uint32_t *tsval, uint32_t *tsecr);

/*
 * A SYN flood: sends @n SYNs through @raw (a raw socket with IP_HDRINCL in
 * the client's namespace) to the server's address, port @dport, as IP
 * protocol @proto (t->ipproto, or IPPROTO_TCP at a TCP control), each
 * from a spoofed address of the veth subnet where nobody answers
 * (10.99.0.100 .. 10.99.0.227), a random port and ISN, no options.
 * *@rs is the caller's generator state.  Returns how many went out.
 */
long xtcp_syn_flood(const struct xtcp_topo *t, int raw, int proto,
		    unsigned short dport, int n, uint32_t *rs);

#endif /* _XTCP_SELFTEST_LIB_H */
