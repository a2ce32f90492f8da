// SPDX-License-Identifier: GPL-2.0-or-later
/* Order of process creation, sessions and groups of a restored tree. */
#define LOG_PREFIX "restore-tree: "
#include <errno.h>
#include <stdlib.h>

#include "image-set.h"
#include "log.h"
#include "restore-tree.h"
#include "util.h"

int restore_tree_find(const struct image_set *set, uint32_t pid)
{
	for (size_t i = 0; i < set->nr_procs; i++)
		if (set->pstree[i]->pid == pid)
			return (int)i;
	return -1;
}

static int plan_root(const PstreeEntry *ps, bool shell_job, struct tree_step *s)
{
	s->parent = -1;
	if (ps->sid == ps->pid) {
		if (ps->pgid != ps->pid) {
			pr_err("pstree.img: session leader %u is in group %u, not its own\n",
			       ps->pid, ps->pgid);
			return -EINVAL;
		}
		s->setsid = true;
		return 0;
	}
	if (!shell_job) {
		pr_err("not supported: process %u is not a session leader (its session is %u): "
		       "restore it with --shell-job\n",
		       ps->pid, ps->sid);
		return -ENOTSUP;
	}
	/* A shell job stays in relive's session; its own group if it led one. */
	s->own_group = ps->pgid == ps->pid;
	return 0;
}

/*
 * The group of process i is not led by a process of the tree. Only the
 * group a shell job's root was in (relive's own, on restore) can be
 * inherited that way, and only along an unbroken line of parents in it.
 */
static int plan_outside_group(const struct image_set *set, size_t i, int parent)
{
	const PstreeEntry *root = set->pstree[0];
	const PstreeEntry *ps = set->pstree[i];

	if (ps->pgid == root->pgid && root->pgid != root->pid &&
	    set->pstree[parent]->pgid == ps->pgid)
		return 0;
	pr_err("not supported: process group %u of process %u has no leader in the tree\n",
	       ps->pgid, ps->pid);
	return -ENOTSUP;
}

int restore_tree_plan(const struct image_set *set, bool shell_job, struct tree_step **ret)
{
	_cleanup_free_ struct tree_step *steps = calloc(set->nr_procs, sizeof(*steps));
	int r;

	if (!steps)
		return -ENOMEM;
	r = plan_root(set->pstree[0], shell_job, &steps[0]);
	if (r < 0)
		return r;
	for (size_t i = 1; i < set->nr_procs; i++) {
		const PstreeEntry *ps = set->pstree[i];
		struct tree_step *s = &steps[i];
		const PstreeEntry *pps;
		int leader;

		s->parent = restore_tree_find(set, ps->ppid);
		/* image_set_check put every parent before its children. */
		if (s->parent < 0 || (size_t)s->parent >= i) {
			pr_err("pstree.img: parent %u of %u is not listed before it\n", ps->ppid,
			       ps->pid);
			return -EINVAL;
		}
		pps = set->pstree[s->parent];
		if (ps->sid == ps->pid) {
			if (ps->pgid != ps->pid) {
				pr_err(
				    "pstree.img: session leader %u is in group %u, not its own\n",
				    ps->pid, ps->pgid);
				return -EINVAL;
			}
			s->setsid = true;
			continue;
		}
		if (ps->sid != pps->sid) {
			pr_err("not supported: process %u is in session %u, but its parent %u is "
			       "in session %u (a session can only be inherited)\n",
			       ps->pid, ps->sid, pps->pid, pps->sid);
			return -ENOTSUP;
		}
		if (ps->pgid == ps->pid) {
			s->own_group = true;
			continue;
		}
		leader = restore_tree_find(set, ps->pgid);
		if (leader < 0) {
			r = plan_outside_group(set, i, s->parent);
			if (r < 0)
				return r;
			continue;
		}
		if (set->pstree[leader]->sid != ps->sid) {
			pr_err("pstree.img: process %u is in group %u of another session (%u, "
			       "not %u)\n",
			       ps->pid, ps->pgid, set->pstree[leader]->sid, ps->sid);
			return -EINVAL;
		}
		if (set->pstree[leader]->pgid != ps->pgid) {
			pr_err("pstree.img: process %u is in group %u, whose leader is in group "
			       "%u\n",
			       ps->pid, ps->pgid, set->pstree[leader]->pgid);
			return -EINVAL;
		}
		s->join_pgid = ps->pgid;
	}
	*ret = TAKE_PTR(steps);
	return 0;
}
