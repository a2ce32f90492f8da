// SPDX-License-Identifier: GPL-2.0-or-later
/* Option parsing shared by every command; each command says what it takes. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "util.h"

enum {
	LONG_PIDFILE = 1000,
	LONG_LAZY,
	LONG_ADDRESS,
	LONG_PORT,
	LONG_PAGE_SERVER,
	LONG_JSON,
	LONG_STATUS_FD,
	LONG_PREV,
	LONG_NEW_PID_NS,
	LONG_TCP_EST,
};

struct opt_desc {
	unsigned bit; /* 0: accepted by every command */
	struct option lo;
	const char *arg;
	const char *help;
};

static const struct opt_desc opt_table[] = {
	{OPT_TREE, {"tree", required_argument, NULL, 't'}, "PID", "root of the process tree to dump"},
	{OPT_IMAGES_DIR, {"images-dir", required_argument, NULL, 'D'}, "DIR", "images directory"},
	{OPT_WORK_DIR, {"work-dir", required_argument, NULL, 'W'}, "DIR",
	 "directory for logs and sockets (default: the images directory)"},
	{OPT_SHELL_JOB, {"shell-job", no_argument, NULL, 'j'}, NULL,
	 "the tree is attached to a terminal (shell job)"},
	{OPT_LEAVE_RUNNING, {"leave-running", no_argument, NULL, 'R'}, NULL,
	 "leave the tree running after the dump"},
	{OPT_DETACHED, {"restore-detached", no_argument, NULL, 'd'}, NULL,
	 "return once the tree runs (restore), or run in the background"},
	{OPT_PIDFILE, {"pidfile", required_argument, NULL, LONG_PIDFILE}, "FILE",
	 "write the PID of the restored root (or of the server) to FILE"},
	{OPT_LAZY_PAGES, {"lazy-pages", no_argument, NULL, LONG_LAZY}, NULL,
	 "restore private anonymous memory lazily through userfaultfd"},
	{OPT_ADDRESS, {"address", required_argument, NULL, LONG_ADDRESS}, "ADDR",
	 "address of the page server"},
	{OPT_PORT, {"port", required_argument, NULL, LONG_PORT}, "PORT", "TCP port of the page server"},
	{OPT_PAGE_SERVER, {"page-server", no_argument, NULL, LONG_PAGE_SERVER}, NULL,
	 "send pages to, or fetch them from, a page server"},
	{OPT_JSON, {"json", no_argument, NULL, LONG_JSON}, NULL, "print JSON"},
	{OPT_STATUS_FD, {"status-fd", required_argument, NULL, LONG_STATUS_FD}, "FD",
	 "write one byte to FD when ready"},
	{OPT_PREV_IMAGES_DIR, {"prev-images-dir", required_argument, NULL, LONG_PREV}, "DIR",
	 "images of a previous pre-dump, relative to the images directory"},
	{OPT_NEW_PID_NS, {"new-pid-ns", no_argument, NULL, LONG_NEW_PID_NS}, NULL,
	 "restore into a new pid namespace"},
	{OPT_TCP_ESTABLISHED, {"tcp-established", no_argument, NULL, LONG_TCP_EST}, NULL,
	 "checkpoint established TCP connections"},
	{0, {"log-file", required_argument, NULL, 'o'}, "FILE", "write the log to FILE"},
	{0, {"verbosity", optional_argument, NULL, 'v'}, "[N]",
	 "log level 0-4 (default 2; -v: 3, -vv or -v4: 4)"},
	{0, {"help", no_argument, NULL, 'h'}, NULL, "show this help"},
};

