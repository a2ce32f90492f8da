// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-process state: signals, timers, limits, credentials, paths, core image. */
#define LOG_PREFIX "dump: "
#include <limits.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "dump-task.h"
#include "dump-thread.h"
#include "dump.h"
#include "img.h"
#include "log.h"
#include "util.h"

#include "core.pb-c.h"

int dump_task_proc_early(struct dump_task *t)
{
	_cleanup_free_ char *smaps = NULL, *stat = NULL, *status = NULL;
	size_t len;
	int r;

	r = dump_read_proc(t->pid, "smaps", &smaps, &len);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot read /proc/%d/smaps", t->pid, t->pid);
	r = proc_parse_smaps(smaps, len, &t->vmas);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/smaps", t->pid, t->pid);
	r = dump_read_proc(t->pid, "stat", &stat, &len);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot read /proc/%d/stat", t->pid, t->pid);
	r = proc_parse_stat(stat, len, &t->stat);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/stat", t->pid, t->pid);
	r = dump_read_proc(t->pid, "status", &status, &len);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot read /proc/%d/status", t->pid, t->pid);
	r = proc_parse_status(status, len, &t->status);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot parse /proc/%d/status", t->pid, t->pid);
	/*
	 * Our remote calls would run through the task's seccomp filters (a
	 * kill action would end it mid-dump), and the filters themselves are
	 * not saved yet, so the restored task would run unconfined.
	 */
	if (t->status.seccomp > 0) {
		pr_err("not supported: process %d runs under seccomp (mode %d)\n", t->pid,
		       t->status.seccomp);
		return -EOPNOTSUPP;
	}
	t->pgid = t->stat.pgid;
	t->sid = t->stat.sid;
	snprintf(t->comm, sizeof(t->comm), "%s", t->stat.comm);
	return 0;
}

/* struct sigaction as rt_sigaction(2) fills it on x86_64. */
struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

/* A remote call whose return value must not be negative. */
static int remote_checked(struct dump_task *t, long *ret, long nr, unsigned long a1,
			  unsigned long a2, const char *what)
{
	int r = remote_call2(&t->threads[0].rt, ret, nr, a1, a2);

	if (r < 0)
		return r;
	if (*ret < 0 && *ret > -4096)
		return pr_err_ret((int)*ret, "process %d: %s", t->pid, what);
	return 0;
}

static int dump_sigactions(struct dump_task *t)
{
	unsigned long scratch = t->threads[0].rt.scratch;
	struct kernel_sigaction ks[64];
	long ret;
	int r;

	/* One slot of the scratch area per signal, read back at once. */
	if (t->threads[0].rt.scratch_len < sizeof(ks))
		return -EINVAL;
	memset(ks, 0, sizeof(ks));
	for (int sig = 1; sig <= 64; sig++) {
		char what[64];

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		snprintf(what, sizeof(what), "rt_sigaction(%d)", sig);
		r = remote_call4(&t->threads[0].rt, &ret, SYS_rt_sigaction, sig, 0,
				 scratch + (sig - 1) * sizeof(ks[0]), 8);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret((int)ret, "process %d: %s", t->pid, what);
	}
	r = remote_read(t->pid, scratch, ks, sizeof(ks));
	if (r < 0)
		return r;
	t->nr_sigactions = 0;
	for (int sig = 1; sig <= 64; sig++) {
		struct dump_sigaction *sa;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa = &t->sigactions[t->nr_sigactions++];
		sa->signo = sig;
		sa->handler = ks[sig - 1].handler;
		sa->flags = ks[sig - 1].flags;
		sa->restorer = ks[sig - 1].restorer;
		sa->mask = ks[sig - 1].mask;
	}
	return 0;
}

