/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restore of an image set, all or nothing: load and check every image,
 * create the task with clone3(set_tid), let it rebuild its descriptors and
 * file-system state itself (phase A), then rebuild the rest from outside
 * over ptrace (phase B: address space, task state, credentials, signals,
 * registers) and let it run. Any failure after the task exists kills it.
 *
 * The scratch area (RESTORE_SCRATCH_SIZE at a hole of the final layout)
 * holds the 0f 05 that remote calls execute at its first byte
 * (rt.syscall_ip). restore_mm gets the whole area in rt.scratch/scratch_len
 * (it keeps the first page for code); afterwards rt.scratch/scratch_len
 * are narrowed to the argument room after the first page.
 */
#ifndef RELIVE_RESTORE_H
#define RELIVE_RESTORE_H

#include <stdbool.h>
#include <sys/types.h>

#include "image-set.h"
#include "inject.h"

struct opts;
struct phase_a_error;

struct restore_ctx {
	const struct opts *o;
	int dirfd;
	struct image_set set;
	/* The task being restored: 0 before clone3, and after it was reaped. */
	pid_t pid;
	/* Shared with the child: the reason phase A failed. */
	struct phase_a_error *err;
	unsigned long scratch;
	/* Remote calls in the leader. */
	struct remote rt;
	/* Every thread created so far, threads[0] == &rt (heap). */
	struct remote **threads;
	size_t nr_threads;
};

/*
 * Restore the image set named by o->images_dir. On success the restored
 * root runs, no longer traced, as a child of the caller, and *ret_pid
 * names it. Returns 0 or -errno after one clear message; nothing restored
 * is left behind on failure.
 */
int restore_run(const struct opts *o, pid_t *ret_pid);

/*
 * Wait for the restored root to end; *ret_code gets its exit code, or
 * 128 + the signal that killed it.
 */
int restore_wait(pid_t pid, int *ret_code);

#endif
