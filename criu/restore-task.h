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

#include <sys/types.h>

#include "core.pb-c.h"

struct remote;

/*
 * Run a remote syscall and turn a failure of the call itself into a logged
 * -errno naming the task and what (a short description: "setitimer").
 */
int restore_remote_call(struct remote *rt, const char *what, long nr, unsigned long a1,
			unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5,
			unsigned long a6);

/*
 * Process-wide state, except timers and credentials: personality, signal
 * dispositions, timer slack, nice.
 */
int restore_task_state(struct remote *rt, const TaskCoreEntry *core);

/* Per-thread state of t, run in that thread: name, robust list, tid
 * address, sigaltstack, rseq. */
int restore_thread_state(struct remote *rt, const TaskCoreEntry *core, const ThreadCoreEntry *t);

/*
 * Create thread tid of the task rt by a remote clone3 with set_tid (the
 * task must be traced with PTRACE_O_TRACECLONE), wait for its first stop
 * and set up *ret_rt for remote calls in it (same syscall instruction and
 * scratch room as rt). Its registers are still the clone's: the caller
 * loads the dumped ones at the end.
 */
int restore_clone_thread(struct remote *rt, pid_t tid, struct remote *ret_rt);

/* Interval timers; set late so they lose as little time as possible. */
int restore_task_itimers(struct remote *rt, const TaskCoreEntry *core);

/*
 * Credentials of the calling thread (they are per thread in the kernel:
 * run it in every thread): groups, gids, uids, bounding set, capabilities, ambient
 * set, securebits, no_new_privs, dumpable. The task starts with relive's
 * own credentials; calls that would change nothing are skipped.
 */
int restore_task_creds(struct remote *rt, const CredsEntry *c);

#endif
