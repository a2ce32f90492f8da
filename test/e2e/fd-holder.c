// SPDX-License-Identifier: GPL-2.0-or-later
/* A case-protocol process that holds one kind of fd (--fd=none|pipe|socket|eventfd) for the e2e
 * tests. */
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case.h"

int main(int argc, char **argv)
{
	const char *kind;
	int fds[2] = {-1, -1};

	test_init(argc, argv);
	kind = test_opt("fd");
	if (!kind || !strcmp(kind, "none"))
		;
	else if (!strcmp(kind, "pipe")) {
		if (pipe(fds) < 0)
			test_setup_failed("pipe: %m");
	} else if (!strcmp(kind, "socket")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
			test_setup_failed("socketpair: %m");
	} else if (!strcmp(kind, "eventfd")) {
		fds[0] = eventfd(0, 0);
		if (fds[0] < 0)
			test_setup_failed("eventfd: %m");
	} else {
		test_setup_failed("unknown --fd=%s", kind);
	}
	test_ready();

	test_wait_stop();
	/* The fds must still be ours after a failed dump. */
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_GETFD) < 0)
			fail("fd %d is gone: %m", fds[i]);
	pass();
}
