// SPDX-License-Identifier: GPL-2.0-or-later
/* Resource limits with soft below hard, and a lowered hard limit, survive. */
#include <sys/resource.h>

#include "case.h"

static const char *const names[RLIM_NLIMITS] = {
    "CPU",     "FSIZE", "DATA",	 "STACK",      "CORE",	   "RSS",  "NPROC",  "NOFILE",
    "MEMLOCK", "AS",	"LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

/* Lower soft (and optionally hard) to a value that fits under the current
 * hard limit; raising anything would need CAP_SYS_RESOURCE. */
static void lower(int res, rlim_t soft, rlim_t hard)
{
	struct rlimit r;

	if (getrlimit(res, &r) < 0)
		test_setup_failed("getrlimit %s: %m", names[res]);
	if (hard != RLIM_INFINITY && (r.rlim_max == RLIM_INFINITY || hard < r.rlim_max))
		r.rlim_max = hard;
	r.rlim_cur = soft < r.rlim_max ? soft : r.rlim_max / 2;
	if (setrlimit(res, &r) < 0)
		test_setup_failed("setrlimit %s: %m", names[res]);
}

int main(int argc, char **argv)
{
	struct rlimit want[RLIM_NLIMITS];

	test_init(argc, argv);
	lower(RLIMIT_NOFILE, 333, 2000);
	lower(RLIMIT_CORE, 1 << 20, 4 << 20);
	lower(RLIMIT_FSIZE, 1ull << 30, RLIM_INFINITY);
	lower(RLIMIT_STACK, 12 << 20, RLIM_INFINITY);
	lower(RLIMIT_CPU, 3600, 7200);
	lower(RLIMIT_MEMLOCK, 1 << 20, RLIM_INFINITY);
	lower(RLIMIT_MSGQUEUE, 100000, RLIM_INFINITY);
	lower(RLIMIT_NPROC, 777, RLIM_INFINITY);
	for (int i = 0; i < RLIM_NLIMITS; i++)
		if (getrlimit(i, &want[i]) < 0)
			test_setup_failed("getrlimit %s: %m", names[i]);
	test_ready();

	test_wait_stop();

	for (int i = 0; i < RLIM_NLIMITS; i++) {
		struct rlimit r;

		if (getrlimit(i, &r) < 0)
			fail("getrlimit %s: %m", names[i]);
		if (r.rlim_cur != want[i].rlim_cur || r.rlim_max != want[i].rlim_max)
			fail("RLIMIT_%s is %llu/%llu, expected %llu/%llu", names[i],
			     (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max,
			     (unsigned long long)want[i].rlim_cur,
			     (unsigned long long)want[i].rlim_max);
	}
	pass();
}
