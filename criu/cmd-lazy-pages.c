// SPDX-License-Identifier: GPL-2.0-or-later
/* relive lazy-pages: Serve page faults of lazily restored tasks. */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("lazy-pages");
}

const struct command cmd_lazy_pages = {
	.name = "lazy-pages",
	.summary = "Serve page faults of lazily restored tasks",
	.usage = "",
	.accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_PAGE_SERVER | OPT_ADDRESS | OPT_PORT | OPT_STATUS_FD | OPT_DETACHED | OPT_PIDFILE,
	.run = run,
};
