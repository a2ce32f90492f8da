/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pages of one task that are still missing, as a sorted list of
 * disjoint address ranges. Each range remembers where its pages come from
 * in the image (src), because mremap moves memory that was never filled:
 * after a move, the pages at the new address are still fetched from their
 * dumped address.
 */
#ifndef RELIVE_LAZY_RANGE_H
#define RELIVE_LAZY_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct lazy_range {
	uint64_t start; /* page aligned */
	uint64_t end;	/* exclusive, page aligned, > start */
	uint64_t src;	/* image address of the page at start */
};

struct lazy_ranges {
	struct lazy_range *r;
	size_t nr;
	size_t cap;
	uint64_t nr_pages; /* total pages in all ranges */
};

void lazy_ranges_init(struct lazy_ranges *l);
void lazy_ranges_fini(struct lazy_ranges *l);
/* Replace dst (initialised, maybe holding ranges) by a copy of src. */
int lazy_ranges_copy(struct lazy_ranges *dst, const struct lazy_ranges *src);

/*
 * Add [start, end) with image address src (never merged with a
 * neighbour). -EINVAL for an unaligned or empty range,
 * -EEXIST if it overlaps a range already there.
 */
int lazy_ranges_insert(struct lazy_ranges *l, uint64_t start, uint64_t end, uint64_t src);

/* Drop whatever lies in [start, end), splitting ranges that straddle it. */
int lazy_ranges_remove(struct lazy_ranges *l, uint64_t start, uint64_t end);

/*
 * mremap of [from, from + len) to [to, to + len): the missing pages of the
 * source move (keeping their image addresses), and whatever was missing at
 * the destination is dropped (the kernel unmapped it).
 */
int lazy_ranges_move(struct lazy_ranges *l, uint64_t from, uint64_t to, uint64_t len);

/* The range containing addr, or NULL. */
const struct lazy_range *lazy_ranges_find(const struct lazy_ranges *l, uint64_t addr);

/* The first range that ends after addr (it may contain addr), or NULL. */
const struct lazy_range *lazy_ranges_next(const struct lazy_ranges *l, uint64_t addr);

static inline int lazy_ranges_empty(const struct lazy_ranges *l)
{
	return l->nr == 0;
}

#endif
