// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the restore helpers: free-spot search and vdso move plans. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "restore-mm-hole.h"
#include "restore-mm-vdso.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define P 0x1000ull

static const struct hole_case {
	const char *what;
	struct mm_range busy[4];
	size_t nr;
	uint64_t len, lo, hi;
	int ret;
	uint64_t addr;
} hole_cases[] = {
    {"empty space: middle of it", {{0}}, 0, P, 0x10000, 0x20000, 0, 0x17000},
    {"one busy range: the larger side", {{0x12000, 0x14000}}, 1, P, 0x10000, 0x20000, 0, 0x19000},
    {"unsorted and overlapping busy ranges",
     {{0x18000, 0x20000}, {0x10000, 0x13000}, {0x12000, 0x15000}},
     3,
     P,
     0x10000,
     0x20000,
     0,
     0x16000},
    {"exact fit", {{0x10000, 0x14000}, {0x15000, 0x20000}}, 2, P, 0x10000, 0x20000, 0, 0x14000},
    {"no room", {{0x10000, 0x14000}, {0x15000, 0x20000}}, 2, 2 * P, 0x10000, 0x20000, -ENOSPC, 0},
    {"unaligned busy end rounds up", {{0x10000, 0x14001}}, 1, 0xb000, 0x10000, 0x20000, 0, 0x15000},
    {"busy beyond the range", {{0x30000, 0x40000}}, 1, P, 0x10000, 0x20000, 0, 0x17000},
    {"zero length", {{0}}, 0, 0, 0x10000, 0x20000, -EINVAL, 0},
    {"unaligned length", {{0}}, 0, 100, 0x10000, 0x20000, -EINVAL, 0},
    {"empty range", {{0}}, 0, P, 0x20000, 0x20000, -EINVAL, 0},
    {"busy to the top of the address space",
     {{0x18000, UINT64_MAX}},
     1,
     P,
     0x10000,
     0x20000,
     0,
     0x13000},
};

static void test_hole_pick(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(hole_cases); i++) {
		const struct hole_case *t = &hole_cases[i];
		struct mm_range busy[4];
		uint64_t addr = 0;
		int r;

		memcpy(busy, t->busy, sizeof(busy));
		r = mm_hole_pick(busy, t->nr, t->len, t->lo, t->hi, &addr);
		if (r != t->ret || (r == 0 && addr != t->addr)) {
			fprintf(stderr, "hole case \"%s\": got %d %#llx, want %d %#llx\n", t->what,
				r, (unsigned long long)addr, t->ret, (unsigned long long)t->addr);
			fails++;
		}
		/* whatever was picked is free and inside the range */
		for (size_t k = 0; r == 0 && k < t->nr; k++)
			CHECK(!mm_ranges_overlap(addr, addr + t->len, busy[k].start, busy[k].end));
		if (r == 0)
			CHECK(addr >= t->lo && addr + t->len <= t->hi);
	}
}

/* Apply a plan to a model of the address space and check the result. */
static void apply_plan(struct vdso_part cur[VDSO_NR_PARTS], const struct vdso_move *plan, size_t nr)
{
	static const VmaKind kinds[] = {VMA_KIND__VMA_VVAR, VMA_KIND__VMA_VVAR_VCLOCK,
					VMA_KIND__VMA_VDSO};

	for (size_t i = 0; i < nr; i++) {
		const struct vdso_move *m = &plan[i];
		struct vdso_part *p = &cur[vdso_part_index(m->kind)];

		CHECK(p->present && p->start == m->from && p->end - p->start == m->len);
		if (m->unmap) {
			p->present = false;
			continue;
		}
		/* mremap must not overlap its own source, and MREMAP_FIXED
		 * would destroy any other part sitting at the target */
		CHECK(!mm_ranges_overlap(m->from, m->from + m->len, m->to, m->to + m->len));
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
			if (kinds[k] != m->kind && cur[k].present)
				CHECK(!mm_ranges_overlap(m->to, m->to + m->len, cur[k].start,
							 cur[k].end));
		p->start = m->to;
		p->end = m->to + m->len;
	}
}

static const struct vdso_case {
	const char *what;
	struct vdso_part cur[VDSO_NR_PARTS], want[VDSO_NR_PARTS];
	int ret;
	size_t nr_moves;
} vdso_cases[] = {
    {"already in place",
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     0,
     0},
    {"far away: direct moves",
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x500000, 0x504000}, {true, 0x504000, 0x506000}, {true, 0x506000, 0x508000}},
     0,
     3},
    {"shifted by a page: through a transit spot",
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x7f1000, 0x7f5000}, {true, 0x7f5000, 0x7f7000}, {true, 0x7f7000, 0x7f9000}},
     0,
     6},
    {"swapped order: through a transit spot",
     {{true, 0x7f0000, 0x7f4000}, {false}, {true, 0x7f4000, 0x7f6000}},
     {{true, 0x7f2000, 0x7f6000}, {false}, {true, 0x7f0000, 0x7f2000}},
     0,
     4},
    {"a part the dump did not have is removed",
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x7f0000, 0x7f4000}, {false}, {true, 0x7f6000, 0x7f8000}},
     0,
     1},
    {"a part this kernel lacks",
     {{true, 0x7f0000, 0x7f4000}, {false}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     -EINVAL,
     0},
    {"a size differs",
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f8000}},
     {{true, 0x7f0000, 0x7f4000}, {true, 0x7f4000, 0x7f6000}, {true, 0x7f6000, 0x7f9000}},
     -EINVAL,
     0},
};

static void test_vdso_plan(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vdso_cases); i++) {
		const struct vdso_case *t = &vdso_cases[i];
		struct vdso_move plan[2 * VDSO_NR_PARTS];
		struct vdso_part cur[VDSO_NR_PARTS];
		size_t nr = 0;
		int r;

		memcpy(cur, t->cur, sizeof(cur));
		/* the scratch area sits just below the cluster */
		r = vdso_plan_moves(t->cur, t->want, 0x7e0000, 0x7f0000, plan, &nr);
		if (r != t->ret || (r == 0 && nr != t->nr_moves)) {
			fprintf(stderr, "vdso case \"%s\": got %d with %zu moves, want %d %zu\n",
				t->what, r, nr, t->ret, t->nr_moves);
			fails++;
			continue;
		}
		if (r < 0)
			continue;
		apply_plan(cur, plan, nr);
		for (size_t k = 0; k < VDSO_NR_PARTS; k++) {
			CHECK(cur[k].present == t->want[k].present);
			if (t->want[k].present)
				CHECK(cur[k].start == t->want[k].start &&
				      cur[k].end == t->want[k].end);
		}
		for (size_t k = 0; k < nr; k++)
			if (!plan[k].unmap)
				CHECK(!mm_ranges_overlap(plan[k].to, plan[k].to + plan[k].len,
							 0x7e0000, 0x7f0000));
	}
}

int main(void)
{
	/* the refusal cases log their errors on purpose: keep them quiet */
	log_init(LOG_MSG - 1, NULL);
	test_hole_pick();
	test_vdso_plan();
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
