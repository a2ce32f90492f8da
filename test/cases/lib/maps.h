/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Look up the calling process's own /proc/self/maps entries for checks. */
#ifndef RELIVE_TEST_MAPS_H
#define RELIVE_TEST_MAPS_H

#include <stdbool.h>

struct map_entry {
	unsigned long start, end, offset, inode;
	char perms[5];
	char path[512];
};

/* Find the entry that contains addr. Returns 0, or -ENOENT / -errno. */
int maps_find(unsigned long addr, struct map_entry *ret);

#endif
