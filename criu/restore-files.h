/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Open file descriptions on restore. relive opens every description of
 * files.img once (so one shared between processes keeps one offset) and
 * sends each process the ones it needs in phase A; the process, a fork of
 * relive running our code, installs them at their numbers and sets its
 * file-system state (cwd, root, umask). The child cannot log (its stderr
 * is about to become the restored process's); its errors are written into
 * a phase_a_error that relive reads and prints once the child has exited.
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
 * In relive, before any process exists: open every file description that
 * some fd of set uses (regular files and directories are checked against
 * the dumped device and inode and seeked; pipes, FIFOs and memfds come from
 * restore-pipes / restore-shmem; with shell_job a dumped terminal becomes
 * the terminal relive runs on). *ret_fds gets set->nr_files fds indexed
 * like set->files (-1 where unused). Returns 0 or -errno after one message
 * naming the process and fd.
 */
int restore_files_open(const struct image_set *set, bool shell_job, int **ret_fds);

/* Close what restore_files_open returned and free the array. */
void restore_files_close(int *fds, size_t nr);

/*
 * In relive: send p, over its phase A socket, each description its fds use,
 * once each, in the order of p's fd entries (what restore_fds expects).
 */
int restore_files_send(int sock, const struct image_set *set, const struct image_proc *p,
		       const int *fds);

/*
 * In the child: receive the descriptions restore_files_send sends, install
 * each at every fd number that shares it with the dumped close-on-exec
 * flag, and close every other descriptor of the child (sock included).
 */
int restore_fds(const struct image_proc *p, int sock, struct phase_a_error *err);

/* cwd, root (chroot when not "/") and umask of p. */
int restore_fs_state(const struct image_proc *p, struct phase_a_error *err);

#endif
