// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp_hold: keep one xtcp socket open while running a command.
 *
 *   xtcp_hold CMD [ARGS...]
 *
 * Opens a socket of the xtcp family, runs CMD with it open (not inherited
 * by CMD), closes it, and exits with CMD's status. Lets shell tests check
 * what an open socket prevents, e.g. "xtcp_hold rmmod xtcp" must fail.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xtcp_lib.h"

int main(int argc, char **argv)
{
	int fd, status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	fd = socket(xtcp_family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "xtcp_hold: socket: %s\n", strerror(errno));
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 2;
	if (!pid) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
