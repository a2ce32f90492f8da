// SPDX-License-Identifier: GPL-2.0-or-later
/* Remote syscalls in a ptrace-stopped task, caught at syscall exit. */
#define LOG_PREFIX "inject: "
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "inject.h"
#include "log.h"
#include "util.h"

bool regs_in_restartable_syscall(const struct user_regs_struct *regs)
{
	long ax = (long)regs->rax;

	if ((long)regs->orig_rax < 0)
		return false;
	return ax == -ERESTARTSYS || ax == -ERESTARTNOINTR || ax == -ERESTARTNOHAND ||
	       ax == -ERESTART_RESTARTBLOCK;
}

void regs_restart_syscall(struct user_regs_struct *regs)
{
	/*
	 * Re-execute the call itself for all four codes. restart_syscall
	 * would need the kernel's restart block, which a restored task does
	 * not have: nanosleep would return EINTR.
	 */
	regs->rax = regs->orig_rax;
	regs->rip -= 2;
	regs->orig_rax = (unsigned long)-1;
}

int remote_init(struct remote *rt, pid_t pid, unsigned long syscall_ip)
{
	memset(rt, 0, sizeof(*rt));
	rt->pid = pid;
	rt->own_tgid = pid;
	rt->own_tid = pid;
	rt->syscall_ip = syscall_ip;
	if (ptrace(PTRACE_GETREGS, pid, NULL, &rt->regs) < 0)
		return pr_err_ret(-errno, "task %d: cannot read registers", pid);
	return 0;
}

/* Wait for the next syscall stop; defer signals that get in the way. */
static int wait_syscall_stop(struct remote *rt)
{
	for (;;) {
		int status, sig;

		if (waitpid(rt->pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "task %d: waitpid", rt->pid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pr_err("task %d died during a remote syscall (%s %d)\n", rt->pid,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return -ESRCH;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if (sig == (SIGTRAP | 0x80))
			return 0;
		if (status >> 16 == PTRACE_EVENT_CLONE) {
			unsigned long child;

			if (ptrace(PTRACE_GETEVENTMSG, rt->pid, NULL, &child) == 0)
				rt->last_clone = (pid_t)child;
		} else if (status >> 16) {
			/* PTRACE_EVENT_STOP and friends: keep going. */
		} else {
			/* A signal about to be delivered: keep it for later. */
			if (rt->nr_deferred < REMOTE_MAX_DEFERRED &&
			    ptrace(PTRACE_GETSIGINFO, rt->pid, NULL,
				   rt->deferred[rt->nr_deferred]) == 0) {
				rt->nr_deferred++;
				pr_debug("task %d: deferred signal %d\n", rt->pid, sig);
			} else {
				pr_warn("task %d: signal %d arrived during a remote call and could not be kept\n",
					rt->pid, sig);
			}
		}
		if (ptrace(PTRACE_SYSCALL, rt->pid, NULL, 0) < 0)
			return pr_err_ret(-errno, "task %d: PTRACE_SYSCALL", rt->pid);
	}
}

int remote_syscall(struct remote *rt, long *ret, long nr, unsigned long a1, unsigned long a2,
		   unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	struct user_regs_struct r = rt->regs, out;
	int err;

	r.rip = rt->syscall_ip;
	r.rax = nr;
	/* orig_rax = -1: the kernel's restart logic must not touch rip/rax */
	r.orig_rax = (unsigned long)-1;
	r.rdi = a1;
	r.rsi = a2;
	r.rdx = a3;
	r.r10 = a4;
	r.r8 = a5;
	r.r9 = a6;
	if (ptrace(PTRACE_SETREGS, rt->pid, NULL, &r) < 0)
		return pr_err_ret(-errno, "task %d: cannot set registers for syscall %ld", rt->pid,
				  nr);
	/* entry stop, then exit stop */
	for (int stop = 0; stop < 2; stop++) {
		if (ptrace(PTRACE_SYSCALL, rt->pid, NULL, 0) < 0)
			return pr_err_ret(-errno, "task %d: PTRACE_SYSCALL", rt->pid);
		err = wait_syscall_stop(rt);
		if (err < 0)
			return err;
		rt->at_syscall_exit = stop == 1;
	}
	if (ptrace(PTRACE_GETREGS, rt->pid, NULL, &out) < 0)
		return pr_err_ret(-errno, "task %d: cannot read registers after syscall %ld",
				  rt->pid, nr);
	if (out.rip != rt->syscall_ip + 2) {
		pr_err("task %d: syscall %ld stopped at %#llx, expected %#lx\n", rt->pid, nr,
		       out.rip, rt->syscall_ip + 2);
		return -EIO;
	}
	if (ptrace(PTRACE_SETREGS, rt->pid, NULL, &rt->regs) < 0)
		return pr_err_ret(-errno, "task %d: cannot restore registers", rt->pid);
	rt->nr_calls++;
	*ret = (long)out.rax;
	pr_debug("task %d: syscall %ld(%#lx, %#lx, %#lx, ...) = %ld\n", rt->pid, nr, a1, a2, a3,
		 *ret);
	return 0;
}

/*
 * Copy len bytes between buf and the task at addr. /proc/PID/mem is the
 * fallback for what process_vm_* refuses: writes to read-only pages go
 * through FOLL_FORCE there.
 */
static int remote_copy(pid_t pid, unsigned long addr, void *buf, size_t len, bool write)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)addr, .iov_len = len};
	ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
			  : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	char path[64];
	_cleanup_close_ int fd = -1;
	int r;

	if (n == (ssize_t)len)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return pr_err_ret(-errno, "task %d: cannot open %s", pid, path);
	r = write ? pwrite_all(fd, buf, len, (off_t)addr) : pread_all(fd, buf, len, (off_t)addr);
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot %s %zu bytes at %#lx", pid,
				  write ? "write" : "read", len, addr);
	return 0;
}

