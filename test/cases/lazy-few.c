// SPDX-License-Identifier: GPL-2.0-or-later
/* Touches only a few pages after restore; the rest must arrive in the background. */
#include <stdio.h>
#include <string.h>

#include "case.h"
#include "lazy-restored.h"

#define SIZE   (128ul << 20)
#define SEED   0xfe77
#define NTOUCH 8

int main(int argc, char **argv)
{
	unsigned long long start;
	long missing, bad;
	uint64_t *buf;
	int i;

	test_init(argc, argv);
	buf = lazy_guarded_region(SIZE);
	test_fill(buf, SIZE, SEED);
	start = lazy_start_time();
	if (!start)
		test_setup_failed("can't read the start time from /proc/self/stat");
	test_ready();

	lazy_wait_restored(start);
	missing = lazy_missing_pages(buf, SIZE);
	/* One word of a few pages spread over the region. */
	for (i = 0; i < NTOUCH; i++) {
		size_t w = (SIZE / 8 / NTOUCH) * i + 37 * (size_t)i;

		if (buf[w] != test_pattern(SEED, w))
			fail("page %zu: word is %#llx, want %#llx", w * 8 / LAZY_PG,
			     (unsigned long long)buf[w], (unsigned long long)test_pattern(SEED, w));
	}
	test_msg("touched %d pages with %ld of %lu pages not in place", NTOUCH, missing,
		 SIZE / LAZY_PG);

	/* Nothing else touches the region until SIGTERM: by then the daemon
	 * has put it in place by itself (or still serves faults). */
	test_wait_stop();
	test_msg("at SIGTERM %ld pages not in place", lazy_missing_pages(buf, SIZE));
	bad = test_check(buf, SIZE, SEED);
	if (bad >= 0)
		fail("region differs at offset %ld (page %ld)", bad, bad / (long)LAZY_PG);
	pass();
}
