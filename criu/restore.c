// SPDX-License-Identifier: GPL-2.0-or-later
/* Restore orchestration: images, clone3, phase A in the child, phase B over ptrace. */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "restore-files.h"
#include "restore-mm.h"
#include "restore-regs.h"
#include "restore-task.h"
#include "restore.h"
#include "uffd.h"
#include "util.h"

static const char *const rlimit_names[RLIM_NLIMITS] = {
    [RLIMIT_CPU] = "RLIMIT_CPU",	   [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
    [RLIMIT_DATA] = "RLIMIT_DATA",	   [RLIMIT_STACK] = "RLIMIT_STACK",
    [RLIMIT_CORE] = "RLIMIT_CORE",	   [RLIMIT_RSS] = "RLIMIT_RSS",
    [RLIMIT_NPROC] = "RLIMIT_NPROC",	   [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
    [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
    [RLIMIT_LOCKS] = "RLIMIT_LOCKS",	   [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
    [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
    [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",	   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

/* ---- phase A: in the child ---- */

static int phase_a_rlimits(const TaskCoreEntry *core, struct phase_a_error *err)
{
	for (size_t i = 0; i < core->n_rlimits; i++) {
		const RlimitEntry *e = core->rlimits[i];
		struct rlimit want = {.rlim_cur = e->cur, .rlim_max = e->max}, cur;
		const char *name = rlimit_names[e->resource] ? rlimit_names[e->resource] : "?";

		if (getrlimit((int)e->resource, &cur) < 0)
			return phase_a_fail(err, -errno, "cannot read %s", name);
		if (cur.rlim_cur == want.rlim_cur && cur.rlim_max == want.rlim_max)
			continue;
		if (setrlimit((int)e->resource, &want) == 0)
			continue;
		if (errno == EPERM && want.rlim_max > cur.rlim_max)
			return phase_a_refuse(
			    err, -EPERM,
			    "raising the hard limit of %s from %llu to %llu needs "
			    "CAP_SYS_RESOURCE, which relive does not have here",
			    name, (unsigned long long)cur.rlim_max,
			    (unsigned long long)want.rlim_max);
		return phase_a_fail(err, -errno, "cannot set %s to %llu/%llu", name,
				    (unsigned long long)want.rlim_cur,
				    (unsigned long long)want.rlim_max);
	}
	return 0;
}

static int phase_a_session(const PstreeEntry *ps, bool shell_job, struct phase_a_error *err)
{
	if (ps->sid == ps->pid) {
		if (setsid() < 0)
			return phase_a_fail(err, -errno, "setsid");
		return 0;
	}
	if (!shell_job)
		return phase_a_refuse(err, -ENOTSUP,
				      "not supported: process %u is not a session leader (its "
				      "session is %u): restore it with --shell-job",
				      ps->pid, ps->sid);
	/* A shell job joins relive's session; its own group if it led one. */
	if (ps->pgid == ps->pid && setpgid(0, 0) < 0)
		return phase_a_fail(err, -errno, "setpgid");
	return 0;
}

static int phase_a_scratch(unsigned long addr, struct phase_a_error *err)
{
	uint64_t all = ~0ull;
	void *p;

	/* Signals stay blocked until the final mask is loaded in phase B. */
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all)) < 0)
		return phase_a_fail(err, -errno, "cannot block signals");
	p = mmap((void *)addr, RESTORE_SCRATCH_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return phase_a_fail(err, -errno, "cannot map the scratch area at %#lx", addr);
	if (p != (void *)addr) {
		munmap(p, RESTORE_SCRATCH_SIZE);
		return phase_a_refuse(err, -EEXIST, "the scratch area landed at %p, not %#lx", p,
				      addr);
	}
	/* The syscall instruction every remote call of phase B executes. */
	((unsigned char *)p)[0] = 0x0f;
	((unsigned char *)p)[1] = 0x05;
	return 0;
}

static __attribute__((noreturn)) void phase_a(struct restore_ctx *ctx, int sync_fd)
{
	const struct image_proc *p = &ctx->set.procs[0];
	struct phase_a_error *err = ctx->err;
	char c;

	/* Nothing may happen before relive traces us: a failure would go unseen. */
	if (read(sync_fd, &c, 1) != 1) {
		phase_a_refuse(err, -EPIPE, "relive did not start tracing the task");
		_exit(1);
	}
	if (restore_fds(&ctx->set, p, ctx->o->shell_job, err) < 0 || restore_fs_state(p, err) < 0 ||
	    phase_a_session(p->pstree, ctx->o->shell_job, err) < 0 ||
	    phase_a_scratch(ctx->scratch, err) < 0 || phase_a_rlimits(p->core, err) < 0)
		_exit(1);
	/*
	 * Stop for phase B. glibc's raise() would use the tid it cached for
	 * relive, so the raw syscalls name this task.
	 */
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	phase_a_refuse(err, -EIO, "resumed before phase B");
	_exit(1);
}

/* ---- parent side ---- */

/* Kill the task being restored and reap it: nothing half-restored stays. */
static void restore_abort(struct restore_ctx *ctx)
{
	int status;

	if (ctx->pid <= 0)
		return;
	kill(ctx->pid, SIGKILL);
	/*
	 * Traced threads are reaped by us too, and the leader is reported
	 * only after them: wait for any until the leader is gone (relive
	 * has no other child while it restores).
	 */
	for (;;) {
		pid_t w = waitpid(-1, &status, __WALL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w == ctx->pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
	}
	ctx->pid = 0;
}

static int check_supported(const struct restore_ctx *ctx)
{
	const struct image_set *set = &ctx->set;
	const struct image_proc *p = &set->procs[0];

	if (ctx->o->new_pid_ns) {
		pr_err("not supported yet: restore --new-pid-ns\n");
		return -ENOTSUP;
	}
	if (set->nr_procs > 1) {
		pr_err("not supported: the image holds a tree of %zu processes\n", set->nr_procs);
		return -ENOTSUP;
	}
	if (p->core->state != TASK_STATE__TASK_ALIVE) {
		pr_err("not supported: process %u was %s when dumped\n", p->core->pid,
		       p->core->state == TASK_STATE__TASK_ZOMBIE ? "a zombie" : "stopped");
		return -ENOTSUP;
	}
	for (size_t i = 0; i < p->pages.nr_entries; i++) {
		uint32_t flags = p->pages.entries[i]->flags;

		/* Pages on a page server come through the lazy-pages daemon. */
		if (flags & PAGEMAP_FLAG__PE_PARENT ||
		    (flags & PAGEMAP_FLAG__PE_REMOTE && !ctx->o->lazy_pages)) {
			pr_err("not supported: pagemap-%u.img entry %zu has its pages %s\n",
			       p->core->pid, i,
			       p->pages.entries[i]->flags & PAGEMAP_FLAG__PE_PARENT
				   ? "in a parent image set"
				   : "on a page server");
			return -ENOTSUP;
		}
	}
	return 0;
}

/* clone3 with set_tid: the child gets the dumped pid or nothing. */
static pid_t clone_with_pid(pid_t pid)
{
	pid_t tid = pid;
	struct clone_args args = {
	    .exit_signal = SIGCHLD,
	    .set_tid = (uint64_t)(uintptr_t)&tid,
	    .set_tid_size = 1,
	};

	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

/* Wait for the child to stop at the end of phase A, or report its failure. */
static int wait_phase_a(struct restore_ctx *ctx)
{
	for (;;) {
		int status, sig;

		if (waitpid(ctx->pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "waitpid(%d)", ctx->pid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			pid_t pid = ctx->pid;

			ctx->pid = 0; /* reaped */
			if (ctx->err->msg[0])
				pr_err("phase A of task %d failed: %s\n", pid, ctx->err->msg);
			else if (WIFSIGNALED(status))
				pr_err("phase A of task %d failed: killed by signal %d\n", pid,
				       WTERMSIG(status));
			else
				pr_err("phase A of task %d failed: exit status %d\n", pid,
				       WEXITSTATUS(status));
			return -ECHILD;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if ((status >> 16) == 0 && sig == SIGSTOP)
			return 0;
		/* A group stop: go on. A signal from elsewhere: deliver it. */
		if (ptrace(PTRACE_CONT, ctx->pid, NULL, (status >> 16) ? 0 : sig) < 0)
			return pr_err_ret(-errno, "task %d: PTRACE_CONT", ctx->pid);
	}
}

static int write_pidfile(const char *path, pid_t pid)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char buf[32];
	int n, r;

	if (fd < 0)
		return pr_err_ret(-errno, "cannot create pidfile %s", path);
	n = snprintf(buf, sizeof(buf), "%d\n", pid);
	r = write_all(fd, buf, (size_t)n);
	if (r < 0)
		return pr_err_ret(r, "cannot write pidfile %s", path);
	return 0;
}

/* Create the task's userfaultfd and give it to the lazy-pages daemon. */
static int hand_over_lazy_memory(struct restore_ctx *ctx)
{
	const struct image_proc *p = &ctx->set.procs[0];
	const char *dir = ctx->o->work_dir     ? ctx->o->work_dir
			  : ctx->o->images_dir ? ctx->o->images_dir
					       : ".";
	_cleanup_close_ int uffd = -1;
	char sock[108];
	int r;

	r = uffd_socket_path(dir, sock, sizeof(sock));
	if (r < 0)
		return r;
	r = uffd_create_in_task(&ctx->rt, p->mm, &p->pages, &uffd);
	if (r < 0)
		return r;
	return uffd_send_to_daemon(sock, p->pstree->pid, ctx->pid, (uint32_t)ctx->set.nr_procs,
				   ctx->set.inventory->image_set_id, uffd);
}

/* Phase B: everything the child cannot do for itself. */
static int phase_b(struct restore_ctx *ctx)
{
	const struct image_proc *p = &ctx->set.procs[0];
	const TaskCoreEntry *core = p->core;
	struct remote *rt = &ctx->rt;
	size_t nr = core->n_threads;
	int r;

	r = restore_check_xstate(ctx->pid, core->threads[0]);
	if (r < 0)
		return r;
	r = remote_init(rt, ctx->pid, ctx->scratch);
	if (r < 0)
		return r;
	/* restore_mm wants the whole area; it keeps its first page for code. */
	rt->scratch = ctx->scratch;
	rt->scratch_len = RESTORE_SCRATCH_SIZE;
	r = restore_mm(rt, p->mm, &p->pages, ctx->o->lazy_pages);
	if (r < 0)
		return r;
	/* From here on rt->scratch is argument room only, after the 0f 05. */
	rt->scratch = ctx->scratch + PAGE_SIZE_4K;
	rt->scratch_len = RESTORE_SCRATCH_SIZE - PAGE_SIZE_4K;
	/*
	 * The daemon must serve the lazy memory before anything below
	 * touches it (rseq registration writes into glibc's TLS), and the
	 * userfaultfd must exist before credentials drop.
	 */
	if (ctx->o->lazy_pages) {
		r = hand_over_lazy_memory(ctx);
		if (r < 0)
			return r;
	}
	/* Threads first: clone3 with set_tid needs relive's privileges. */
	ctx->threads = calloc(nr, sizeof(*ctx->threads));
	if (!ctx->threads)
		return -ENOMEM;
	ctx->threads[0] = rt;
	for (size_t i = 1; i < nr; i++) {
		struct remote *trt = calloc(1, sizeof(*trt));

		if (!trt)
			return -ENOMEM;
		ctx->threads[i] = trt;
		r = restore_clone_thread(rt, (pid_t)core->threads[i]->tid, trt);
		if (r < 0)
			return r;
		ctx->nr_threads = i + 1;
	}
	ctx->nr_threads = nr;
	for (size_t i = 0; i < nr; i++) {
		r = restore_thread_state(ctx->threads[i], core, core->threads[i]);
		if (r < 0)
			return r;
	}
	r = restore_task_state(rt, core);
	if (r < 0)
		return r;
	/* Credentials are per thread; the leader's go last. */
	for (size_t i = nr; i-- > 0;) {
		r = restore_task_creds(ctx->threads[i], core->creds);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < nr; i++) {
		r = restore_pending_signals(rt, i == 0 ? core : NULL, core->threads[i]);
		if (r < 0)
			return r;
		/* Every signal is blocked, so no thread but the leader can
		 * have had one set aside during our calls. */
		if (i > 0 && ctx->threads[i]->nr_deferred)
			pr_warn("thread %u: %u signals arrived during restore and are lost\n",
				core->threads[i]->tid, ctx->threads[i]->nr_deferred);
	}
	r = restore_task_itimers(rt, core);
	if (r < 0)
		return r;
	/*
	 * The last remote call unmaps the page it runs from: it is caught at
	 * syscall exit, before the next instruction would fault, and the
	 * final registers replace RIP anyway.
	 */
	r = restore_remote_call(rt, "munmap of the scratch area", SYS_munmap, ctx->scratch,
				RESTORE_SCRATCH_SIZE, 0, 0, 0, 0);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nr; i++) {
		r = restore_final_regs(ctx->threads[i]->pid, core->threads[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static double elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static int restore_task(struct restore_ctx *ctx)
{
	const struct image_proc *p = &ctx->set.procs[0];
	pid_t want = (pid_t)p->pstree->pid;
	int sync[2] = {-1, -1};
	pid_t pid;
	int r;

	r = restore_mm_pick_scratch(p->mm, RESTORE_SCRATCH_SIZE, &ctx->scratch);
	if (r < 0)
		return r;
	if (pipe2(sync, O_CLOEXEC) < 0)
		return pr_err_ret(-errno, "pipe");
	/* Flush before the fork so that nothing buffered is written twice. */
	fflush(NULL);
	pid = clone_with_pid(want);
	if (pid == 0) {
		close(sync[1]);
		phase_a(ctx, sync[0]);
	}
	close(sync[0]);
	if (pid < 0) {
		r = -errno;
		close(sync[1]);
		if (r == -EEXIST) {
			pr_err("PID %d is in use: cannot restore process %d with its own pid\n",
			       want, want);
			return r;
		}
		return pr_err_ret(r, "clone3 with pid %d", want);
	}
	ctx->pid = pid;
	pr_debug("task %d created\n", pid);
	if (ptrace(PTRACE_SEIZE, pid, NULL,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL) < 0) {
		r = pr_err_ret(-errno, "task %d: PTRACE_SEIZE", pid);
		close(sync[1]);
		return r;
	}
	r = write_all(sync[1], "x", 1);
	close(sync[1]);
	if (r < 0)
		return pr_err_ret(r, "task %d: cannot start phase A", pid);
	r = wait_phase_a(ctx);
	if (r < 0)
		return r;
	pr_debug("task %d: phase A done\n", pid);
	r = phase_b(ctx);
	if (r < 0)
		return r;
	if (ctx->o->pidfile) {
		r = write_pidfile(ctx->o->pidfile, pid);
		if (r < 0)
			return r;
	}
	/* Threads first: the leader's detach lets the process run. */
	for (size_t i = ctx->nr_threads; i-- > 0;) {
		pid_t tid = ctx->threads[i]->pid;

		if (ptrace(PTRACE_DETACH, tid, NULL, 0) < 0)
			return pr_err_ret(-errno, "thread %d: PTRACE_DETACH", tid);
	}
	return 0;
}

int restore_run(const struct opts *o, pid_t *ret_pid)
{
	const char *dir = o->images_dir ? o->images_dir : ".";
	struct restore_ctx ctx = {.o = o, .dirfd = -1};
	struct timespec start;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &start);
	ctx.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0)
		return pr_err_ret(-errno, "cannot open the images directory %s", dir);
	r = image_set_load(ctx.dirfd, dir, &ctx.set);
	if (r < 0)
		goto out;
	r = check_supported(&ctx);
	if (r < 0)
		goto out;
	ctx.err =
	    mmap(NULL, sizeof(*ctx.err), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctx.err == MAP_FAILED) {
		ctx.err = NULL;
		r = pr_err_ret(-errno, "mmap");
		goto out;
	}
	r = restore_task(&ctx);
	if (r < 0) {
		restore_abort(&ctx);
		goto out;
	}
	*ret_pid = ctx.pid;
	pr_info("restored process %d in %.1f ms (%lu remote calls)\n", ctx.pid, elapsed_ms(&start),
		ctx.rt.nr_calls);
out:
	for (size_t i = 1; ctx.threads && i < ctx.set.procs[0].core->n_threads; i++)
		free(ctx.threads[i]);
	free(ctx.threads);
	if (ctx.err)
		munmap(ctx.err, sizeof(*ctx.err));
	image_set_free(&ctx.set);
	close(ctx.dirfd);
	return r;
}

int restore_wait(pid_t pid, int *ret_code)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, 0) < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "waitpid(%d)", pid);
		}
		if (WIFEXITED(status)) {
			*ret_code = WEXITSTATUS(status);
			return 0;
		}
		if (WIFSIGNALED(status)) {
			*ret_code = 128 + WTERMSIG(status);
			return 0;
		}
	}
}
