// SPDX-License-Identifier: GPL-2.0-or-later
/* Seize, interrupt, resume and kill the dumped tree. */
#define LOG_PREFIX "dump: "
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "dump.h"
#include "log.h"
#include "seize.h"
#include "util.h"

/* How long a thread may take to reach the interrupt stop. A task in an
 * uninterruptible wait (a vfork parent, say) never gets there. */
#define SEIZE_TIMEOUT_MS 10000

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for th's interrupt stop. A signal-delivery stop on the way is let
 * through (the signal was due anyway) and we wait again: PTRACE_INTERRUPT
 * stays pending until the thread traps.
 */
static int wait_interrupt_stop(struct dump_thread *th, bool *ret_group_stop)
{
	uint64_t deadline = now_ms() + SEIZE_TIMEOUT_MS;
	unsigned backoff_us = 10;

	for (;;) {
		int status, sig, event;
		pid_t p = waitpid(th->tid, &status, __WALL | WNOHANG);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "thread %d: waitpid", th->tid);
		}
		if (p == 0) {
			if (now_ms() > deadline) {
				pr_err("thread %d did not stop within %d ms (uninterruptible "
				       "sleep?)\n",
				       th->tid, SEIZE_TIMEOUT_MS);
				return -ETIMEDOUT;
			}
			usleep(backoff_us);
			if (backoff_us < 10000)
				backoff_us *= 2;
			continue;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			th->seized = false;
			pr_err("thread %d exited while being stopped\n", th->tid);
			return -ESRCH;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			*ret_group_stop = is_stop_signal(sig);
			return 0;
		}
		/* A signal-delivery stop: deliver it, keep waiting. */
		pr_debug("thread %d: letting signal %d through before the stop\n", th->tid, sig);
		if (ptrace(PTRACE_CONT, th->tid, NULL, event ? 0 : sig) < 0)
			return pr_err_ret(-errno, "thread %d: PTRACE_CONT", th->tid);
	}
}

static int seize_thread(struct dump_thread *th, bool *ret_group_stop)
{
	if (ptrace(PTRACE_SEIZE, th->tid, NULL, PTRACE_O_TRACESYSGOOD) < 0) {
		int r = -errno;

		if (r == -EPERM)
			pr_err("cannot trace thread %d: permission denied or already traced\n",
			       th->tid);
		else if (r != -ESRCH)
			pr_err_ret(r, "cannot trace thread %d", th->tid);
		return r;
	}
	th->seized = true;
	if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0)
		return pr_err_ret(-errno, "thread %d: PTRACE_INTERRUPT", th->tid);
	return wait_interrupt_stop(th, ret_group_stop);
}

/* State letter and thread group of pid from /proc/PID/status, or -errno. */
static int task_state(pid_t pid, char *ret, pid_t *ret_tgid)
{
	_cleanup_free_ char *text = NULL, *stat_text = NULL;
	struct proc_status st;
	struct proc_stat ps;
	size_t len;
	int r;

	/*
	 * A zombie's status has no umask or credentials left, so stat comes
	 * first. (A leader that ended before its other threads shows Z too,
	 * but with threads: that one is alive.)
	 */
	r = dump_read_proc(pid, "stat", &stat_text, &len);
	if (r < 0)
		return r;
	r = proc_parse_stat(stat_text, len, &ps);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/stat", pid, pid);
	if (ps.state == 'Z' && ps.num_threads <= 1) {
		*ret = 'Z';
		*ret_tgid = pid;
		return 0;
	}
	r = dump_read_proc(pid, "status", &text, &len);
	if (r < 0)
		return r;
	r = proc_parse_status(text, len, &st);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/status", pid, pid);
	*ret = st.state;
	*ret_tgid = st.tgid;
	proc_status_free(&st);
	return 0;
}

