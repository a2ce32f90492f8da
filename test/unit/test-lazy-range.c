// SPDX-License-Identifier: GPL-2.0-or-later
/* Range list of missing pages: table-driven insert/remove/move/find cases. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "range.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define P(n) ((uint64_t)(n)*4096)

enum op { INS, REM, MOV, END };

struct step {
	enum op op;
	uint64_t a, b, c; /* INS: start end src; REM: start end; MOV: from to len */
	int ret;
};

/* Expected final ranges, in page numbers: start, end, src. */
struct want {
	uint64_t s, e, src;
};

struct tcase {
	const char *name;
	struct step steps[8];
	struct want want[6];
	size_t nr_want;
};

static const struct tcase cases[] = {
    {"insert keeps order",
     {{INS, P(10), P(20), P(10), 0},
      {INS, P(0), P(5), P(0), 0},
      {INS, P(30), P(31), P(30), 0},
      {END}},
     {{0, 5, 0}, {10, 20, 10}, {30, 31, 30}},
     3},
    {"adjacent ranges stay apart",
     {{INS, P(0), P(5), P(0), 0}, {INS, P(5), P(10), P(5), 0}, {END}},
     {{0, 5, 0}, {5, 10, 5}},
     2},
    {"overlap refused",
     {{INS, P(0), P(10), P(0), 0},
      {INS, P(9), P(12), P(9), -EEXIST},
      {INS, P(0), P(1), P(0), -EEXIST},
      {END}},
     {{0, 10, 0}},
     1},
    {"unaligned or empty refused",
     {{INS, 100, P(2), 0, -EINVAL},
      {INS, P(2), P(2), P(2), -EINVAL},
      {INS, P(3), P(2), P(3), -EINVAL},
      {END}},
     {{0}},
     0},
    {"remove splits one range",
     {{INS, P(0), P(10), P(100), 0}, {REM, P(3), P(5), 0, 0}, {END}},
     {{0, 3, 100}, {5, 10, 105}},
     2},
    {"remove head and tail",
     {{INS, P(0), P(10), P(0), 0}, {REM, P(0), P(2), 0, 0}, {REM, P(8), P(20), 0, 0}, {END}},
     {{2, 8, 2}},
     1},
    {"remove across several ranges",
     {{INS, P(0), P(4), P(0), 0},
      {INS, P(5), P(7), P(5), 0},
      {INS, P(8), P(12), P(8), 0},
      {REM, P(2), P(10), 0, 0},
      {END}},
     {{0, 2, 0}, {10, 12, 10}},
     2},
    {"remove outside is a no-op",
     {{INS, P(4), P(8), P(4), 0}, {REM, P(0), P(4), 0, 0}, {REM, P(8), P(9), 0, 0}, {END}},
     {{4, 8, 4}},
     1},
    {"remove everything",
     {{INS, P(4), P(8), P(4), 0}, {INS, P(9), P(10), P(9), 0}, {REM, 0, P(100), 0, 0}, {END}},
     {{0}},
     0},
    {"move keeps image addresses",
     {{INS, P(0), P(10), P(0), 0}, {MOV, P(0), P(100), P(10), 0}, {END}},
     {{100, 110, 0}},
     1},
    {"move of a middle part",
     {{INS, P(0), P(10), P(0), 0}, {MOV, P(4), P(50), P(2), 0}, {END}},
     {{0, 4, 0}, {6, 10, 6}, {50, 52, 4}},
     3},
    {"move drops what was missing at the destination",
     {{INS, P(0), P(4), P(0), 0},
      {INS, P(20), P(30), P(20), 0},
      {MOV, P(0), P(22), P(4), 0},
      {END}},
     {{20, 22, 20}, {22, 26, 0}, {26, 30, 26}},
     3},
    {"move over partly missing source",
     {{INS, P(2), P(4), P(2), 0}, {INS, P(6), P(8), P(6), 0}, {MOV, P(0), P(40), P(7), 0}, {END}},
     {{7, 8, 7}, {42, 44, 2}, {46, 47, 6}},
     3},
    {"overlapping move (mremap forward by a bit)",
     {{INS, P(0), P(8), P(0), 0}, {MOV, P(0), P(4), P(8), 0}, {END}},
     {{4, 12, 0}},
     1},
};

