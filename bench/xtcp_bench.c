// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_bench - one measurement of xtcp or Linux TCP, run by bench/run in
 * the test VM. Server and client are threads of this process; each may
 * live in its own network namespace (--srv-ns/--cli-ns, /run/netns/NAME).
 *
 *   xtcp_bench [OPTIONS] crr  PROTO ADDR SECS    connect, 1-byte request and
 *                                                response, close: conn/s
 *   xtcp_bench [OPTIONS] rr   PROTO ADDR SECS    1-byte request and response
 *                                                on one connection: trans/s
 *   xtcp_bench [OPTIONS] bulk PROTO ADDR SECS STREAMS
 *                                                bulk throughput: Mbit/s
 *   xtcp_bench [OPTIONS] idle PROTO ADDR COUNT   COUNT idle established
 *                                                connections
 *   xtcp_bench [OPTIONS] tw   PROTO ADDR COUNT   COUNT TIME_WAIT buckets
 *   xtcp_bench [OPTIONS] xfer PROTO ADDR BYTES   one connection moves BYTES:
 *                                                its completion time
 *
 * Options: --srv-ns NAME, --cli-ns NAME; --buf BYTES sets SO_SNDBUF and
 * SO_RCVBUF on every socket before connect()/listen() (autotuning off, the
 * same buffers for both protocols); --pin pins client threads to the first
 * CPU and server threads to the last, --pin-one every thread to the first.
 *
 * The timed modes (crr, rr, bulk) print one line of key=value pairs:
 * rate (the result), units (transactions or bytes counted in the window),
 * secs (the window), cpu (busy CPU seconds of the whole machine in the
 * window: user, nice, system, irq, softirq from /proc/stat) and idle (the
 * idle share of all CPUs in the window). bulk also checks that every byte
 * sent arrived: after the window the clients shut down, the servers read
 * to EOF, and the run fails (exit 1) unless the byte counts match. Its
 * line adds the senders' clocks from TCP_INFO across the window: of the
 * time data waited to be sent or acknowledged, the share the receiver's
 * window held it (rwndlim) and the share the sender's own buffer did
 * (sndbuflim); and the segments the senders received (the receivers'
 * ACKs) per 10^6 bytes received (acks).
 * idle and tw print "done N" once the connections or buckets exist, then
 * hold them until stdin closes. xfer prints the same line with rate the
 * seconds from connect() until the server's EOF came back after the last
 * byte, units the bytes the server received (it fails unless all of
 * them), and, from the sender's TCP_INFO, rtx (bytes retransmitted) and
 * rtxsegs (segments retransmitted).
 *
 * PROTO is "xtcp" or "tcp". The server closes first in crr and tw, so the
 * TIME_WAIT state stays on the server, as for a web server; the client's
 * ports are then free at once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define PORT		7100
#define MAX_STREAMS	64
#define DRAIN_SECS	60	/* bulk: the time the servers get to reach EOF */

static int family, port = PORT, bufsize, pin;
static const char *srv_ns, *cli_ns;
static struct in_addr addr;
static atomic_int stop;
static atomic_llong bytes;	/* bulk: received by all server threads */
static atomic_int eofs;		/* bulk: server connections read to EOF */
static atomic_int accepted;	/* idle: connections accepted */
static int lfd;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void enter_ns(const char *name)
{
	char path[128];
	int fd;

	if (!name)
		return;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die(path);
	close(fd);
}

/*
 * With --pin the calling thread runs on the first CPU if it is a client's,
 * on the last if a server's; with --pin-one on the first either way.
 */
static void pin_to(int server)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (!pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(server && pin == 2 ? n - 1 : 0, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		die("pthread_setaffinity_np");
}

static int xsock(void)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (bufsize &&
	    (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize)) ||
	     setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize))))
		die("SO_SNDBUF/SO_RCVBUF");
	return fd;
}

static void nodelay(int fd)
{
	int one = 1;

	if (family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	else
		setsockopt(fd, SOL_XTCP, XTCP_NODELAY, &one, sizeof(one));
}

static struct sockaddr_in sin_of(struct in_addr a, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr = a };

	/* xtcp takes a sockaddr_in tagged AF_INET too. */
	return s;
}

