// SPDX-License-Identifier: GPL-2.0-or-later
/* relive page-server: Receive pages from a dump over TCP. */
#define LOG_PREFIX "page-server: "
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "pidfile.h"
#include "page-server.h"
#include "util.h"

static int run(const struct opts *o)
{
	_cleanup_close_ int listen_fd = -1, dirfd = -1;
	const char *dir = o->images_dir ? o->images_dir : ".";
	pid_t pid;
	int r;

	if (!o->port) {
		fprintf(stderr, "relive page-server: --port is required\n");
		return -EINVAL;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pr_err_ret(negerrno(), "cannot open images directory %s", dir);
	r = px_listen(o->address, o->port, &listen_fd);
	if (r < 0)
		return r;
	pr_info("listening on %s port %d, images go to %s\n", o->address ? o->address : "*",
		o->port, dir);
	if (!o->detached) {
		if (o->pidfile && write_pidfile(o->pidfile, getpid()) < 0)
			return -EIO;
		r = opts_notify_status(o);
		if (r < 0)
			return r;
		r = ps_receive(listen_fd, dirfd);
		if (r == 0)
			pr_msg("page-server: the pages of the dump are in %s\n", dir);
		return r;
	}
	/* -d: the socket listens already; serve in a child and return. */
	pid = fork();
	if (pid < 0)
		return pr_err_ret(negerrno(), "fork");
	if (pid == 0) {
		if (o->status_fd >= 0)
			close(o->status_fd);
		setsid();
		_exit(ps_receive(listen_fd, dirfd) < 0 ? 1 : 0);
	}
	if (o->pidfile && write_pidfile(o->pidfile, pid) < 0)
		return -EIO;
	return opts_notify_status(o);
}

const struct command cmd_page_server = {
    .name = "page-server",
    .summary = "Receive pages from a dump over TCP",
    .usage = "",
    .accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_ADDRESS | OPT_PORT | OPT_STATUS_FD |
		OPT_DETACHED | OPT_PIDFILE,
    .run = run,
};
