// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-thread state: ptrace reads from outside, remote calls inside. */
#define LOG_PREFIX "dump: "
#include <elf.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "dump-thread.h"
#include "dump.h"
#include "log.h"
#include "util.h"

/* Larger than any XSAVE area a CPU has today (AMX: about 11 KiB). */
#define XSTATE_BUF_SIZE (64u << 10)

static int read_xstate(struct dump_thread *th)
{
	_cleanup_free_ unsigned char *buf = malloc(XSTATE_BUF_SIZE);
	struct iovec iov = {.iov_base = buf, .iov_len = XSTATE_BUF_SIZE};
	unsigned char *exact;

	if (!buf)
		return -ENOMEM;
	if (ptrace(PTRACE_GETREGSET, th->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return pr_err_ret(-errno, "thread %d: cannot read xstate", th->tid);
	if (iov.iov_len == 0 || iov.iov_len >= XSTATE_BUF_SIZE) {
		pr_err("thread %d: xstate of %zu bytes, expected 1..%u\n", th->tid, iov.iov_len,
		       XSTATE_BUF_SIZE - 1);
		return -EPROTO;
	}
	/* SETREGSET on restore wants exactly this size. */
	exact = realloc(buf, iov.iov_len);
	if (!exact)
		return -ENOMEM;
	buf = NULL;
	th->xstate = exact;
	th->xstate_len = iov.iov_len;
	return 0;
}

int dump_peek_signals(pid_t tid, bool shared, struct dump_siginfo **ret, size_t *ret_nr)
{
	_cleanup_free_ struct dump_siginfo *list = NULL;
	size_t nr = 0;

	for (;;) {
		struct __ptrace_peeksiginfo_args args = {
		    .off = nr,
		    .flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
		    .nr = 32,
		};
		struct dump_siginfo *n;
		long got;

		if (nr + args.nr > DUMP_MAX_PENDING) {
			pr_err("not supported: thread %d has more than %d pending signals\n", tid,
			       DUMP_MAX_PENDING);
			return -E2BIG;
		}
		n = reallocarray(list, nr + args.nr, sizeof(*n));
		if (!n)
			return -ENOMEM;
		list = n;
		got = ptrace(PTRACE_PEEKSIGINFO, tid, &args, &list[nr]);
		if (got < 0)
			return pr_err_ret(-errno, "thread %d: cannot read pending signals", tid);
		if (got > args.nr) {
			pr_err("thread %d: PTRACE_PEEKSIGINFO returned %ld of %d\n", tid, got,
			       args.nr);
			return -EPROTO;
		}
		nr += got;
		if (got == 0)
			break;
	}
	*ret = nr ? TAKE_PTR(list) : NULL;
	*ret_nr = nr;
	return 0;
}

static int read_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char name[64];
	size_t len;
	int r;

	snprintf(name, sizeof(name), "task/%d/comm", tid);
	r = dump_read_proc(pid, name, &text, &len);
	if (r < 0)
		return pr_err_ret(r, "thread %d: cannot read its name", tid);
	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	if (len >= size || memchr(text, '\0', len)) {
		pr_err("thread %d: unexpected name in /proc/%d/%s\n", tid, pid, name);
		return -EPROTO;
	}
	memcpy(buf, text, len + 1);
	return 0;
}

int dump_thread_ptrace_state(struct dump_task *t, struct dump_thread *th)
{
	struct __ptrace_rseq_configuration rseq;
	uint64_t head = 0;
	size_t head_len = 0;
	long r;

	r = read_xstate(th);
	if (r < 0)
		return r;
	if (ptrace(PTRACE_GETSIGMASK, th->tid, (void *)sizeof(th->blocked), &th->blocked) < 0)
		return pr_err_ret(-errno, "thread %d: cannot read the signal mask", th->tid);
	r = dump_peek_signals(th->tid, false, &th->pending, &th->nr_pending);
	if (r < 0)
		return r;
	memset(&rseq, 0, sizeof(rseq));
	r = ptrace(PTRACE_GET_RSEQ_CONFIGURATION, th->tid, (void *)sizeof(rseq), &rseq);
	if (r < 0)
		return pr_err_ret(-errno, "thread %d: cannot read the rseq configuration", th->tid);
	if (rseq.rseq_abi_pointer) {
		th->has_rseq = true;
		th->rseq_ptr = rseq.rseq_abi_pointer;
		th->rseq_len = rseq.rseq_abi_size;
		th->rseq_sig = rseq.signature;
		th->rseq_flags = rseq.flags;
	}
	if (syscall(SYS_get_robust_list, th->tid, &head, &head_len) < 0)
		return pr_err_ret(-errno, "thread %d: cannot read the robust list", th->tid);
	th->robust_list = head;
	th->robust_list_len = head_len;
	th->in_syscall = regs_in_restartable_syscall(&th->rt.regs);
	return read_comm(t->pid, th->tid, th->comm, sizeof(th->comm));
}

/* Kernel stack_t on x86_64. */
struct kernel_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

int dump_thread_remote_state(struct dump_task *t, struct dump_thread *th)
{
	unsigned long scratch = t->threads[0].rt.scratch;
	struct kernel_stack ks;
	uint64_t addr;
	long ret;
	int r;

	r = remote_call2(&th->rt, &ret, SYS_prctl, PR_GET_TID_ADDRESS, scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "thread %d: prctl(PR_GET_TID_ADDRESS)", th->tid);
	r = remote_read(t->pid, scratch, &addr, sizeof(addr));
	if (r < 0)
		return r;
	th->clear_child_tid = addr;

	/* Run in the thread: SS_ONSTACK is computed from its own sp. */
	r = remote_call2(&th->rt, &ret, SYS_sigaltstack, 0, scratch);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "thread %d: sigaltstack", th->tid);
	r = remote_read(t->pid, scratch, &ks, sizeof(ks));
	if (r < 0)
		return r;
	th->ss_sp = ks.sp;
	th->ss_flags = (uint32_t)ks.flags;
	th->ss_size = ks.size;
	return 0;
}

