// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-task state of a restored task, set by remote syscalls. */
#define LOG_PREFIX "restore: "
#include <inttypes.h>
#include <linux/sched.h>
#include <stddef.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "log.h"
#include "restore-task.h"
#include "util.h"

/* The kernel's struct sigaction on x86_64 (not glibc's). */
struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* stack_t as the kernel lays it out on x86_64. */
struct kernel_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

/* The robust_list_head the kernel insists on (set_robust_list's len). */
#define ROBUST_LIST_HEAD_SIZE 24

int restore_remote_call(struct remote *rt, const char *what, long nr, unsigned long a1,
			unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5,
			unsigned long a6)
{
	long ret;
	int r = remote_syscall(rt, &ret, nr, a1, a2, a3, a4, a5, a6);

	if (r < 0)
		return r;
	if (ret < 0 && ret > -4096)
		return pr_err_ret((int)ret, "task %d: %s failed", rt->pid, what);
	return 0;
}

#define rcall(rt, what, nr, a, b, c, d)                                                            \
	restore_remote_call(rt, what, nr, (unsigned long)(a), (unsigned long)(b),                  \
			    (unsigned long)(c), (unsigned long)(d), 0, 0)

static int need_scratch(struct remote *rt, size_t len)
{
	if (!rt->scratch || rt->scratch_len < len) {
		pr_err("task %d: scratch area too small for %zu bytes\n", rt->pid, len);
		return -ENOSPC;
	}
	return 0;
}

static int restore_sigactions(struct remote *rt, const TaskCoreEntry *core)
{
	struct kernel_sigaction sa[64] = {};
	char what[64];
	int r;

	/* Signals the image does not list go back to their default. */
	for (size_t i = 0; i < core->n_sigactions; i++) {
		const SigactionEntry *e = core->sigactions[i];
		struct kernel_sigaction *k = &sa[e->signo - 1];

		k->handler = e->handler;
		k->flags = e->flags;
		k->restorer = e->restorer;
		k->mask = e->mask;
	}
	r = need_scratch(rt, sizeof(sa));
	if (r < 0)
		return r;
	r = remote_write(rt->pid, rt->scratch, sa, sizeof(sa));
	if (r < 0)
		return r;
	for (int sig = 1; sig <= 64; sig++) {
		struct kernel_sigaction own;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* The task is a fork of relive: where relive's own disposition
		 * is already the dumped one, the call would change nothing. */
		if (syscall(SYS_rt_sigaction, sig, NULL, &own, 8) == 0 &&
		    !memcmp(&own, &sa[sig - 1], sizeof(own)))
			continue;
		snprintf(what, sizeof(what), "rt_sigaction(%d)", sig);
		r = rcall(rt, what, SYS_rt_sigaction, sig, rt->scratch + (sig - 1) * sizeof(sa[0]),
			  0, 8);
		if (r < 0)
			return r;
	}
	return 0;
}

static int restore_sigaltstack(struct remote *rt, const ThreadCoreEntry *t)
{
	struct kernel_stack ss = {};
	int r;

	if (!t->sigaltstack)
		return 0;
	ss.sp = t->sigaltstack->sp;
	/* SS_ONSTACK only says where the thread was; the kernel ignores it. */
	ss.flags = (int32_t)(t->sigaltstack->flags & ~SS_ONSTACK);
	ss.size = t->sigaltstack->size;
	if (ss.flags & SS_DISABLE) {
		ss.sp = 0;
		ss.size = 0;
	}
	r = need_scratch(rt, sizeof(ss));
	if (r < 0)
		return r;
	r = remote_write(rt->pid, rt->scratch, &ss, sizeof(ss));
	if (r < 0)
		return r;
	return rcall(rt, "sigaltstack", SYS_sigaltstack, rt->scratch, 0, 0, 0);
}

static int restore_rseq(struct remote *rt, const ThreadCoreEntry *t)
{
	const RseqEntry *e = t->rseq;

	if (!e || !e->rseq_abi_pointer)
		return 0;
	/* flags 0: register; the dumped flags describe the area, not the call */
	return rcall(rt, "rseq registration", SYS_rseq, e->rseq_abi_pointer, e->rseq_abi_size, 0,
		     e->signature);
}

static int restore_comm(struct remote *rt, const char *comm)
{
	char buf[16] = {};
	int r;

	snprintf(buf, sizeof(buf), "%s", comm);
	r = need_scratch(rt, sizeof(buf));
	if (r < 0)
		return r;
	r = remote_write(rt->pid, rt->scratch, buf, sizeof(buf));
	if (r < 0)
		return r;
	return rcall(rt, "prctl(PR_SET_NAME)", SYS_prctl, PR_SET_NAME, rt->scratch, 0, 0);
}

