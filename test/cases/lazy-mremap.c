// SPDX-License-Identifier: GPL-2.0-or-later
/* mremap of lazy memory not yet in place: away and back, the contents follow. */
#include <stdio.h>
#include <string.h>

#include "case.h"
#include "lazy-restored.h"

#define SIZE (128ul << 20)
#define SEED 0x3e3a

/* Move the region to wherever the kernel likes, check a middle piece there,
 * move it back to where it was and check it all. */
static void move_and_check(char *buf)
{
	long missing = lazy_missing_pages(buf, SIZE);
	char *moved, *back, *tmp;
	long bad;

	/* A fresh destination the kernel chose; mremap replaces it, and the
	 * move back leaves the layout as it was. */
	tmp = mmap(NULL, SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tmp == MAP_FAILED)
		fail("mmap a destination: %m");
	moved = mremap(buf, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, tmp);
	if (moved == MAP_FAILED)
		fail("mremap away: %m");
	/* A few whole pages spread over the moved region: the layout differs
	 * from the dumped one until the move back, so this stays short (the
	 * harness compares /proc/PID/maps soon after the restore). */
	for (size_t pg = 3; pg < SIZE / LAZY_PG; pg += SIZE / LAZY_PG / 64) {
		bad = lazy_check(moved, pg * LAZY_PG, LAZY_PG, SEED);
		if (bad >= 0)
			fail("moved region: differs at offset %ld (page %ld)", bad,
			     bad / (long)LAZY_PG);
	}
	back = mremap(moved, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, buf);
	if (back == MAP_FAILED)
		fail("mremap back: %m");
	bad = test_check(buf, SIZE, SEED);
	if (bad >= 0)
		fail("region moved back: differs at offset %ld (page %ld)", bad,
		     bad / (long)LAZY_PG);
	test_msg("moved with %ld of %lu pages not in place", missing, SIZE / LAZY_PG);
}

int main(int argc, char **argv)
{
	unsigned long long start;
	char *buf;
	long bad;

	test_init(argc, argv);
	buf = lazy_guarded_region(SIZE);
	test_fill(buf, SIZE, SEED);
	start = lazy_start_time();
	if (!start)
		test_setup_failed("can't read the start time from /proc/self/stat");
	test_ready();

	lazy_wait_restored(start);
	move_and_check(buf);
	test_wait_stop();
	bad = test_check(buf, SIZE, SEED);
	if (bad >= 0)
		fail("region at SIGTERM: differs at offset %ld (page %ld)", bad, bad / (long)LAZY_PG);
	pass();
}
