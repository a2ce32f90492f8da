// SPDX-License-Identifier: GPL-2.0-or-later
/* Sleeping in nanosleep at dump time: no spurious EINTR, the sleep completes with a sane duration.
 */
#include <errno.h>
#include <time.h>

#include "case.h"

#define SLEEP_SEC 1
/* Restore may re-execute the call from the start: the sleep in progress at
 * dump time can last its own length twice plus the time it was frozen. */
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
	sigset_t term, pending;

	test_init(argc, argv);
	/* SIGTERM stays blocked while sleeping, so nothing may interrupt the
	 * sleep: any EINTR is the restore's doing. It is taken between sleeps. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &term, NULL) < 0)
		test_setup_failed("sigprocmask: %m");
	test_ready();

	for (;;) {
		struct timespec req = {.tv_sec = SLEEP_SEC}, rem = {0, 0};
		double start = now(), took;
		int r = nanosleep(&req, &rem);

		took = now() - start;
		if (r < 0)
			fail("nanosleep(%d s) failed after %.3f s: %m (remaining %ld.%09ld)",
			     SLEEP_SEC, took, (long)rem.tv_sec, rem.tv_nsec);
		if (took < SLEEP_SEC - 0.001)
			fail("nanosleep(%d s) returned 0 after only %.3f s", SLEEP_SEC, took);
		if (took > 2 * SLEEP_SEC + MAX_EXTRA_SEC)
			fail("nanosleep(%d s) took %.3f s", SLEEP_SEC, took);
		completed++;
		if (sigpending(&pending) < 0)
			fail("sigpending: %m");
		if (sigismember(&pending, SIGTERM))
			break;
	}
	if (sigprocmask(SIG_UNBLOCK, &term, NULL) < 0)
		fail("sigprocmask: %m");
	if (!test_stopped())
		fail("SIGTERM was pending but its handler did not run");
	test_msg("%u sleeps of %d s completed", completed, SLEEP_SEC);
	pass();
}
