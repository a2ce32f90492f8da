// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by the cmd-<verb>.c files. */
#include <errno.h>
#include <stdio.h>

#include "commands.h"

int cmd_not_implemented(const char *name)
{
	fprintf(stderr, "relive %s: not implemented yet\n", name);
	return -ENOSYS;
}
