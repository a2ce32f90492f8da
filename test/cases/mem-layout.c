// SPDX-License-Identifier: GPL-2.0-or-later
/* Memory with holes, MADV_DONTNEED ranges, mprotect'ed regions and a sparse 1 GiB area. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "case.h"
#include "maps.h"

#define PG	    4096ul
#define NPAGES	    64
#define SPARSE_SIZE (1ul << 30)

/* Page kinds inside the 64-page area. */
enum kind { FILLED, HOLE, UNTOUCHED, DROPPED };

struct segment {
	int first, last; /* pages, inclusive */
	int prot;	 /* PROT_* at dump time */
	const char *perms;
};

/* The VMAs the area must show, between one PROT_NONE guard page on each side. */
static const struct segment segs[] = {
    {0, 9, PROT_READ | PROT_WRITE, "rw-p"},
    /* 10-11: unmapped */
    {12, 29, PROT_READ | PROT_WRITE, "rw-p"},
    {30, 33, PROT_READ, "r--p"},
    {34, 39, PROT_READ | PROT_WRITE, "rw-p"},
    {40, 41, PROT_NONE, "---p"},
    {42, 47, PROT_READ | PROT_EXEC, "r-xp"},
    {48, 63, PROT_READ | PROT_WRITE, "rw-p"},
};

static enum kind kind_of(int p)
{
	if (p == 10 || p == 11)
		return HOLE;
	if ((p >= 12 && p <= 19) || p == 35 || p == 36 || p == 38 || p == 39 ||
	    (p >= 48 && p % 2 == 1))
		return UNTOUCHED;
	if ((p >= 20 && p <= 24) || p == 50)
		return DROPPED;
	return FILLED;
}

static const unsigned long sparse_touched[] = {0, SPARSE_SIZE / 2 + 5 * PG, SPARSE_SIZE - PG};

int main(int argc, char **argv)
{
	char *guard, *area, *sparse;
	unsigned char *vec;
	unsigned long resident = 0;

	test_init(argc, argv);
	/* Guard pages keep the area from merging with whatever mmap puts next
	 * to it, so its VMA boundaries are exactly ours. */
	guard = mmap(NULL, (NPAGES + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED)
		test_setup_failed("mmap: %m");
	area = mmap(guard + PG, NPAGES * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (area == MAP_FAILED)
		test_setup_failed("mmap: %m");
	for (int p = 0; p < NPAGES; p++)
		if (kind_of(p) == FILLED || kind_of(p) == DROPPED)
			test_fill(area + p * PG, PG, 0x500 + p);
	if (munmap(area + 10 * PG, 2 * PG) < 0)
		test_setup_failed("munmap: %m");
	if (madvise(area + 20 * PG, 5 * PG, MADV_DONTNEED) < 0 ||
	    madvise(area + 50 * PG, PG, MADV_DONTNEED) < 0)
		test_setup_failed("madvise: %m");
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		if (segs[i].prot != (PROT_READ | PROT_WRITE) &&
		    mprotect(area + segs[i].first * PG, (segs[i].last - segs[i].first + 1) * PG,
			     segs[i].prot) < 0)
			test_setup_failed("mprotect: %m");

	sparse = mmap(NULL, SPARSE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sparse == MAP_FAILED)
		test_setup_failed("mmap 1 GiB: %m");
	for (size_t i = 0; i < 3; i++)
		test_fill(sparse + sparse_touched[i], PG, 0x600 + i);
	test_ready();

	test_wait_stop();

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		const struct segment *s = &segs[i];
		unsigned long start = (unsigned long)area + s->first * PG;
		unsigned long end = (unsigned long)area + (s->last + 1) * PG;
		struct map_entry e;

		if (maps_find(start, &e) < 0)
			fail("pages %d-%d are no longer mapped", s->first, s->last);
		if (e.start != start || e.end != end || strcmp(e.perms, s->perms) || e.inode)
			fail("pages %d-%d: mapping %lx-%lx %s inode %lu, expected %lx-%lx %s",
			     s->first, s->last, e.start, e.end, e.perms, e.inode, start, end,
			     s->perms);
	}
	{
		struct map_entry e;

		if (maps_find((unsigned long)area + 10 * PG, &e) == 0 ||
		    maps_find((unsigned long)area + 11 * PG, &e) == 0)
			fail("the hole at pages 10-11 is mapped again (%lx-%lx %s)", e.start, e.end,
			     e.perms);
		if (maps_find((unsigned long)guard, &e) < 0 || strcmp(e.perms, "---p"))
			fail("the guard page below the area is gone");
	}

	/* Contents: make everything readable for the check. */
	if (mprotect(area + 40 * PG, 2 * PG, PROT_READ) < 0)
		fail("mprotect: %m");
	for (int p = 0; p < NPAGES; p++) {
		const char *pg = area + p * PG;

		switch (kind_of(p)) {
		case HOLE:
			break;
		case FILLED:
			if (test_check(pg, PG, 0x500 + p) >= 0)
				fail("page %d lost its contents", p);
			break;
		case UNTOUCHED:
		case DROPPED:
			for (size_t b = 0; b < PG; b++)
				if (pg[b])
					fail("%s page %d is not zero at byte %zu",
					     kind_of(p) == DROPPED ? "MADV_DONTNEED'ed"
								   : "never-touched",
					     p, b);
			break;
		}
	}

	vec = malloc(SPARSE_SIZE / PG);
	if (!vec || mincore(sparse, SPARSE_SIZE, vec) < 0)
		fail("mincore: %m");
	for (unsigned long i = 0; i < SPARSE_SIZE / PG; i++)
		resident += vec[i] & 1;
	/* Checked before reading the area, which would fault in zero pages. */
	if (resident > 3)
		fail("%lu pages of the sparse 1 GiB area are resident, only 3 were touched",
		     resident);
	for (size_t i = 0; i < 3; i++)
		if (test_check(sparse + sparse_touched[i], PG, 0x600 + i) >= 0)
			fail("touched page %zu of the sparse area lost its contents", i);
	for (unsigned long off = PG; off < SPARSE_SIZE; off += 64 * PG)
		if (sparse[off + 8])
			fail("never-touched byte at %#lx of the sparse area is not zero", off + 8);
	pass();
}
