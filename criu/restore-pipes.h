/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pipes and FIFOs on restore, opened by relive itself (not by the restored
 * task): each open file description is created once and then handed to the
 * processes that share it. Both ends of one dumped pipe come from one new
 * pipe, and the data that was in flight at dump time is written back into
 * it before any process runs.
 */
#ifndef RELIVE_RESTORE_PIPES_H
#define RELIVE_RESTORE_PIPES_H

#include "fdinfo.pb-c.h"

struct image_set;
struct restore_pipes;

/*
 * Open the file description fe (FT_PIPE or FT_FIFO) of set: returns in
 * *ret_fd a new fd (close-on-exec, owned by the caller) of the right end
 * with the dumped status flags (O_NONBLOCK, ...). The first end opened of
 * a pipe creates it, sets its size and refills its data; the other end is
 * kept in set's pipe cache until its own call. A FIFO is opened by path
 * without blocking (relive holds it open read-write while the data is put
 * back). Returns 0 or -errno, logged.
 */
int restore_pipe_open(const struct image_set *set, const FileEntry *fe, int *ret_fd);

/*
 * Load pipes-data.img from dirfd and check it and the pipe entries of set
 * (each pipe's descriptions agree on its kind and size, data fits the
 * pipe and belongs to one). *ret is the per-restore pipe cache. Returns 0
 * or -errno, logged.
 */
int restore_pipes_load(int dirfd, const struct image_set *set, struct restore_pipes **ret);

/*
 * Close the pipe ends relive still holds. Call it once every description
 * is installed in its process and before the tree runs: a write end kept
 * open by relive would keep readers from seeing end of file. Opening a
 * pipe after this fails. NULL is fine.
 */
void restore_pipes_release(struct restore_pipes *p);

/* Release and free; NULL is fine. */
void restore_pipes_free(struct restore_pipes *p);

#endif
