// SPDX-License-Identifier: GPL-2.0-or-later
/* Blocked in read() on a terminal at dump time (shell job); the read completes with the input typed
 * after restore. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "case.h"

#define TTY_FD 5
#define INPUT  "ping\n" /* what run-case types on the terminal */

int main(int argc, char **argv)
{
	const char *path;
	char buf[64];
	ssize_t n;
	int fd;

	test_init(argc, argv);
	path = test_opt("tty");
	if (!path)
		test_setup_failed("--tty=PATH is required");
	/* O_NOCTTY: the case is a session leader but must not take the
	 * terminal as its controlling one; it only reads from it. */
	fd = open(path, O_RDWR | O_NOCTTY);
	if (fd < 0)
		test_setup_failed("open %s: %m", path);
	if (!isatty(fd))
		test_setup_failed("%s is not a terminal", path);
	if (dup2(fd, TTY_FD) < 0)
		test_setup_failed("dup2: %m");
	close(fd);
	test_ready();

	/* No handler but SIGTERM's, and the harness types before SIGTERM:
	 * EINTR here means the restore broke the read. */
	n = read(TTY_FD, buf, sizeof(buf) - 1);
	if (n < 0 && errno == EINTR)
		fail(test_stopped() ? "SIGTERM came before the terminal input"
				    : "read() on the terminal returned EINTR without a signal");
	if (n < 0)
		fail("read() on the terminal: %m");
	buf[n] = '\0';
	if (strcmp(buf, INPUT))
		fail("read %zd bytes '%s' from the terminal, expected '%s'", n, buf, "ping\\n");
	if (!isatty(TTY_FD))
		fail("fd %d is no longer a terminal", TTY_FD);
	test_wait_stop();
	pass();
}
