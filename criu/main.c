// SPDX-License-Identifier: GPL-2.0-or-later
/* relive: the command dispatcher. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "commands.h"
#include "log.h"
#include "options.h"

static const struct command *const commands[] = {
	&cmd_check, &cmd_dump,	     &cmd_pre_dump,    &cmd_restore,
	&cmd_show,  &cmd_lazy_pages, &cmd_page_server,
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: relive COMMAND [options]\n\n"
		   "Checkpoint and restore Linux process trees, with lazy restore through\n"
		   "userfaultfd and post-copy live migration.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nrelive COMMAND --help shows the options of a command.\n"
		   "relive --version prints the version.\n");
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct opts o;
	int r;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("relive %s\n", RELIVE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i]->name))
			cmd = commands[i];
	if (!cmd) {
		fprintf(stderr, "relive: unknown command '%s' (see relive --help)\n", argv[1]);
		return 2;
	}
	r = opts_parse(cmd, argc - 1, argv + 1, &o);
	if (r == 1)
		return 0;
	if (r < 0)
		return 2;
	if (log_init(o.verbosity, o.log_file) < 0)
		return 1;
	r = cmd->run(&o);
	log_fini();
	return r < 0 ? 1 : 0;
}
