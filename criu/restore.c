// SPDX-License-Identifier: GPL-2.0-or-later
/* Restore orchestration: images, the tree by clone3, phase A in each child, phase B over ptrace. */
#define LOG_PREFIX "restore: "
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pidfile.h"
#include "options.h"
#include "restore-fdpass.h"
#include "restore-files.h"
#include "restore-mm.h"
#include "restore-regs.h"
#include "restore-task.h"
#include "restore-tree.h"
#include "restore-pipes.h"
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

/* clone3 with set_tid: the child gets the dumped pid or nothing. With
 * CLONE_NEWPID it is PID 1 of a new namespace and pid is 0. */
static pid_t clone_with_pid(pid_t pid, uint64_t flags)
{
	pid_t tid = pid;
	struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};

	if (pid > 0) {
		args.set_tid = (uint64_t)(uintptr_t)&tid;
		args.set_tid_size = 1;
	}
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static __attribute__((noreturn)) void phase_a(struct restore_ctx *ctx, size_t idx);

/* A process in phase A creates its child idx, which runs phase A too. */
static int phase_a_create(struct restore_ctx *ctx, int32_t idx)
{
	pid_t pid;

	if (idx < 0 || (size_t)idx >= ctx->set.nr_procs)
		return -EINVAL;
	pid = clone_with_pid((pid_t)ctx->set.pstree[idx]->pid, 0);
	if (pid == 0)
		phase_a(ctx, (size_t)idx);
	return pid < 0 ? -errno : pid;
}

/*
 * relive's init of a new pid namespace, once it created the root: hold
 * nothing open, reap every orphan, and end the way the root ends.
 */
static __attribute__((noreturn)) void phase_a_init(struct restore_ctx *ctx)
{
	pid_t root = (pid_t)ctx->set.pstree[0]->pid;

	close_range(0, ~0U, 0);
	for (;;) {
		int status;
		pid_t w = waitpid(-1, &status, 0);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			_exit(127);
		}
		if (w != root)
			continue;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

/* The last part of phase A: descriptors, file-system state, limits; stop. */
static __attribute__((noreturn)) void phase_a_finish(struct restore_ctx *ctx, size_t idx, int sock)
{
	const struct image_proc *p = &ctx->set.procs[idx];
	struct phase_a_error *err = &ctx->err[idx];

	if (restore_fds(p, sock, err) < 0 || restore_fs_state(p, err) < 0 ||
	    phase_a_scratch(ctx->procs[idx].scratch, err) < 0 || phase_a_rlimits(p->core, err) < 0)
		_exit(1);
	/*
	 * Stop for phase B. glibc's raise() would use the tid it cached for
	 * relive, so the raw syscalls name this task.
	 */
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	phase_a_refuse(err, -EIO, "resumed before phase B");
	_exit(1);
}

static bool is_zombie(const struct restore_ctx *ctx, size_t idx)
{
	return idx < ctx->set.nr_procs &&
	       ctx->set.procs[idx].core->state == TASK_STATE__TASK_ZOMBIE;
}

/*
 * A zombie of the tree ends here, the way it ended before: by its exit
 * code, or by its signal (no core dump: the status loses its core bit).
 * Its parent, still in phase A, does not reap it.
 */
static __attribute__((noreturn)) void phase_a_zombie(int status)
{
	int sig = status & 0x7f;

	if (sig) {
		struct rlimit none = {0, 0};
		uint64_t mask = ~0ull & ~(1ull << (sig - 1));

		setrlimit(RLIMIT_CORE, &none);
		signal(sig, SIG_DFL);
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, sizeof(mask));
		syscall(SYS_kill, syscall(SYS_getpid), sig);
		_exit(128 + sig);
	}
	_exit((status >> 8) & 0xff);
}

/*
 * Phase A of slot idx, in the new process itself: say hello (relive
 * learns our pid from the credentials and traces us), then do what relive
 * commands, in the order it decides.
 */
