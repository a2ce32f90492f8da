/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stopping and releasing the dumped tree with ptrace. Every thread of every
 * process is seized (PTRACE_SEIZE) and brought to an interrupt stop; on the
 * way out each one is either put back exactly as it was (registers,
 * scratch area, deferred signals, detached) or killed. No exit path leaves
 * a task stopped or traced.
 */
#ifndef RELIVE_SEIZE_H
#define RELIVE_SEIZE_H

#include <stdbool.h>
#include <sys/types.h>

struct dump_ctx;
struct dump_task;

/* Most processes and threads per process we agree to stop. */
#define SEIZE_MAX_TASKS	  65536
#define SEIZE_MAX_THREADS 65536

/*
 * Seize the tree rooted at root: fills ctx->tasks, parents first, each
 * with all its threads stopped. On error whatever was seized stays in
 * ctx->tasks for seize_resume_tree() to release. Returns 0 or -errno.
 */
int seize_tree(struct dump_ctx *ctx, pid_t root);

/*
 * Undo what remote calls left in a task: queue back the signals dequeued
 * while they ran (each in the thread that took it) and unmap the scratch
 * area. Safe to call more than once. Returns 0 or -errno (logged).
 */
int seize_task_remote_done(struct dump_task *t);

/* Put every task back as it was and detach. Best effort: keeps going
 * after a failure (logged) so that no other task stays stopped. Returns 0
 * or the first error. */
int seize_resume_tree(struct dump_ctx *ctx);

/* SIGKILL every process of the tree and collect their ptrace exits. */
void seize_kill_tree(struct dump_ctx *ctx);

#endif
