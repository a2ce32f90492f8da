// SPDX-License-Identifier: GPL-2.0-or-later
/* relive page-server: Receive pages from a dump over TCP. */
#include "commands.h"

static int run(const struct opts *o)
{
	return cmd_not_implemented("page-server");
}

const struct command cmd_page_server = {
	.name = "page-server",
	.summary = "Receive pages from a dump over TCP",
	.usage = "",
	.accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_ADDRESS | OPT_PORT | OPT_STATUS_FD | OPT_DETACHED | OPT_PIDFILE,
	.run = run,
};
