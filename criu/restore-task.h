/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Phase B of restore, per-task state set by remote syscalls in the stopped
 * task (after its address space is rebuilt): personality, name, robust
 * list, tid address, sigaltstack, rseq, signal dispositions, timer slack,
 * nice, interval timers and credentials. Argument structs travel through
 * rt->scratch.
 */
#ifndef RELIVE_RESTORE_TASK_H
#define RELIVE_RESTORE_TASK_H

#include "core.pb-c.h"

struct remote;

/*
 * Run a remote syscall and turn a failure of the call itself into a logged
 * -errno naming the task and what (a short description: "setitimer").
 */
int restore_remote_call(struct remote *rt, const char *what, long nr, unsigned long a1,
			unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5,
			unsigned long a6);

/* Process-wide and main-thread state, except timers and credentials. */
int restore_task_state(struct remote *rt, const TaskCoreEntry *core, const ThreadCoreEntry *t);

/* Interval timers; set late so they lose as little time as possible. */
int restore_task_itimers(struct remote *rt, const TaskCoreEntry *core);

/*
 * Credentials: groups, gids, uids, bounding set, capabilities, ambient
 * set, securebits, no_new_privs, dumpable. The task starts with relive's
 * own credentials; calls that would change nothing are skipped.
 */
int restore_task_creds(struct remote *rt, const CredsEntry *c);

#endif
