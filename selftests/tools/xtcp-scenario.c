// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp-scenario - the classic handshake and teardown scenarios, each
 * implemented once, used by "make demo SCENARIO=<name>" (scripts/demo,
 * which records and draws it) and by selftests/scenarios.sh (which
 * asserts on its outcome).
 *
 * Usage: xtcp-scenario [-q] [-x CMD] NAME    run one scenario
 *        xtcp-scenario -l                   list the scenarios
 *
 * Every run builds two fresh network namespaces joined by veth (client
 * 10.99.0.1, server 10.99.0.2, server port 5000; lib/xtcp_lib.h),
 * shrinks the timers with the namespaces' sysctls, runs the scenario,
 * checks what must have happened ("ok - ..." or "FAIL - ..." lines) and
 * prints each side's non-zero counters. The namespaces start from zero,
 * so the counters are the scenario's deltas. Exit status: 0 every check
 * held, 1 a check failed, 4 the scenario cannot run here (e.g. no netem).
 * -q prints only the checks and failures. -x CMD runs the shell command
 * CMD once the namespaces exist and before the scenario starts, with
 * XTCP_CLIENT_NS and XTCP_SERVER_NS naming them (the veth ends are v0 and
 * v1), e.g. to start a packet capture there; if CMD fails, so does the run.
 *
 * The "curl" scenario runs real programs through scripts/xtcp-run, whose
 * path it takes from $XTCP_RUN (scripts/demo and scenarios.sh set it):
 * python3 -m http.server on the server, curl on the client. Without
 * them, it is skipped (exit 4).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xtcp_lib.h"

#define EXIT_SKIP	4
#define DEADLINE_MS	20000
/*
 * A program's start before it listens: the debug lane's first python3,
 * reading its modules over 9p under KASAN in TCG, once took over 20 s.
 */
#define START_MS	120000

static struct xtcp_topo T;
static bool quiet;
static int failures;
static const char * const side_name[2] = { "client", "server" };