static __attribute__((noreturn)) void phase_a(struct restore_ctx *ctx, size_t idx)
{
	int sock = ctx->procs[idx].child_sock;
	struct tree_msg m = {.op = TREE_HELLO};
	uint64_t all = ~0ull;

	/* Signals stay blocked until the final mask is loaded in phase B. */
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	/* relive's ends: once relive closes its own, every channel ends. */
	for (size_t i = 0; i < ctx->nr_slots; i++) {
		if (ctx->procs[i].sock >= 0)
			close(ctx->procs[i].sock);
		ctx->procs[i].sock = -1;
	}
	if (tree_msg_send(sock, &m, -1) < 0)
		_exit(1);
	/* Nothing happens before the first command: relive traces us first. */
	for (;;) {
		int r;

		if (tree_msg_recv(sock, &m, NULL, NULL) < 0)
			_exit(1);
		switch (m.op) {
		case TREE_CREATE:
			r = phase_a_create(ctx, m.arg);
			break;
		case TREE_SETSID:
			r = setsid() < 0 ? -errno : 0;
			break;
		case TREE_SETPGID:
			r = setpgid(0, m.arg) < 0 ? -errno : 0;
			break;
		case TREE_FILES:
			if (idx < ctx->set.nr_procs)
				phase_a_finish(ctx, idx, sock);
			r = -EPROTO;
			break;
		case TREE_INIT:
			if (idx == ctx->set.nr_procs)
				phase_a_init(ctx);
			r = -EPROTO;
			break;
		case TREE_ZOMBIE:
			if (is_zombie(ctx, idx))
				phase_a_zombie(ctx->set.procs[idx].core->exit_code);
			r = -EPROTO;
			break;
		default:
			r = -EPROTO;
			break;
		}
		m = (struct tree_msg){.op = TREE_REPLY, .ret = r};
		if (tree_msg_send(sock, &m, -1) < 0)
			_exit(1);
	}
}

/* ---- parent side ---- */

#define PHASE_A_TIMEOUT_MS 30000

static void slot_name(const struct restore_ctx *ctx, size_t idx, char *buf, size_t len)
{
	if (idx == ctx->set.nr_procs)
		snprintf(buf, len, "the pid namespace init");
	else
		snprintf(buf, len, "process %u", ctx->set.pstree[idx]->pid);
}

/* Slot idx ended during phase A: say why, as it wrote it. */
static void report_phase_a_death(struct restore_ctx *ctx, size_t idx)
{
	char who[64];

	slot_name(ctx, idx, who, sizeof(who));
	if (ctx->err[idx].msg[0])
		pr_err("phase A of %s failed: %s\n", who, ctx->err[idx].msg);
	else
		pr_err("phase A of %s failed: it ended\n", who);
}

