/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Killing a served task together with its descendants. A child forked by a
 * served task after the hand-over is known to the daemon only by its new
 * userfaultfd, not by pid; when the daemon must stop, it is found as a
 * descendant of the task it was forked from.
 */
#ifndef RELIVE_LAZY_KILL_TREE_H
#define RELIVE_LAZY_KILL_TREE_H

#include <sys/types.h>

/*
 * SIGKILL the descendants of pid (children of each of its threads, and so
 * on), then the task itself through pidfd. The descendants are collected
 * first: once pid is dead, they are reparented and can't be found. Each
 * kill is logged with why. Returns the number of descendants killed.
 */
int lp_kill_tree(pid_t pid, int pidfd, const char *why);

#endif