int restore_thread_state(struct remote *rt, const TaskCoreEntry *core, const ThreadCoreEntry *t)
{
	int r;

	r = restore_comm(rt, t->comm ? t->comm : core->comm);
	if (r < 0)
		return r;
	if (t->has_robust_list) {
		uint64_t len = t->has_robust_list_len ? t->robust_list_len : ROBUST_LIST_HEAD_SIZE;

		/* A thread that never registered one has head 0 and any len. */
		if (!t->robust_list)
			len = ROBUST_LIST_HEAD_SIZE;
		r = rcall(rt, "set_robust_list", SYS_set_robust_list, t->robust_list, len, 0, 0);
		if (r < 0)
			return r;
	}
	if (t->has_clear_child_tid) {
		r = rcall(rt, "set_tid_address", SYS_set_tid_address, t->clear_child_tid, 0, 0, 0);
		if (r < 0)
			return r;
	}
	r = restore_sigaltstack(rt, t);
	if (r < 0)
		return r;
	return restore_rseq(rt, t);
}

int restore_task_state(struct remote *rt, const TaskCoreEntry *core)
{
	int r;

	r = rcall(rt, "personality", SYS_personality, core->personality, 0, 0, 0);
	if (r < 0)
		return r;
	r = restore_sigactions(rt, core);
	if (r < 0)
		return r;
	if (core->has_timerslack_ns && core->timerslack_ns &&
	    (unsigned long)prctl(PR_GET_TIMERSLACK) != core->timerslack_ns) {
		r = rcall(rt, "prctl(PR_SET_TIMERSLACK)", SYS_prctl, PR_SET_TIMERSLACK,
			  core->timerslack_ns, 0, 0);
		if (r < 0)
			return r;
	}
	if (core->has_nice) {
		int own;

		errno = 0;
		own = getpriority(PRIO_PROCESS, 0);
		if (errno || own != core->nice) {
			r = rcall(rt, "setpriority", SYS_setpriority, PRIO_PROCESS, 0, core->nice,
				  0);
			if (r < 0)
				return r;
		}
	}
	if (core->has_pdeath_signal && core->pdeath_signal)
		pr_warn("task %d: parent-death signal %u not restored: its parent is not part of "
			"the restored tree\n",
			rt->pid, core->pdeath_signal);
	return 0;
}

