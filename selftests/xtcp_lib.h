/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the C selftests: the module's runtime numbers and the
 * procfs counters, read the way any user program would.
 */
#ifndef _XTCP_SELFTEST_LIB_H
#define _XTCP_SELFTEST_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

/* The number a one-number file (sysfs, procfs) holds, or @dflt. */
static inline long xtcp_read_long_file(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static inline int xtcp_read_int_file(const char *path, int dflt)
{
	return xtcp_read_long_file(path, dflt);
}

/* The address family the loaded module registered. */
static inline int xtcp_family(void)
{
	return xtcp_read_int_file(XTCP_SYSFS_FAMILY, -1);
}

static inline int xtcp_ipproto(void)
{
	return xtcp_read_int_file(XTCP_SYSFS_IPPROTO, -1);
}

/*
 * Where the two ends of a test connection live. Loopback: both in one
 * fresh namespace, on 127.0.0.1. Veth: the client (CLI) in one namespace
 * and the server (SRV) in another, joined by a veth pair v0 <-> v1.
 *
 * Tests that name sides explicitly use a struct topo of their own
 * (scenario.h). The plain helpers below use one implicit topology,
 * xtcp_topo, set up by xtcp_topo_setup(): the caller then lives in the
 * client's namespace, listeners are made in the server's, counters, state
 * gauges and transitions are summed over both namespaces, and sysctls and
 * fault rules are applied to both, so one test body reads the connection
 * as a whole whichever way it runs.
 */
enum { CLI, SRV };

struct topo {
	bool veth;
	int home;		/* the test's own netns */
	int ns[2];		/* CLI, SRV (the same netns over loopback) */
	char name[2][32];
	struct in_addr addr[2];
	int family;
	int ipproto;
};

/* Run a shell command quietly; 0 if it succeeded. */
static inline int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	return system(cmd) == 0 ? 0 : -1;
}

static inline int topo_enter(const struct topo *t, int side)
{
	return setns(t->ns[side], CLONE_NEWNET);
}

static inline void topo_leave(const struct topo *t)
{
	if (setns(t->home, CLONE_NEWNET))
		abort();
}

static inline int topo_open_ns(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* 0 on success; on failure the reason is printed. */
static inline int topo_setup(struct topo *t, bool veth)
{
	int pid = getpid(), i;

	memset(t, 0, sizeof(*t));
	t->ns[0] = t->ns[1] = t->home = -1;
	t->veth = veth;
	t->family = xtcp_family();
	t->ipproto = xtcp_ipproto();
	if (t->family <= 0 || t->ipproto <= 0) {
		fprintf(stderr, "# xtcp.ko not loaded\n");
		return -1;
	}
	t->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->home < 0)
		return -1;

	snprintf(t->name[CLI], sizeof(t->name[CLI]), "xtc%d", pid);
	snprintf(t->name[SRV], sizeof(t->name[SRV]), veth ? "xts%d" : "xtc%d",
		 pid);
	for (i = 0; i <= veth; i++) {
		sh("ip netns del %s", t->name[i]);
		if (sh("ip netns add %s", t->name[i]) ||
		    sh("ip -n %s link set lo up", t->name[i])) {
			fprintf(stderr, "# cannot create netns %s\n", t->name[i]);
			return -1;
		}
	}
	if (veth) {
		sh("modprobe veth");
		if (sh("ip -n %s link add v0 type veth peer name v1 netns %s",
		       t->name[CLI], t->name[SRV]) ||
		    sh("ip -n %s addr add 10.99.0.1/24 dev v0", t->name[CLI]) ||
		    sh("ip -n %s addr add 10.99.0.2/24 dev v1", t->name[SRV]) ||
		    sh("ip -n %s link set v0 up", t->name[CLI]) ||
		    sh("ip -n %s link set v1 up", t->name[SRV])) {
			fprintf(stderr, "# cannot set up the veth pair\n");
			return -1;
		}
		inet_pton(AF_INET, "10.99.0.1", &t->addr[CLI]);
		inet_pton(AF_INET, "10.99.0.2", &t->addr[SRV]);
	} else {
		inet_pton(AF_INET, "127.0.0.1", &t->addr[CLI]);
		t->addr[SRV] = t->addr[CLI];
	}
	for (i = 0; i < 2; i++) {
		t->ns[i] = topo_open_ns(t->name[i]);
		if (t->ns[i] < 0) {
			fprintf(stderr, "# cannot open netns %s\n", t->name[i]);
			return -1;
		}
	}
	return 0;
}

static inline void topo_teardown(struct topo *t)
{
	int i;

	if (t->home >= 0)
		setns(t->home, CLONE_NEWNET);
	for (i = 0; i < 2; i++) {
		if (t->ns[i] >= 0)
			close(t->ns[i]);
		if (t->name[i][0] && (i == 0 || t->veth))
			sh("ip netns del %s", t->name[i]);
	}
	if (t->home >= 0)
		close(t->home);
}

