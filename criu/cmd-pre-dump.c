// SPDX-License-Identifier: GPL-2.0-or-later
/* relive pre-dump: Save memory while the tree keeps running (iterative migration). */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("pre-dump");
}

const struct command cmd_pre_dump = {
	.name = "pre-dump",
	.summary = "Save memory while the tree keeps running (not implemented yet)",
	.usage = "",
	.accepted = OPT_TREE | OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_SHELL_JOB | OPT_ADDRESS | OPT_PORT | OPT_PAGE_SERVER | OPT_STATUS_FD | OPT_PREV_IMAGES_DIR,
	.run = run,
};