static void listener_setup(void)
{
	struct sockaddr_in s = sin_of(addr, port);
	int one = 1;

	enter_ns(srv_ns);
	lfd = xsock();
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&s, sizeof(s)) || listen(lfd, 4096))
		die("bind/listen");
}

static int connect_to(int fd)
{
	struct sockaddr_in d = sin_of(addr, port);

	return connect(fd, (struct sockaddr *)&d, sizeof(d));
}

/*
 * The machine's CPU time from /proc/stat's "cpu" line, in seconds: busy
 * (user, nice, system, irq, softirq) and all (busy, idle, iowait, steal).
 */
struct cpu_time {
	double busy, all;
};

static struct cpu_time cpu_now(void)
{
	unsigned long long v[8] = {};
	double hz = sysconf(_SC_CLK_TCK);
	struct cpu_time c;
	FILE *f = fopen("/proc/stat", "r");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			 &v[7]) != 8)
		die("/proc/stat");
	fclose(f);
	c.busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
	c.all = c.busy + (v[3] + v[4] + v[7]) / hz;
	return c;
}

/* The window's line (see the header comment). */
static void report(double rate, double units, double secs,
		   struct cpu_time c0, struct cpu_time c1, const char *more)
{
	double all = c1.all - c0.all, busy = c1.busy - c0.busy;
	double idle = all > busy ? (all - busy) / all : 0;

	printf("rate=%.1f units=%.0f secs=%.2f cpu=%.2f idle=%.3f%s\n", rate,
	       units, secs, busy, idle, more);
	fflush(stdout);
}

/* Server of crr and tw: read the byte, answer it, close first. */
static void *crr_server(void *arg)
{
	char c;

	(void)arg;
	pin_to(1);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (stop)
				return NULL;
			continue;
		}
		if (recv(fd, &c, 1, 0) == 1)
			send(fd, &c, 1, MSG_NOSIGNAL);
		close(fd);
	}
}

/* One crr transaction from (@src, @sport); 0 if it completed. */
static int crr_client(const struct in_addr *src, int sport)
{
	int fd = xsock(), one = 1;
	char c = 'x';

	nodelay(fd);
	if (src) {
		struct sockaddr_in s = sin_of(*src, sport);

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s, sizeof(s))) {
			close(fd);
			return -1;
		}
	}
	if (connect_to(fd) || send(fd, &c, 1, 0) != 1 ||
	    recv(fd, &c, 1, 0) != 1 || recv(fd, &c, 1, 0) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int run_crr(double secs)
{
	struct cpu_time c0, c1;
	long n = 0, fail = 0;
	double t0, t;
	pthread_t srv;

	pthread_create(&srv, NULL, crr_server, NULL);
	enter_ns(cli_ns);
	pin_to(0);
	c0 = cpu_now();
	t0 = now();
	do {
		if (crr_client(NULL, 0))
			fail++;
		else
			n++;
		t = now();
	} while (t - t0 < secs);
	c1 = cpu_now();
	if (fail)
		fprintf(stderr, "crr: %ld failed\n", fail);
	report(n / (t - t0), n, t - t0, c0, c1, "");
	return fail ? 1 : 0;
}

/* Server of rr: echo single bytes on one connection until EOF. */
static void *rr_server(void *arg)
{
	int fd;
	char c;

	(void)arg;
	pin_to(1);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	nodelay(fd);
	while (recv(fd, &c, 1, 0) == 1)
		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			break;
	close(fd);
	return NULL;
}

static int run_rr(double secs)
{
	struct cpu_time c0, c1;
	double t0, t;
	pthread_t srv;
	char c = 'x';
	long n = 0;
	int fd;

	pthread_create(&srv, NULL, rr_server, NULL);
	enter_ns(cli_ns);
	pin_to(0);
	fd = xsock();
	nodelay(fd);
	if (connect_to(fd))
		die("connect");
	c0 = cpu_now();
	t0 = now();
	do {
		if (send(fd, &c, 1, 0) != 1 || recv(fd, &c, 1, 0) != 1)
			die("rr: send/recv");
		n++;
		t = now();
	} while (t - t0 < secs);
	c1 = cpu_now();
	close(fd);
	pthread_join(srv, NULL);
	report(n / (t - t0), n, t - t0, c0, c1, "");
	return 0;
}

static void *bulk_server_conn(void *arg)
{
	static char buf[1 << 18];
	int fd = (int)(long)arg;
	ssize_t r;

	pin_to(1);
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		atomic_fetch_add(&bytes, r);
	if (r == 0)
		atomic_fetch_add(&eofs, 1);
	else
		perror("bulk: recv");
	close(fd);
	return NULL;
}

static void *bulk_server(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			return NULL;
		pthread_create(&t, NULL, bulk_server_conn, (void *)(long)fd);
		pthread_detach(t);
	}
}

