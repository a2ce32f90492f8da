/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --pidfile: write a PID and a newline to a file. */
#ifndef RELIVE_PIDFILE_H
#define RELIVE_PIDFILE_H

#include <sys/types.h>

/* Create or truncate path and write pid to it. 0 or -errno, logged. */
int write_pidfile(const char *path, pid_t pid);

#endif