static void run_case(const struct tcase *tc)
{
	struct lazy_ranges l;
	uint64_t pages = 0;

	lazy_ranges_init(&l);
	for (const struct step *s = tc->steps; s->op != END; s++) {
		int r = 0;

		switch (s->op) {
		case INS:
			r = lazy_ranges_insert(&l, s->a, s->b, s->c);
			break;
		case REM:
			r = lazy_ranges_remove(&l, s->a, s->b);
			break;
		case MOV:
			r = lazy_ranges_move(&l, s->a, s->b, s->c);
			break;
		case END:
			break;
		}
		if (r != s->ret) {
			fprintf(stderr, "%s: step %td returned %d, want %d\n", tc->name,
				s - tc->steps, r, s->ret);
			fails++;
		}
	}
	if (l.nr != tc->nr_want) {
		fprintf(stderr, "%s: %zu ranges, want %zu\n", tc->name, l.nr, tc->nr_want);
		fails++;
	}
	for (size_t i = 0; i < l.nr && i < tc->nr_want; i++) {
		const struct want *w = &tc->want[i];

		if (l.r[i].start != P(w->s) || l.r[i].end != P(w->e) || l.r[i].src != P(w->src)) {
			fprintf(stderr, "%s: range %zu is %llx-%llx@%llx, want %llx-%llx@%llx\n",
				tc->name, i, (unsigned long long)l.r[i].start,
				(unsigned long long)l.r[i].end, (unsigned long long)l.r[i].src,
				(unsigned long long)P(w->s), (unsigned long long)P(w->e),
				(unsigned long long)P(w->src));
			fails++;
		}
		pages += w->e - w->s;
	}
	if (l.nr == tc->nr_want && l.nr_pages != pages) {
		fprintf(stderr, "%s: nr_pages %llu, want %llu\n", tc->name,
			(unsigned long long)l.nr_pages, (unsigned long long)pages);
		fails++;
	}
	lazy_ranges_fini(&l);
}

static void test_find_next_copy(void)
{
	struct lazy_ranges l, c;

	lazy_ranges_init(&l);
	lazy_ranges_init(&c);
	CHECK(lazy_ranges_insert(&l, P(10), P(20), P(10)) == 0);
	CHECK(lazy_ranges_insert(&l, P(30), P(40), P(30)) == 0);
	CHECK(lazy_ranges_find(&l, P(9)) == NULL);
	CHECK(lazy_ranges_find(&l, P(10)) == &l.r[0]);
	CHECK(lazy_ranges_find(&l, P(20) - 1) == &l.r[0]);
	CHECK(lazy_ranges_find(&l, P(20)) == NULL);
	CHECK(lazy_ranges_next(&l, 0) == &l.r[0]);
	CHECK(lazy_ranges_next(&l, P(15)) == &l.r[0]);
	CHECK(lazy_ranges_next(&l, P(20)) == &l.r[1]);
	CHECK(lazy_ranges_next(&l, P(40)) == NULL);
	CHECK(lazy_ranges_copy(&c, &l) == 0);
	CHECK(c.nr == 2 && c.nr_pages == 20);
	CHECK(lazy_ranges_remove(&c, P(10), P(40)) == 0);
	CHECK(lazy_ranges_empty(&c) && c.nr_pages == 0);
	CHECK(l.nr == 2); /* the copy is independent */
	lazy_ranges_fini(&l);
	lazy_ranges_fini(&c);
}

/* Many small removals in random order, checked against a page bitmap. */
static void test_random_against_bitmap(void)
{
	enum { N = 4096 };
	static unsigned char present[N];
	struct lazy_ranges l;
	unsigned seed = 12345;

	lazy_ranges_init(&l);
	memset(present, 1, sizeof(present));
	CHECK(lazy_ranges_insert(&l, 0, P(N), 0) == 0);
	for (int i = 0; i < 3000; i++) {
		unsigned a, n;

		seed = seed * 1103515245 + 12345;
		a = (seed >> 8) % N;
		n = 1 + (seed >> 20) % 16;
		if (a + n > N)
			n = N - a;
		CHECK(lazy_ranges_remove(&l, P(a), P(a + n)) == 0);
		memset(present + a, 0, n);
	}
	{
		uint64_t count = 0;

		for (unsigned p = 0; p < N; p++) {
			const struct lazy_range *r = lazy_ranges_find(&l, P(p));

			count += present[p];
			if (!!r != present[p] || (r && r->src + (P(p) - r->start) != P(p))) {
				fprintf(stderr, "random: page %u wrong\n", p);
				fails++;
				break;
			}
		}
		CHECK(l.nr_pages == count);
	}
	lazy_ranges_fini(&l);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_find_next_copy();
	test_random_against_bitmap();
	if (fails) {
		fprintf(stderr, "%d checks failed\n", fails);
		return 1;
	}
	printf("ok\n");
	return 0;
}
