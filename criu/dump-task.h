/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-process state of a dump (core-PID.img): from /proc, from outside
 * syscalls (prlimit, ptrace) and from remote calls in the leader. */
#ifndef RELIVE_DUMP_TASK_H
#define RELIVE_DUMP_TASK_H

struct dump_ctx;
struct dump_task;

/* What must be read before the scratch area exists: smaps, stat, status. */
int dump_task_proc_early(struct dump_task *t);
/* Remote calls in the leader through the scratch area: sigactions,
 * itimers, personality, brk, securebits, dumpable, pdeath signal,
 * timer slack. */
int dump_task_remote_state(struct dump_task *t);
/* The rest from outside: auxv, exe, cwd, root, rlimits, process-wide
 * pending signals. Run after seize_task_remote_done() so that signals
 * queued back are seen. */
int dump_task_proc_state(struct dump_task *t);
/* Write core-PID.img (process and threads). */
int dump_task_write_core(struct dump_ctx *ctx, const struct dump_task *t);
void dump_task_free(struct dump_task *t);

#endif