static void say(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	printf("* ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void expect(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s - ", ok ? "ok" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	if (!ok)
		failures++;
}

static long long ctr(int side, const char *name)
{
	return xtcp_counter(&T, side, name);
}

/* Current population of @state ("SYN_RCVD", ...) on @side. */
static long cur(int side, const char *state)
{
	return xtcp_state_count(&T, side, state, NULL);
}

static long entered(int side, const char *state)
{
	long e = -1;

	xtcp_state_count(&T, side, state, &e);
	return e;
}

/* Expect counter @name on @side to reach @want (polled: timers may lag). */
static void expect_ctr(int side, const char *name, long long want)
{
	long long v = 0;

	XTCP_WAIT_FOR(DEADLINE_MS, (v = ctr(side, name)) >= want);
	expect(v == want, "%s %s == %lld (got %lld)", side_name[side], name,
	       want, v);
}

static void expect_ctr_min(int side, const char *name, long long want)
{
	long long v = 0;

	XTCP_WAIT_FOR(DEADLINE_MS, (v = ctr(side, name)) >= want);
	expect(v >= want, "%s %s >= %lld (got %lld)", side_name[side], name,
	       want, v);
}

static void expect_cur(int side, const char *state, long want)
{
	long v = 0;

	XTCP_WAIT_FOR(DEADLINE_MS, (v = cur(side, state)) == want);
	expect(v == want, "%s: %ld socket(s) in %s (got %ld)", side_name[side],
	       want, state, v);
}

static void expect_entered(int side, const char *state, long want)
{
	long v = entered(side, state);

	expect(v == want, "%s entered %s %ld time(s) (got %ld)",
	       side_name[side], state, want, v);
}

/* Shrunk timers: RTO 300 ms, 2 x MSL 600 ms. */
static void timers(int rto_ms, int msl_ms)
{
	if (xtcp_sysctl_set(&T, BOTH, "rto_min_ms", 50) ||
	    xtcp_sysctl_set(&T, BOTH, "rto_init_ms", rto_ms) ||
	    xtcp_sysctl_set(&T, BOTH, "msl_ms", msl_ms))
		expect(false, "set the timer sysctls");
}

static void fault(int side, const char *rule)
{
	int err = xtcp_fault_add(&T, side, "%s", rule);

	say("%s fault rule: drop %s", side_name[side], rule);
	expect(!err, "%s accepts fault rule '%s'", side_name[side], rule);
}

static void set_blocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

/* connect(), accept(): 0 and both fds, or -1 after a failed check. */
static int establish(int lfd, int *cfd, int *sfd)
{
	int err;

	*sfd = -1;
	*cfd = xtcp_connect(&T, 0, SRV_PORT, true);
	if (*cfd < 0) {
		expect(false, "client connect() starts (errno %d)", errno);
		return -1;
	}
	say("client connect()s to 10.99.0.2:%d from port %d", SRV_PORT,
	    xtcp_local_port(*cfd));
	err = xtcp_connect_wait(*cfd, DEADLINE_MS);
	expect(err == 0, "client connect() succeeds (%s)", strerror(err));
	*sfd = xtcp_accept_wait(lfd, DEADLINE_MS);
	expect(*sfd >= 0, "server accept() returns the connection");
	if (err || *sfd < 0)
		return -1;
	set_blocking(*cfd);
	return 0;
}

/*
 * Waits until @side has sent a segment since its OutSegs read @before:
 * the ACK a receiver may delay (delack_ms). Waiting for it before the
 * next send or close keeps every segment of the textbook drawing on its
 * own line instead of piggybacked, whatever TCG's timing.
 */
static void wait_ack_sent(int side, long long before)
{
	XTCP_WAIT_FOR(DEADLINE_MS, xtcp_counter(&T, side, "OutSegs") > before);
}

static bool xfer(int from, int to, int to_side, const char *msg)
{
	long long out = xtcp_counter(&T, to_side, "OutSegs");
	char buf[64] = "";
	ssize_t n;

	if (send(from, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		return false;
	n = recv(to, buf, sizeof(buf) - 1, 0);
	wait_ack_sent(to_side, out);
	return n == (ssize_t)strlen(msg) && !memcmp(buf, msg, n);
}

static void exchange(int cfd, int sfd)
{
	say("client sends \"hello\", server answers \"world\"");
	expect(xfer(cfd, sfd, SRV, "hello") && xfer(sfd, cfd, CLI, "world"),
	       "data arrives both ways");
}

/* Wait up to @ms for @fd to be readable; then recv(): its result. */
static ssize_t recv_wait(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1) {
		errno = ETIME;
		return -1;
	}
	return recv(fd, buf, len, MSG_DONTWAIT);
}

/* The client closes first; the server reads EOF and closes. */
static void orderly_close(int cfd, int sfd, bool wait_tw, int nr_tw)
{
	long long out = xtcp_counter(&T, SRV, "OutSegs");
	char buf[16];

	say("client close()s: FIN");
	close(cfd);
	expect(recv_wait(sfd, buf, sizeof(buf), DEADLINE_MS) == 0,
	       "server reads end of file");
	wait_ack_sent(SRV, out);
	say("server close()s: FIN");
	close(sfd);
	expect_ctr(CLI, "TimeWaitCreated", nr_tw);
	if (wait_tw) {
		say("waiting 2 x MSL for the client's TIME_WAIT to expire");
		expect_ctr(CLI, "TimeWaitExpired", nr_tw);
	}
}

static int plain(int with_loss_cb(void))
{
	int lfd, cfd, sfd;

	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	expect(lfd >= 0, "server listens on 10.99.0.2:%d", SRV_PORT);
	if (lfd < 0)
		return -1;
	if (with_loss_cb && with_loss_cb())
		return -1;
	if (establish(lfd, &cfd, &sfd))
		return -1;
	exchange(cfd, sfd);
	orderly_close(cfd, sfd, true, 1);
	close(lfd);
	return 0;
}

/* ---- the scenarios ---------------------------------------------------- */

static int sc_basic(void)
{
	timers(300, 250);
	if (plain(NULL))
		return -1;
	expect_ctr(CLI, "ActiveOpens", 1);
	expect_ctr(SRV, "PassiveOpens", 1);
	expect_entered(SRV, "CLOSE_WAIT", 1);
	expect_entered(SRV, "LAST_ACK", 1);
	expect_entered(CLI, "FIN_WAIT_2", 1);
	return 0;
}

static int syn_loss_rule(void)
{
	fault(CLI, "out syn nth=1");
	return 0;
}

static int sc_syn_loss(void)
{
	timers(300, 250);
	if (plain(syn_loss_rule))
		return -1;
	expect_ctr(CLI, "FaultDrops", 1);
	expect_ctr(CLI, "SynRetrans", 1);
	return 0;
}

static int synack_loss_rule(void)
{
	fault(SRV, "out synack nth=1");
	return 0;
}

static int sc_synack_loss(void)
{
	timers(300, 250);
	/* A slow client: the server's SYN-ACK retransmission comes first. */
	xtcp_sysctl_set(&T, CLI, "rto_init_ms", 5000);
	if (plain(synack_loss_rule))
		return -1;
	expect_ctr(SRV, "FaultDrops", 1);
	expect_ctr_min(SRV, "SynAckRetrans", 1);
	expect_ctr(CLI, "SynRetrans", 0);
	return 0;
}

static int ack_loss_rule(void)
{
	fault(CLI, "out ack nth=1");
	return 0;
}

static int sc_ack_loss(void)
{
	timers(300, 250);
	if (plain(ack_loss_rule))
		return -1;
	/* The client was ESTABLISHED; the server, in SYN_RCVD, asked again. */
	expect_ctr(CLI, "FaultDrops", 1);
	expect_ctr_min(SRV, "SynAckRetrans", 1);
	return 0;
}

static int sc_half_close(void)
{
	int lfd, cfd, sfd;
	char buf[64] = "";

	timers(300, 250);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0 || establish(lfd, &cfd, &sfd))
		return -1;
	say("client sends \"request\" and shutdown(SHUT_WR)s: FIN");
	send(cfd, "request", 7, 0);
	shutdown(cfd, SHUT_WR);
	expect(recv_wait(sfd, buf, sizeof(buf), DEADLINE_MS) == 7,
	       "server reads the request");
	expect(recv_wait(sfd, buf, sizeof(buf), DEADLINE_MS) == 0,
	       "server reads end of file (CLOSE_WAIT)");
	say("server, in CLOSE_WAIT, still sends \"response\"");
	send(sfd, "response", 8, 0);
	memset(buf, 0, sizeof(buf));
	expect(recv_wait(cfd, buf, sizeof(buf), DEADLINE_MS) == 8 &&
	       !strcmp(buf, "response"),
	       "client, in FIN_WAIT_2, reads the response");
	say("server close()s: FIN");
	close(sfd);
	expect(recv_wait(cfd, buf, sizeof(buf), DEADLINE_MS) == 0,
	       "client reads end of file");
	close(cfd);
	close(lfd);
	expect_ctr(CLI, "TimeWaitExpired", 1);
	expect_entered(CLI, "FIN_WAIT_2", 1);
	expect_entered(SRV, "CLOSE_WAIT", 1);
	return 0;
}

static int sc_last_ack_loss(void)
{
	int lfd, cfd, sfd;
	char buf[16];

	timers(300, 250);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0 || establish(lfd, &cfd, &sfd))
		return -1;
	exchange(cfd, sfd);
	say("client close()s: FIN");
	close(cfd);
	expect(recv_wait(sfd, buf, sizeof(buf), DEADLINE_MS) == 0,
	       "server reads end of file");
	expect_cur(CLI, "FIN_WAIT_2", 1);
	fault(CLI, "out ack nth=1");
	say("server close()s: FIN; the client's last ACK is lost");
	close(sfd);
	close(lfd);
	/* LAST_ACK retransmits its FIN; the TIME_WAIT bucket ACKs again. */
	expect_ctr_min(SRV, "FinRetrans", 1);
	expect_cur(SRV, "LAST_ACK", 0);
	expect_ctr(CLI, "FaultDrops", 1);
	expect_ctr(CLI, "TimeWaitCreated", 1);
	expect_ctr(CLI, "TimeWaitExpired", 1);
	return 0;
}

