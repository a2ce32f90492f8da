/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Remote syscalls: run a system call inside a ptrace-stopped task. The task's
 * registers are pointed at a `syscall` instruction (0f 05) in its own memory
 * (its vdso at dump time, relive's scratch page at restore time), the call is
 * run to syscall exit with PTRACE_SYSCALL, RAX is read and the registers are
 * put back. No code is injected.
 */
#ifndef RELIVE_INJECT_H
#define RELIVE_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

#define REMOTE_MAX_DEFERRED 64

struct remote {
	pid_t pid;
	/*
	 * Its tgid and tid as the task itself sees them, for calls that name
	 * the task (signal queueing). remote_init sets both to pid; in a new
	 * pid namespace the caller sets the inner ones.
	 */
	pid_t own_tgid;
	pid_t own_tid;
	/* Address of a 0f 05 pair the task can execute. */
	unsigned long syscall_ip;
	/* Registers to put back after every call. */
	struct user_regs_struct regs;
	/* The last stop was a syscall-exit stop of one of our calls. */
	bool at_syscall_exit;
	/* Task memory for arguments (paths, structs), or 0. */
	unsigned long scratch;
	size_t scratch_len;
	/* Signals dequeued while we ran calls, to queue back (raw siginfo). */
	unsigned nr_deferred;
	unsigned char deferred[REMOTE_MAX_DEFERRED][128];
	/* The task a clone among our calls made, by its pid in relive's
	 * namespace (PTRACE_EVENT_CLONE), or 0. */
	pid_t last_clone;
	/* Number of calls made, for statistics. */
	unsigned long nr_calls;
};

/*
 * Set up rt for a task in ptrace-stop: reads its registers (the ones put
 * back after each call and by remote_fini). syscall_ip must hold 0f 05.
 */
int remote_init(struct remote *rt, pid_t pid, unsigned long syscall_ip);

/*
 * Run syscall nr with up to six arguments. Returns 0 with the syscall's own
 * return value (possibly -errno of the remote call) in *ret, or -errno when
 * ptrace itself failed (the task died, say): that is logged here.
 */
int remote_syscall(struct remote *rt, long *ret, long nr, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);

#define remote_call0(rt, ret, nr)		remote_syscall(rt, ret, nr, 0, 0, 0, 0, 0, 0)
#define remote_call1(rt, ret, nr, a)		remote_syscall(rt, ret, nr, (unsigned long)(a), 0, 0, 0, 0, 0)
#define remote_call2(rt, ret, nr, a, b)                                                             \
	remote_syscall(rt, ret, nr, (unsigned long)(a), (unsigned long)(b), 0, 0, 0, 0)
#define remote_call3(rt, ret, nr, a, b, c)                                                          \
	remote_syscall(rt, ret, nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c), 0, \
		       0, 0)
#define remote_call4(rt, ret, nr, a, b, c, d)                                                       \
	remote_syscall(rt, ret, nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c),    \
		       (unsigned long)(d), 0, 0)
#define remote_call6(rt, ret, nr, a, b, c, d, e, f)                                                 \
	remote_syscall(rt, ret, nr, (unsigned long)(a), (unsigned long)(b), (unsigned long)(c),    \
		       (unsigned long)(d), (unsigned long)(e), (unsigned long)(f))

/* Copy to/from task memory (process_vm_writev/readv, /proc/PID/mem as
 * fallback for read-only pages). */
int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len);
int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len);

/*
 * Map an anonymous scratch area in the task for call arguments (dump side).
 * remote_unmap_scratch removes it.
 */
int remote_map_scratch(struct remote *rt, size_t len);
int remote_unmap_scratch(struct remote *rt);

/* Queue back the signals dequeued during our calls (rt_tgsigqueueinfo in
 * the task itself, so any si_code is allowed). Needs a scratch area. */
int remote_requeue_signals(struct remote *rt);

/*
 * Put the task's registers back for the final resume. When the task sat in
 * an interrupted syscall and our calls left it at a syscall-exit stop, the
 * kernel's restart logic will not run on resume; do its job here.
 */
int remote_fini(struct remote *rt);

/* Find a 0f 05 pair in [start, end) of the task (its vdso). */
int remote_find_syscall_insn(pid_t pid, unsigned long start, unsigned long end,
			     unsigned long *ret);

/* Kernel-internal restart codes a stopped task may show in RAX. */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

/* True when regs show a syscall interrupted with an ERESTART* code. */
bool regs_in_restartable_syscall(const struct user_regs_struct *regs);
/* Turn such regs into a re-execution of the same call (DESIGN.md). */
void regs_restart_syscall(struct user_regs_struct *regs);

#endif
