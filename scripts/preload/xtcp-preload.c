// SPDX-License-Identifier: GPL-2.0
/*
 * libxtcp-preload.so: move an unmodified program's TCP sockets onto xtcp
 * (LD_PRELOAD; scripts/xtcp-run sets it up), as mptcpize does for MPTCP.
 *
 * XTCP_RUN_PORTS unset or empty: every socket(AF_INET, SOCK_STREAM, 0 or
 * IPPROTO_TCP) the program creates is an xtcp socket from the start.
 * XTCP_RUN_PORTS="80,5201,8000-8099": sockets start as TCP and become xtcp
 * when they bind() to or connect() to one of those ports; the TCP socket
 * is replaced in place (same descriptor number, file status flags and
 * FD_CLOEXEC), and the options set on it so far are set again on the new
 * one. xtcp sockets get XTCP_REPORT_INET, so the addresses they return
 * read AF_INET as the program expects. SO_REUSEPORT, which the socket
 * core takes from inet sockets only, is set and read as XTCP_REUSEPORT.
 *
 * XTCP_RUN_DEBUG=1 logs every decision to stderr. When the module is not
 * loaded, the first socket call says so once and sockets stay TCP.
 *
 * What cannot be moved: static binaries, programs that make system calls
 * themselves (Go), sockets created by io_uring, and AF_INET6 sockets
 * (xtcp is IPv4 only): see Documentation/apps.md.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/xtcp.h>

#ifndef SOL_TCP
#define SOL_TCP IPPROTO_TCP
#endif

#define MAX_RANGES	64
#define MAX_FDS		65536
#define MAX_OPTS	32
#define MAX_OPTLEN	64

/* An option set on a TCP socket that may still become xtcp. */
struct saved_opt {
	int level, name;
	socklen_t len;
	unsigned char val[MAX_OPTLEN];
};

/* A TCP socket watched for a bind()/connect() to a chosen port. */
struct watched {
	int type;		/* SOCK_STREAM, without the creation flags */
	int nopts;
	struct saved_opt opts[MAX_OPTS];
};

static int (*real_socket)(int, int, int);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static int (*real_close)(int);

static int family = -1;		/* xtcp's address family; -1: not loaded */
static bool debug;
static bool all_ports = true;
static int nranges;
static struct { unsigned short lo, hi; } ranges[MAX_RANGES];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct watched *watched[MAX_FDS];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!debug)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "xtcp-run[%d]: ", getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int read_param(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* "80,5201,8000-8099"; false on a malformed list. */
static bool parse_ports(const char *s)
{
	char *end;
	long lo, hi;

	while (*s) {
		if (nranges == MAX_RANGES)
			return false;
		lo = strtol(s, &end, 10);
		if (end == s || lo < 1 || lo > 65535)
			return false;
		hi = lo;
		s = end;
		if (*s == '-') {
			hi = strtol(s + 1, &end, 10);
			if (end == s + 1 || hi < lo || hi > 65535)
				return false;
			s = end;
		}
		ranges[nranges].lo = lo;
		ranges[nranges].hi = hi;
		nranges++;
		if (*s == ',')
			s++;
		else if (*s)
			return false;
	}
	return nranges > 0;
}

__attribute__((constructor)) static void init(void)
{
	const char *ports = getenv("XTCP_RUN_PORTS");

	real_socket = dlsym(RTLD_NEXT, "socket");
	real_bind = dlsym(RTLD_NEXT, "bind");
	real_connect = dlsym(RTLD_NEXT, "connect");
	real_setsockopt = dlsym(RTLD_NEXT, "setsockopt");
	real_getsockopt = dlsym(RTLD_NEXT, "getsockopt");
	real_close = dlsym(RTLD_NEXT, "close");
	debug = getenv("XTCP_RUN_DEBUG") && *getenv("XTCP_RUN_DEBUG") == '1';
	family = read_param(XTCP_SYSFS_FAMILY);
	if (family < 0)
		fprintf(stderr, "xtcp-run: xtcp is not loaded (%s missing): sockets stay TCP\n",
			XTCP_SYSFS_FAMILY);
	if (ports && *ports) {
		all_ports = false;
		if (!parse_ports(ports)) {
			fprintf(stderr, "xtcp-run: bad XTCP_RUN_PORTS \"%s\": sockets stay TCP\n",
				ports);
			family = -1;
		}
	}
	say("family %d, %s", family,
	     all_ports ? "every TCP socket" : "chosen ports only");
}

static bool is_tcp(int domain, int type, int protocol)
{
	return domain == AF_INET && (type & 0xf) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP);
}

static bool chosen(unsigned short port)
{
	int i;

	for (i = 0; i < nranges; i++)
		if (port >= ranges[i].lo && port <= ranges[i].hi)
			return true;
	return false;
}

static int xtcp_new(int type)
{
	int fd, one = 1;

	fd = real_socket(family, type, 0);
	if (fd >= 0)
		real_setsockopt(fd, SOL_XTCP, XTCP_REPORT_INET, &one,
				sizeof(one));
	return fd;
}