/*
 * Runs every test of @fixture twice, over loopback and over veth
 * (kselftest_harness.h variants); the setup reads variant->veth.
 */
#define XTCP_TOPO_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) { bool veth; };			\
	FIXTURE_VARIANT_ADD(fixture, loopback) { .veth = false };	\
	FIXTURE_VARIANT_ADD(fixture, veth) { .veth = true }

static struct topo xtcp_topo = { .ns = { -1, -1 }, .home = -1 };

static inline int xtcp_topo_sides(void)
{
	return xtcp_topo.veth ? 2 : 1;
}

/* Make @side's namespace the caller's (a no-op over loopback). */
static inline void xtcp_topo_enter(int side)
{
	if (xtcp_topo.veth && topo_enter(&xtcp_topo, side))
		abort();
}

/* 0 when the topology is ready; the caller then lives on the client side. */
static inline int xtcp_topo_setup(bool veth)
{
	if (topo_setup(&xtcp_topo, veth))
		return -1;
	return topo_enter(&xtcp_topo, CLI);
}

/*
 * Delays every segment by @ms on its way out of either side (netem), so
 * that segments sent at nearly the same time cross in flight.
 */
static inline int xtcp_topo_delay(int ms)
{
	if (!xtcp_topo.veth)
		return sh("ip netns exec %s tc qdisc add dev lo root netem delay %dms",
			  xtcp_topo.name[CLI], ms);
	return sh("ip netns exec %s tc qdisc add dev v0 root netem delay %dms",
		  xtcp_topo.name[CLI], ms) ||
	       sh("ip netns exec %s tc qdisc add dev v1 root netem delay %dms",
		  xtcp_topo.name[SRV], ms);
}

static inline void xtcp_topo_teardown(void)
{
	topo_teardown(&xtcp_topo);
}

/*
 * Value of "Name value" in /proc/net/xtcp/snmp of the caller's namespace,
 * or -1 if the counter is missing.
 */
static inline long long xtcp_counter_here(const char *name)
{
	FILE *f = fopen("/proc/net/xtcp/snmp", "r");
	long long v, ret = -1;
	char key[64];

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			ret = v;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * Current population of a state ("CLOSED", "LISTEN", ...) from
 * /proc/net/xtcp/states; @entered receives how often it was entered.
 */
static inline long xtcp_state_count_here(const char *state, long *entered)
{
	FILE *f = fopen("/proc/net/xtcp/states", "r");
	long cur, ent, ret = -1;
	char name[32];

	if (!f)
		return -1;
	while (fscanf(f, "%31s %ld %ld", name, &cur, &ent) == 3) {
		if (!strcmp(name, state)) {
			ret = cur;
			if (entered)
				*entered = ent;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Sums over the topology's namespaces: the connection as a whole. */
static inline long long xtcp_counter(const char *name)
{
	long long v, sum = 0;
	int i;

	for (i = 0; i < xtcp_topo_sides(); i++) {
		xtcp_topo_enter(i);
		v = xtcp_counter_here(name);
		if (v < 0)
			sum = -1;
		else if (sum >= 0)
			sum += v;
	}
	xtcp_topo_enter(CLI);
	return sum;
}

static inline long xtcp_state_count(const char *state, long *entered)
{
	long v, e, sum = 0, esum = 0;
	int i;

	for (i = 0; i < xtcp_topo_sides(); i++) {
		xtcp_topo_enter(i);
		e = 0;
		v = xtcp_state_count_here(state, &e);
		if (v < 0)
			sum = -1;
		else if (sum >= 0)
			sum += v;
		esum += e;
	}
	xtcp_topo_enter(CLI);
	if (entered)
		*entered = esum;
	return sum;
}

/* Monotonic milliseconds, for deadlines (never for tight assertions). */
static inline long long xtcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void xtcp_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* An address on 127.0.0.1 (port in host order), whatever the topology. */
static inline struct sockaddr_in xtcp_loopback(int family, unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = family;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Where the server side listens: 127.0.0.1, or the veth's far end. */
static inline struct sockaddr_in xtcp_server_addr(int family,
						  unsigned short port)
{
	struct sockaddr_in a = xtcp_loopback(family, port);

	if (xtcp_topo.veth)
		a.sin_addr = xtcp_topo.addr[SRV];
	return a;
}

static inline unsigned short xtcp_local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return ntohs(a.sin_port);
}

/*
 * A listener of @family (xtcp or AF_INET for differential tests) on the
 * server address, port @port (0: any free port), in the server side's
 * namespace; returns the fd, the port in *@portp.
 */
static inline int xtcp_listen_on(int family, unsigned short port, int backlog,
				 int reuse, unsigned short *portp)
{
	struct sockaddr_in a = xtcp_server_addr(family, port);
	int fd;

	xtcp_topo_enter(xtcp_topo.veth ? SRV : CLI);
	fd = socket(family, SOCK_STREAM, 0);
	xtcp_topo_enter(CLI);
	if (fd < 0)
		return -1;
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse,
				sizeof(reuse)))
		goto fail;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, backlog))
		goto fail;
	if (portp)
		*portp = xtcp_local_port(fd);
	return fd;
fail:
	close(fd);
	return -1;
}