static int sc_time_wait(void)
{
	struct sockaddr_in a;
	int lfd, cfd, sfd, fd, port, ret;

	timers(300, 1000);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0 || establish(lfd, &cfd, &sfd))
		return -1;
	port = xtcp_local_port(cfd);
	exchange(cfd, sfd);
	orderly_close(cfd, sfd, false, 1);
	close(lfd);

	a = xtcp_addr(&T, CLI, 0, port);
	fd = xtcp_socket(&T, CLI, 0);
	ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	expect(ret < 0 && errno == EADDRINUSE,
	       "bind() to client port %d fails with EADDRINUSE during TIME_WAIT",
	       port);
	close(fd);
	if (!quiet) {
		say("the client's sockets now (the bucket is state 06):");
		xtcp_topo_enter(&T, CLI);
		system("cat /proc/net/xtcp/sockets");
		xtcp_topo_leave(&T);
	}
	say("waiting 2 x MSL = 2 s");
	expect_ctr(CLI, "TimeWaitExpired", 1);
	fd = xtcp_socket(&T, CLI, 0);
	expect(!bind(fd, (struct sockaddr *)&a, sizeof(a)),
	       "bind() to port %d succeeds after TIME_WAIT", port);
	close(fd);
	return 0;
}

#define EXHAUST_PORTS	6

