// SPDX-License-Identifier: GPL-2.0
/*
 * The selftests' helper library; the contracts are in xtcp_lib.h.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <time.h>
#include <netinet/ip.h>

#include "xtcp_lib.h"

/* ---- the module and the clock -------------------------------------- */

long xtcp_read_long_file(const char *path, long dflt)
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

int xtcp_family(void)
{
	return xtcp_read_long_file(XTCP_SYSFS_FAMILY, -1);
}

int xtcp_ipproto(void)
{
	return xtcp_read_long_file(XTCP_SYSFS_IPPROTO, -1);
}

long long xtcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void xtcp_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int xtcp_sh(const char *fmt, ...)
{
	char body[960], cmd[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	/* A truncated command would run something else: refuse it. */
	if (n < 0 || (size_t)n >= sizeof(body)) {
		fprintf(stderr, "xtcp_sh: command too long: %.60s...\n", body);
		return -1;
	}
	/* Braces, so the redirection covers a whole list, not its last command. */
	snprintf(cmd, sizeof(cmd), "{ %s\n} >/dev/null 2>&1", body);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Every test program (*_test) starts on a clean system, whichever runner
 * runs it: an earlier test killed by its timeout may have left xtcp
 * unloaded (reloaded from $XTCP_KO, as set in the test VM) or its
 * namespaces behind (xtc<pid>, xts<pid> of a process that is gone).
 * The tools are left alone: module.sh runs them with xtcp unloaded.
 */
__attribute__((constructor)) static void xtcp_lib_fixture(void)
{
	const char *name = program_invocation_short_name;
	const char *ko = getenv("XTCP_KO");
	size_t n = strlen(name);
	struct dirent *e;
	DIR *d;
	char c;
	int pid;

	if (n < 5 || strcmp(name + n - 5, "_test"))
		return;
	if (access("/sys/module/xtcp", F_OK) && ko && *ko) {
		fprintf(stderr, "# xtcp not loaded; insmod %s\n", ko);
		xtcp_sh("insmod %s", ko);
	}
	d = opendir("/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "xt%*1[cs]%d%c", &pid, &c) == 1 &&
		    kill(pid, 0) && errno == ESRCH)
			xtcp_sh("ip netns del %s", e->d_name);
	}
	closedir(d);
}

/* ---- the topology --------------------------------------------------- */

static int topo_open_ns(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int xtcp_topo_setup(struct xtcp_topo *t, bool veth)
{
	int pid = getpid(), i;

	memset(t, 0, sizeof(*t));
	t->ns[CLI] = t->ns[SRV] = t->home = -1;
	t->live = XTCP_HOME;
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
		xtcp_sh("ip netns del %s", t->name[i]);
		if (xtcp_sh("ip netns add %s", t->name[i]) ||
		    xtcp_sh("ip -n %s link set lo up", t->name[i])) {
			fprintf(stderr, "# cannot create netns %s\n", t->name[i]);
			return -1;
		}
	}
	if (veth) {
		xtcp_sh("modprobe veth");
		if (xtcp_sh("ip -n %s link add v0 type veth peer name v1 netns %s",
			    t->name[CLI], t->name[SRV]) ||
		    xtcp_sh("ip -n %s addr add 10.99.0.1/24 dev v0", t->name[CLI]) ||
		    xtcp_sh("ip -n %s addr add 10.99.0.2/24 dev v1", t->name[SRV]) ||
		    xtcp_sh("ip -n %s link set v0 up", t->name[CLI]) ||
		    xtcp_sh("ip -n %s link set v1 up", t->name[SRV])) {
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

void xtcp_topo_teardown(struct xtcp_topo *t)
{
	int i;

	/*
	 * An orphan still closing towards a namespace that goes now would
	 * retransmit its FIN for minutes (orphan_retries 8, backoff to
	 * rto_max_ms) and keep the module in use for later tests; with one
	 * retry it gives up at its next timeout.
	 */
	if (t->ns[CLI] >= 0)
		xtcp_sysctl_set(t, BOTH, "orphan_retries", 1);
	if (t->home >= 0)
		setns(t->home, CLONE_NEWNET);
	t->live = XTCP_HOME;
	for (i = 0; i < 2; i++) {
		if (t->ns[i] >= 0)
			close(t->ns[i]);
		t->ns[i] = -1;
		if (t->name[i][0] && (i == CLI || t->veth))
			xtcp_sh("ip netns del %s", t->name[i]);
	}
	if (t->home >= 0)
		close(t->home);
	t->home = -1;
}

int xtcp_topo_enter(const struct xtcp_topo *t, int side)
{
	if (!t)
		return 0;
	if (side != XTCP_HOME && side != CLI && side != SRV) {
		errno = EINVAL;
		return -1;
	}
	return setns(side == XTCP_HOME ? t->home : t->ns[side], CLONE_NEWNET);
}

void xtcp_topo_leave(const struct xtcp_topo *t)
{
	if (t && xtcp_topo_enter(t, t->live))
		abort();
}

int xtcp_topo_move(struct xtcp_topo *t, int side)
{
	if (xtcp_topo_enter(t, side))
		return -1;
	t->live = side;
	return 0;
}

/* The sides BOTH stands for: both over veth, the one side over loopback. */
static int topo_last(const struct xtcp_topo *t, int side)
{
	if (side == BOTH)
		return t && t->veth ? SRV : CLI;
	return side;
}

int xtcp_topo_netem(const struct xtcp_topo *t, const char *fmt, ...)
{
	static const char * const dev[2][2] = { { "lo", "lo" }, { "v0", "v1" } };
	char params[256];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(params, sizeof(params), fmt, ap);
	va_end(ap);
	xtcp_sh("modprobe sch_netem");
	for (i = CLI; i <= topo_last(t, BOTH); i++)
		if (xtcp_sh("ip netns exec %s tc qdisc add dev %s root netem %s",
			    t->name[i], dev[t->veth][i], params))
			return -1;
	return 0;
}

/* ---- /proc/net/xtcp and /proc/sys/net/xtcp -------------------------- */

/*
 * One reading of the caller's namespace: the value (negative if it cannot
 * be read) and, for the states file, a second number in *@aux.
 */
typedef long long (*xtcp_reader)(const char *a, const char *b, long long *aux);

/* @read in @side's namespace(s), summed; -1 if any reading failed. */
static long long topo_read(const struct xtcp_topo *t, int side,
			   xtcp_reader read, const char *a, const char *b,
			   long long *aux)
{
	long long v, e, sum = 0, esum = 0;
	int i;

	for (i = side == BOTH ? CLI : side; i <= topo_last(t, side); i++) {
		e = 0;
		if (xtcp_topo_enter(t, i)) {
			sum = -1;
			continue;
		}
		v = read(a, b, &e);
		xtcp_topo_leave(t);
		if (v < 0)
			sum = -1;
		else if (sum >= 0)
			sum += v;
		esum += e;
	}
	if (aux)
		*aux = esum;
	return sum;
}

static long long read_counter(const char *name, const char *unused,
			      long long *aux)
{
	FILE *f = fopen("/proc/net/xtcp/snmp", "r");
	long long v, ret = -1;
	char key[64];

	(void)unused;
	(void)aux;
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

long long xtcp_counter(const struct xtcp_topo *t, int side, const char *name)
{
	return topo_read(t, side, read_counter, name, NULL, NULL);
}

/*
 * @name of the table @prefix ("TcpExt:" of /proc/net/netstat, "Tcp:" of
 * /proc/net/snmp): a names line, then a values line.
 */
static long long read_table(const char *name, const char *prefix,
			    long long *aux)
{
	const char *path = strcmp(prefix, "TcpExt:") ? "/proc/net/snmp" :
						       "/proc/net/netstat";
	char names[4096], vals[4096], *sn, *sv, *n, *v;
	FILE *f = fopen(path, "r");
	long long ret = -1;

	(void)aux;
	if (!f)
		return -1;
	while (ret < 0 && fgets(names, sizeof(names), f) &&
	       fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, prefix, strlen(prefix)))
			continue;
		strtok_r(names, " \n", &sn);
		strtok_r(vals, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) &&
		       (v = strtok_r(NULL, " \n", &sv)))
			if (!strcmp(n, name)) {
				ret = atoll(v);
				break;
			}
	}
	fclose(f);
	return ret;
}

long long xtcp_tcpext(const struct xtcp_topo *t, int side, const char *name)
{
	return topo_read(t, side, read_table, name, "TcpExt:", NULL);
}

long long xtcp_tcp_mib(const struct xtcp_topo *t, int side, const char *name)
{
	return topo_read(t, side, read_table, name, "Tcp:", NULL);
}

/*
 * Field @key of the sockstat line @line ("XTCP:" of /proc/net/xtcp/sockstat,
 * "TCP:" of /proc/net/sockstat): "inuse", "orphan", "tw", "alloc", "mem".
 */
static long long read_sockstat(const char *line, const char *key,
			       long long *unused)
{
	const char *path = strcmp(line, "TCP:") ? "/proc/net/xtcp/sockstat" :
						  "/proc/net/sockstat";
	char buf[512], *s, *k, *v;
	long long ret = -1;
	FILE *f = fopen(path, "r");

	(void)unused;
	if (!f)
		return -1;
	while (ret < 0 && fgets(buf, sizeof(buf), f)) {
		if (strncmp(buf, line, strlen(line)))
			continue;
		strtok_r(buf, " \n", &s);
		while ((k = strtok_r(NULL, " \n", &s)) &&
		       (v = strtok_r(NULL, " \n", &s)))
			if (!strcmp(k, key)) {
				ret = atoll(v);
				break;
			}
	}
	fclose(f);
	return ret;
}

long long xtcp_sockstat(const struct xtcp_topo *t, int side, int family,
			const char *key)
{
	return topo_read(t, side, read_sockstat, family ? "TCP:" : "XTCP:",
			 key, NULL);
}

static long long read_state(const char *state, const char *unused,
			    long long *entered)
{
	FILE *f = fopen("/proc/net/xtcp/states", "r");
	long cur, ent, ret = -1;
	char name[32];

	(void)unused;
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

long xtcp_state_count(const struct xtcp_topo *t, int side, const char *state,
		      long *entered)
{
	long long e = 0, v;

	v = topo_read(t, side, read_state, state, NULL, &e);
	if (entered)
		*entered = e;
	return v;
}

static long long read_transition(const char *from, const char *to,
				 long long *aux)
{
	FILE *f = fopen("/proc/net/xtcp/transitions", "r");
	char a[32], b[32];
	long n, ret = 0;

	(void)aux;
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

long xtcp_transition_count(const struct xtcp_topo *t, int side,
			   const char *from, const char *to)
{
	return topo_read(t, side, read_transition, from, to, NULL);
}

static void sysctl_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "/proc/sys/net/xtcp/%s", name);
}

int xtcp_sysctl_get(const struct xtcp_topo *t, int side, const char *name)
{
	char path[128];
	long v;

	sysctl_path(path, sizeof(path), name);
	if (xtcp_topo_enter(t, side))
		return -1;
	v = xtcp_read_long_file(path, -1);
	xtcp_topo_leave(t);
	return v;
}

int xtcp_topo_write(const struct xtcp_topo *t, int side, const char *path,
		    const char *line)
{
	int i, fd, ret = 0;

	for (i = side == BOTH ? CLI : side; i <= topo_last(t, side); i++) {
		if (xtcp_topo_enter(t, i)) {
			ret = ret ?: -EBADF;
			continue;
		}
		fd = open(path, O_WRONLY | O_CLOEXEC);
		xtcp_topo_leave(t);
		if (fd < 0) {
			ret = ret ?: -errno;
			continue;
		}
		if (write(fd, line, strlen(line)) < 0)
			ret = ret ?: -errno;
		close(fd);
	}
	return ret;
}

int xtcp_sysctl_set(const struct xtcp_topo *t, int side, const char *name,
		    int val)
{
	char path[128], line[16];

	sysctl_path(path, sizeof(path), name);
	snprintf(line, sizeof(line), "%d\n", val);
	return xtcp_topo_write(t, side, path, line);
}

int xtcp_fault_add(const struct xtcp_topo *t, int side, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return xtcp_topo_write(t, side, "/proc/net/xtcp/faults", line);
}

int xtcp_fault_stats(const struct xtcp_topo *t, int side, int id,
		     long long *seen, long long *fired)
{
	char line[256], *p;
	int ret = -1;
	FILE *f;

	if (xtcp_topo_enter(t, side))
		return -1;
	f = fopen("/proc/net/xtcp/faults", "r");
	xtcp_topo_leave(t);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (atoi(line) != id)
			continue;
		p = strstr(line, " seen=");
		if (p && sscanf(p, " seen=%lld fired=%lld", seen, fired) == 2)
			ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* ---- sockets -------------------------------------------------------- */

static int topo_socket(const struct xtcp_topo *t, int side, int domain,
		       int type, int proto)
{
	int fd;

	if (xtcp_topo_enter(t, side))
		return -1;
	fd = socket(domain, type, proto);
	xtcp_topo_leave(t);
	return fd;
}

int xtcp_socket(const struct xtcp_topo *t, int side, int family)
{
	return topo_socket(t, side, family ?: t->family, SOCK_STREAM, 0);
}

struct sockaddr_in xtcp_addr(const struct xtcp_topo *t, int side, int family,
			     unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = family ?: t->family;
	a.sin_port = htons(port);
	if (t)
		a.sin_addr = t->addr[side];
	else
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

int xtcp_listen(const struct xtcp_topo *t, int family, unsigned short port,
		int backlog, bool reuse, unsigned short *portp)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, port);
	int fd = xtcp_socket(t, SRV, family), one = 1;

	if (fd < 0)
		return -1;
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)))
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