/* The next message from slot idx; its death or silence is an error. */
static int tree_recv(struct restore_ctx *ctx, size_t idx, struct tree_msg *m, pid_t *ret_pid)
{
	struct restore_proc *rp = &ctx->procs[idx];
	struct pollfd pfd[2] = {{.fd = rp->sock, .events = POLLIN},
				{.fd = rp->pidfd, .events = POLLIN}};
	char who[64];
	int n, r;

	slot_name(ctx, idx, who, sizeof(who));
	do
		n = poll(pfd, rp->pidfd >= 0 ? 2 : 1, PHASE_A_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pr_err_ret(-errno, "poll");
	if (n == 0) {
		pr_err("%s did not answer in %d s\n", who, PHASE_A_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	if (!(pfd[0].revents & POLLIN)) {
		report_phase_a_death(ctx, idx);
		return -ECHILD;
	}
	r = tree_msg_recv(rp->sock, m, NULL, ret_pid);
	if (r < 0)
		return pr_err_ret(r, "%s: phase A channel", who);
	return 0;
}

/* Run command op(arg) in slot idx; *ret gets its result. */
static int tree_command(struct restore_ctx *ctx, size_t idx, enum tree_op op, int32_t arg, int *ret)
{
	struct tree_msg m = {.op = op, .arg = arg};
	char who[64];
	int r;

	slot_name(ctx, idx, who, sizeof(who));
	r = tree_msg_send(ctx->procs[idx].sock, &m, -1);
	if (r < 0)
		return pr_err_ret(r, "%s: cannot send a command", who);
	r = tree_recv(ctx, idx, &m, NULL);
	if (r < 0)
		return r;
	if (m.op != TREE_REPLY) {
		pr_err("%s: unexpected message %u\n", who, m.op);
		return -EPROTO;
	}
	*ret = m.ret;
	return 0;
}

/* The new process of slot idx said hello: note its pid and trace it. */
static int tree_attach(struct restore_ctx *ctx, size_t idx)
{
	struct restore_proc *rp = &ctx->procs[idx];
	struct tree_msg m;
	pid_t pid = 0;
	char who[64];
	int r;

	slot_name(ctx, idx, who, sizeof(who));
	r = tree_recv(ctx, idx, &m, &pid);
	if (r < 0)
		return r;
	if (m.op != TREE_HELLO || pid <= 0) {
		pr_err("%s: no hello with credentials (message %u, pid %d)\n", who, m.op, pid);
		return -EPROTO;
	}
	if (rp->pid && rp->pid != pid) {
		pr_err("%s: created as %d, but says it is %d\n", who, rp->pid, pid);
		return -EPROTO;
	}
	rp->pid = pid;
	rp->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (rp->pidfd < 0)
		return pr_err_ret(-errno, "%s: pidfd_open(%d)", who, pid);
	/* relive's init is never traced; a zombie has nothing to restore. */
	if (idx == ctx->set.nr_procs || is_zombie(ctx, idx))
		return 0;
	if (ptrace(PTRACE_SEIZE, pid, NULL,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL) < 0)
		return pr_err_ret(-errno, "%s (pid %d): PTRACE_SEIZE", who, pid);
	pr_debug("%s created as %d\n", who, pid);
	return 0;
}

static int report_create_failure(const struct restore_ctx *ctx, size_t idx, int r)
{
	uint32_t want = ctx->set.pstree[idx]->pid;

	if (r == -EEXIST) {
		pr_err("PID %u is in use: cannot restore process %u with its own pid\n", want,
		       want);
		return r;
	}
	return pr_err_ret(r, "clone3 of process %u", want);
}

/* Right after creation: a session leader's setsid, a group leader's setpgid. */
static int tree_own_session_group(struct restore_ctx *ctx, size_t idx)
{
	const struct tree_step *s = &ctx->plan[idx];
	uint32_t pid = ctx->set.pstree[idx]->pid;
	int r, ret;

	if (!s->setsid && !s->own_group)
		return 0;
	r = tree_command(ctx, idx, s->setsid ? TREE_SETSID : TREE_SETPGID, 0, &ret);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret(ret, "process %u: %s", pid, s->setsid ? "setsid" : "setpgid");
	return 0;
}

/* relive creates the root itself, or the init of a new pid namespace. */
static int create_root(struct restore_ctx *ctx)
{
	size_t init = ctx->set.nr_procs;
	pid_t pid;
	int r, ret;

	/* Flush before the fork so that nothing buffered is written twice. */
	fflush(NULL);
	if (ctx->own_init) {
		pid = clone_with_pid(0, CLONE_NEWPID);
		if (pid == 0)
			phase_a(ctx, init);
		if (pid < 0)
			return pr_err_ret(-errno, "clone3 of a new pid namespace");
		ctx->procs[init].pid = pid;
		r = tree_attach(ctx, init);
		if (r < 0)
			return r;
		r = tree_command(ctx, init, TREE_CREATE, 0, &ret);
		if (r < 0)
			return r;
		if (ret < 0)
			return report_create_failure(ctx, 0, ret);
	} else {
		/* A root that was PID 1 of its namespace is PID 1 of a new one. */
		pid = ctx->new_pid_ns ? clone_with_pid(0, CLONE_NEWPID)
				      : clone_with_pid((pid_t)ctx->set.pstree[0]->pid, 0);
		if (pid == 0)
			phase_a(ctx, 0);
		if (pid < 0)
			return report_create_failure(ctx, 0, -errno);
		ctx->procs[0].pid = pid;
	}
	return tree_attach(ctx, 0);
}

/* Wait for slot idx to stop at the end of phase A, or report its failure. */
static int wait_phase_a(struct restore_ctx *ctx, size_t idx)
{
	struct restore_proc *rp = &ctx->procs[idx];

	for (;;) {
		int status, sig;

		if (waitpid(rp->pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "waitpid(%d)", rp->pid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			rp->pid = 0; /* its exit is ours to see no more */
			if (ctx->err[idx].msg[0])
				report_phase_a_death(ctx, idx);
			else if (WIFSIGNALED(status))
				pr_err("phase A of process %u failed: killed by signal %d\n",
				       ctx->set.pstree[idx]->pid, WTERMSIG(status));
			else
				pr_err("phase A of process %u failed: exit status %d\n",
				       ctx->set.pstree[idx]->pid, WEXITSTATUS(status));
			return -ECHILD;
		}
		if (!WIFSTOPPED(status))
			continue;
		sig = WSTOPSIG(status);
		if ((status >> 16) == 0 && sig == SIGSTOP) {
			rp->stopped = true;
			return 0;
		}
		/* A group stop: go on. A signal from elsewhere: deliver it. */
		if (ptrace(PTRACE_CONT, rp->pid, NULL, (status >> 16) ? 0 : sig) < 0)
			return pr_err_ret(-errno, "task %d: PTRACE_CONT", rp->pid);
	}
}

/*
 * Zombie idx exits now that every group it may lead has its members; it
 * stays unreaped for its parent's wait(). Returns once it has exited.
 */
static int make_zombie(struct restore_ctx *ctx, size_t idx)
{
	struct restore_proc *rp = &ctx->procs[idx];
	struct tree_msg m = {.op = TREE_ZOMBIE};
	struct pollfd pfd = {.fd = rp->pidfd, .events = POLLIN};
	uint32_t pid = ctx->set.pstree[idx]->pid;
	int n, r;

	r = tree_msg_send(rp->sock, &m, -1);
	if (r < 0)
		return pr_err_ret(r, "zombie %u: cannot send a command", pid);
	do
		n = poll(&pfd, 1, PHASE_A_TIMEOUT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return pr_err_ret(-errno, "poll");
	if (n == 0) {
		pr_err("zombie %u did not exit in %d s\n", pid, PHASE_A_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	pr_debug("process %u is a zombie again (status %#x)\n", pid,
		 ctx->set.procs[idx].core->exit_code);
	return 0;
}

/*
 * Create every process with its dumped parent, pid, session and group
 * (restore-tree.h), then let each install its descriptors and stop.
 */
static int create_tree(struct restore_ctx *ctx)
{
	size_t n = ctx->set.nr_procs;
	int r, ret;

	r = create_root(ctx);
	if (r < 0)
		return r;
	r = tree_own_session_group(ctx, 0);
	if (r < 0)
		return r;
	for (size_t i = 1; i < n; i++) {
		size_t parent = (size_t)ctx->plan[i].parent;

		r = tree_command(ctx, parent, TREE_CREATE, (int32_t)i, &ret);
		if (r < 0)
			return r;
		if (ret < 0)
			return report_create_failure(ctx, i, ret);
		r = tree_attach(ctx, i);
		if (r < 0)
			return r;
		r = tree_own_session_group(ctx, i);
		if (r < 0)
			return r;
	}
	if (ctx->own_init) {
		struct tree_msg m = {.op = TREE_INIT};

		r = tree_msg_send(ctx->procs[n].sock, &m, -1);
		if (r < 0)
			return pr_err_ret(r, "the pid namespace init: cannot send a command");
	}
	/* Every group leader exists now: the other members join. */
	for (size_t i = 0; i < n; i++) {
		uint32_t pgid = ctx->plan[i].join_pgid;

		if (!pgid)
			continue;
		r = tree_command(ctx, i, TREE_SETPGID, (int32_t)pgid, &ret);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret(ret, "process %u: setpgid to group %u",
					  ctx->set.pstree[i]->pid, pgid);
	}
	for (size_t i = 0; i < n; i++) {
		struct tree_msg m = {.op = TREE_FILES};

		if (is_zombie(ctx, i)) {
			r = make_zombie(ctx, i);
			if (r < 0)
				return r;
			continue;
		}
		r = tree_msg_send(ctx->procs[i].sock, &m, -1);
		if (r < 0)
			return pr_err_ret(r, "process %u: cannot send a command",
					  ctx->set.pstree[i]->pid);
		r = restore_files_send(ctx->procs[i].sock, &ctx->set, &ctx->set.procs[i],
				       ctx->file_fds);
		if (r < 0)
			return r;
		r = wait_phase_a(ctx, i);
		if (r < 0)
			return r;
		pr_debug("process %u: phase A done\n", ctx->set.pstree[i]->pid);
	}
	return 0;
}

/*
 * Kill every process created so far and reap them all: relive is the
 * subreaper while it restores, so orphans come back to it.
 */
static void restore_abort(struct restore_ctx *ctx)
{
	int status;

	/* A process we never heard from then sees its channel end and exits. */
	for (size_t i = 0; i < ctx->nr_slots; i++) {
		if (ctx->procs[i].sock >= 0)
			close(ctx->procs[i].sock);
		ctx->procs[i].sock = -1;
	}
	for (size_t i = ctx->nr_slots; i-- > 0;)
		if (ctx->procs[i].pid > 0)
			kill(ctx->procs[i].pid, SIGKILL);
	for (;;) {
		pid_t w = waitpid(-1, &status, __WALL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
	}
	for (size_t i = 0; i < ctx->nr_slots; i++)
		ctx->procs[i].pid = 0;
}

static int check_supported(const struct restore_ctx *ctx)
{
	const struct image_set *set = &ctx->set;

	for (size_t k = 0; k < set->nr_procs; k++) {
		const struct image_proc *p = &set->procs[k];

		if (p->core->state == TASK_STATE__TASK_ZOMBIE)
			continue;
		if (p->core->state != TASK_STATE__TASK_ALIVE) {
			pr_err("not supported: process %u was stopped when dumped\n", p->core->pid);
			return -ENOTSUP;
		}
		for (size_t i = 0; i < p->pages.nr_entries; i++) {
			uint32_t flags = p->pages.entries[i]->flags;

			/* Pages on a page server come through the lazy-pages daemon. */
			if (flags & PAGEMAP_FLAG__PE_PARENT ||
			    (flags & PAGEMAP_FLAG__PE_REMOTE && !ctx->o->lazy_pages)) {
				pr_err("not supported: pagemap-%u.img entry %zu has its pages %s\n",
				       p->core->pid, i,
				       flags & PAGEMAP_FLAG__PE_PARENT ? "in a parent image set"
								       : "on a page server");
				return -ENOTSUP;
			}
		}
	}
	if (set->inventory->has_root_is_ns_init && set->inventory->root_is_ns_init &&
	    set->pstree[0]->pid != 1) {
		pr_err("inventory.img: the root was its namespace's init, but pstree.img names it "
		       "%u\n",
		       set->pstree[0]->pid);
		return -EINVAL;
	}
	return 0;
}
/* Create the process's userfaultfd and give it to the lazy-pages daemon. */
static int hand_over_lazy_memory(struct restore_ctx *ctx, size_t idx)
{
	const struct image_proc *p = &ctx->set.procs[idx];
	struct restore_proc *rp = &ctx->procs[idx];
	const char *dir = ctx->o->work_dir     ? ctx->o->work_dir
			  : ctx->o->images_dir ? ctx->o->images_dir
					       : ".";
	_cleanup_close_ int uffd = -1;
	char sock[108];
	int r;

	r = uffd_socket_path(dir, sock, sizeof(sock));
	if (r < 0)
		return r;
	r = uffd_create_in_task(&rp->rt, p->mm, &p->pages, &uffd);
	if (r < 0)
		return r;
	/* Every live process of the tree hands its own over. */
	return uffd_send_to_daemon(sock, p->pstree->pid, rp->pid, ctx->nr_live,
				   ctx->set.inventory->image_set_id, uffd);
}

/*
 * Its zombie children exited while it was in phase A, signals blocked:
 * the SIGCHLD each queued is not one the dumped process had pending.
 */
static int drain_zombie_sigchld(struct restore_ctx *ctx, size_t idx)
{
	struct remote *rt = &ctx->procs[idx].rt;
	uint64_t set = 1ull << (SIGCHLD - 1);
	struct timespec zero = {0, 0};
	bool has_zombie = false;
	int r;

	for (size_t i = 0; i < ctx->set.nr_procs; i++)
		if (is_zombie(ctx, i) && ctx->plan[i].parent == (int)idx)
			has_zombie = true;
	if (!has_zombie)
		return 0;
	r = remote_write(rt->pid, rt->scratch, &set, sizeof(set));
	if (r < 0)
		return r;
	r = remote_write(rt->pid, rt->scratch + 16, &zero, sizeof(zero));
	if (r < 0)
		return r;
	for (;;) {
		long ret;

		r = remote_syscall(rt, &ret, SYS_rt_sigtimedwait, rt->scratch, 0, rt->scratch + 16,
				   sizeof(set), 0, 0);
		if (r < 0)
			return r;
		if (ret == -EAGAIN)
			return 0;
		if (ret < 0)
			return pr_err_ret((int)ret, "process %u: rt_sigtimedwait",
					  ctx->set.pstree[idx]->pid);
	}
}

/* Phase B of process idx: everything it cannot do for itself. */
static int phase_b(struct restore_ctx *ctx, size_t idx)
{
	const struct image_proc *p = &ctx->set.procs[idx];
	struct restore_proc *rp = &ctx->procs[idx];
	const TaskCoreEntry *core = p->core;
	struct remote *rt = &rp->rt;
	size_t nr = core->n_threads;
	int r;

	r = restore_check_xstate(rp->pid, core->threads[0]);
	if (r < 0)
		return r;
	r = remote_init(rt, rp->pid, rp->scratch);
	if (r < 0)
		return r;
	/* The dumped pid is the one inside, new pid namespace or not. */
	rt->own_tgid = rt->own_tid = (pid_t)ctx->set.pstree[idx]->pid;
	/* restore_mm wants the whole area; it keeps its first page for code. */
	rt->scratch = rp->scratch;
	rt->scratch_len = RESTORE_SCRATCH_SIZE;
	r = restore_mm(rt, p->mm, &p->pages, ctx->o->lazy_pages);
	if (r < 0)
		return r;
	/* From here on rt->scratch is argument room only, after the 0f 05. */
	rt->scratch = rp->scratch + PAGE_SIZE_4K;
	rt->scratch_len = RESTORE_SCRATCH_SIZE - PAGE_SIZE_4K;
	/*
	 * The daemon must serve the lazy memory before anything below
	 * touches it (rseq registration writes into glibc's TLS), and the
	 * userfaultfd must exist before credentials drop.
	 */
	if (ctx->o->lazy_pages) {
		r = hand_over_lazy_memory(ctx, idx);
		if (r < 0)
			return r;
	}
	/* Threads first: clone3 with set_tid needs relive's privileges. */
	rp->threads = calloc(nr, sizeof(*rp->threads));
	if (!rp->threads)
		return -ENOMEM;
	rp->threads[0] = rt;
	rp->nr_threads = 1;
	for (size_t i = 1; i < nr; i++) {
		_cleanup_free_ struct remote *trt = calloc(1, sizeof(*trt));

		if (!trt)
			return -ENOMEM;
		r = restore_clone_thread(rt, (pid_t)core->threads[i]->tid, trt);
		if (r < 0)
			return r;
		rp->threads[i] = TAKE_PTR(trt);
		rp->nr_threads = i + 1;
	}
	for (size_t i = 0; i < nr; i++) {
		r = restore_thread_state(rp->threads[i], core, core->threads[i]);
		if (r < 0)
			return r;
	}
	r = restore_task_state(rt, core);
	if (r < 0)
		return r;
	/* Credentials are per thread; the leader's go last. */
	for (size_t i = nr; i-- > 0;) {
		r = restore_task_creds(rp->threads[i], core->creds);
		if (r < 0)
			return r;
	}
	r = drain_zombie_sigchld(ctx, idx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nr; i++) {
		r = restore_pending_signals(rt, i == 0 ? core : NULL, core->threads[i]);
		if (r < 0)
			return r;
		/* Every signal is blocked, so no thread but the leader can
		 * have had one set aside during our calls. */
		if (i > 0 && rp->threads[i]->nr_deferred)
			pr_warn("thread %u: %u signals arrived during restore and are lost\n",
				core->threads[i]->tid, rp->threads[i]->nr_deferred);
	}
	r = restore_task_itimers(rt, core);
	if (r < 0)
		return r;
	/*
	 * The last remote call unmaps the page it runs from: it is caught at
	 * syscall exit, before the next instruction would fault, and the
	 * final registers replace RIP anyway.
	 */
	r = restore_remote_call(rt, "munmap of the scratch area", SYS_munmap, rp->scratch,
				RESTORE_SCRATCH_SIZE, 0, 0, 0, 0);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nr; i++) {
		r = restore_final_regs(rp->threads[i]->pid, core->threads[i]);
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

/* Channels, scratch addresses and the shared error area, before any clone. */
static int prepare_slots(struct restore_ctx *ctx)
{
	size_t n = ctx->set.nr_procs;
	int one = 1, r;

	ctx->nr_slots = n + (ctx->own_init ? 1 : 0);
	ctx->procs = calloc(ctx->nr_slots, sizeof(*ctx->procs));
	if (!ctx->procs)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->nr_slots; i++)
		ctx->procs[i].sock = ctx->procs[i].child_sock = ctx->procs[i].pidfd = -1;
	ctx->err = mmap(NULL, ctx->nr_slots * sizeof(*ctx->err), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctx->err == MAP_FAILED) {
		ctx->err = NULL;
		return pr_err_ret(-errno, "mmap");
	}
	for (size_t i = 0; i < ctx->nr_slots; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return pr_err_ret(-errno, "socketpair");
		ctx->procs[i].sock = sv[0];
		ctx->procs[i].child_sock = sv[1];
		/* Every message then names its sender's pid as we see it. */
		if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
			return pr_err_ret(-errno, "SO_PASSCRED");
		if (i < n && !is_zombie(ctx, i)) {
			r = restore_mm_pick_scratch(ctx->set.procs[i].mm, RESTORE_SCRATCH_SIZE,
						    &ctx->procs[i].scratch);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Everything traced is released at once, threads before their leader. */
static int release_tree(struct restore_ctx *ctx)
{
	for (size_t k = ctx->set.nr_procs; k-- > 0;) {
		struct restore_proc *rp = &ctx->procs[k];

		for (size_t i = rp->nr_threads; i-- > 0;) {
			pid_t tid = rp->threads[i]->pid;

			if (ptrace(PTRACE_DETACH, tid, NULL, 0) < 0)
				return pr_err_ret(-errno, "thread %d: PTRACE_DETACH", tid);
		}
	}
	return 0;
}

static int restore_tree(struct restore_ctx *ctx)
{
	int r;

	r = restore_tree_plan(&ctx->set, ctx->o->shell_job, &ctx->plan);
	if (r < 0)
		return r;
	r = restore_files_open(&ctx->set, ctx->o->shell_job, &ctx->file_fds);
	if (r < 0)
		return r;
	r = prepare_slots(ctx);
	if (r < 0)
		return r;
	r = create_tree(ctx);
	if (r < 0)
		return r;
	/* The descriptions live on in the processes now. */
	restore_files_close(ctx->file_fds, ctx->set.nr_files);
	ctx->file_fds = NULL;
	/* Our own pipe ends too: a reader must see end of file once the
	 * restored writers are gone, not once relive exits. */
	restore_pipes_release(ctx->set.pipes);
	for (size_t i = 0; i < ctx->set.nr_procs; i++) {
		if (is_zombie(ctx, i))
			continue;
		r = phase_b(ctx, i);
		if (r < 0)
			return r;
		pr_debug("process %u: phase B done\n", ctx->set.pstree[i]->pid);
	}
	if (ctx->o->pidfile) {
		r = write_pidfile(ctx->o->pidfile, ctx->procs[0].pid);
		if (r < 0)
			return r;
	}
	return release_tree(ctx);
}

static void restore_ctx_free(struct restore_ctx *ctx)
{
	for (size_t k = 0; ctx->procs && k < ctx->nr_slots; k++) {
		struct restore_proc *rp = &ctx->procs[k];

		for (size_t i = 1; i < rp->nr_threads; i++)
			free(rp->threads[i]);
		free(rp->threads);
		if (rp->sock >= 0)
			close(rp->sock);
		if (rp->child_sock >= 0)
			close(rp->child_sock);
		if (rp->pidfd >= 0)
			close(rp->pidfd);
	}
	free(ctx->procs);
	free(ctx->plan);
	restore_files_close(ctx->file_fds, ctx->set.nr_files);
	if (ctx->err)
		munmap(ctx->err, ctx->nr_slots * sizeof(*ctx->err));
	image_set_free(&ctx->set);
	if (ctx->dirfd >= 0)
		close(ctx->dirfd);
}

int restore_run(const struct opts *o, pid_t *ret_pid)
{
	const char *dir = o->images_dir ? o->images_dir : ".";
	struct restore_ctx ctx = {.o = o, .dirfd = -1};
	struct timespec start;
	int subreaper = 0, r;
	unsigned long calls = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	ctx.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx.dirfd < 0)
		return pr_err_ret(-errno, "cannot open the images directory %s", dir);
	r = image_set_load(ctx.dirfd, dir, &ctx.set);
	if (r < 0)
		goto out;
	/* A root that was its namespace's init can only be one again. */
	ctx.new_pid_ns = o->new_pid_ns || (ctx.set.inventory->has_root_is_ns_init &&
					   ctx.set.inventory->root_is_ns_init);
	ctx.own_init = ctx.new_pid_ns && ctx.set.pstree[0]->pid != 1;
	for (size_t i = 0; i < ctx.set.nr_procs; i++)
		ctx.nr_live += !is_zombie(&ctx, i);
	r = check_supported(&ctx);
	if (r < 0)
		goto out;
	/* Orphans of a failed restore come back to us, to be reaped. */
	prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		r = pr_err_ret(-errno, "PR_SET_CHILD_SUBREAPER");
		goto out;
	}
	r = restore_tree(&ctx);
	if (r < 0)
		restore_abort(&ctx);
	prctl(PR_SET_CHILD_SUBREAPER, subreaper, 0, 0, 0);
	if (r < 0)
		goto out;
	*ret_pid = ctx.own_init ? ctx.procs[ctx.set.nr_procs].pid : ctx.procs[0].pid;
	for (size_t i = 0; i < ctx.set.nr_procs; i++)
		calls += ctx.procs[i].rt.nr_calls;
	pr_info("restored %zu process%s (root %d%s) in %.1f ms (%lu remote calls)\n",
		ctx.set.nr_procs, ctx.set.nr_procs == 1 ? "" : "es", ctx.procs[0].pid,
		ctx.new_pid_ns ? ", in a new pid namespace" : "", elapsed_ms(&start), calls);
out:
	restore_ctx_free(&ctx);
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
