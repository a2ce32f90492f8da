// SPDX-License-Identifier: GPL-2.0-or-later
/* relive dump: Checkpoint a process tree into an images directory. */
#include "commands.h"
#include "dump.h"

static int run(const struct opts *o)
{
	return dump_tree(o);
}

const struct command cmd_dump = {
    .name = "dump",
    .summary = "Checkpoint a process tree into an images directory",
    .usage = "",
    .accepted = OPT_TREE | OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_SHELL_JOB | OPT_LEAVE_RUNNING |
		OPT_LAZY_PAGES | OPT_ADDRESS | OPT_PORT | OPT_PAGE_SERVER | OPT_STATUS_FD |
		OPT_PREV_IMAGES_DIR | OPT_TCP_ESTABLISHED,
    .run = run,
};