void dump_thread_free(struct dump_thread *th)
{
	free(th->xstate);
	th->xstate = NULL;
	free(th->pending);
	th->pending = NULL;
}

int dump_thread_msg(const struct dump_thread *th, struct thread_msg *m)
{
	const struct user_regs_struct *r = &th->rt.regs;

	*m = (struct thread_msg){
	    .tc = THREAD_CORE_ENTRY__INIT,
	    .regs = USER_REGS_ENTRY__INIT,
	    .rseq = RSEQ_ENTRY__INIT,
	    .ss = SIGALTSTACK_ENTRY__INIT,
	};
	m->regs.r15 = r->r15;
	m->regs.r14 = r->r14;
	m->regs.r13 = r->r13;
	m->regs.r12 = r->r12;
	m->regs.bp = r->rbp;
	m->regs.bx = r->rbx;
	m->regs.r11 = r->r11;
	m->regs.r10 = r->r10;
	m->regs.r9 = r->r9;
	m->regs.r8 = r->r8;
	m->regs.ax = r->rax;
	m->regs.cx = r->rcx;
	m->regs.dx = r->rdx;
	m->regs.si = r->rsi;
	m->regs.di = r->rdi;
	m->regs.orig_ax = r->orig_rax;
	m->regs.ip = r->rip;
	m->regs.cs = r->cs;
	m->regs.flags = r->eflags;
	m->regs.sp = r->rsp;
	m->regs.ss = r->ss;
	m->regs.fs_base = r->fs_base;
	m->regs.gs_base = r->gs_base;
	m->regs.ds = r->ds;
	m->regs.es = r->es;
	m->regs.fs = r->fs;
	m->regs.gs = r->gs;

	m->tc.tid = th->tid;
	m->tc.regs = &m->regs;
	m->tc.xstate.data = th->xstate;
	m->tc.xstate.len = th->xstate_len;
	m->tc.blocked = th->blocked;
	if (th->nr_pending) {
		m->pending = calloc(th->nr_pending, sizeof(*m->pending));
		if (!m->pending)
			return -ENOMEM;
		for (size_t i = 0; i < th->nr_pending; i++) {
			m->pending[i].data = (uint8_t *)th->pending[i].raw;
			m->pending[i].len = DUMP_SIGINFO_SIZE;
		}
		m->tc.n_pending = th->nr_pending;
		m->tc.pending = m->pending;
	}
	if (th->has_rseq) {
		m->rseq.rseq_abi_pointer = th->rseq_ptr;
		m->rseq.rseq_abi_size = th->rseq_len;
		m->rseq.signature = th->rseq_sig;
		m->rseq.flags = th->rseq_flags;
		m->tc.rseq = &m->rseq;
	}
	m->tc.has_robust_list = m->tc.has_robust_list_len = true;
	m->tc.robust_list = th->robust_list;
	m->tc.robust_list_len = th->robust_list_len;
	m->tc.has_clear_child_tid = true;
	m->tc.clear_child_tid = th->clear_child_tid;
	m->tc.comm = (char *)th->comm;
	m->ss.sp = th->ss_sp;
	m->ss.flags = th->ss_flags;
	m->ss.size = th->ss_size;
	m->tc.sigaltstack = &m->ss;
	m->tc.has_in_syscall = true;
	m->tc.in_syscall = th->in_syscall;
	return 0;
}

void dump_thread_msg_free(struct thread_msg *m)
{
	free(m->pending);
	m->pending = NULL;
}
