/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-thread state of a dump: registers, xstate, signals, rseq, robust
 * list, tid address, sigaltstack, and its thread_core_entry. */
#ifndef RELIVE_DUMP_THREAD_H
#define RELIVE_DUMP_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct dump_task;
struct dump_thread;
struct dump_siginfo;

/*
 * Read what ptrace tells from outside: xstate, blocked mask, pending
 * signals, rseq, robust list, comm; th->rt.regs were read by remote_init.
 */
int dump_thread_ptrace_state(struct dump_task *t, struct dump_thread *th);
/* Remote calls in the thread itself: tid address and sigaltstack, through
 * the task's scratch area. */
int dump_thread_remote_state(struct dump_task *t, struct dump_thread *th);
void dump_thread_free(struct dump_thread *th);

/* Queued siginfos of tid: its own queue, or the process queue (shared). */
int dump_peek_signals(pid_t tid, bool shared, struct dump_siginfo **ret, size_t *ret_nr);

/* A thread_core_entry pointing into th (valid while th lives). */
struct thread_msg {
	ThreadCoreEntry tc;
	UserRegsEntry regs;
	RseqEntry rseq;
	SigaltstackEntry ss;
	ProtobufCBinaryData *pending;
};
int dump_thread_msg(const struct dump_thread *th, struct thread_msg *m);
void dump_thread_msg_free(struct thread_msg *m);

#endif