static int sc_port_exhaustion(void)
{
	struct sockaddr_in sa = xtcp_addr(&T, SRV, 0, SRV_PORT);
	int lfd, cfd, sfd, i, err = 0;
	char path[] = "/proc/sys/net/ipv4/ip_local_port_range";
	FILE *f;

	timers(300, 60000);
	xtcp_topo_enter(&T, CLI);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "40000 %d\n", 40000 + EXHAUST_PORTS - 1);
		fclose(f);
	}
	xtcp_topo_leave(&T);
	say("client's ephemeral ports: 40000-%d; 2 x MSL = 120 s",
	    40000 + EXHAUST_PORTS - 1);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0)
		return -1;
	for (i = 0; i < EXHAUST_PORTS; i++) {
		if (establish(lfd, &cfd, &sfd))
			return -1;
		orderly_close(cfd, sfd, false, i + 1);
	}
	expect_cur(CLI, "TIME_WAIT", EXHAUST_PORTS);
	cfd = xtcp_socket(&T, CLI, 0);
	if (connect(cfd, (struct sockaddr *)&sa, sizeof(sa)))
		err = errno;
	say("connection %d: connect() -> %s", EXHAUST_PORTS + 1,
	    err ? strerror(err) : "success");
	expect(err == EADDRNOTAVAIL,
	       "connect() fails with EADDRNOTAVAIL: every port is in TIME_WAIT");
	close(cfd);
	expect_ctr(CLI, "TimeWaitCreated", EXHAUST_PORTS);

	/*
	 * The second run: tw_reuse (default 2, loopback only; this path
	 * is veth) set to 1. The connections used timestamps, so once a
	 * bucket's last timestamp is a second old, connect() takes its
	 * 4-tuple over: the new ISN and TSval are above the old ones.
	 */
	xtcp_sysctl_set(&T, CLI, "tw_reuse", 1);
	say("second run: tw_reuse=1, and a second for the buckets' last timestamps to age");
	xtcp_sleep_ms(1100);
	if (establish(lfd, &cfd, &sfd))
		return -1;
	say("connection %d: connect() took over a TIME_WAIT bucket of its own 4-tuple",
	    EXHAUST_PORTS + 1);
	expect_ctr(CLI, "TWReused", 1);
	expect_cur(CLI, "TIME_WAIT", EXHAUST_PORTS - 1);
	orderly_close(cfd, sfd, false, EXHAUST_PORTS + 1);
	close(lfd);
	return 0;
}

