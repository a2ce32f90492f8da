// SPDX-License-Identifier: GPL-2.0-or-later
/* The phase A channel: messages, a passed descriptor, the sender's pid, refusals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restore-fdpass.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static void channel(int sv[2])
{
	int one = 1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		perror("socketpair");
		_exit(2);
	}
}

int main(void)
{
	struct tree_msg m = {.op = TREE_FD, .arg = -7, .ret = 3, .file_id = 99}, got;
	struct stat a, b;
	int sv[2], fd = -1, null, r;
	pid_t pid = 0;

	channel(sv);
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(null >= 0);

	/* A message with a descriptor: the same file arrives, close-on-exec. */
	CHECK(tree_msg_send(sv[1], &m, null) == 0);
	CHECK(tree_msg_recv(sv[0], &got, &fd, &pid) == 0);
	CHECK(got.op == TREE_FD && got.arg == -7 && got.ret == 3 && got.file_id == 99);
	CHECK(fd >= 0 && fd != null);
	CHECK(fstat(fd, &a) == 0 && fstat(null, &b) == 0 && a.st_ino == b.st_ino &&
	      a.st_dev == b.st_dev);
	CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	/* SO_PASSCRED: the kernel names the sender. */
	CHECK(pid == getpid());
	close(fd);

	/* Without a descriptor, *ret_fd is -1. */
	m.op = TREE_REPLY;
	CHECK(tree_msg_send(sv[1], &m, -1) == 0);
	fd = 5;
	CHECK(tree_msg_recv(sv[0], &got, &fd, NULL) == 0);
	CHECK(fd == -1 && got.op == TREE_REPLY);

	/* A descriptor where none is expected is refused (and closed). */
	CHECK(tree_msg_send(sv[1], &m, null) == 0);
	CHECK(tree_msg_recv(sv[0], &got, NULL, NULL) == -EPROTO);

	/* A message of the wrong size is refused. */
	CHECK(send(sv[1], "xy", 2, 0) == 2);
	CHECK(tree_msg_recv(sv[0], &got, &fd, NULL) == -EPROTO);

	/* The peer's end closed: end of stream. */
	close(sv[1]);
	r = tree_msg_recv(sv[0], &got, &fd, NULL);
	CHECK(r == -EPIPE);
	close(sv[0]);
	close(null);
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("all checks passed\n");
	return 0;
}