static int dump_itimers(struct dump_task *t)
{
	unsigned long scratch = t->threads[0].rt.scratch;
	static const int which[] = {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF};
	struct itimerval iv[3];
	long ret;
	int r;

	for (int i = 0; i < 3; i++) {
		r = remote_checked(t, &ret, SYS_getitimer, which[i], scratch + i * sizeof(iv[0]),
				   "getitimer");
		if (r < 0)
			return r;
	}
	r = remote_read(t->pid, scratch, iv, sizeof(iv));
	if (r < 0)
		return r;
	for (int i = 0; i < 3; i++) {
		const struct itimerval *v = &iv[i];

		if (v->it_interval.tv_sec < 0 || v->it_value.tv_sec < 0 ||
		    v->it_interval.tv_usec < 0 || v->it_interval.tv_usec >= 1000000 ||
		    v->it_value.tv_usec < 0 || v->it_value.tv_usec >= 1000000) {
			pr_err("process %d: itimer %d reads back out of range\n", t->pid, which[i]);
			return -EPROTO;
		}
		t->itimers[i].which = which[i];
		t->itimers[i].interval_usec =
		    (uint64_t)v->it_interval.tv_sec * 1000000 + v->it_interval.tv_usec;
		t->itimers[i].value_usec =
		    (uint64_t)v->it_value.tv_sec * 1000000 + v->it_value.tv_usec;
	}
	return 0;
}

int dump_task_remote_state(struct dump_task *t)
{
	unsigned long scratch = t->threads[0].rt.scratch;
	int32_t pdeath;
	long ret;
	int r;

	r = dump_sigactions(t);
	if (r < 0)
		return r;
	r = dump_itimers(t);
	if (r < 0)
		return r;
	/* 0xffffffff queries without changing. */
	r = remote_checked(t, &ret, SYS_personality, 0xffffffffUL, 0, "personality");
	if (r < 0)
		return r;
	t->personality = (uint32_t)ret;
	/* /proc/PID/stat only has start_brk; brk(0) returns the current end. */
	r = remote_checked(t, &ret, SYS_brk, 0, 0, "brk");
	if (r < 0)
		return r;
	t->brk = (uint64_t)ret;
	r = remote_checked(t, &ret, SYS_prctl, PR_GET_SECUREBITS, 0, "prctl(PR_GET_SECUREBITS)");
	if (r < 0)
		return r;
	t->securebits = (uint32_t)ret;
	r = remote_checked(t, &ret, SYS_prctl, PR_GET_DUMPABLE, 0, "prctl(PR_GET_DUMPABLE)");
	if (r < 0)
		return r;
	t->dumpable = (uint32_t)ret;
	r = remote_checked(t, &ret, SYS_prctl, PR_GET_TIMERSLACK, 0, "prctl(PR_GET_TIMERSLACK)");
	if (r < 0)
		return r;
	t->timerslack_ns = (uint64_t)ret;
	r = remote_checked(t, &ret, SYS_prctl, PR_GET_PDEATHSIG, scratch,
			   "prctl(PR_GET_PDEATHSIG)");
	if (r < 0)
		return r;
	r = remote_read(t->pid, scratch, &pdeath, sizeof(pdeath));
	if (r < 0)
		return r;
	if (pdeath < 0 || pdeath > 64) {
		pr_err("process %d: parent-death signal %d out of range\n", t->pid, pdeath);
		return -EPROTO;
	}
	t->pdeath_signal = (uint32_t)pdeath;
	return 0;
}

/* readlink of /proc/PID/name into a heap string. */
static int read_proc_link(pid_t pid, const char *name, char **ret)
{
	char path[64], buf[PATH_MAX + 1];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, sizeof(buf));
	if (n < 0)
		return pr_err_ret(-errno, "process %d: cannot read link %s", pid, path);
	if (n >= (ssize_t)sizeof(buf) - 1) {
		pr_err("process %d: %s is longer than PATH_MAX\n", pid, path);
		return -ENAMETOOLONG;
	}
	buf[n] = '\0';
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