int xtcp_connect(const struct xtcp_topo *t, int family, unsigned short port,
		 bool nonblock)
{
	struct sockaddr_in a = xtcp_addr(t, SRV, family, port);
	int fd = xtcp_socket(t, CLI, family), err;

	if (fd < 0)
		return -1;
	if (nonblock)
		xtcp_set_nonblock(fd);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !(nonblock && errno == EINPROGRESS)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int xtcp_pair(const struct xtcp_topo *t, int family, int *c, int *s, int *l)
{
	unsigned short port;

	*l = xtcp_listen(t, family, 0, 16, false, &port);
	if (*l < 0)
		return -1;
	*c = xtcp_connect(t, family, port, false);
	if (*c < 0)
		return -1;
	*s = accept(*l, NULL, NULL);
	return *s < 0 ? -1 : 0;
}

int xtcp_accept_wait(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept(lfd, NULL, NULL);
}

int xtcp_connect_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (poll(&p, 1, ms) != 1)
		return ETIME;
	return xtcp_so_error(fd);
}

int xtcp_so_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = -1;

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err;
}

int xtcp_set_nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int xtcp_local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return ntohs(a.sin_port);
}

int xtcp_get_info(int fd, struct xtcp_info *info)
{
	socklen_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return getsockopt(fd, SOL_XTCP, XTCP_INFO, info, &len);
}

