// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_bench - one measurement of xtcp or Linux TCP, run by bench/run in
 * the test VM. Server and client are threads of this process; each may
 * live in its own network namespace (--srv-ns/--cli-ns, /run/netns/NAME).
 *
 *   xtcp_bench crr  PROTO ADDR SECS          connect, 1-byte request and
 *                                            response, close: conns/s
 *   xtcp_bench bulk PROTO ADDR SECS STREAMS  bulk throughput: Mbit/s
 *   xtcp_bench tw   PROTO ADDR COUNT         leave COUNT TIME_WAIT buckets
 *                                            (the server closes first;
 *                                            a client and a server thread
 *                                            per CPU), then print "done"
 *                                            and wait for stdin to close
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
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define PORT 7100

static int family, port = PORT;
static const char *srv_ns, *cli_ns;
static struct in_addr addr;
static atomic_int stop;
static atomic_llong bytes;
static int lfd;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enter_ns(const char *name)
{
	char path[128];
	int fd;

	if (!name)
		return;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static int xsock(void)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	return fd;
}

static struct sockaddr_in sin_of(struct in_addr a, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr = a };

	/* xtcp takes a sockaddr_in tagged AF_INET too. */
	return s;
}

static void *listener_setup(void)
{
	struct sockaddr_in s = sin_of(addr, port);
	int one = 1;

	enter_ns(srv_ns);
	lfd = xsock();
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&s, sizeof(s)) || listen(lfd, 4096)) {
		perror("bind/listen");
		exit(1);
	}
	return NULL;
}

/* Server of crr and tw: read the byte, answer it, close first. */
static void *rr_server(void *arg)
{
	char c;

	(void)arg;
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

/* One transaction from (@src, @sport); 0 if it completed. */
static int rr_client(const struct in_addr *src, int sport)
{
	struct sockaddr_in d = sin_of(addr, port);
	int fd = xsock(), one = 1;
	char c = 'x';

	if (family == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	else
		setsockopt(fd, SOL_XTCP, XTCP_NODELAY, &one, sizeof(one));
	if (src) {
		struct sockaddr_in s = sin_of(*src, sport);

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s, sizeof(s))) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&d, sizeof(d)) ||
	    send(fd, &c, 1, 0) != 1 || recv(fd, &c, 1, 0) != 1 ||
	    recv(fd, &c, 1, 0) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
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
		if (rr_client(&src, 2000 + i % 60000))
			j->fail++;
		else
			j->done++;
	}
	return NULL;
}

static void *bulk_server_conn(void *arg)
{
	static char buf[1 << 18];
	int fd = (int)(long)arg;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
		atomic_fetch_add(&bytes, r);
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

static void *bulk_client(void *arg)
{
	static char buf[1 << 16];
	struct sockaddr_in d = sin_of(addr, port);
	int fd;

	(void)arg;
	enter_ns(cli_ns);
	fd = xsock();
	if (connect(fd, (struct sockaddr *)&d, sizeof(d))) {
		perror("connect");
		exit(1);
	}
	while (!stop)
		if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) < 0)
			break;
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode, *proto;
	pthread_t srv;
	double secs;
	int i;

	while (argc > 2 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--srv-ns"))
			srv_ns = argv[2];
		else if (!strcmp(argv[1], "--cli-ns"))
			cli_ns = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: xtcp_bench [--srv-ns N] [--cli-ns N] crr|bulk|tw PROTO ADDR ARG [STREAMS]\n");
		return 2;
	}
	mode = argv[1];
	proto = argv[2];
	inet_pton(AF_INET, argv[3], &addr);
	secs = atof(argv[4]);
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

	if (!strcmp(mode, "crr")) {
		long n = 0, fail = 0;
		double t0, t;

		pthread_create(&srv, NULL, rr_server, NULL);
		enter_ns(cli_ns);
		t0 = now();
		do {
			if (rr_client(NULL, 0))
				fail++;
			else
				n++;
			t = now();
		} while (t - t0 < secs);
		printf("%.0f\n", n / (t - t0));
		if (fail)
			fprintf(stderr, "crr: %ld failed\n", fail);
		return 0;
	}
	if (!strcmp(mode, "bulk")) {
		int streams = argc > 5 ? atoi(argv[5]) : 1;
		pthread_t c[64];
		long long b0;
		double t0;

		pthread_create(&srv, NULL, bulk_server, NULL);
		for (i = 0; i < streams && i < 64; i++)
			pthread_create(&c[i], NULL, bulk_client, NULL);
		usleep(500000);		/* past slow start */
		b0 = atomic_load(&bytes);
		t0 = now();
		usleep(secs * 1e6);
		printf("%.0f\n", (atomic_load(&bytes) - b0) * 8 / 1e6 /
		       (now() - t0));
		fflush(stdout);
		stop = 1;
		_exit(0);
	}
	if (!strcmp(mode, "tw")) {
		int n = sysconf(_SC_NPROCESSORS_ONLN);
		struct tw_job jobs[TW_THREADS] = {};
		long done = 0, fail = 0;
		pthread_t c[TW_THREADS];
		char line[16];

		n = n < 1 ? 1 : n > TW_THREADS ? TW_THREADS : n;
		for (i = 0; i < n; i++)
			pthread_create(&srv, NULL, rr_server, NULL);
		enter_ns(cli_ns);
		/* One client per CPU, each from its own source addresses. */
		for (i = 0; i < n; i++) {
			jobs[i].first = i * TW_ADDRS_PER_THREAD;
			jobs[i].count = (long)secs / n + (i < (long)secs % n);
			pthread_create(&c[i], NULL, tw_client, &jobs[i]);
		}
		for (i = 0; i < n; i++) {
			pthread_join(c[i], NULL);
			done += jobs[i].done;
			fail += jobs[i].fail;
		}
		printf("done %ld failed %ld\n", done, fail);
		fflush(stdout);
		while (fgets(line, sizeof(line), stdin))
			;
		return 0;
	}
	fprintf(stderr, "unknown mode %s\n", mode);
	return 2;
}
