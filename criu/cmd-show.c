// SPDX-License-Identifier: GPL-2.0-or-later
/* relive show: Print image files as JSON. */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("show");
}

const struct command cmd_show = {
	.name = "show",
	.summary = "Print image files as JSON",
	.usage = "PATH",
	.accepted = 0,
	.run = run,
};