/* A blocking connect to the server address; the fd, or -1 with errno. */
static inline int xtcp_connect_to(int family, unsigned short port)
{
	struct sockaddr_in a = xtcp_server_addr(family, port);
	int fd = socket(family, SOCK_STREAM, 0), err;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Client, accepted server side and listener of one connection. */
static inline int xtcp_pair(int family, int *c, int *s, int *l)
{
	unsigned short port;

	*l = xtcp_listen_on(family, 0, 16, 0, &port);
	if (*l < 0)
		return -1;
	*c = xtcp_connect_to(family, port);
	if (*c < 0)
		return -1;
	*s = accept(*l, NULL, NULL);
	return *s < 0 ? -1 : 0;
}

static inline int xtcp_get_info(int fd, struct xtcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return getsockopt(fd, SOL_XTCP, XTCP_INFO, info, &len);
}

static inline int xtcp_sock_state(int fd)
{
	struct xtcp_info info;

	if (xtcp_get_info(fd, &info))
		return -1;
	return info.xtcpi_state;
}

/* Poll XTCP_INFO until @fd is in @state or @ms pass; true if it is. */
static inline int xtcp_wait_sock_state(int fd, int state, long ms)
{
	long long end = xtcp_now_ms() + ms;

	while (xtcp_sock_state(fd) != state) {
		if (xtcp_now_ms() > end)
			return 0;
		xtcp_sleep_ms(10);
	}
	return 1;
}

/* Poll /proc/net/xtcp/states until @state's population is @want. */
static inline int xtcp_wait_state_count(const char *state, long want, long ms)
{
	long long end = xtcp_now_ms() + ms;

	while (xtcp_state_count(state, NULL) != want) {
		if (xtcp_now_ms() > end)
			return 0;
		xtcp_sleep_ms(10);
	}
	return 1;
}

/* Poll a counter until it reaches at least @want. */
static inline int xtcp_wait_counter(const char *name, long long want, long ms)
{
	long long end = xtcp_now_ms() + ms;

	while (xtcp_counter(name) < want) {
		if (xtcp_now_ms() > end)
			return 0;
		xtcp_sleep_ms(10);
	}
	return 1;
}

/* /proc/sys/net/xtcp/@name: read (-1 on error) and write (0 on success). */
static inline int xtcp_sysctl_get(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/xtcp/%s", name);
	return xtcp_read_int_file(path, -1);
}

/* Writes one line to a per-namespace file on every side; 0 on success. */
static inline int xtcp_write_line_all(const char *path, const char *line)
{
	int i, ok = 1;
	FILE *f;

	for (i = 0; i < xtcp_topo_sides(); i++) {
		xtcp_topo_enter(i);
		f = fopen(path, "w");
		if (!f) {
			ok = 0;
			continue;
		}
		ok &= fprintf(f, "%s\n", line) > 0;
		ok &= fclose(f) == 0;
	}
	xtcp_topo_enter(CLI);
	return ok ? 0 : -1;
}

static inline int xtcp_sysctl_set(const char *name, int val)
{
	char path[128], line[16];

	snprintf(path, sizeof(path), "/proc/sys/net/xtcp/%s", name);
	snprintf(line, sizeof(line), "%d", val);
	return xtcp_write_line_all(path, line);
}

/* "FROM TO count" of /proc/net/xtcp/transitions (0 if never taken). */
static inline long xtcp_transition_count_here(const char *from, const char *to)
{
	FILE *f = fopen("/proc/net/xtcp/transitions", "r");
	char a[32], b[32];
	long n, ret = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%31s %31s %ld", a, b, &n) == 3) {
		if (!strcmp(a, from) && !strcmp(b, to)) {
			ret = n;
			break;
		}
	}
	fclose(f);
	return ret;
}

static inline long xtcp_transition_count(const char *from, const char *to)
{
	long v, sum = 0;
	int i;

	for (i = 0; i < xtcp_topo_sides(); i++) {
		xtcp_topo_enter(i);
		v = xtcp_transition_count_here(from, to);
		if (v < 0)
			sum = -1;
		else if (sum >= 0)
			sum += v;
	}
	xtcp_topo_enter(CLI);
	return sum;
}

/*
 * Adds a rule to /proc/net/xtcp/faults on every side; 0 on success. Over
 * veth each namespace counts its own occurrences.
 */
static inline int xtcp_fault_add(const char *rule)
{
	return xtcp_write_line_all("/proc/net/xtcp/faults", rule);
}

static inline void xtcp_fault_clear(void)
{
	xtcp_fault_add("clear");
}

static inline int xtcp_set_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

#endif /* _XTCP_SELFTEST_LIB_H */
