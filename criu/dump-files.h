/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File descriptors of the dumped tree: every open file description once
 * in files.img (fds sharing one, after dup or fork, share its id: kcmp
 * tells), each process's table in fds-PID.img. Regular files, directories,
 * a few character devices, with --shell-job the terminal, pipes and FIFOs
 * (dump-pipes.c) and memfds (dump-shmem.c); anything else is refused with
 * "not supported: fd N is a <kind>".
 */
#ifndef RELIVE_DUMP_FILES_H
#define RELIVE_DUMP_FILES_H

#include <stdbool.h>
#include <stdint.h>

struct dump_ctx;
struct dump_task;

/* Collect t's fds into t->fds and new descriptions into ctx->files. */
int dump_task_files(struct dump_ctx *ctx, struct dump_task *t);
/* Write fds-PID.img. */
int dump_write_fds(struct dump_ctx *ctx, const struct dump_task *t);
/* Write files.img. */
int dump_write_files(struct dump_ctx *ctx);
void dump_files_free(struct dump_ctx *ctx);

/* True for the character devices we reopen by path (null, zero, full,
 * random, urandom) and for terminals. */
bool dump_chr_is_plain(unsigned major, unsigned minor);
bool dump_chr_is_tty(unsigned major, unsigned minor);

#endif
