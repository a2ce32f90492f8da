/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pipes and FIFOs of the dumped tree. A pipe is known by its inode; each
 * open file description of it becomes one files.img entry with the pipe's
 * id, and the data in flight is read once per pipe without taking it out
 * (tee into a private pipe, read that) into pipes-data.img.
 */
#ifndef RELIVE_DUMP_PIPES_H
#define RELIVE_DUMP_PIPES_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fdinfo.pb-c.h"

/* Largest in-flight data we save per pipe: the largest pipe there is. */
#define DUMP_PIPE_MAX_DATA (1u << 31)

struct dump_pipes;

/*
 * Record file description file_id, fd of pid, a pipe or FIFO whose stat is
 * st, opened with flags. The first description of a pipe also reads its
 * capacity and the bytes in flight (the task must be frozen). *pp is
 * allocated on first use. Returns 0 or -errno, logged.
 */
int dump_pipe_collect(struct dump_pipes **pp, pid_t pid, int fd, const struct stat *st,
		      uint32_t flags, uint32_t file_id);

/* Fill ret (an initialised PipeFileEntry) for file_id; -ENOENT if unknown. */
int dump_pipe_entry(const struct dump_pipes *pp, uint32_t file_id, PipeFileEntry *ret);

/* Write pipes-data.img into dirfd when any pipe was seen. */
int dump_pipes_write(const struct dump_pipes *pp, int dirfd);

/* NULL is fine. */
void dump_pipes_free(struct dump_pipes *pp);

/*
 * Read what pipe_fd (a pipe or FIFO, any end) holds without consuming it:
 * returns in *ret a heap buffer of *ret_len bytes (NULL when empty) and
 * its capacity in *ret_size. Exposed for the tests.
 */
int dump_pipe_peek(int pipe_fd, void **ret, size_t *ret_len, uint32_t *ret_size);

#endif
