// SPDX-License-Identifier: GPL-2.0-or-later
/* Final registers, xstate, sigmask and pending signals of a restored thread. */
#define LOG_PREFIX "restore: "
#include <elf.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "inject.h"
#include "log.h"
#include "restore-regs.h"
#include "restore-task.h"
#include "util.h"

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

/* Offsets inside an XSAVE area (the kernel's uabi layout). */
#define XSAVE_HDR_BV_OFF 512 /* xsave header: xstate_bv */
#define XSTATE_BUF_MAX	 (1u << 16)

#define SIGINFO_SIZE 128

/* The state components this CPU and kernel enable (XCR0). */
static uint64_t xcr0_here(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

int restore_check_xstate(pid_t tid, const ThreadCoreEntry *t)
{
	_cleanup_free_ uint8_t *buf = calloc(1, XSTATE_BUF_MAX);
	struct iovec iov = {.iov_base = buf, .iov_len = XSTATE_BUF_MAX};
	uint64_t here, used;

	if (!buf)
		return -ENOMEM;
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return pr_err_ret(-errno, "task %d: cannot read this CPU's xstate layout", tid);
	if (iov.iov_len != t->xstate.len) {
		pr_err("task %d: the image's FPU/vector state (xstate) is %zu bytes, this CPU's "
		       "is %zu: the image comes from an incompatible CPU\n",
		       tid, t->xstate.len, iov.iov_len);
		return -EINVAL;
	}
	if (iov.iov_len < XSAVE_HDR_BV_OFF + 8)
		return 0;
	/* GETREGSET worked, so the kernel uses XSAVE and xgetbv is allowed. */
	here = xcr0_here();
	memcpy(&used, t->xstate.data + XSAVE_HDR_BV_OFF, sizeof(used));
	if (used & ~here) {
		pr_err("task %d: the image uses CPU state features %#" PRIx64
		       " that this CPU does not have (it has %#" PRIx64 ")\n",
		       tid, used & ~here, here);
		return -EINVAL;
	}
	return 0;
}

static int queue_one(struct remote *rt, const ProtobufCBinaryData *si, pid_t tid)
{
	int signo;
	int r;

	if (si->len != SIGINFO_SIZE || rt->scratch_len < SIGINFO_SIZE)
		return -EINVAL;
	memcpy(&signo, si->data, sizeof(signo)); /* si_signo comes first */
	if (signo < 1 || signo > 64) {
		pr_err("task %d: pending signal %d out of range\n", rt->pid, signo);
		return -EINVAL;
	}
	r = remote_write(rt->pid, rt->scratch, si->data, SIGINFO_SIZE);
	if (r < 0)
		return r;
	/* The task queues to itself, so any si_code is accepted. */
	if (tid)
		return restore_remote_call(rt, "rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo,
					   rt->own_tgid, tid, signo, rt->scratch, 0, 0);
	return restore_remote_call(rt, "rt_sigqueueinfo", SYS_rt_sigqueueinfo, rt->own_tgid,
				   signo, rt->scratch, 0, 0, 0);
}

int restore_pending_signals(struct remote *rt, const TaskCoreEntry *core, const ThreadCoreEntry *t)
{
	int r;

	for (size_t i = 0; i < t->n_pending; i++) {
		r = queue_one(rt, &t->pending[i], (pid_t)t->tid);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; core && i < core->n_shared_pending; i++) {
		r = queue_one(rt, &core->shared_pending[i], 0);
		if (r < 0)
			return r;
	}
	return remote_requeue_signals(rt);
}

static void regs_from_image(const UserRegsEntry *e, struct user_regs_struct *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = e->r15;
	r->r14 = e->r14;
	r->r13 = e->r13;
	r->r12 = e->r12;
	r->rbp = e->bp;
	r->rbx = e->bx;
	r->r11 = e->r11;
	r->r10 = e->r10;
	r->r9 = e->r9;
	r->r8 = e->r8;
	r->rax = e->ax;
	r->rcx = e->cx;
	r->rdx = e->dx;
	r->rsi = e->si;
	r->rdi = e->di;
	r->orig_rax = e->orig_ax;
	r->rip = e->ip;
	r->cs = e->cs;
	r->eflags = e->flags;
	r->rsp = e->sp;
	r->ss = e->ss;
	r->fs_base = e->fs_base;
	r->gs_base = e->gs_base;
	r->ds = e->ds;
	r->es = e->es;
	r->fs = e->fs;
	r->gs = e->gs;
}

int restore_final_regs(pid_t tid, const ThreadCoreEntry *t)
{
	struct user_regs_struct regs;
	struct iovec iov = {.iov_base = t->xstate.data, .iov_len = t->xstate.len};
	uint64_t mask = t->blocked;

	regs_from_image(t->regs, &regs);
	/*
	 * A thread stopped inside an interrupted syscall re-executes it: the
	 * task resumes from a syscall-exit stop of our own call, where the
	 * kernel's restart logic no longer runs.
	 */
	if (regs_in_restartable_syscall(&regs)) {
		pr_debug("task %d: re-executing interrupted syscall %llu at %#llx\n", tid,
			 regs.orig_rax, regs.rip - 2);
		regs_restart_syscall(&regs);
	}
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0)
		return pr_err_ret(-errno, "task %d: cannot set the dumped registers", tid);
	if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
		return pr_err_ret(-errno, "task %d: cannot set the dumped xstate (%zu bytes)", tid,
				  t->xstate.len);
	if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return pr_err_ret(-errno, "task %d: cannot set the blocked signal mask", tid);
	return 0;
}
