// SPDX-License-Identifier: GPL-2.0-or-later
/* relive check: Probe the kernel for what relive needs and can use. */
#define LOG_PREFIX "check: "

#include <stdio.h>

#include "commands.h"
#include "kerndat-report.h"
#include "kerndat.h"
#include "log.h"
#include "util.h"

static int run(const struct opts *o)
{
	struct kerndat kd;
	int r;

	r = kerndat_probe(&kd);
	if (r < 0)
		return pr_err_ret(r, "cannot probe the kernel");
	if (o->json)
		kerndat_print_json(&kd, stdout);
	else
		kerndat_print_table(&kd, stdout);
	if (fflush(stdout) != 0 || ferror(stdout))
		return pr_err_ret(negerrno(), "cannot write the report");
	/* The exit code says whether dump, restore and lazy restore can work. */
	return kerndat_report_missing(&kd, stderr);
}

const struct command cmd_check = {
	.name = "check",
	.summary = "Probe the kernel for what relive needs and can use",
	.usage = "",
	.accepted = OPT_JSON,
	.run = run,
};