#define LEAK_CONNS	4

static int sc_close_wait_leak(void)
{
	int lfd, cfd, sfd[LEAK_CONNS], i;

	timers(300, 250);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0)
		return -1;
	for (i = 0; i < LEAK_CONNS; i++) {
		if (establish(lfd, &cfd, &sfd[i]))
			return -1;
		say("client close()s; the server application never does");
		close(cfd);
	}
	expect_cur(SRV, "CLOSE_WAIT", LEAK_CONNS);
	expect_cur(CLI, "FIN_WAIT_2", LEAK_CONNS);
	if (!quiet) {
		say("the server's sockets (state 08 is CLOSE_WAIT):");
		xtcp_topo_enter(&T, SRV);
		system("cat /proc/net/xtcp/sockets");
		xtcp_topo_leave(&T);
	}
	say("the server finally close()s them");
	for (i = 0; i < LEAK_CONNS; i++)
		close(sfd[i]);
	close(lfd);
	expect_cur(SRV, "CLOSE_WAIT", 0);
	expect_ctr(CLI, "TimeWaitCreated", LEAK_CONNS);
	return 0;
}

/* Delay both directions so that segments sent together cross. */
static int netem(void)
{
	if (xtcp_topo_netem(&T, "delay 300ms")) {
		printf("# SKIP: cannot add a netem qdisc (tc, sch_netem)\n");
		return -1;
	}
	say("both directions delayed 300 ms (netem) so that segments cross");
	return 0;
}

static int bound_socket(int side, int port)
{
	struct sockaddr_in a = xtcp_addr(&T, side, 0, port);
	int fd = xtcp_socket(&T, side, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int sc_simultaneous_open(void)
{
	struct sockaddr_in ca, sa;
	int cfd, sfd, e1, e2;

	timers(3000, 250);
	if (netem())
		return EXIT_SKIP;
	cfd = bound_socket(CLI, 6001);
	sfd = bound_socket(SRV, SRV_PORT);
	if (cfd < 0 || sfd < 0)
		return -1;
	ca = xtcp_addr(&T, CLI, 0, 6001);
	sa = xtcp_addr(&T, SRV, 0, SRV_PORT);
	say("no listener: both sides connect() to each other at once");
	connect(cfd, (struct sockaddr *)&sa, sizeof(sa));
	connect(sfd, (struct sockaddr *)&ca, sizeof(ca));
	e1 = xtcp_connect_wait(cfd, DEADLINE_MS);
	e2 = xtcp_connect_wait(sfd, DEADLINE_MS);
	expect(!e1 && !e2, "both connect()s succeed (%s, %s)", strerror(e1),
	       strerror(e2));
	expect_entered(CLI, "SYN_RCVD", 1);
	expect_entered(SRV, "SYN_RCVD", 1);
	set_blocking(cfd);
	set_blocking(sfd);
	exchange(cfd, sfd);
	orderly_close(cfd, sfd, true, 1);
	return 0;
}

static int sc_simultaneous_close(void)
{
	int lfd, cfd, sfd;

	timers(3000, 250);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0 || establish(lfd, &cfd, &sfd))
		return -1;
	close(lfd);
	exchange(cfd, sfd);
	if (netem())
		return EXIT_SKIP;
	say("both sides close() at once: the FINs cross");
	close(cfd);
	close(sfd);
	expect_ctr(CLI, "TimeWaitCreated", 1);
	expect_ctr(SRV, "TimeWaitCreated", 1);
	expect_entered(CLI, "CLOSING", 1);
	expect_entered(SRV, "CLOSING", 1);
	expect_ctr(CLI, "TimeWaitExpired", 1);
	expect_ctr(SRV, "TimeWaitExpired", 1);
	return 0;
}

static int sc_stale_syn(void)
{
	uint8_t seg[64];
	size_t len;
	int lfd, raw;

	timers(300, 250);
	xtcp_sysctl_set(&T, SRV, "synack_retries", 1);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	raw = xtcp_raw_socket(&T, CLI);
	if (lfd < 0 || raw < 0)
		return -1;
	say("an old duplicate SYN (port 40000, seq 1000) reaches the listener");
	len = xtcp_seg_build(&T, seg, CLI, SRV, 40000, SRV_PORT, 1000, 0, F_SYN,
			     NULL, 0);
	expect(!xtcp_raw_send(&T, raw, SRV, seg, len), "the stale SYN is sent");
	/* The client has no such connection: it answers the SYN-ACK with RST. */
	expect_ctr_min(CLI, "InNoSocket", 1);
	expect_ctr_min(CLI, "OutRsts", 1);
	say("the server keeps SYN_RCVD until its SYN-ACK retries run out");
	expect_cur(SRV, "SYN_RCVD", 0);
	expect(xtcp_accept_wait(lfd, 100) < 0, "server accept()s nothing");
	close(raw);
	close(lfd);
	return 0;
}

static int sc_rst_close(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int lfd, cfd, sfd;
	char buf[16];
	ssize_t n;

	timers(300, 250);
	lfd = xtcp_listen(&T, 0, SRV_PORT, 16, true, NULL);
	if (lfd < 0 || establish(lfd, &cfd, &sfd))
		return -1;
	exchange(cfd, sfd);
	say("client sets SO_LINGER {1, 0} and close()s: RST, not FIN");
	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);
	n = recv_wait(sfd, buf, sizeof(buf), DEADLINE_MS);
	expect(n < 0 && errno == ECONNRESET, "server's recv() fails with ECONNRESET");
	close(sfd);
	close(lfd);
	expect_ctr(CLI, "OutRsts", 1);
	expect_ctr(SRV, "InRsts", 1);
	expect_ctr(SRV, "EstabResets", 1);
	expect_ctr(CLI, "TimeWaitCreated", 0);
	return 0;
}