int xtcp_sock_state(int fd)
{
	struct xtcp_info info;

	return xtcp_get_info(fd, &info) ? -1 : info.xtcpi_state;
}

/* ---- one established connection ------------------------------------ */

int xtcp_conn_setup(struct xtcp_conn *c, bool veth)
{
	c->lfd = c->cfd = c->afd = c->raw = -1;
	return xtcp_topo_setup(&c->t, veth);
}

int xtcp_conn_establish(struct xtcp_conn *c, int backlog, int ms)
{
	int err;

	if (c->lfd < 0) {
		c->lfd = xtcp_listen(&c->t, 0, SRV_PORT, backlog, true, NULL);
		if (c->lfd < 0) {
			fprintf(stderr, "# listen: %s\n", strerror(errno));
			return -1;
		}
	}
	c->cfd = xtcp_connect(&c->t, 0, SRV_PORT, true);
	if (c->cfd < 0) {
		fprintf(stderr, "# connect: %s\n", strerror(errno));
		return -1;
	}
	err = xtcp_connect_wait(c->cfd, ms);
	if (err) {
		fprintf(stderr, "# connect: %s\n", strerror(err));
		return -1;
	}
	c->afd = xtcp_accept_wait(c->lfd, ms);
	if (c->afd < 0) {
		fprintf(stderr, "# accept: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void xtcp_conn_teardown(struct xtcp_conn *c)
{
	close_fd(&c->raw);
	close_fd(&c->afd);
	close_fd(&c->cfd);
	close_fd(&c->lfd);
	xtcp_topo_teardown(&c->t);
}

/* ---- crafted segments ---------------------------------------------- */

static uint16_t csum_fold32(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

uint16_t xtcp_seg_csum(struct in_addr src, struct in_addr dst, int proto,
		       const void *seg, size_t len)
{
	uint8_t pseudo[12];
	uint32_t sum;

	memcpy(pseudo, &src, 4);
	memcpy(pseudo + 4, &dst, 4);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = len >> 8;
	pseudo[11] = len & 0xff;
	sum = csum_add(0, pseudo, sizeof(pseudo));
	sum = csum_add(sum, seg, len);
	return htons(csum_fold32(sum));
}

size_t xtcp_seg_build(const struct xtcp_topo *t, uint8_t *buf, int from,
		      int to, int sport, int dport, uint32_t seq, uint32_t ack,
		      uint8_t flags, const void *data, size_t dlen)
{
	struct xseg *h = (struct xseg *)buf;

	memset(h, 0, sizeof(*h));
	h->sport = htons(sport);
	h->dport = htons(dport);
	h->seq = htonl(seq);
	h->ack = htonl(ack);
	h->doff = (sizeof(*h) / 4) << 4;
	h->flags = flags;
	h->window = htons(65535);
	if (dlen)
		memcpy(buf + sizeof(*h), data, dlen);
	h->check = xtcp_seg_csum(t->addr[from], t->addr[to], t->ipproto, buf,
				 sizeof(*h) + dlen);
	return sizeof(*h) + dlen;
}

int xtcp_raw_socket(const struct xtcp_topo *t, int side)
{
	return topo_socket(t, side, AF_INET, SOCK_RAW, t->ipproto);
}

int xtcp_raw_send(const struct xtcp_topo *t, int rawfd, int to,
		  const void *seg, size_t len)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };

	dst.sin_addr = t->addr[to];
	return sendto(rawfd, seg, len, 0, (struct sockaddr *)&dst,
		      sizeof(dst)) == (ssize_t)len ? 0 : -1;
}

ssize_t xtcp_raw_wait_seg(int rawfd, int sport, int dport, uint8_t flags,
			  int ms, uint8_t *seg, size_t size)
{
	long long dl = xtcp_now_ms() + ms;
	uint8_t buf[4096];

	for (;;) {
		struct pollfd p = { .fd = rawfd, .events = POLLIN };
		const struct iphdr *ip = (const struct iphdr *)buf;
		const struct xseg *h;
		long long left = dl - xtcp_now_ms();
		size_t hl, len;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) != 1)
			return -1;
		n = recv(rawfd, buf, sizeof(buf), 0);
		if (n < (ssize_t)sizeof(*ip))
			continue;
		hl = ip->ihl * 4;
		if (n < (ssize_t)(hl + sizeof(*h)))
			continue;
		h = (const struct xseg *)(buf + hl);
		len = n - hl;
		if (ntohs(h->sport) != sport || ntohs(h->dport) != dport ||
		    (h->flags & flags) != flags)
			continue;
		if (len > size)
			len = size;
		memcpy(seg, h, len);
		return len;
	}
}