int restore_clone_thread(struct remote *rt, pid_t tid, struct remote *ret_rt)
{
	struct {
		struct clone_args args;
		pid_t set_tid[1];
	} a = {};
	long ret;
	pid_t outer = 0;
	int status, r;

	/* Everything a pthread shares; the registers come later, over ptrace. */
	a.args.flags =
	    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	a.args.set_tid = rt->scratch + offsetof(__typeof__(a), set_tid);
	a.args.set_tid_size = 1;
	a.set_tid[0] = tid;
	r = need_scratch(rt, sizeof(a));
	if (r < 0)
		return r;
	r = remote_write(rt->pid, rt->scratch, &a, sizeof(a));
	if (r < 0)
		return r;
	rt->last_clone = 0;
	r = remote_call2(rt, &ret, SYS_clone3, rt->scratch, sizeof(a.args));
	if (r < 0)
		return r;
	if (ret == -EEXIST) {
		pr_err("thread id %d of process %d is in use\n", tid, rt->pid);
		return -EEXIST;
	}
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: clone3 of thread %d", rt->pid, tid);
	if (ret != tid) {
		pr_err("task %d: thread created as %ld, not %d\n", rt->pid, ret, tid);
		return -EIO;
	}
	/* tid is as the process sees it; in a new pid namespace relive
	 * knows the thread by another number, the one the clone event gave. */
	outer = rt->last_clone;
	if (outer <= 0) {
		pr_err("task %d: no clone event for thread %d\n", rt->pid, tid);
		return -EIO;
	}
	/* PTRACE_O_TRACECLONE attached it; its first stop is an event stop. */
	for (;;) {
		if (waitpid(outer, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return pr_err_ret(-errno, "waitpid(%d)", outer);
		}
		if (WIFSTOPPED(status))
			break;
		pr_err("thread %d ended before it was restored\n", tid);
		return -ESRCH;
	}
	r = remote_init(ret_rt, outer, rt->syscall_ip);
	if (r < 0)
		return r;
	ret_rt->own_tgid = rt->own_tgid;
	ret_rt->own_tid = tid;
	ret_rt->scratch = rt->scratch;
	ret_rt->scratch_len = rt->scratch_len;
	return 0;
}

int restore_task_itimers(struct remote *rt, const TaskCoreEntry *core)
{
	char what[32];
	int r;

	r = need_scratch(rt, sizeof(struct itimerval));
	if (r < 0)
		return r;
	for (size_t i = 0; i < core->n_itimers; i++) {
		const ItimerEntry *e = core->itimers[i];
		struct itimerval v = {
		    .it_interval = {(time_t)(e->interval_usec / 1000000),
				    (suseconds_t)(e->interval_usec % 1000000)},
		    .it_value = {(time_t)(e->value_usec / 1000000),
				 (suseconds_t)(e->value_usec % 1000000)},
		};

		if (!e->interval_usec && !e->value_usec)
			continue; /* a fresh task has no timer armed */
		r = remote_write(rt->pid, rt->scratch, &v, sizeof(v));
		if (r < 0)
			return r;
		snprintf(what, sizeof(what), "setitimer(%u)", e->which);
		r = rcall(rt, what, SYS_setitimer, e->which, rt->scratch, 0, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- credentials ---- */

static int restore_groups(struct remote *rt, const CredsEntry *c)
{
	gid_t own[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, own), r;
	bool same;

	if (c->n_groups > NGROUPS_MAX) {
		pr_err("task %d: %zu supplementary groups, more than the kernel allows\n", rt->pid,
		       c->n_groups);
		return -EINVAL;
	}
	same = n >= 0 && (size_t)n == c->n_groups;
	for (size_t i = 0; same && i < c->n_groups; i++)
		same = own[i] == c->groups[i];
	if (same)
		return 0;
	r = need_scratch(rt, c->n_groups * sizeof(uint32_t));
	if (r < 0)
		return r;
	if (c->n_groups) {
		r = remote_write(rt->pid, rt->scratch, c->groups, c->n_groups * sizeof(uint32_t));
		if (r < 0)
			return r;
	}
	return rcall(rt, "setgroups", SYS_setgroups, c->n_groups, rt->scratch, 0, 0);
}

static int restore_gids(struct remote *rt, const CredsEntry *c)
{
	gid_t rg, eg, sg;
	int r;

	if (getresgid(&rg, &eg, &sg) < 0)
		return pr_err_ret(-errno, "cannot read relive's own gids");
	if (rg != c->gid || eg != c->egid || sg != c->sgid) {
		r = rcall(rt, "setresgid", SYS_setresgid, c->gid, c->egid, c->sgid, 0);
		if (r < 0)
			return r;
	}
	/* setfsgid returns the previous value and cannot fail visibly. */
	return rcall(rt, "setfsgid", SYS_setfsgid, c->fsgid, 0, 0, 0);
}

/* Does restoring c change any uid of a fork of relive? */
static bool uids_change(const CredsEntry *c)
{
	uid_t ru, eu, su;

	if (getresuid(&ru, &eu, &su) < 0)
		return true;
	return ru != c->uid || eu != c->euid || su != c->suid || c->fsuid != eu;
}

static int restore_uids(struct remote *rt, const CredsEntry *c)
{
	int r = rcall(rt, "setresuid", SYS_setresuid, c->uid, c->euid, c->suid, 0);

	if (r < 0)
		return r;
	return rcall(rt, "setfsuid", SYS_setfsuid, c->fsuid, 0, 0, 0);
}

static int last_cap_here(void)
{
	int last = 0;

	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_READ, cap) < 0)
			break;
		last = cap;
	}
	return last;
}

/* Bounding set: only drops are possible, and they need CAP_SETPCAP. */
static int restore_bounding(struct remote *rt, const CredsEntry *c)
{
	int last_cap = last_cap_here(), r;
	char what[48];

	for (int cap = 0; cap <= last_cap; cap++) {
		if (prctl(PR_CAPBSET_READ, cap) == 1 && !(c->cap_bnd & (1ull << cap))) {
			snprintf(what, sizeof(what), "prctl(PR_CAPBSET_DROP, %d)", cap);
			r = rcall(rt, what, SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int restore_caps(struct remote *rt, const CredsEntry *c)
{
	struct {
		struct __user_cap_header_struct hdr;
		struct __user_cap_data_struct data[2];
	} caps = {}, own = {};
	int last_cap = 0, r;
	char what[48];

	last_cap = last_cap_here();
	own.hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &own.hdr, own.data) < 0)
		return pr_err_ret(-errno, "capget");
	caps.hdr.version = _LINUX_CAPABILITY_VERSION_3;
	for (int i = 0; i < 2; i++) {
		caps.data[i].effective = (uint32_t)(c->cap_eff >> (32 * i));
		caps.data[i].permitted = (uint32_t)(c->cap_prm >> (32 * i));
		caps.data[i].inheritable = (uint32_t)(c->cap_inh >> (32 * i));
	}
	if (memcmp(caps.data, own.data, sizeof(caps.data)) != 0) {
		r = need_scratch(rt, sizeof(caps));
		if (r < 0)
			return r;
		r = remote_write(rt->pid, rt->scratch, &caps, sizeof(caps));
		if (r < 0)
			return r;
		r = rcall(rt, "capset", SYS_capset, rt->scratch, rt->scratch + sizeof(caps.hdr), 0,
			  0);
		if (r < 0)
			return r;
	}
	/* Ambient capabilities: the fork has relive's; rebuild the set. */
	bool amb_same = true;

	for (int cap = 0; cap <= last_cap; cap++) {
		int is = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (is >= 0 && (is == 1) != !!(c->cap_amb & (1ull << cap)))
			amb_same = false;
	}
	if (amb_same)
		return 0;
	r = rcall(rt, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", SYS_prctl, PR_CAP_AMBIENT,
		  PR_CAP_AMBIENT_CLEAR_ALL, 0, 0);
	if (r < 0)
		return r;
	for (int cap = 0; cap <= last_cap; cap++) {
		if (!(c->cap_amb & (1ull << cap)))
			continue;
		snprintf(what, sizeof(what), "prctl(PR_CAP_AMBIENT_RAISE, %d)", cap);
		r = rcall(rt, what, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

#define SECBIT_KEEP_CAPS_BIT 0x10

int restore_task_creds(struct remote *rt, const CredsEntry *c)
{
	int own_secbits = prctl(PR_GET_SECUREBITS);
	bool uid_change, keepcaps_added;
	uint32_t secbits;
	int r;

	if (!c)
		return 0;
	/*
	 * Order: everything that needs relive's privileges first (groups,
	 * gids, securebits, bounding set), then the uids with KEEP_CAPS held
	 * so that the permitted set survives, then capset to the exact sets,
	 * the ambient set, and finally KEEP_CAPS as it was dumped.
	 */
	r = restore_groups(rt, c);
	if (r < 0)
		return r;
	r = restore_gids(rt, c);
	if (r < 0)
		return r;
	uid_change = uids_change(c);
	keepcaps_added = uid_change && !(c->securebits & SECBIT_KEEP_CAPS_BIT);
	secbits = c->securebits | (uid_change ? SECBIT_KEEP_CAPS_BIT : 0);
	if (own_secbits < 0 || (uint32_t)own_secbits != secbits) {
		r = rcall(rt, "prctl(PR_SET_SECUREBITS)", SYS_prctl, PR_SET_SECUREBITS, secbits, 0,
			  0);
		if (r < 0)
			return r;
	}
	r = restore_bounding(rt, c);
	if (r < 0)
		return r;
	if (uid_change) {
		r = restore_uids(rt, c);
		if (r < 0)
			return r;
	}
	r = restore_caps(rt, c);
	if (r < 0)
		return r;
	if (keepcaps_added) {
		r = rcall(rt, "prctl(PR_SET_KEEPCAPS, 0)", SYS_prctl, PR_SET_KEEPCAPS, 0, 0, 0);
		if (r < 0)
			return r;
	}
	if (c->has_no_new_privs && c->no_new_privs) {
		r = rcall(rt, "prctl(PR_SET_NO_NEW_PRIVS)", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0,
			  0);
		if (r < 0)
			return r;
	}
	/* A uid change resets dumpable: set it whenever it may differ. */
	if (c->has_dumpable && (uid_change || c->dumpable != (uint32_t)prctl(PR_GET_DUMPABLE))) {
		if (c->dumpable > 1) {
			pr_warn("task %d: dumpable mode %u cannot be set\n", rt->pid, c->dumpable);
			return 0;
		}
		r = rcall(rt, "prctl(PR_SET_DUMPABLE)", SYS_prctl, PR_SET_DUMPABLE, c->dumpable, 0,
			  0);
		if (r < 0)
			return r;
	}
	return 0;
}