/* A deleted file or directory has no path to reopen on restore. */
static int check_not_deleted(pid_t pid, const char *name, const char *target, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	if (stat(path, st) < 0)
		return pr_err_ret(-errno, "process %d: cannot stat %s", pid, path);
	if (st->st_nlink == 0) {
		pr_err("not supported: the %s of process %d, %s, was deleted\n", name, pid, target);
		return -EOPNOTSUPP;
	}
	return 0;
}

int dump_task_proc_state(struct dump_task *t)
{
	_cleanup_free_ char *auxv = NULL;
	struct stat st;
	size_t len;
	int r;

	r = dump_read_proc(t->pid, "auxv", &auxv, &len);
	if (r < 0)
		return pr_err_ret(r, "process %d: cannot read /proc/%d/auxv", t->pid, t->pid);
	r = proc_parse_auxv(auxv, len, &t->auxv, &t->nr_auxv);
	if (r < 0)
		return pr_err_ret(r, "process %d: malformed /proc/%d/auxv", t->pid, t->pid);

	r = read_proc_link(t->pid, "exe", &t->exe);
	if (r < 0)
		return r;
	r = check_not_deleted(t->pid, "exe", t->exe, &st);
	if (r < 0)
		return r;
	t->exe_dev = st.st_dev;
	t->exe_ino = st.st_ino;
	r = read_proc_link(t->pid, "cwd", &t->cwd);
	if (r < 0)
		return r;
	r = check_not_deleted(t->pid, "cwd", t->cwd, &st);
	if (r < 0)
		return r;
	r = read_proc_link(t->pid, "root", &t->root);
	if (r < 0)
		return r;

	for (int res = 0; res < RLIM_NLIMITS; res++)
		if (prlimit(t->pid, res, NULL, &t->rlimits[res]) < 0)
			return pr_err_ret(-errno, "process %d: cannot read rlimit %d", t->pid, res);

	return dump_peek_signals(t->pid, true, &t->shared_pending, &t->nr_shared_pending);
}

