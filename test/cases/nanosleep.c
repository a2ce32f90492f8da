// SPDX-License-Identifier: GPL-2.0-or-later
/* Sleeping in nanosleep at dump time: no spurious EINTR, sane durations. */
#include <errno.h>
#include <time.h>

#include "case.h"

#define SLEEP_SEC 3
/* Restore may re-execute the call from the start: a sleep can last its own
 * length twice plus the time the process was frozen. */
#define MAX_EXTRA_SEC 60

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned completed = 0;

	test_init(argc, argv);
	test_ready();

	for (;;) {
		struct timespec req = { .tv_sec = SLEEP_SEC }, rem = { 0, 0 };
		double start = now(), took;
		int r = nanosleep(&req, &rem);

		took = now() - start;
		if (r == 0) {
			if (took < SLEEP_SEC - 0.001)
				fail("nanosleep(%d s) returned 0 after only %.3f s", SLEEP_SEC,
				     took);
			if (took > 2 * SLEEP_SEC + MAX_EXTRA_SEC)
				fail("nanosleep(%d s) took %.3f s", SLEEP_SEC, took);
			completed++;
			if (test_stopped())
				break;
			continue;
		}
		if (errno != EINTR)
			fail("nanosleep: %m");
		if (!test_stopped())
			fail("nanosleep returned EINTR after %.3f s without any signal", took);
		/* Interrupted by our SIGTERM: rem must be what is left. */
		if (rem.tv_sec < 0 || rem.tv_sec > SLEEP_SEC || rem.tv_nsec < 0 ||
		    rem.tv_nsec >= 1000000000)
			fail("nanosleep left an impossible remainder %ld.%09ld", (long)rem.tv_sec,
			     rem.tv_nsec);
		break;
	}
	test_msg("%u sleeps of %d s completed", completed, SLEEP_SEC);
	pass();
}