/*
 * Starts @argv in @side's namespace with its output to /dev/null; the
 * pid, or -1.
 */
static pid_t spawn(int side, char *const argv[])
{
	pid_t pid = fork();
	int null;

	if (pid)
		return pid;
	if (xtcp_topo_enter(&T, side))
		_exit(127);
	null = open("/dev/null", O_RDWR);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	execvp(argv[0], argv);
	_exit(127);
}

static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Linux TCP's ActiveOpens + PassiveOpens in @side's namespace, or -1. */
static long long tcp_opens(int side)
{
	char names[1024], vals[1024], *np, *vp, *n, *v;
	long long sum = -1;
	FILE *f;

	if (xtcp_topo_enter(&T, side))
		return -1;
	f = fopen("/proc/net/snmp", "r");
	xtcp_topo_leave(&T);
	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "Tcp:", 4))
			continue;
		sum = 0;
		n = strtok_r(names, " \n", &np);
		v = strtok_r(vals, " \n", &vp);
		while (n && v) {
			if (!strcmp(n, "ActiveOpens") || !strcmp(n, "PassiveOpens"))
				sum += atoll(v);
			n = strtok_r(NULL, " \n", &np);
			v = strtok_r(NULL, " \n", &vp);
		}
	}
	fclose(f);
	return sum;
}

