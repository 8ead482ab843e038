// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_capwrite: open a file without CAP_NET_ADMIN, write to it with it.
 *
 *   xtcp_capwrite FILE LINE
 *
 * Drops CAP_NET_ADMIN from the effective set, opens FILE for writing,
 * raises CAP_NET_ADMIN again and writes LINE in one write(2): a descriptor
 * opened by a process without the capability, used by one with it. Prints
 * "OK" or the errno's name (EPERM, EACCES, ...) and exits 0 if the write
 * succeeded (the name alone whether open or write failed; stderr says
 * which). Needs CAP_NET_ADMIN in its permitted set (root).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

static int net_admin_effective(int on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on)
		data[0].effective |= 1U << CAP_NET_ADMIN;
	else
		data[0].effective &= ~(1U << CAP_NET_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

static const char *errname(int err)
{
	switch (err) {
	case EPERM:	return "EPERM";
	case EACCES:	return "EACCES";
	case EINVAL:	return "EINVAL";
	default:	return strerror(err);
	}
}

int main(int argc, char **argv)
{
	ssize_t len;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE LINE\n", argv[0]);
		return 2;
	}
	if (net_admin_effective(0)) {
		perror("capset (drop CAP_NET_ADMIN)");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "open failed\n");
		printf("%s\n", errname(errno));
		return 1;
	}
	if (net_admin_effective(1)) {
		perror("capset (raise CAP_NET_ADMIN)");
		return 2;
	}
	len = strlen(argv[2]);
	if (write(fd, argv[2], len) != len) {
		printf("%s\n", errname(errno));
		return 1;
	}
	printf("OK\n");
	return 0;
}
