// SPDX-License-Identifier: GPL-2.0-or-later
/* Blocked in pause() at dump time: it returns only for a delivered signal. */
#include <errno.h>
#include <unistd.h>

#include "case.h"

int main(int argc, char **argv)
{
	unsigned wakeups = 0;

	test_init(argc, argv);
	test_ready();

	while (!test_stopped()) {
		int r = pause();

		/* pause() only ever returns -1/EINTR after a handler ran; the
		 * only handled signal here is SIGTERM. */
		if (r != -1 || errno != EINTR)
			fail("pause() returned %d (%m)", r);
		if (!test_stopped())
			fail("pause() returned EINTR without SIGTERM");
		wakeups++;
	}
	if (wakeups != 1)
		fail("pause() woke up %u times", wakeups);
	pass();
}
