// SPDX-License-Identifier: GPL-2.0-or-later
/* relive restore: Restore a process tree from an images directory. */
#include <stdlib.h>

#include "commands.h"
#include "log.h"
#include "restore.h"

static int run(const struct opts *o)
{
	pid_t pid;
	int code, r;

	r = restore_run(o, &pid);
	if (r < 0)
		return r;
	if (o->detached)
		return 0;
	/* Stay the parent and end the way the restored process ends. */
	r = restore_wait(pid, &code);
	if (r < 0)
		return r;
	if (code != 0) {
		log_fini();
		exit(code);
	}
	return 0;
}

const struct command cmd_restore = {
    .name = "restore",
    .summary = "Restore a process tree from an images directory",
    .usage = "",
    .accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_SHELL_JOB | OPT_DETACHED | OPT_PIDFILE |
		OPT_LAZY_PAGES | OPT_NEW_PID_NS | OPT_TCP_ESTABLISHED,
    .run = run,
};