static bool has_thread(const struct dump_task *t, pid_t tid)
{
	for (size_t i = 0; i < t->nr_threads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

static int add_thread(struct dump_task *t, pid_t tid, struct dump_thread **ret)
{
	struct dump_thread *n;

	if (t->nr_threads >= SEIZE_MAX_THREADS) {
		pr_err("not supported: process %d has more than %d threads\n", t->pid,
		       SEIZE_MAX_THREADS);
		return -E2BIG;
	}
	n = reallocarray(t->threads, t->nr_threads + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->threads = n;
	n = &t->threads[t->nr_threads++];
	memset(n, 0, sizeof(*n));
	n->tid = tid;
	*ret = n;
	return 0;
}

/*
 * Seize every thread of t, the leader first. New threads can appear until
 * all existing ones are stopped: list again until a pass finds none.
 */
static int seize_threads(struct dump_task *t)
{
	struct dump_thread *th;
	bool group_stop = false, found;
	char path[64];
	int r;

	r = add_thread(t, t->pid, &th);
	if (r < 0)
		return r;
	r = seize_thread(th, &group_stop);
	if (r == -ESRCH) {
		pr_err("process %d exited while being stopped\n", t->pid);
		return r;
	}
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/task", t->pid);
	do {
		_cleanup_closedir_ DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return pr_err_ret(negerrno(), "cannot list %s", path);
		found = false;
		while ((de = readdir(d))) {
			bool gs = false;
			int tid;

			if (de->d_name[0] == '.')
				continue;
			if (parse_int(de->d_name, &tid) < 0 || tid <= 0) {
				pr_err("unexpected entry %s in %s\n", de->d_name, path);
				return -EPROTO;
			}
			if (has_thread(t, tid))
				continue;
			r = add_thread(t, tid, &th);
			if (r < 0)
				return r;
			r = seize_thread(th, &gs);
			if (r == -ESRCH && !th->seized) {
				/* The thread exited before we got it: not part of the state. */
				t->nr_threads--;
				continue;
			}
			if (r < 0)
				return r;
			group_stop |= gs;
			found = true;
		}
	} while (found);
	if (group_stop) {
		pr_err("not supported: process %d is stopped (job control)\n", t->pid);
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * A zombie of the tree cannot be seized: its group, session, name and exit
 * status come from /proc/PID/stat, and restore makes it a zombie again.
 */
static int read_zombie(struct dump_task *t)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = dump_read_proc(t->pid, "stat", &text, &len);
	if (r < 0)
		return pr_err_ret(r, "zombie %d: cannot read /proc/%d/stat", t->pid, t->pid);
	r = proc_parse_stat(text, len, &t->stat);
	if (r < 0)
		return pr_err_ret(r, "zombie %d: cannot parse /proc/%d/stat", t->pid, t->pid);
	t->zombie = true;
	t->pgid = t->stat.pgid;
	t->sid = t->stat.sid;
	t->exit_code = t->stat.exit_code;
	snprintf(t->comm, sizeof(t->comm), "%s", t->stat.comm);
	pr_debug("process %d is a zombie (exit status %#x)\n", t->pid, t->exit_code);
	return 0;
}

static int add_task(struct dump_ctx *ctx, pid_t pid, pid_t ppid)
{
	struct dump_task *n;
	char state = 0;
	pid_t tgid = 0;
	int r;

	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (ctx->tasks[i].pid == pid)
			return 0;
	if (ctx->nr_tasks >= SEIZE_MAX_TASKS) {
		pr_err("not supported: the tree has more than %d processes\n", SEIZE_MAX_TASKS);
		return -E2BIG;
	}
	r = task_state(pid, &state, &tgid);
	if (r == -ENOENT || r == -ESRCH) {
		if (ppid)
			pr_err("process %d (child of %d) exited during the dump\n", pid, ppid);
		else
			pr_err("no process with pid %d\n", pid);
		return -ESRCH;
	}
	if (r < 0)
		return pr_err_ret(r, "cannot read /proc/%d/stat", pid);
	/* /proc/TID works for any thread: the tree is made of processes. */
	if (tgid != pid) {
		pr_err("%d is a thread of process %d: dump the process\n", pid, tgid);
		return -EINVAL;
	}
	if (state == 'X') {
		pr_err("process %d (child of %d) exited during the dump\n", pid, ppid);
		return -ESRCH;
	}
	if (state == 'Z' && !ppid) {
		pr_err("not supported: process %d is a zombie\n", pid);
		return -EOPNOTSUPP;
	}
	n = reallocarray(ctx->tasks, ctx->nr_tasks + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->tasks = n;
	n = &ctx->tasks[ctx->nr_tasks++];
	memset(n, 0, sizeof(*n));
	n->pid = pid;
	n->ppid = ppid;
	if (state == 'Z')
		return read_zombie(n);
	return 0;
}

/* Children of every thread of t (a child belongs to the thread that forked it). */
static int add_children(struct dump_ctx *ctx, size_t idx)
{
	_cleanup_free_ pid_t *children = NULL;
	size_t nr = 0;
	pid_t pid = ctx->tasks[idx].pid;
	int r;

	for (size_t i = 0; i < ctx->tasks[idx].nr_threads; i++) {
		pid_t tid = ctx->tasks[idx].threads[i].tid;
		_cleanup_free_ char *text = NULL;
		char name[64];
		size_t len;

		snprintf(name, sizeof(name), "task/%d/children", tid);
		r = dump_read_proc(pid, name, &text, &len);
		if (r == -ENOENT)
			return pr_err_ret(r,
					  "/proc/%d/%s is missing (kernel without "
					  "CONFIG_PROC_CHILDREN?)",
					  pid, name);
		if (r < 0)
			return pr_err_ret(r, "cannot read /proc/%d/%s", pid, name);
		r = proc_parse_pid_list(text, len, &children, &nr, SEIZE_MAX_TASKS);
		if (r < 0)
			return pr_err_ret(r, "cannot parse /proc/%d/%s", pid, name);
	}
	for (size_t i = 0; i < nr; i++) {
		r = add_task(ctx, children[i], pid);
		if (r < 0)
			return r;
	}
	return 0;
}

int seize_tree(struct dump_ctx *ctx, pid_t root)
{
	int r = add_task(ctx, root, 0);

	if (r < 0)
		return r;
	/* ctx->tasks grows while we walk it: breadth first, parents first. */
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		/* A zombie has no threads to seize and no children left. */
		if (ctx->tasks[i].zombie)
			continue;
		r = seize_threads(&ctx->tasks[i]);
		if (r < 0)
			return r;
		r = add_children(ctx, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* rt_tgsigqueueinfo from the thread itself, so that any si_code is accepted. */
static int requeue_thread_signals(struct dump_task *t, struct dump_thread *th)
{
	unsigned long scratch = t->threads[0].rt.scratch;

	if (th == &t->threads[0])
		return remote_requeue_signals(&th->rt);
	for (unsigned i = 0; i < th->rt.nr_deferred; i++) {
		const siginfo_t *si = (const siginfo_t *)th->rt.deferred[i];
		long ret;
		int r;

		r = remote_write(t->pid, scratch, th->rt.deferred[i], sizeof(th->rt.deferred[i]));
		if (r < 0)
			return r;
		r = remote_call4(&th->rt, &ret, SYS_rt_tgsigqueueinfo, t->pid, th->tid,
				 si->si_signo, scratch);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret((int)ret, "thread %d: cannot queue back signal %d",
					  th->tid, si->si_signo);
	}
	th->rt.nr_deferred = 0;
	return 0;
}

int seize_task_remote_done(struct dump_task *t)
{
	int r, err = 0;

	if (!t->scratch_mapped)
		return 0;
	for (size_t i = 0; i < t->nr_threads; i++) {
		struct dump_thread *th = &t->threads[i];

		if (!th->remote_ready || !th->rt.nr_deferred)
			continue;
		r = requeue_thread_signals(t, th);
		if (r < 0 && !err)
			err = r;
	}
	r = remote_unmap_scratch(&t->threads[0].rt);
	if (r < 0)
		return r;
	t->scratch_mapped = false;
	return err;
}

/*
 * A thread interrupted in nanosleep, clock_nanosleep, poll and the like
 * shows -ERESTART_RESTARTBLOCK: the kernel would resume it through
 * restart_syscall, which continues with the time left. Re-executing the
 * original call (what remote_fini does, right for a restored task that
 * has no restart block) would sleep the full time again. The task we put
 * back still has its restart block (our calls never block, so they never
 * replace it): take the kernel's path. orig_rax = -1 keeps the kernel's
 * own restart logic from acting a second time.
 */
static void resume_via_restart_block(struct remote *rt)
{
	if (!rt->at_syscall_exit || (long)rt->regs.orig_rax < 0 ||
	    (long)rt->regs.rax != -ERESTART_RESTARTBLOCK)
		return;
	rt->regs.rax = SYS_restart_syscall;
	rt->regs.rip -= 2;
	rt->regs.orig_rax = (unsigned long)-1;
}

int seize_resume_tree(struct dump_ctx *ctx)
{
	int err = 0, r;

	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];

		r = seize_task_remote_done(t);
		if (r < 0) {
			pr_err("process %d: could not undo the remote calls: %s\n", t->pid,
			       strerror(-r));
			if (!err)
				err = r;
		}
		for (size_t j = 0; j < t->nr_threads; j++) {
			struct dump_thread *th = &t->threads[j];

			if (th->remote_ready) {
				resume_via_restart_block(&th->rt);
				r = remote_fini(&th->rt);
				if (r < 0 && !err)
					err = r;
				th->remote_ready = false;
			}
			if (th->seized) {
				if (ptrace(PTRACE_DETACH, th->tid, NULL, 0) < 0 && errno != ESRCH) {
					r = pr_err_ret(-errno, "thread %d: cannot detach", th->tid);
					if (!err)
						err = r;
				}
				th->seized = false;
			}
		}
	}
	return err;
}

void seize_kill_tree(struct dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nr_tasks; i++)
		if (kill(ctx->tasks[i].pid, SIGKILL) < 0 && errno != ESRCH)
			pr_warn("cannot kill process %d: %s\n", ctx->tasks[i].pid, strerror(errno));
	/*
	 * Collect the exit of every traced thread, so none lingers as our
	 * tracee and the real parents get their children's exit. The leader
	 * last: its exit is reported only once the other threads are gone,
	 * and a traced thread is gone only once we have reaped it.
	 */
	for (size_t i = 0; i < ctx->nr_tasks; i++) {
		struct dump_task *t = &ctx->tasks[i];

		for (size_t j = t->nr_threads; j-- > 0;) {
			struct dump_thread *th = &t->threads[j];

			uint64_t deadline = now_ms() + SEIZE_TIMEOUT_MS;

			/* Never block for good: relive must always exit. */
			while (th->seized) {
				int status;
				pid_t p = waitpid(th->tid, &status, __WALL | WNOHANG);

				if (p < 0 && errno == EINTR)
					continue;
				if (p < 0 ||
				    (p > 0 && (WIFEXITED(status) || WIFSIGNALED(status)))) {
					th->seized = false;
				} else if (p == 0) {
					if (now_ms() > deadline) {
						pr_warn(
						    "thread %d: no exit seen %d ms after SIGKILL\n",
						    th->tid, SEIZE_TIMEOUT_MS);
						th->seized = false;
					} else {
						usleep(1000);
					}
				}
			}
			th->remote_ready = false;
		}
		t->scratch_mapped = false;
	}
}
