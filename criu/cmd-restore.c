// SPDX-License-Identifier: GPL-2.0-or-later
/* relive restore: Restore a process tree from an images directory. */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("restore");
}

const struct command cmd_restore = {
	.name = "restore",
	.summary = "Restore a process tree from an images directory",
	.usage = "",
	.accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_SHELL_JOB | OPT_DETACHED | OPT_PIDFILE | OPT_LAZY_PAGES | OPT_NEW_PID_NS | OPT_TCP_ESTABLISHED,
	.run = run,
};
