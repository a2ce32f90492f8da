/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last steps of restoring a thread, over ptrace: check that the dumped
 * FPU/vector state fits this CPU, queue the pending signals back (while
 * every signal is still blocked), and load the final registers, xstate and
 * blocked mask.
 */
#ifndef RELIVE_RESTORE_REGS_H
#define RELIVE_RESTORE_REGS_H

#include <sys/types.h>

#include "core.pb-c.h"

struct remote;

/*
 * Compare the dumped xstate of t with what PTRACE_GETREGSET NT_X86_XSTATE
 * returns for the stopped task tid here: the sizes must be equal and the
 * image may use no feature this CPU lacks. Returns 0 or -EINVAL (logged).
 */
int restore_check_xstate(pid_t tid, const ThreadCoreEntry *t);

/*
 * Queue the dumped pending signals of thread t (rt_tgsigqueueinfo) and,
 * when core is given, the process-wide ones (rt_sigqueueinfo), plus any
 * signal our own remote calls had to set aside. The siginfo travels
 * through rt->scratch; the task must have every signal blocked.
 */
int restore_pending_signals(struct remote *rt, const TaskCoreEntry *core, const ThreadCoreEntry *t);

/*
 * Load the final state of thread t: general registers (a syscall that was
 * interrupted is re-executed, orig_rax is always -1), the exact dumped
 * xstate bytes, and the blocked signal mask. The task must be at a ptrace
 * stop where no syscall restart is pending (after our last remote call).
 */
int restore_final_regs(pid_t tid, const ThreadCoreEntry *t);

#endif