int remote_write(pid_t pid, unsigned long addr, const void *buf, size_t len)
{
	return remote_copy(pid, addr, (void *)buf, len, true);
}

int remote_read(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	return remote_copy(pid, addr, buf, len, false);
}

int remote_map_scratch(struct remote *rt, size_t len)
{
	long ret;
	int r = remote_call6(rt, &ret, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r < 0)
		return r;
	if (ret < 0 && ret > -4096)
		return pr_err_ret((int)ret, "task %d: cannot map a scratch area", rt->pid);
	rt->scratch = (unsigned long)ret;
	rt->scratch_len = len;
	return 0;
}

int remote_unmap_scratch(struct remote *rt)
{
	long ret;
	int r;

	if (!rt->scratch)
		return 0;
	r = remote_call2(rt, &ret, SYS_munmap, rt->scratch, rt->scratch_len);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: cannot unmap the scratch area", rt->pid);
	rt->scratch = 0;
	return 0;
}

int remote_requeue_signals(struct remote *rt)
{
	for (unsigned i = 0; i < rt->nr_deferred; i++) {
		const siginfo_t *si = (const siginfo_t *)rt->deferred[i];
		long ret;
		int r;

		if (!rt->scratch || rt->scratch_len < 128)
			return -EINVAL;
		r = remote_write(rt->pid, rt->scratch, rt->deferred[i], 128);
		if (r < 0)
			return r;
		r = remote_call4(rt, &ret, SYS_rt_tgsigqueueinfo, rt->own_tgid, rt->own_tid,
				 si->si_signo,
				 rt->scratch);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret((int)ret, "task %d: cannot queue back signal %d",
					  rt->pid, si->si_signo);
	}
	rt->nr_deferred = 0;
	return 0;
}

int remote_fini(struct remote *rt)
{
	struct user_regs_struct r = rt->regs;

	/*
	 * A task interrupted in a syscall would have been restarted by the
	 * kernel on resume from its original stop. After our calls it resumes
	 * from a syscall-exit stop, where no restart happens: do it now.
	 */
	if (rt->at_syscall_exit && regs_in_restartable_syscall(&r))
		regs_restart_syscall(&r);
	if (ptrace(PTRACE_SETREGS, rt->pid, NULL, &r) < 0)
		return pr_err_ret(-errno, "task %d: cannot restore registers", rt->pid);
	return 0;
}

int remote_find_syscall_insn(pid_t pid, unsigned long start, unsigned long end,
			     unsigned long *ret)
{
	_cleanup_free_ unsigned char *buf = NULL;
	size_t len = end - start;
	int r;

	if (end <= start || len > (1u << 20))
		return -EINVAL;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	r = remote_read(pid, start, buf, len);
	if (r < 0)
		return r;
	/* Any 0f 05 works: execution stops at syscall exit, before the
	 * next instruction, so it needs no instruction boundary after it. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			*ret = start + i;
			return 0;
		}
	}
	pr_err("task %d: no syscall instruction in [%#lx, %#lx)\n", pid, start, end);
	return -ENOENT;
}
