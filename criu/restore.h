/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Restore of an image set, all or nothing: load and check every image,
 * open every file description, create the tree (the root with
 * clone3(set_tid) by relive, optionally inside a new pid namespace, every
 * other process by its restored parent, sessions and groups as
 * restore-tree.h plans them), let each process install its descriptors and
 * file-system state itself (phase A), then rebuild the rest of each from
 * outside over ptrace (phase B: address space, task state, credentials,
 * signals, registers) and release them all together. Any failure kills
 * and reaps every process created so far.
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
struct tree_step;

/* One process of the tree being restored. */
struct restore_proc {
	/* Its pid as relive sees it (outer in a new pid namespace); 0 before
	 * it exists and after it was reaped. */
	pid_t pid;
	int pidfd;
	/* The phase A channel: relive's end and the process's end. */
	int sock;
	int child_sock;
	/* Phase A ended with the process stopped for phase B. */
	bool stopped;
	unsigned long scratch;
	/* Remote calls in the leader. */
	struct remote rt;
	/* Every thread created so far, threads[0] == &rt (heap). */
	struct remote **threads;
	size_t nr_threads;
};

struct restore_ctx {
	const struct opts *o;
	int dirfd;
	struct image_set set;
	struct tree_step *plan;
	/* procs[i] restores set.procs[i]; procs[set.nr_procs] is the init of
	 * a new pid namespace when relive provides one. */
	struct restore_proc *procs;
	size_t nr_slots;
	bool new_pid_ns;
	/* relive's own init of the new pid namespace (index nr_procs). */
	bool own_init;
	/* Processes that are not zombies. */
	uint32_t nr_live;
	/* Shared with the children: why phase A failed, one per slot. */
	struct phase_a_error *err;
	/* Open file descriptions, indexed like set.files. */
	int *file_fds;
};

/*
 * Restore the image set named by o->images_dir. On success the restored
 * tree runs, no longer traced; *ret_pid names the caller's child: the
 * root, or with a new pid namespace its init (which ends with the root's
 * exit status). The pidfile gets the root's pid as the caller sees it. Returns 0 or -errno after
 * one clear message; nothing restored is left behind on failure.
 */
int restore_run(const struct opts *o, pid_t *ret_pid);

/*
 * Wait for the restored root to end; *ret_code gets its exit code, or
 * 128 + the signal that killed it.
 */
int restore_wait(pid_t pid, int *ret_code);

#endif
