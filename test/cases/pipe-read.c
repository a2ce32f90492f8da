// SPDX-License-Identifier: GPL-2.0-or-later
/* Blocked in read() on an empty pipe at dump time; data flows afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "case.h"

int main(int argc, char **argv)
{
	char buf[64];
	int p[2];
	ssize_t n;

	test_init(argc, argv);
	if (pipe(p) < 0)
		test_setup_failed("pipe: %m");
	test_ready();

	n = read(p[0], buf, sizeof(buf));
	/* Nothing writes to the pipe: only SIGTERM (no SA_RESTART) ends it. */
	if (n >= 0)
		fail("read() on an empty pipe returned %zd", n);
	if (errno != EINTR)
		fail("read(): %m");
	if (!test_stopped())
		fail("read() returned EINTR without SIGTERM");
	if (write(p[1], "relive", 6) != 6)
		fail("write to the pipe: %m");
	n = read(p[0], buf, sizeof(buf));
	if (n != 6 || memcmp(buf, "relive", 6))
		fail("the pipe returned %zd bytes instead of what was written", n);
	pass();
}
