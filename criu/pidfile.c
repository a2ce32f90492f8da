// SPDX-License-Identifier: GPL-2.0-or-later
/* --pidfile: write a PID and a newline to a file. */
#define LOG_PREFIX ""
#include <fcntl.h>
#include <stdio.h>

#include "log.h"
#include "pidfile.h"
#include "util.h"

int write_pidfile(const char *path, pid_t pid)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char buf[32];
	int n, r;

	if (fd < 0)
		return pr_err_ret(-errno, "cannot create pidfile %s", path);
	n = snprintf(buf, sizeof(buf), "%d\n", pid);
	r = write_all(fd, buf, (size_t)n);
	if (r < 0)
		return pr_err_ret(r, "cannot write pidfile %s", path);
	return 0;
}