int xtcp_raw_wait(int rawfd, int sport, int dport, uint8_t flags, int ms,
		  struct xseg *out)
{
	uint8_t seg[4096];

	if (xtcp_raw_wait_seg(rawfd, sport, dport, flags, ms, seg,
			      sizeof(seg)) < 0)
		return -1;
	if (out)
		memcpy(out, seg, sizeof(*out));
	return 0;
}

bool xtcp_seg_opt(const uint8_t *seg, int kind, const uint8_t **opt)
{
	size_t len = (((const struct xseg *)seg)->doff >> 4) * 4;
	size_t i = sizeof(struct xseg);

	while (i < len) {
		if (seg[i] == 0)
			break;
		if (seg[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || seg[i + 1] < 2 || i + seg[i + 1] > len)
			break;
		if (seg[i] == kind) {
			*opt = seg + i;
			return true;
		}
		i += seg[i + 1];
	}
	return false;
}

bool xtcp_seg_ts(const uint8_t *seg, uint32_t *tsval, uint32_t *tsecr)
{
	const uint8_t *o;

	if (!xtcp_seg_opt(seg, 8, &o) || o[1] != 10)
		return false;
	*tsval = (uint32_t)o[2] << 24 | o[3] << 16 | o[4] << 8 | o[5];
	*tsecr = (uint32_t)o[6] << 24 | o[7] << 16 | o[8] << 8 | o[9];
	return true;
}

long xtcp_syn_flood(const struct xtcp_topo *t, int raw, int proto,
		    unsigned short dport, int n, uint32_t *rs)
{
	uint8_t pkt[sizeof(struct iphdr) + sizeof(struct xseg)];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct xseg *h = (struct xseg *)(ip + 1);
	long sent = 0;
	int k;

	memset(pkt, 0, sizeof(pkt));
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->tot_len = htons(sizeof(pkt));
	ip->daddr = t->addr[SRV].s_addr;
	h->doff = (sizeof(*h) / 4) << 4;
	h->flags = F_SYN;
	h->window = htons(65535);
	h->dport = htons(dport);
	for (k = 0; k < n; k++) {
		struct in_addr src;

		*rs = *rs * 1103515245 + 12345;
		src.s_addr = htonl(0x0a630064 + ((*rs >> 8) & 127));
		ip->saddr = src.s_addr;
		ip->id = *rs;
		h->sport = htons(1024 + (*rs >> 16) % 60000);
		h->seq = htonl(*rs * 2654435761u);
		h->check = 0;
		h->check = xtcp_seg_csum(src, t->addr[SRV], proto, h,
					 sizeof(*h));
		if (!xtcp_raw_send(t, raw, SRV, pkt, sizeof(pkt)))
			sent++;
	}
	return sent;
}
