// SPDX-License-Identifier: GPL-2.0-or-later
/* munmap and madvise(DONTNEED) of lazy memory not yet in place: zeros after, never refilled. */
#include <stdio.h>
#include <string.h>

#include "case.h"
#include "lazy-restored.h"

#define SIZE	 (128ul << 20)
#define SEED	 0xd0e7
#define UNMAP_SZ (8ul << 20)
#define SEED_U	 0x0a11

/*
 * In the 128 MiB region: [96, 104) MiB dropped and read at once (a fault in
 * a dropped range must be answered with zeros), [112, 128) MiB dropped and
 * left alone until SIGTERM (the background fill must not put the image
 * back). Near the end, as the fill of an untouched region starts at its
 * beginning.
 * The 8 MiB region is unmapped and mapped afresh at the same address (same
 * /proc/PID/maps line, fresh zero memory).
 */
#define DROP_READ_OFF  (96ul << 20)
#define DROP_READ_LEN  (8ul << 20)
#define DROP_LATER_OFF (112ul << 20)
#define DROP_LATER_LEN (16ul << 20)

static void check_zero(const char *what, const char *p, size_t len)
{
	long nz = lazy_first_nonzero(p, len);

	if (nz >= 0)
		fail("%s: byte at offset %ld (page %ld) is %#x, want 0", what, nz,
		     nz / (long)LAZY_PG, (unsigned char)p[nz]);
}

/* The parts of the big region that keep the image's data. */
static void check_kept(const char *what, char *buf)
{
	static const struct {
		size_t off, len;
	} kept[] = {
	    {0, DROP_READ_OFF},
	    {DROP_READ_OFF + DROP_READ_LEN, DROP_LATER_OFF - DROP_READ_OFF - DROP_READ_LEN},
	    {DROP_LATER_OFF + DROP_LATER_LEN, SIZE - DROP_LATER_OFF - DROP_LATER_LEN},
	};
	size_t i;

	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		long bad = lazy_check(buf, kept[i].off, kept[i].len, SEED);

		if (bad >= 0)
			fail("%s: kept data differs at offset %ld (page %ld)", what, bad,
			     bad / (long)LAZY_PG);
	}
}

static void drop(char *buf, char *small)
{
	long m_read = lazy_missing_pages(buf + DROP_READ_OFF, DROP_READ_LEN);
	long m_later = lazy_missing_pages(buf + DROP_LATER_OFF, DROP_LATER_LEN);
	long m_small = lazy_missing_pages(small, UNMAP_SZ);

	if (madvise(buf + DROP_READ_OFF, DROP_READ_LEN, MADV_DONTNEED) < 0)
		fail("madvise(DONTNEED): %m");
	if (madvise(buf + DROP_LATER_OFF, DROP_LATER_LEN, MADV_DONTNEED) < 0)
		fail("madvise(DONTNEED): %m");
	if (munmap(small, UNMAP_SZ) < 0)
		fail("munmap: %m");
	if (mmap(small, UNMAP_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) != small)
		fail("mmap again at %p: %m", small);
	check_zero("dropped range read at once", buf + DROP_READ_OFF, DROP_READ_LEN);
	check_zero("unmapped and mapped again", small, UNMAP_SZ);
	test_msg("dropped with %ld of %lu, %ld of %lu and %ld of %lu pages not in place "
		 "(read at once, left alone, unmapped)",
		 m_read, DROP_READ_LEN / LAZY_PG, m_later, DROP_LATER_LEN / LAZY_PG, m_small,
		 UNMAP_SZ / LAZY_PG);
}

int main(int argc, char **argv)
{
	unsigned long long start;
	char *buf, *small;

	test_init(argc, argv);
	/* Which region the background fill reaches first depends on where
	 * the last fault was; the case reports how much of each was missing. */
	small = lazy_guarded_region(UNMAP_SZ);
	buf = lazy_guarded_region(SIZE);
	test_fill(buf, SIZE, SEED);
	test_fill(small, UNMAP_SZ, SEED_U);
	start = lazy_start_time();
	if (!start)
		test_setup_failed("can't read the start time from /proc/self/stat");
	test_ready();

	lazy_wait_restored(start);
	drop(buf, small);
	check_kept("right after dropping", buf);
	test_wait_stop();
	check_zero("dropped range left alone until SIGTERM", buf + DROP_LATER_OFF, DROP_LATER_LEN);
	check_zero("dropped range read at once, again at SIGTERM", buf + DROP_READ_OFF,
		   DROP_READ_LEN);
	check_zero("unmapped and mapped again, at SIGTERM", small, UNMAP_SZ);
	check_kept("at SIGTERM", buf);
	pass();
}