void opts_print_help(const struct command *cmd)
{
	printf("Usage: relive %s [options]%s%s\n\n%s\n\nOptions:\n", cmd->name,
	       cmd->usage[0] ? " " : "", cmd->usage, cmd->summary);
	for (size_t i = 0; i < ARRAY_SIZE(opt_table); i++) {
		const struct opt_desc *d = &opt_table[i];
		char left[64];
		int sn = d->lo.val < 256 && d->lo.val != 'v';

		if (d->bit && !(cmd->accepted & d->bit))
			continue;
		if (d->lo.val == 'v')
			snprintf(left, sizeof(left), "-v, --verbosity[=N]");
		else
			snprintf(left, sizeof(left), "%s%c%s--%s%s%s", sn ? "-" : "",
				 sn ? d->lo.val : ' ', sn ? ", " : "   ", d->lo.name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		printf("  %-28s %s\n", left, d->help);
	}
}

static int parse_port(const char *s, int *ret)
{
	int v;

	if (parse_int(s, &v) < 0 || v <= 0 || v > 65535)
		return -EINVAL;
	*ret = v;
	return 0;
}

int opts_parse(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	struct option longopts[ARRAY_SIZE(opt_table) + 1];
	char shortopts[64] = "+";
	size_t n = 0;
	int c, v;

	memset(o, 0, sizeof(*o));
	o->verbosity = LOG_DEFAULT_LEVEL;
	o->status_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(opt_table); i++) {
		const struct opt_desc *d = &opt_table[i];

		if (d->bit && !(cmd->accepted & d->bit))
			continue;
		longopts[n++] = d->lo;
		if (d->lo.val < 256) {
			size_t l = strlen(shortopts);

			shortopts[l++] = (char)d->lo.val;
			if (d->lo.has_arg == required_argument)
				shortopts[l++] = ':';
			else if (d->lo.has_arg == optional_argument) {
				shortopts[l++] = ':';
				shortopts[l++] = ':';
			}
			shortopts[l] = '\0';
		}
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			opts_print_help(cmd);
			return 1;
		case 't':
			if (parse_int(optarg, &v) < 0 || v <= 0) {
				fprintf(stderr, "relive %s: invalid PID '%s'\n", cmd->name, optarg);
				return -EINVAL;
			}
			o->tree = v;
			break;
		case 'D':
			o->images_dir = optarg;
			break;
		case 'W':
			o->work_dir = optarg;
			break;
		case 'o':
			o->log_file = optarg;
			break;
		case 'v':
			if (!optarg || optarg[strspn(optarg, "v")] == '\0') {
				/* -v, -vv: one level above the default per v */
				o->verbosity = LOG_DEFAULT_LEVEL + 1 + (optarg ? (int)strlen(optarg) : 0);
				if (o->verbosity > LOG_DEBUG)
					o->verbosity = LOG_DEBUG;
			} else if (parse_int(optarg, &v) < 0 || v < 0 || v > 4) {
				fprintf(stderr, "relive %s: verbosity must be 0-4, not '%s'\n",
					cmd->name, optarg);
				return -EINVAL;
			} else {
				o->verbosity = v;
			}
			break;
		case 'j':
			o->shell_job = true;
			break;
		case 'R':
			o->leave_running = true;
			break;
		case 'd':
			o->detached = true;
			break;
		case LONG_PIDFILE:
			o->pidfile = optarg;
			break;
		case LONG_LAZY:
			o->lazy_pages = true;
			break;
		case LONG_ADDRESS:
			o->address = optarg;
			break;
		case LONG_PORT:
			if (parse_port(optarg, &o->port) < 0) {
				fprintf(stderr, "relive %s: invalid port '%s' (1-65535)\n", cmd->name,
					optarg);
				return -EINVAL;
			}
			break;
		case LONG_PAGE_SERVER:
			o->page_server = true;
			break;
		case LONG_JSON:
			o->json = true;
			break;
		case LONG_STATUS_FD:
			if (parse_int(optarg, &v) < 0 || v < 0) {
				fprintf(stderr, "relive %s: invalid status fd '%s'\n", cmd->name,
					optarg);
				return -EINVAL;
			}
			o->status_fd = v;
			break;
		case LONG_PREV:
			o->prev_images_dir = optarg;
			break;
		case LONG_NEW_PID_NS:
			o->new_pid_ns = true;
			break;
		case LONG_TCP_EST:
			o->tcp_established = true;
			break;
		case ':':
			fprintf(stderr, "relive %s: option '%s' needs an argument\n", cmd->name,
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "relive %s: unknown option '%s' (see relive %s --help)\n",
				cmd->name, argv[optind - 1], cmd->name);
			return -EINVAL;
		}
	}
	o->nr_args = argc - optind;
	o->args = argv + optind;
	if (o->nr_args > 0 && !cmd->usage[0]) {
		fprintf(stderr, "relive %s: unexpected argument '%s'\n", cmd->name, o->args[0]);
		return -EINVAL;
	}
	return 0;
}

int opts_notify_status(const struct opts *o)
{
	char c = 0;
	int r = 0;

	if (o->status_fd < 0)
		return 0;
	if (write(o->status_fd, &c, 1) != 1)
		r = -errno;
	close(o->status_fd);
	return r;
}
