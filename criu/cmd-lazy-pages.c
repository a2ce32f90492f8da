// SPDX-License-Identifier: GPL-2.0-or-later
/* relive lazy-pages: Serve page faults of lazily restored tasks. */
#define LOG_PREFIX "lazy-pages: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "daemon.h"
#include "log.h"
#include "pidfile.h"
#include "util.h"

struct ready_arg {
	const struct opts *o;
	int pipe_fd; /* -d: tell the waiting parent, else -1 */
};

static int ready(void *arg)
{
	struct ready_arg *ra = arg;
	char c = 0;
	int r;

	if (ra->pipe_fd >= 0) {
		r = write(ra->pipe_fd, &c, 1) == 1 ? 0 : negerrno();
		close(ra->pipe_fd);
		ra->pipe_fd = -1;
		return r;
	}
	if (ra->o->pidfile) {
		r = write_pidfile(ra->o->pidfile, getpid());
		if (r < 0)
			return r;
	}
	return opts_notify_status(ra->o);
}

static int run(const struct opts *o)
{
	struct ready_arg ra = {.o = o, .pipe_fd = -1};
	struct lp_config cfg = {
	    .ready = ready, .ready_arg = &ra, .close_in_watchdog = o->status_fd};
	int pfd[2];
	pid_t pid;
	char c;

	if ((o->address || o->port) && !o->page_server) {
		fprintf(stderr, "relive lazy-pages: --address and --port go with --page-server\n");
		return -EINVAL;
	}
	if (o->page_server && !o->port) {
		fprintf(stderr, "relive lazy-pages: --page-server needs --port (and --address, "
				"default localhost)\n");
		return -EINVAL;
	}
	if (o->page_server) {
		cfg.address = o->address ? o->address : "localhost";
		cfg.port = o->port;
	}
	if (!o->images_dir) {
		fprintf(stderr, "relive lazy-pages: -D DIR is required\n");
		return -EINVAL;
	}
	cfg.images_dir = o->images_dir;
	cfg.work_dir = o->work_dir ? o->work_dir : o->images_dir;
	if (!o->detached)
		return lazy_pages_run(&cfg);

	/* -d: run in the background; return once it listens. */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return pr_err_ret(negerrno(), "pipe");
	pid = fork();
	if (pid < 0)
		return pr_err_ret(negerrno(), "fork");
	if (pid == 0) {
		close(pfd[0]);
		if (o->status_fd >= 0)
			close(o->status_fd);
		setsid();
		ra.pipe_fd = pfd[1];
		cfg.close_in_watchdog = -1;
		_exit(lazy_pages_run(&cfg) < 0 ? 1 : 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		close(pfd[0]);
		waitpid(pid, NULL, 0);
		fprintf(stderr, "relive lazy-pages: the daemon failed to start (see above)\n");
		return -EIO;
	}
	close(pfd[0]);
	if (o->pidfile && write_pidfile(o->pidfile, pid) < 0)
		return -EIO;
	return opts_notify_status(o);
}

const struct command cmd_lazy_pages = {
    .name = "lazy-pages",
    .summary = "Serve page faults of lazily restored tasks",
    .usage = "",
    .accepted = OPT_IMAGES_DIR | OPT_WORK_DIR | OPT_PAGE_SERVER | OPT_ADDRESS | OPT_PORT |
		OPT_STATUS_FD | OPT_DETACHED | OPT_PIDFILE,
    .run = run,
};