/* A bulk client's connection: its count of bytes sent and its socket. */
struct bulk_conn {
	long long sent;
	atomic_int fd;		/* 0 until connected */
};

/*
 * The sender's clocks (TCP_INFO, both protocols): how long data waited,
 * and of that how long the peer's receive window or the sender's own
 * buffer held it, in us, summed over the connected streams.
 */
struct bulk_clocks {
	unsigned long long busy, rwnd, sndbuf, segs_in;
};

static struct bulk_clocks bulk_clocks(struct bulk_conn *c, int streams)
{
	struct bulk_clocks k = {};
	int i;

	for (i = 0; i < streams; i++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int fd = atomic_load(&c[i].fd);

		memset(&ti, 0, sizeof(ti));
		if (fd <= 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			continue;
		k.busy += ti.tcpi_busy_time;
		k.rwnd += ti.tcpi_rwnd_limited;
		k.sndbuf += ti.tcpi_sndbuf_limited;
		k.segs_in += ti.tcpi_segs_in;
	}
	return k;
}

static void *bulk_client(void *arg)
{
	static char buf[1 << 16];
	struct bulk_conn *c = arg;
	ssize_t r;
	int fd;

	enter_ns(cli_ns);
	pin_to(0);
	fd = xsock();
	if (connect_to(fd))
		die("connect");
	atomic_store(&c->fd, fd);
	while (!stop) {
		r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (r < 0)
			die("bulk: send");
		c->sent += r;
	}
	/* EOF after the last byte: the server's count is then final. */
	if (shutdown(fd, SHUT_WR))
		die("bulk: shutdown");
	close(fd);
	return NULL;
}

static int run_bulk(double secs, int streams)
{
	static struct bulk_conn conn[MAX_STREAMS];
	long long total = 0, b0, b1;
	pthread_t srv, c[MAX_STREAMS];
	struct bulk_clocks k0, k1;
	struct cpu_time c0, c1;
	char more[128];
	double t0, t1, ks;
	int i;

	if (streams < 1 || streams > MAX_STREAMS) {
		fprintf(stderr, "bulk: 1..%d streams\n", MAX_STREAMS);
		return 2;
	}
	pthread_create(&srv, NULL, bulk_server, NULL);
	for (i = 0; i < streams; i++)
		pthread_create(&c[i], NULL, bulk_client, &conn[i]);
	usleep(500000);		/* past slow start */
	k0 = bulk_clocks(conn, streams);
	c0 = cpu_now();
	b0 = atomic_load(&bytes);
	t0 = now();
	usleep(secs * 1e6);
	b1 = atomic_load(&bytes);
	t1 = now();
	c1 = cpu_now();
	k1 = bulk_clocks(conn, streams);
	stop = 1;
	for (i = 0; i < streams; i++) {
		pthread_join(c[i], NULL);
		total += conn[i].sent;
	}
	for (i = 0; i < DRAIN_SECS * 10 && atomic_load(&eofs) < streams; i++)
		usleep(100000);
	if (atomic_load(&eofs) != streams || atomic_load(&bytes) != total) {
		fprintf(stderr, "bulk: sent %lld bytes, received %lld, %d of %d streams ended\n",
			total, (long long)atomic_load(&bytes),
			atomic_load(&eofs), streams);
		return 1;
	}
	fprintf(stderr, "bulk: %lld bytes sent and received\n", total);
	/*
	 * Shares of the senders' busy time: not of the wall time, as
	 * TCP_INFO waits for the socket lock a sending thread holds, so the
	 * readings are not taken when this thread asks for them.
	 */
	ks = (double)(k1.busy - k0.busy);
	snprintf(more, sizeof(more), " rwndlim=%.3f sndbuflim=%.3f acks=%.2f",
		 ks > 0 ? (k1.rwnd - k0.rwnd) / ks : 0,
		 ks > 0 ? (k1.sndbuf - k0.sndbuf) / ks : 0,
		 b1 > b0 ? (k1.segs_in - k0.segs_in) * 1e6 / (b1 - b0) : 0);
	report((b1 - b0) * 8 / 1e6 / (t1 - t0), b1 - b0, t1 - t0, c0, c1, more);
	return 0;
}

/* Server of xfer: read to EOF, count, close. */
static void *xfer_server(void *arg)
{
	static char buf[1 << 18];
	ssize_t r;
	int fd;

	(void)arg;
	pin_to(1);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept");
	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		atomic_fetch_add(&bytes, r);
	if (r == 0)
		atomic_fetch_add(&eofs, 1);
	close(fd);
	return NULL;
}

static int run_xfer(long long total)
{
	static char buf[1 << 16];
	struct cpu_time c0, c1;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	long long sent = 0;
	pthread_t srv;
	double t0, t1;
	char c;
	int fd;

	pthread_create(&srv, NULL, xfer_server, NULL);
	enter_ns(cli_ns);
	pin_to(0);
	fd = xsock();
	c0 = cpu_now();
	t0 = now();
	if (connect_to(fd))
		die("connect");
	while (sent < total) {
		long long n = total - sent;
		ssize_t r;

		if (n > (long long)sizeof(buf))
			n = sizeof(buf);
		r = send(fd, buf, n, MSG_NOSIGNAL);

		if (r < 0)
			die("xfer: send");
		sent += r;
	}
	if (shutdown(fd, SHUT_WR))
		die("xfer: shutdown");
	/* The server closes after our FIN: everything was acknowledged. */
	if (recv(fd, &c, 1, 0) != 0)
		die("xfer: recv");
	t1 = now();
	c1 = cpu_now();
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		die("TCP_INFO");
	close(fd);
	pthread_join(srv, NULL);
	if (atomic_load(&eofs) != 1 || atomic_load(&bytes) != total) {
		fprintf(stderr, "xfer: sent %lld bytes, received %lld\n", total,
			(long long)atomic_load(&bytes));
		return 1;
	}
	printf("rate=%.3f units=%lld secs=%.3f cpu=%.2f idle=%.3f rtx=%llu rtxsegs=%u\n",
	       t1 - t0, total, t1 - t0, c1.busy - c0.busy,
	       c1.all - c0.all > c1.busy - c0.busy ?
	       1 - (c1.busy - c0.busy) / (c1.all - c0.all) : 0,
	       (unsigned long long)ti.tcpi_bytes_retrans, ti.tcpi_total_retrans);
	return 0;
}

/* Server of idle: accept and keep every connection. */
static void *idle_server(void *arg)
{
	(void)arg;
	pin_to(1);
	while (!stop) {
		if (accept(lfd, NULL, NULL) < 0) {
			if (errno == EMFILE || errno == ENFILE)
				die("accept");
			continue;
		}
		atomic_fetch_add(&accepted, 1);
	}
	return NULL;
}

static void hold_until_stdin_closes(void)
{
	char line[16];

	while (fgets(line, sizeof(line), stdin))
		;
}

static int run_idle(long count)
{
	struct rlimit rl = { .rlim_cur = 2 * count + 64,
			     .rlim_max = 2 * count + 64 };
	pthread_t srv;
	long i;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	pthread_create(&srv, NULL, idle_server, NULL);
	enter_ns(cli_ns);
	pin_to(0);
	for (i = 0; i < count; i++)
		if (connect_to(xsock()))
			die("idle: connect");
	for (i = 0; i < 600 && atomic_load(&accepted) < count; i++)
		usleep(100000);
	if (atomic_load(&accepted) != count) {
		fprintf(stderr, "idle: %d of %ld accepted\n",
			atomic_load(&accepted), count);
		return 1;
	}
	printf("done %ld\n", count);
	fflush(stdout);
	hold_until_stdin_closes();
	return 0;
}

#define TW_THREADS		8
#define TW_ADDRS_PER_THREAD	64	/* 64 x 60000 distinct 4-tuples */

struct tw_job {
	long first, count, done, fail;
};

/* Distinct 4-tuples: 60000 ports per source address. */
static void *tw_client(void *arg)
{
	struct tw_job *j = arg;
	struct in_addr src;
	long i;

	for (i = 0; j->done < j->count && j->fail < j->count; i++) {
		src.s_addr = htonl(ntohl(addr.s_addr) + 1 + j->first +
				   i / 60000);
		if (crr_client(&src, 2000 + i % 60000))
			j->fail++;
		else
			j->done++;
	}
	return NULL;
}

static int run_tw(long count)
{
	int n = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct tw_job jobs[TW_THREADS] = {};
	long done = 0, fail = 0;
	pthread_t srv, c[TW_THREADS];

	n = n < 1 ? 1 : n > TW_THREADS ? TW_THREADS : n;
	for (i = 0; i < n; i++)
		pthread_create(&srv, NULL, crr_server, NULL);
	enter_ns(cli_ns);
	/* One client per CPU, each from its own source addresses. */
	for (i = 0; i < n; i++) {
		jobs[i].first = i * TW_ADDRS_PER_THREAD;
		jobs[i].count = count / n + (i < count % n);
		pthread_create(&c[i], NULL, tw_client, &jobs[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(c[i], NULL);
		done += jobs[i].done;
		fail += jobs[i].fail;
	}
	printf("done %ld failed %ld\n", done, fail);
	fflush(stdout);
	hold_until_stdin_closes();
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode, *proto;
	double arg;

	while (argc > 1 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--pin") || !strcmp(argv[1], "--pin-one")) {
			pin = strcmp(argv[1], "--pin") ? 1 : 2;
			argv++;
			argc--;
			continue;
		}
		if (argc < 3)
			break;
		if (!strcmp(argv[1], "--srv-ns"))
			srv_ns = argv[2];
		else if (!strcmp(argv[1], "--cli-ns"))
			cli_ns = argv[2];
		else if (!strcmp(argv[1], "--buf"))
			bufsize = atoi(argv[2]);
		else
			break;
		argv += 2;
		argc -= 2;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: xtcp_bench [--srv-ns N] [--cli-ns N] [--buf BYTES]\n"
			"       [--pin|--pin-one] crr|rr|bulk|idle|tw|xfer PROTO ADDR SECS|COUNT|BYTES [STREAMS]\n");
		return 2;
	}
	mode = argv[1];
	proto = argv[2];
	if (inet_pton(AF_INET, argv[3], &addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[3]);
		return 2;
	}
	arg = atof(argv[4]);
	if (!strcmp(proto, "tcp")) {
		family = AF_INET;
	} else {
		FILE *f = fopen(XTCP_SYSFS_FAMILY, "r");

		if (!f || fscanf(f, "%d", &family) != 1) {
			fprintf(stderr, "xtcp not loaded\n");
			return 1;
		}
		fclose(f);
	}
	signal(SIGPIPE, SIG_IGN);
	/* tw keeps its listener while crr measures next to its buckets. */
	if (!strcmp(mode, "tw"))
		port = PORT + 1;
	listener_setup();

	if (!strcmp(mode, "crr"))
		return run_crr(arg);
	if (!strcmp(mode, "rr"))
		return run_rr(arg);
	if (!strcmp(mode, "bulk")) {
		int r = run_bulk(arg, argc > 5 ? atoi(argv[5]) : 1);

		_exit(r);	/* the accept thread is still blocked */
	}
	if (!strcmp(mode, "idle"))
		return run_idle((long)arg);
	if (!strcmp(mode, "tw"))
		return run_tw((long)arg);
	if (!strcmp(mode, "xfer"))
		return run_xfer(atoll(argv[4]));
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
