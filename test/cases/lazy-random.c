// SPDX-License-Identifier: GPL-2.0-or-later
/* Reads 1 GiB page by page in random order right after restore, checking each page. */
#include <stdio.h>
#include <string.h>

#include "case.h"
#include "lazy-restored.h"

#define SIZE   (1ul << 30)
#define NPAGES (SIZE / LAZY_PG)
#define SEED   0x4a4d

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int main(int argc, char **argv)
{
	unsigned long long start;
	uint64_t *buf, rnd = 0x9e3779b97f4a7c15ull;
	uint32_t *order;
	long missing, bad;
	size_t i, w;

	test_init(argc, argv);
	buf = lazy_guarded_region(SIZE);
	test_fill(buf, SIZE, SEED);
	/* The visiting order, made before the dump: after restore it is lazy
	 * memory like the rest. */
	order = malloc(NPAGES * sizeof(*order));
	if (!order)
		test_setup_failed("malloc");
	for (i = 0; i < NPAGES; i++)
		order[i] = (uint32_t)i;
	for (i = NPAGES - 1; i > 0; i--) {
		size_t j = next_rand(&rnd) % (i + 1);
		uint32_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	start = lazy_start_time();
	if (!start)
		test_setup_failed("can't read the start time from /proc/self/stat");
	test_ready();

	lazy_wait_restored(start);
	missing = lazy_missing_pages(buf, SIZE);
	for (i = 0; i < NPAGES; i++) {
		size_t first = (size_t)order[i] * (LAZY_PG / 8);

		for (w = first; w < first + LAZY_PG / 8; w++)
			if (buf[w] != test_pattern(SEED, w))
				fail("visit %zu, page %u: word %zu is %#llx, want %#llx", i,
				     order[i], w - first, (unsigned long long)buf[w],
				     (unsigned long long)test_pattern(SEED, w));
	}
	test_msg("read %lu pages in random order with %ld not in place", NPAGES, missing);

	test_wait_stop();
	bad = test_check(buf, SIZE, SEED);
	if (bad >= 0)
		fail("at SIGTERM: differs at offset %ld (page %ld)", bad, bad / (long)LAZY_PG);
	pass();
}
