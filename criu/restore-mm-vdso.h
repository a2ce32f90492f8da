/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Moving the vdso cluster ([vvar], [vvar_vclock], [vdso]) of a forked task to
 * the addresses of the dumped one. Each part moves whole with mremap (the
 * kernel follows a moved [vdso] for signal return); parts whose source and
 * target overlap go through a free spot first. The plan is pure code,
 * unit-tested; restore-mm.c carries it out by remote calls.
 */
#ifndef RELIVE_RESTORE_MM_VDSO_H
#define RELIVE_RESTORE_MM_VDSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mm.pb-c.h"

/* Indices of the parts: [vvar], [vvar_vclock], [vdso]. */
#define VDSO_NR_PARTS 3

struct vdso_part {
	bool present;
	uint64_t start, end;
};

struct vdso_move {
	VmaKind kind;
	bool unmap; /* the dumped task had no such part: remove it */
	uint64_t from, to, len;
};

/* Index in a VDSO_NR_PARTS array of a cluster kind (VDSO, VVAR,
 * VVAR_VCLOCK); any other kind maps to 0 and must not be passed. */
size_t vdso_part_index(VmaKind kind);
const char *vdso_part_name(VmaKind kind);

/*
 * Plan the calls that bring cur (this task now) to want (the image), in
 * order, at most 2 * VDSO_NR_PARTS moves. keep_start/keep_end is the
 * scratch area, which a transit spot must avoid. Fails with -EINVAL and a
 * message when the image wants a part this kernel does not have or one of
 * another size (restore needs the same kernel), -ENOSPC when no transit
 * spot is free.
 */
int vdso_plan_moves(const struct vdso_part cur[VDSO_NR_PARTS],
		    const struct vdso_part want[VDSO_NR_PARTS], uint64_t keep_start,
		    uint64_t keep_end, struct vdso_move plan[2 * VDSO_NR_PARTS], size_t *ret_nr);

#endif
