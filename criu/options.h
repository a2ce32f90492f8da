/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command-line options shared by every command, CRIU's spelling. */
#ifndef RELIVE_OPTIONS_H
#define RELIVE_OPTIONS_H

#include <stdbool.h>
#include <sys/types.h>

/* Which options a command accepts (bitmask). */
enum opt_bit {
	OPT_TREE = 1u << 0,		/* -t/--tree PID */
	OPT_IMAGES_DIR = 1u << 1,	/* -D/--images-dir DIR */
	OPT_WORK_DIR = 1u << 2,		/* -W/--work-dir DIR */
	OPT_SHELL_JOB = 1u << 3,	/* -j/--shell-job */
	OPT_LEAVE_RUNNING = 1u << 4,	/* -R/--leave-running */
	OPT_DETACHED = 1u << 5,		/* -d/--restore-detached (or --daemon) */
	OPT_PIDFILE = 1u << 6,		/* --pidfile FILE */
	OPT_LAZY_PAGES = 1u << 7,	/* --lazy-pages */
	OPT_ADDRESS = 1u << 8,		/* --address ADDR */
	OPT_PORT = 1u << 9,		/* --port PORT */
	OPT_PAGE_SERVER = 1u << 10,	/* --page-server */
	OPT_JSON = 1u << 11,		/* --json */
	OPT_STATUS_FD = 1u << 12,	/* --status-fd FD */
	OPT_PREV_IMAGES_DIR = 1u << 13, /* --prev-images-dir DIR */
	OPT_NEW_PID_NS = 1u << 14,	/* --new-pid-ns */
	OPT_TCP_ESTABLISHED = 1u << 15, /* --tcp-established */
};

struct opts {
	pid_t tree;
	const char *images_dir;
	const char *work_dir;
	const char *log_file;
	const char *pidfile;
	const char *address;
	const char *prev_images_dir;
	int verbosity;
	int port;
	int status_fd;
	bool shell_job;
	bool leave_running;
	bool detached;
	bool lazy_pages;
	bool page_server;
	bool json;
	bool new_pid_ns;
	bool tcp_established;
	/* Positional arguments after the options. */
	int nr_args;
	char **args;
};

struct command {
	const char *name;
	const char *summary;
	const char *usage; /* arguments after the options, "" if none */
	unsigned accepted; /* enum opt_bit mask */
	/* Returns 0 on success or -errno; the error is already printed. */
	int (*run)(const struct opts *o);
};

/*
 * Parse argv (argv[0] is the command name) into o. Returns 0, 1 when help
 * was printed, or -EINVAL after printing what was wrong.
 */
int opts_parse(const struct command *cmd, int argc, char **argv, struct opts *o);
void opts_print_help(const struct command *cmd);

/* Ready notification for --status-fd: one byte, then close. */
int opts_notify_status(const struct opts *o);

#endif