int dump_task_write_core(struct dump_ctx *ctx, const struct dump_task *t)
{
	TaskCoreEntry tc = TASK_CORE_ENTRY__INIT;
	CredsEntry creds = CREDS_ENTRY__INIT;
	SigactionEntry sa[64], *sap[64];
	ItimerEntry it[3], *itp[3];
	RlimitEntry rl[RLIM_NLIMITS], *rlp[RLIM_NLIMITS];
	_cleanup_free_ struct thread_msg *tm = NULL;
	_cleanup_free_ ThreadCoreEntry **tmp = NULL;
	_cleanup_free_ ProtobufCBinaryData *shared = NULL;
	_cleanup_img_ struct img *img = NULL;
	size_t nr_tm = 0;
	char name[64];
	int r;

	tc.pid = t->pid;
	tc.state = TASK_STATE__TASK_ALIVE;
	tc.comm = (char *)t->comm;
	tc.personality = t->personality;
	tc.umask = t->status.umask;
	for (size_t i = 0; i < t->nr_sigactions; i++) {
		sa[i] = (SigactionEntry)SIGACTION_ENTRY__INIT;
		sa[i].signo = t->sigactions[i].signo;
		sa[i].handler = t->sigactions[i].handler;
		sa[i].flags = t->sigactions[i].flags;
		sa[i].restorer = t->sigactions[i].restorer;
		sa[i].mask = t->sigactions[i].mask;
		sap[i] = &sa[i];
	}
	tc.n_sigactions = t->nr_sigactions;
	tc.sigactions = sap;
	for (int i = 0; i < 3; i++) {
		it[i] = (ItimerEntry)ITIMER_ENTRY__INIT;
		it[i].which = t->itimers[i].which;
		it[i].interval_usec = t->itimers[i].interval_usec;
		it[i].value_usec = t->itimers[i].value_usec;
		itp[i] = &it[i];
	}
	tc.n_itimers = 3;
	tc.itimers = itp;
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		rl[i] = (RlimitEntry)RLIMIT_ENTRY__INIT;
		rl[i].resource = i;
		rl[i].cur = t->rlimits[i].rlim_cur;
		rl[i].max = t->rlimits[i].rlim_max;
		rlp[i] = &rl[i];
	}
	tc.n_rlimits = RLIM_NLIMITS;
	tc.rlimits = rlp;

	creds.uid = t->status.uid[0];
	creds.euid = t->status.uid[1];
	creds.suid = t->status.uid[2];
	creds.fsuid = t->status.uid[3];
	creds.gid = t->status.gid[0];
	creds.egid = t->status.gid[1];
	creds.sgid = t->status.gid[2];
	creds.fsgid = t->status.gid[3];
	creds.n_groups = t->status.nr_groups;
	creds.groups = t->status.groups;
	creds.cap_inh = t->status.cap_inh;
	creds.cap_prm = t->status.cap_prm;
	creds.cap_eff = t->status.cap_eff;
	creds.cap_bnd = t->status.cap_bnd;
	creds.cap_amb = t->status.cap_amb;
	creds.securebits = t->securebits;
	creds.has_no_new_privs = true;
	creds.no_new_privs = t->status.no_new_privs;
	creds.has_dumpable = true;
	creds.dumpable = t->dumpable;
	tc.creds = &creds;
	tc.cwd = t->cwd;
	tc.root = t->root;

	if (t->nr_shared_pending) {
		shared = calloc(t->nr_shared_pending, sizeof(*shared));
		if (!shared)
			return -ENOMEM;
		for (size_t i = 0; i < t->nr_shared_pending; i++) {
			shared[i].data = (uint8_t *)t->shared_pending[i].raw;
			shared[i].len = DUMP_SIGINFO_SIZE;
		}
		tc.n_shared_pending = t->nr_shared_pending;
		tc.shared_pending = shared;
	}

	tm = calloc(t->nr_threads, sizeof(*tm));
	tmp = calloc(t->nr_threads, sizeof(*tmp));
	if (!tm || !tmp)
		return -ENOMEM;
	for (; nr_tm < t->nr_threads; nr_tm++) {
		r = dump_thread_msg(&t->threads[nr_tm], &tm[nr_tm]);
		if (r < 0)
			goto out;
		tmp[nr_tm] = &tm[nr_tm].tc;
	}
	tc.n_threads = t->nr_threads;
	tc.threads = tmp;
	tc.has_exit_signal = true;
	tc.exit_signal = (uint32_t)t->stat.exit_signal;
	tc.has_pdeath_signal = true;
	tc.pdeath_signal = t->pdeath_signal;
	tc.has_timerslack_ns = true;
	tc.timerslack_ns = t->timerslack_ns;
	tc.has_nice = true;
	tc.nice = (int32_t)t->stat.nice;

	snprintf(name, sizeof(name), "core-%d.img", t->pid);
	r = img_open_write(ctx->dirfd, name, IMG_CORE, &img);
	if (r < 0)
		goto out;
	r = img_write_msg(img, &tc.base);
	if (r < 0)
		goto out;
	r = img_commit(img);
out:
	for (size_t i = 0; i < nr_tm; i++)
		dump_thread_msg_free(&tm[i]);
	return r;
}

void dump_task_free(struct dump_task *t)
{
	for (size_t i = 0; i < t->nr_threads; i++)
		dump_thread_free(&t->threads[i]);
	free(t->threads);
	t->threads = NULL;
	proc_vmas_free(&t->vmas);
	proc_status_free(&t->status);
	free(t->auxv);
	free(t->exe);
	free(t->cwd);
	free(t->root);
	free(t->shared_pending);
	free(t->fds);
	t->auxv = NULL;
	t->exe = t->cwd = t->root = NULL;
	t->shared_pending = NULL;
	t->fds = NULL;
}
