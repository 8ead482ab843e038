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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/xtcp.h>

static inline int xtcp_read_int_file(const char *path, int dflt)
{
	FILE *f = fopen(path, "r");
	int v;

	if (!f)
		return dflt;
	if (fscanf(f, "%d", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
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
 * Value of "Name value" in /proc/net/xtcp/snmp of the caller's namespace,
 * or -1 if the counter is missing.
 */
static inline long long xtcp_counter(const char *name)
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
static inline long xtcp_state_count(const char *state, long *entered)
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

/* An xtcp address on 127.0.0.1 (port in host order). */
static inline struct sockaddr_in xtcp_loopback(int family, unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = family;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
 * A listener of @family (xtcp or AF_INET for differential tests) on
 * 127.0.0.1:@port (0: any free port); returns the fd, the port in *@portp.
 */
static inline int xtcp_listen_on(int family, unsigned short port, int backlog,
				 int reuse, unsigned short *portp)
{
	struct sockaddr_in a = xtcp_loopback(family == AF_INET ? AF_INET : family,
					     port);
	int fd = socket(family, SOCK_STREAM, 0);

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

/* A blocking connect to 127.0.0.1:@port; the fd, or -1 with errno. */
static inline int xtcp_connect_to(int family, unsigned short port)
{
	struct sockaddr_in a = xtcp_loopback(family, port);
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

static inline int xtcp_sysctl_set(const char *name, int val)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/sys/net/xtcp/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%d\n", val) > 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* "FROM TO count" of /proc/net/xtcp/transitions (0 if never taken). */
static inline long xtcp_transition_count(const char *from, const char *to)
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

/* Write one rule line to /proc/net/xtcp/faults; 0 on success. */
static inline int xtcp_fault_add(const char *rule)
{
	FILE *f = fopen("/proc/net/xtcp/faults", "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%s\n", rule) > 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
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
