// SPDX-License-Identifier: GPL-2.0-or-later
/* relive check: Probe the kernel for what relive needs and can use. */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("check");
}

const struct command cmd_check = {
	.name = "check",
	.summary = "Probe the kernel for what relive needs and can use",
	.usage = "",
	.accepted = OPT_JSON,
	.run = run,
};
