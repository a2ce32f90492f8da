/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relive commands, one cmd-<verb>.c each. */
#ifndef RELIVE_COMMANDS_H
#define RELIVE_COMMANDS_H

#include "options.h"

extern const struct command cmd_check;
extern const struct command cmd_show;
extern const struct command cmd_dump;
extern const struct command cmd_pre_dump;
extern const struct command cmd_restore;
extern const struct command cmd_lazy_pages;
extern const struct command cmd_page_server;

/* Print "relive CMD: not implemented yet" and return -ENOSYS. */
int cmd_not_implemented(const char *name);

#endif