int socket(int domain, int type, int protocol)
{
	struct watched *w;
	int fd;

	if (family < 0 || !is_tcp(domain, type, protocol))
		return real_socket(domain, type, protocol);
	if (all_ports) {
		fd = xtcp_new(type);
		say("socket() -> xtcp fd %d%s", fd, fd < 0 ? " (failed)" : "");
		return fd;
	}
	fd = real_socket(domain, type, protocol);
	if (fd < 0 || fd >= MAX_FDS)
		return fd;
	w = calloc(1, sizeof(*w));
	if (!w)
		return fd;
	w->type = type & 0xf;
	pthread_mutex_lock(&lock);
	free(watched[fd]);
	watched[fd] = w;
	pthread_mutex_unlock(&lock);
	return fd;
}

static struct watched *take(int fd)
{
	struct watched *w;

	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	pthread_mutex_lock(&lock);
	w = watched[fd];
	watched[fd] = NULL;
	pthread_mutex_unlock(&lock);
	return w;
}

/* SOL_SOCKET's SO_REUSEPORT is XTCP_REUSEPORT on an xtcp socket. */
static void map_opt(int *level, int *name)
{
	if (*level == SOL_SOCKET && *name == SO_REUSEPORT) {
		*level = SOL_XTCP;
		*name = XTCP_REUSEPORT;
	}
}

/* setsockopt() on an xtcp socket. */
static int xtcp_setopt(int fd, int level, int name, const void *val,
		       socklen_t len)
{
	map_opt(&level, &name);
	return real_setsockopt(fd, level, name, val, len);
}

/*
 * Replace TCP socket @fd by an xtcp socket with the same descriptor flags
 * and options; on failure @fd stays the TCP socket it was.
 */
static void swap_in(int fd, struct watched *w, const char *why,
		    unsigned short port)
{
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), nfd, i;

	nfd = xtcp_new(w->type);
	if (nfd < 0) {
		say("fd %d: %s port %u: xtcp socket: %s; stays TCP", fd, why,
		     port, strerror(errno));
		return;
	}
	for (i = 0; i < w->nopts; i++) {
		struct saved_opt *o = &w->opts[i];

		if (xtcp_setopt(nfd, o->level, o->name, o->val, o->len))
			say("fd %d: option %d/%d not taken by xtcp: %s", fd,
			     o->level, o->name, strerror(errno));
	}
	fcntl(nfd, F_SETFL, fl);
	if (dup3(nfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		say("fd %d: dup3: %s; stays TCP", fd, strerror(errno));
		real_close(nfd);
		return;
	}
	real_close(nfd);
	say("fd %d: %s port %u -> xtcp", fd, why, port);
}

static void decide(int fd, const struct sockaddr *addr, socklen_t len,
		   const char *why)
{
	const struct sockaddr_in *sin = (const void *)addr;
	struct watched *w;
	unsigned short port;

	if (family < 0 || all_ports || !addr || len < sizeof(*sin) ||
	    sin->sin_family != AF_INET)
		return;
	w = take(fd);
	if (!w)
		return;
	port = ntohs(sin->sin_port);
	if (chosen(port))
		swap_in(fd, w, why, port);
	else
		say("fd %d: %s port %u stays TCP", fd, why, port);
	free(w);
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	decide(fd, addr, len, "bind to");
	return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	decide(fd, addr, len, "connect to");
	return real_connect(fd, addr, len);
}

/* Is @fd an xtcp socket? */
static bool is_xtcp(int fd)
{
	int dom = -1;
	socklen_t len = sizeof(dom);

	return family >= 0 &&
	       !real_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) &&
	       dom == family;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct watched *w;
	int ret;

	/*
	 * The socket core takes SO_REUSEPORT from inet sockets only: on
	 * xtcp it is XTCP_REUSEPORT, the same semantics.
	 */
	if (level == SOL_SOCKET && name == SO_REUSEPORT && is_xtcp(fd)) {
		ret = xtcp_setopt(fd, level, name, val, len);
		say("fd %d: SO_REUSEPORT -> XTCP_REUSEPORT%s", fd,
		    ret ? " (failed)" : "");
		return ret;
	}
	ret = real_setsockopt(fd, level, name, val, len);

	if (ret || fd < 0 || fd >= MAX_FDS || len > MAX_OPTLEN || !val)
		return ret;
	pthread_mutex_lock(&lock);
	w = watched[fd];
	if (w && w->nopts < MAX_OPTS) {
		struct saved_opt *o = &w->opts[w->nopts++];

		o->level = level;
		o->name = name;
		o->len = len;
		memcpy(o->val, val, len);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == SO_REUSEPORT && is_xtcp(fd))
		map_opt(&level, &name);
	return real_getsockopt(fd, level, name, val, len);
}

int close(int fd)
{
	free(take(fd));
	return real_close(fd);
}
