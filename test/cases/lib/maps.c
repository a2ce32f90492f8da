// SPDX-License-Identifier: GPL-2.0-or-later
/* Parse /proc/self/maps lines for the workload cases. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "maps.h"

int maps_find(unsigned long addr, struct map_entry *ret)
{
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct map_entry e = {0};
		unsigned maj, min;
		int pos = 0;

		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &e.start, &e.end, e.perms,
			   &e.offset, &maj, &min, &e.inode, &pos) < 7)
			continue;
		if (addr < e.start || addr >= e.end)
			continue;
		if (pos > 0) {
			snprintf(e.path, sizeof(e.path), "%s", line + pos);
			e.path[strcspn(e.path, "\n")] = '\0';
		}
		fclose(f);
		*ret = e;
		return 0;
	}
	fclose(f);
	return -ENOENT;
}
