/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Phase A of restore, run by the new task itself (a fork of relive) before
 * it stops for phase B: its descriptor table and its file-system state
 * (cwd, root, umask). The child cannot log (its stderr is about to become
 * the restored process's); errors are written into a phase_a_error that
 * the parent reads and prints once the child has exited.
 */
#ifndef RELIVE_RESTORE_FILES_H
#define RELIVE_RESTORE_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct image_set;
struct image_proc;

struct phase_a_error {
	char msg[480];
};

/* Write "fmt ...: strerror(-r)" into err and return r (a -errno). */
int phase_a_fail(struct phase_a_error *err, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a refusal that says all by itself: no strerror appended. */
int phase_a_refuse(struct phase_a_error *err, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Rebuild the descriptor table of p: open each file description once
 * (regular files are checked against the dumped device and inode), seek it,
 * install it at every fd number that shared it, set close-on-exec as
 * dumped, and close every other descriptor of the child. With shell_job,
 * a dumped terminal becomes the terminal relive itself runs on.
 */
int restore_fds(const struct image_set *set, const struct image_proc *p, bool shell_job,
		struct phase_a_error *err);

/* cwd, root (chroot when not "/") and umask of p. */
int restore_fs_state(const struct image_proc *p, struct phase_a_error *err);

#endif