static bool same_file(const char *a, const char *b)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	bool same = fa && fb;
	int ca, cb;

	while (same) {
		ca = getc(fa);
		cb = getc(fb);
		same = ca == cb;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

#define CURL_BYTES	(16 * 1024)

/*
 * A real program's connection: curl fetches a file from python3's
 * http.server, both unmodified, moved onto xtcp by scripts/xtcp-run.
 */
static int sc_curl(void)
{
	char dir[] = "/tmp/xtcp-curl-XXXXXX", src[64], dst[64], url[96];
	const char *run = getenv("XTCP_RUN");
	char port[8];
	pid_t srv, cli;
	long tw, closing;
	int i, rc;
	FILE *f;

	if (!run || access(run, X_OK) ||
	    system("command -v curl >/dev/null && command -v python3 >/dev/null")) {
		printf("# SKIP: needs $XTCP_RUN (scripts/xtcp-run), curl and python3\n");
		return EXIT_SKIP;
	}
	if (!mkdtemp(dir)) {
		expect(false, "a temporary directory: %s", strerror(errno));
		return -1;
	}
	snprintf(src, sizeof(src), "%s/file", dir);
	snprintf(dst, sizeof(dst), "%s/got", dir);
	snprintf(port, sizeof(port), "%d", SRV_PORT);
	snprintf(url, sizeof(url), "http://10.99.0.2:%d/file", SRV_PORT);
	f = fopen(src, "w");
	for (i = 0; f && i < CURL_BYTES; i++)
		putc("xtcp carries curl's bytes\n"[i % 26], f);
	if (!f || fclose(f)) {
		expect(false, "write %s", src);
		return -1;
	}

	timers(300, 250);
	say("server: xtcp-run python3 -m http.server -b 10.99.0.2 %d", SRV_PORT);
	srv = spawn(SRV, (char *const[]){ (char *)run, "python3", "-m",
		    "http.server", "-b", "10.99.0.2", "-d", dir, port, NULL });
	expect(XTCP_WAIT_FOR(START_MS, cur(SRV, "LISTEN") == 1),
	       "python3's http.server listens on an xtcp socket");
	say("client: xtcp-run curl -4 -sS -o got %s (%d bytes)", url,
	    CURL_BYTES);
	cli = spawn(CLI, (char *const[]){ (char *)run, "curl", "-4", "-sS",
		    "-o", dst, url, NULL });
	rc = reap(cli);
	expect(rc == 0, "curl exits 0 (got %d)", rc);
	expect(same_file(src, dst), "curl's file equals the server's, byte for byte");
	expect_ctr(CLI, "ActiveOpens", 1);
	expect_ctr(SRV, "PassiveOpens", 1);
	/*
	 * Both ends close; whichever closed first holds TIME_WAIT, or both
	 * do if their FINs crossed (curl may close as soon as it has the
	 * Content-Length's bytes, while the server closes after sending).
	 * The server's close may lag under a sanitizer kernel: START_MS.
	 */
	expect_cur(CLI, "ESTABLISHED", 0);
	XTCP_WAIT_FOR(START_MS, cur(CLI, "CLOSE_WAIT") + cur(SRV, "CLOSE_WAIT") +
		      cur(CLI, "LAST_ACK") + cur(SRV, "LAST_ACK") +
		      cur(SRV, "ESTABLISHED") == 0 &&
		      entered(CLI, "TIME_WAIT") + entered(SRV, "TIME_WAIT") > 0);
	expect_cur(SRV, "ESTABLISHED", 0);
	tw = entered(CLI, "TIME_WAIT") + entered(SRV, "TIME_WAIT");
	closing = entered(CLI, "CLOSING") + entered(SRV, "CLOSING");
	expect(tw == 1 || (tw == 2 && closing == 2),
	       "one end went through TIME_WAIT, or both after a simultaneous close (TIME_WAIT entered %ld, CLOSING %ld)",
	       tw, closing);
	expect(tcp_opens(CLI) == 0 && tcp_opens(SRV) == 0,
	       "Linux TCP opened nothing in either namespace");
	kill(srv, SIGTERM);
	reap(srv);
	unlink(src);
	unlink(dst);
	rmdir(dir);
	return 0;
}

static const struct scenario {
	const char *name;
	int (*run)(void);
	const char *what;
} scenarios[] = {
	{ "basic", sc_basic, "handshake, data both ways, orderly close, TIME_WAIT" },
	{ "syn-loss", sc_syn_loss, "the client's first SYN is lost and retransmitted" },
	{ "synack-loss", sc_synack_loss, "the server's SYN-ACK is lost and retransmitted" },
	{ "ack-loss", sc_ack_loss, "the handshake's third ACK is lost" },
	{ "half-close", sc_half_close, "shutdown(SHUT_WR): the other side still sends" },
	{ "last-ack-loss", sc_last_ack_loss, "the final ACK is lost: FIN retransmitted, TIME_WAIT re-ACKs" },
	{ "time-wait", sc_time_wait, "TIME_WAIT holds the port for 2 x MSL" },
	{ "port-exhaustion", sc_port_exhaustion, "TIME_WAIT buckets use up the ephemeral ports; tw_reuse takes one over" },
	{ "close-wait-leak", sc_close_wait_leak, "an application that never closes piles up CLOSE_WAIT" },
	{ "simultaneous-open", sc_simultaneous_open, "both sides connect() at once: SYN_SENT -> SYN_RCVD" },
	{ "simultaneous-close", sc_simultaneous_close, "both sides close() at once: CLOSING" },
	{ "stale-syn", sc_stale_syn, "an old duplicate SYN is refused by the third step" },
	{ "rst-close", sc_rst_close, "SO_LINGER 0: close() sends RST, no TIME_WAIT" },
	{ "curl", sc_curl, "curl fetches a file from python3's http.server, both over xtcp-run" },
};

#define NR_SCENARIOS	(sizeof(scenarios) / sizeof(scenarios[0]))

/* Every non-zero counter of @side, several to a line. */
static void dump_counters(int side)
{
	char key[64], line[128] = "";
	size_t used = 0;
	long long v;
	FILE *f;

	if (xtcp_topo_enter(&T, side))
		return;
	f = fopen("/proc/net/xtcp/snmp", "r");
	xtcp_topo_leave(&T);
	if (!f)
		return;
	printf("%s counters:\n", side_name[side]);
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!v)
			continue;
		if (used > 60) {
			printf(" %s\n", line);
			used = 0;
		}
		used += snprintf(line + used, sizeof(line) - used, " %s=%lld",
				 key, v);
	}
	if (line[0])
		printf("  %s\n", line);
	fclose(f);
}

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: xtcp-scenario [-q] [-x CMD] NAME | -l\nscenarios:\n");
	for (i = 0; i < NR_SCENARIOS; i++)
		fprintf(stderr, "  %-20s %s\n", scenarios[i].name,
			scenarios[i].what);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct scenario *s = NULL;
	const char *hook = NULL;
	size_t i;
	int opt, ret;

	while ((opt = getopt(argc, argv, "qx:lh")) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'x':
			hook = optarg;
			break;
		case 'l':
			for (i = 0; i < NR_SCENARIOS; i++)
				printf("%s\t%s\n", scenarios[i].name,
				       scenarios[i].what);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	for (i = 0; i < NR_SCENARIOS; i++)
		if (!strcmp(argv[optind], scenarios[i].name))
			s = &scenarios[i];
	if (!s)
		usage();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (xtcp_topo_setup(&T, true)) {
		xtcp_topo_teardown(&T);
		printf("# SKIP: cannot build the two namespaces\n");
		return EXIT_SKIP;
	}
	say("scenario %s: %s", s->name, s->what);
	say("client 10.99.0.1 (netns %s) <-veth-> server 10.99.0.2 (netns %s)",
	    T.name[CLI], T.name[SRV]);
	if (hook) {
		setenv("XTCP_CLIENT_NS", T.name[CLI], 1);
		setenv("XTCP_SERVER_NS", T.name[SRV], 1);
		ret = system(hook);
		ret = ret == -1 ? -1 : WIFEXITED(ret) ? WEXITSTATUS(ret) : 128;
		expect(ret == 0, "-x command succeeds (status %d)", ret);
		if (ret) {
			xtcp_topo_teardown(&T);
			return 1;
		}
	}
	ret = s->run();
	if (ret < 0)
		expect(false, "scenario %s ran to its end", s->name);
	if (!quiet && ret != EXIT_SKIP) {
		dump_counters(CLI);
		dump_counters(SRV);
	}
	xtcp_topo_teardown(&T);
	if (ret == EXIT_SKIP)
		return EXIT_SKIP;
	return failures ? 1 : 0;
}
