// SPDX-License-Identifier: GPL-2.0-or-later
/* The order of mremap calls that moves the vdso cluster into place. */
#define LOG_PREFIX "restore-mm: "
#include <errno.h>

#include "log.h"
#include "restore-mm-hole.h"
#include "restore-mm-vdso.h"

#define TRANSIT_LO 0x10000ull
#define TRANSIT_HI 0x7ffffffff000ull

static const VmaKind part_kinds[VDSO_NR_PARTS] = {
    VMA_KIND__VMA_VVAR,
    VMA_KIND__VMA_VVAR_VCLOCK,
    VMA_KIND__VMA_VDSO,
};

size_t vdso_part_index(VmaKind kind)
{
	for (size_t i = 0; i < VDSO_NR_PARTS; i++)
		if (part_kinds[i] == kind)
			return i;
	return 0;
}

const char *vdso_part_name(VmaKind kind)
{
	switch (kind) {
	case VMA_KIND__VMA_VVAR:
		return "[vvar]";
	case VMA_KIND__VMA_VVAR_VCLOCK:
		return "[vvar_vclock]";
	case VMA_KIND__VMA_VDSO:
		return "[vdso]";
	default:
		return "?";
	}
}

int vdso_plan_moves(const struct vdso_part cur[VDSO_NR_PARTS],
		    const struct vdso_part want[VDSO_NR_PARTS], uint64_t keep_start,
		    uint64_t keep_end, struct vdso_move plan[2 * VDSO_NR_PARTS], size_t *ret_nr)
{
	struct mm_range busy[2 * VDSO_NR_PARTS + 1];
	bool moving[VDSO_NR_PARTS] = {false}, conflict = false;
	uint64_t transit_len = 0, transit, off;
	size_t nr = 0, nr_busy = 0;
	int r;

	for (size_t i = 0; i < VDSO_NR_PARTS; i++) {
		const char *name = vdso_part_name(part_kinds[i]);

		if (want[i].present && !cur[i].present) {
			pr_err("vdso of this kernel differs from the dumped one (the image has %s, "
			       "this kernel has none): restore needs the same kernel\n",
			       name);
			return -EINVAL;
		}
		if (want[i].present && want[i].end - want[i].start != cur[i].end - cur[i].start) {
			pr_err("vdso of this kernel differs from the dumped one (size %llu vs %llu "
			       "of %s): restore needs the same kernel\n",
			       (unsigned long long)(cur[i].end - cur[i].start),
			       (unsigned long long)(want[i].end - want[i].start), name);
			return -EINVAL;
		}
		/* the dumped task had none (an older kernel's layout): drop it */
		if (cur[i].present && !want[i].present)
			plan[nr++] = (struct vdso_move){.kind = part_kinds[i],
							.unmap = true,
							.from = cur[i].start,
							.to = cur[i].start,
							.len = cur[i].end - cur[i].start};
	}
	for (size_t i = 0; i < VDSO_NR_PARTS; i++) {
		if (!want[i].present || want[i].start == cur[i].start)
			continue;
		moving[i] = true;
		transit_len += want[i].end - want[i].start;
		/* a target on top of any part still in place (itself
		 * included: mremap refuses overlapping ranges) */
		for (size_t j = 0; j < VDSO_NR_PARTS; j++)
			if (want[j].present && cur[j].present &&
			    mm_ranges_overlap(want[i].start, want[i].end, cur[j].start, cur[j].end))
				conflict = true;
	}
	if (!conflict) {
		for (size_t i = 0; i < VDSO_NR_PARTS; i++)
			if (moving[i])
				plan[nr++] = (struct vdso_move){.kind = part_kinds[i],
								.from = cur[i].start,
								.to = want[i].start,
								.len = want[i].end - want[i].start};
		*ret_nr = nr;
		return 0;
	}
	for (size_t i = 0; i < VDSO_NR_PARTS; i++) {
		if (cur[i].present)
			busy[nr_busy++] = (struct mm_range){cur[i].start, cur[i].end};
		if (want[i].present)
			busy[nr_busy++] = (struct mm_range){want[i].start, want[i].end};
	}
	busy[nr_busy++] = (struct mm_range){keep_start, keep_end};
	r = mm_hole_pick(busy, nr_busy, transit_len, TRANSIT_LO, TRANSIT_HI, &transit);
	if (r < 0) {
		pr_err("no free spot of %llu bytes to move the vdso through\n",
		       (unsigned long long)transit_len);
		return r;
	}
	/* everything that moves goes out of the way first, then into place */
	off = 0;
	for (size_t i = 0; i < VDSO_NR_PARTS; i++) {
		if (!moving[i])
			continue;
		plan[nr++] = (struct vdso_move){.kind = part_kinds[i],
						.from = cur[i].start,
						.to = transit + off,
						.len = want[i].end - want[i].start};
		off += want[i].end - want[i].start;
	}
	off = 0;
	for (size_t i = 0; i < VDSO_NR_PARTS; i++) {
		if (!moving[i])
			continue;
		plan[nr++] = (struct vdso_move){.kind = part_kinds[i],
						.from = transit + off,
						.to = want[i].start,
						.len = want[i].end - want[i].start};
		off += want[i].end - want[i].start;
	}
	*ret_nr = nr;
	return 0;
}
