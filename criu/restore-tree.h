/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan for creating a dumped process tree in an order the kernel
 * allows: every process is created by its dumped parent (parents first,
 * pstree order), a session leader calls setsid() right after it is
 * created (so the children it creates later are born in its session), a
 * group leader calls setpgid(0, 0) right after it is created, and once
 * every process exists, each member of a group led by another process
 * joins it with setpgid(0, leader). Sessions cannot be joined, only
 * inherited: a process that is not a session leader must be in its
 * parent's session. Pure: reads only the pstree of the set.
 */
#ifndef RELIVE_RESTORE_TREE_H
#define RELIVE_RESTORE_TREE_H

#include <stdbool.h>
#include <stdint.h>

struct image_set;

struct tree_step {
	/* Index in set->procs of the parent, -1 for the root. */
	int parent;
	/* setsid() right after creation (it also leads its own group). */
	bool setsid;
	/* setpgid(0, 0) right after creation. */
	bool own_group;
	/* setpgid(0, join_pgid) once all processes exist; 0 for none. */
	uint32_t join_pgid;
};

/*
 * Index of the process pid in set->procs, or -1.
 */
int restore_tree_find(const struct image_set *set, uint32_t pid);

/*
 * Plan the creation of set's tree: *ret gets set->nr_procs steps (heap,
 * the caller frees). With shell_job the root may stay in relive's session
 * (and group, unless it led its own); without it the root must be a
 * session leader. Returns 0, or -ENOTSUP / -EINVAL after one message
 * naming the process whose session or group cannot be rebuilt.
 */
int restore_tree_plan(const struct image_set *set, bool shell_job, struct tree_step **ret);

#endif
