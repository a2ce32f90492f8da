// SPDX-License-Identifier: GPL-2.0-or-later
/* SIGKILL of a served task and its descendants, through pidfds. */
#define LOG_PREFIX "lazy-pages: "
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kill-tree.h"
#include "log.h"
#include "util.h"

/* Enough for any restored tree; beyond this we stop looking. */
#define MAX_DESCENDANTS 4096

struct found {
	pid_t pid[MAX_DESCENDANTS];
	int pidfd[MAX_DESCENDANTS];
	size_t nr;
};

static void collect(pid_t pid, struct found *f, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[64];
	struct dirent *de;

	if (depth > 64)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *s = NULL;
		char *p, *end;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", pid, de->d_name);
		if (read_file_str(path, &s, NULL) < 0)
			continue;
		for (p = s; *p; p = end) {
			long child = strtol(p, &end, 10);
			int fd;

			if (end == p)
				break;
			if (child <= 0 || f->nr >= MAX_DESCENDANTS)
				continue;
			/* Pin it now; it is ours to kill whatever happens next. */
			fd = (int)syscall(SYS_pidfd_open, (pid_t)child, 0);
			if (fd < 0)
				continue;
			f->pid[f->nr] = (pid_t)child;
			f->pidfd[f->nr++] = fd;
			collect((pid_t)child, f, depth + 1);
		}
	}
}

int lp_kill_tree(pid_t pid, int pidfd, const char *why)
{
	struct found *f = calloc(1, sizeof(*f));
	int n = 0;

	if (f && pid > 0)
		collect(pid, f, 0);
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		pr_err("cannot kill task %d: %s\n", pid, strerror(errno));
	for (size_t i = 0; f && i < f->nr; i++) {
		if (syscall(SYS_pidfd_send_signal, f->pidfd[i], SIGKILL, NULL, 0) == 0) {
			pr_err("killing %d, a descendant of task %d: %s\n", f->pid[i], pid, why);
			n++;
		}
		close(f->pidfd[i]);
	}
	free(f);
	return n;
}
