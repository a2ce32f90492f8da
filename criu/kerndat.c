// SPDX-License-Identifier: GPL-2.0-or-later
/* Kernel probes: use each feature for real on a child or a scratch mapping. */
#define LOG_PREFIX "kerndat: "

#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kerndat-probe.h"
#include "kerndat.h"
#include "log.h"
#include "util.h"

/*
 * ABI values the Debian 12 headers may lack. They are kernel ABI, so defining
 * them here is safe; whether the running kernel knows them is what we probe.
 */
#define KD_PTRACE_GET_RSEQ_CONFIGURATION 0x420f

struct kd_rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* struct clone_args up to set_tid_size (CLONE_ARGS_SIZE_VER1). */
struct kd_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
};

/* The xstate_fx_sw_bytes the kernel puts in the FXSAVE reserved area. */
#define KD_FP_XSTATE_MAGIC1 0x46505853U
#define KD_FX_SW_BYTES_OFF  464

static const struct {
	const char *name;
	enum kd_category category;
} item_info[KD_NR_ITEMS] = {
    [KD_PTRACE_SEIZE] = {"ptrace-seize", KD_REQUIRED},
    [KD_PROCESS_VM] = {"process-vm-rw", KD_REQUIRED},
    [KD_PIDFD_GETFD] = {"pidfd-getfd", KD_REQUIRED},
    [KD_CLONE3_SET_TID] = {"clone3-set-tid", KD_REQUIRED},
    [KD_RSEQ_CONFIG] = {"ptrace-rseq-config", KD_REQUIRED},
    [KD_XSTATE] = {"ptrace-xstate", KD_REQUIRED},
    [KD_VDSO] = {"vdso", KD_REQUIRED},
    [KD_UFFD] = {"userfaultfd", KD_LAZY},
    [KD_UFFD_EVENTS] = {"uffd-events", KD_LAZY},
    [KD_UFFD_SYSCALL] = {"uffd-syscall", KD_OPTIONAL},
    [KD_UFFD_USER_MODE] = {"uffd-user-mode-only", KD_OPTIONAL},
    [KD_UFFD_DEV] = {"dev-userfaultfd", KD_OPTIONAL},
    [KD_PAGEMAP_SCAN] = {"pagemap-scan", KD_OPTIONAL},
    [KD_DIRTY_TRACK] = {"uffd-wp-async-dirty", KD_OPTIONAL},
    [KD_TIME_NS] = {"time-namespace", KD_OPTIONAL},
    [KD_SOCK_DIAG_UNIX] = {"sock-diag-unix", KD_OPTIONAL},
    [KD_SOCK_DIAG_INET] = {"sock-diag-inet", KD_OPTIONAL},
};

static const char *const uffd_feature_names[] = {
    [0] = "WP",
    [1] = "EVENT_FORK",
    [2] = "EVENT_REMAP",
    [3] = "EVENT_REMOVE",
    [4] = "MISSING_HUGETLBFS",
    [5] = "MISSING_SHMEM",
    [6] = "EVENT_UNMAP",
    [7] = "SIGBUS",
    [8] = "THREAD_ID",
    [9] = "MINOR_HUGETLBFS",
    [10] = "MINOR_SHMEM",
    [11] = "EXACT_ADDRESS",
    [12] = "WP_HUGETLBFS_SHMEM",
    [13] = "WP_UNPOPULATED",
    [14] = "POISON",
    [15] = "WP_ASYNC",
    [16] = "MOVE",
};

static const char *const xfeature_names[] = {
    [0] = "x87",
    [1] = "sse",
    [2] = "avx",
    [3] = "mpx_bndregs",
    [4] = "mpx_bndcsr",
    [5] = "avx512_opmask",
    [6] = "avx512_zmm_hi256",
    [7] = "avx512_hi16_zmm",
    [8] = "pt",
    [9] = "pkru",
    [10] = "pasid",
    [11] = "cet_user",
    [12] = "cet_supervisor",
    [13] = "hdc",
    [14] = "uintr",
    [15] = "lbr",
    [16] = "hwp",
    [17] = "amx_tilecfg",
    [18] = "amx_tiledata",
    [19] = "apx",
};

const char *kerndat_item_name(enum kd_item i)
{
	return i < KD_NR_ITEMS ? item_info[i].name : NULL;
}

enum kd_category kerndat_item_category(enum kd_item i)
{
	return i < KD_NR_ITEMS ? item_info[i].category : KD_OPTIONAL;
}

const char *kerndat_category_name(enum kd_category c)
{
	switch (c) {
	case KD_REQUIRED:
		return "required";
	case KD_LAZY:
		return "lazy";
	case KD_OPTIONAL:
		return "optional";
	}
	return "optional";
}

const char *kerndat_uffd_feature_name(unsigned bit)
{
	return bit < ARRAY_SIZE(uffd_feature_names) ? uffd_feature_names[bit] : NULL;
}

const char *kerndat_xfeature_name(unsigned bit)
{
	return bit < ARRAY_SIZE(xfeature_names) ? xfeature_names[bit] : NULL;
}

void kd_set_item(struct kerndat *kd, enum kd_item i, bool present, const char *fmt, ...)
{
	va_list ap;

	kd->item[i].present = present;
	va_start(ap, fmt);
	vsnprintf(kd->item[i].detail, sizeof(kd->item[i].detail), fmt, ap);
	va_end(ap);
	pr_debug("%s: %s (%s)\n", item_info[i].name, present ? "yes" : "no", kd->item[i].detail);
}

/* Mark i absent because the call `what` failed with r (-errno). */
void kd_set_failed(struct kerndat *kd, enum kd_item i, const char *what, int r)
{
	kd_set_item(kd, i, false, "%s: %s", what, strerror(r < 0 ? -r : r));
}

/*
 * Children. Every fork here goes through a variable with this cleanup, so
 * that every return path kills and reaps it: no zombie, no stopped task.
 */
static void reap_child(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	/* A seized child may report a stop we never collected: wait for the exit. */
	for (;;) {
		if (waitpid(pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return;
	}
}

static void reap_childp(pid_t *pid)
{
	reap_child(*pid);
}

#define _cleanup_child_ _cleanup_(reap_childp)

/* Wait for a child that exits on its own; returns its exit code or -errno. */
static int wait_exit_code(pid_t *pid)
{
	int status;

	for (;;) {
		if (waitpid(*pid, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(status)) {
			*pid = -1;
			return WEXITSTATUS(status);
		}
		if (WIFSIGNALED(status)) {
			*pid = -1;
			return -EINTR;
		}
	}
}

/* In a fresh child: die with the parent, so a killed relive leaves nothing. */
static void child_tie_to_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
}

/* A child that only sleeps; it shares our stack contents at fork time. */
static pid_t fork_sleeper(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		child_tie_to_parent(parent);
		for (;;)
			pause();
	}
	return pid < 0 ? negerrno() : pid;
}

static void probe_process_vm(struct kerndat *kd, pid_t pid, const char *marker, size_t len)
{
	static const char update[] = "relive wrote this";
	char buf[64];
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)marker, .iov_len = len};
	ssize_t n;

	if (len > sizeof(buf) || len < sizeof(update))
		return kd_set_failed(kd, KD_PROCESS_VM, "marker size", -EINVAL);
	/* The child is a fork: its copy of marker sits at the same address. */
	memset(buf, 0, sizeof(buf));
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return kd_set_failed(kd, KD_PROCESS_VM, "process_vm_readv", negerrno());
	if ((size_t)n != len || memcmp(buf, marker, len))
		return kd_set_item(kd, KD_PROCESS_VM, false,
				   "process_vm_readv returned wrong data");

	local.iov_base = (void *)update;
	local.iov_len = sizeof(update);
	n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return kd_set_failed(kd, KD_PROCESS_VM, "process_vm_writev", negerrno());
	local.iov_base = buf;
	memset(buf, 0, sizeof(buf));
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n != (ssize_t)sizeof(update) || memcmp(buf, update, sizeof(update)))
		return kd_set_item(kd, KD_PROCESS_VM, false,
				   "process_vm_writev did not change the child's memory");
	kd_set_item(kd, KD_PROCESS_VM, true, "read and wrote a child's memory");
}

static void probe_pidfd_getfd(struct kerndat *kd, pid_t pid, int child_fd)
{
	_cleanup_close_ int pidfd = -1, fd = -1;
	struct stat ours, theirs;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return kd_set_failed(kd, KD_PIDFD_GETFD, "pidfd_open", negerrno());
	fd = syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	if (fd < 0)
		return kd_set_failed(kd, KD_PIDFD_GETFD, "pidfd_getfd", negerrno());
	if (fstat(fd, &theirs) < 0 || fstat(child_fd, &ours) < 0)
		return kd_set_failed(kd, KD_PIDFD_GETFD, "fstat", negerrno());
	if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino)
		return kd_set_item(kd, KD_PIDFD_GETFD, false, "pidfd_getfd returned another file");
	kd_set_item(kd, KD_PIDFD_GETFD, true, "took a file from a child");
}

static int probe_seize(struct kerndat *kd, pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		int r = negerrno();

		kd_set_failed(kd, KD_PTRACE_SEIZE, "PTRACE_SEIZE", r);
		return r;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
		int r = negerrno();

		kd_set_failed(kd, KD_PTRACE_SEIZE, "PTRACE_INTERRUPT", r);
		return r;
	}
	while (waitpid(pid, &status, __WALL) < 0) {
		if (errno != EINTR) {
			int r = negerrno();

			kd_set_failed(kd, KD_PTRACE_SEIZE, "waitpid", r);
			return r;
		}
	}
	if (!WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP) {
		kd_set_item(kd, KD_PTRACE_SEIZE, false,
			    "unexpected wait status 0x%x after interrupt", status);
		return -EPROTO;
	}
	kd_set_item(kd, KD_PTRACE_SEIZE, true, "seized and interrupted a child");
	return 0;
}

static void probe_rseq(struct kerndat *kd, pid_t pid)
{
	struct kd_rseq_config conf = {0};
	long n;

	n = ptrace(KD_PTRACE_GET_RSEQ_CONFIGURATION, pid, (void *)sizeof(conf), &conf);
	if (n < 0)
		return kd_set_failed(kd, KD_RSEQ_CONFIG, "PTRACE_GET_RSEQ_CONFIGURATION",
				     negerrno());
	if (n < (long)offsetof(struct kd_rseq_config, flags))
		return kd_set_item(kd, KD_RSEQ_CONFIG, false,
				   "short rseq configuration (%ld bytes)", n);
	if (!conf.rseq_abi_pointer)
		return kd_set_item(kd, KD_RSEQ_CONFIG, true, "works; the child has no rseq area");
	kd_set_item(kd, KD_RSEQ_CONFIG, true, "child's rseq area: %u bytes, signature 0x%x",
		    conf.rseq_abi_size, conf.signature);
}

static uint64_t read_xcr0(void)
{
	uint32_t eax, ebx, ecx, edx, lo, hi;

	__asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
	/* OSXSAVE: the OS enabled XSAVE, so xgetbv is allowed. */
	if (!(ecx & (1u << 27)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void probe_xstate(struct kerndat *kd, pid_t pid)
{
	/* Big enough for AMX tile data (about 11 KiB) with room to spare. */
	const size_t cap = 64 << 10;
	_cleanup_free_ uint8_t *buf = calloc(1, cap);
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	uint32_t magic;

	if (!buf)
		return kd_set_failed(kd, KD_XSTATE, "calloc", -ENOMEM);
	if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0)
		return kd_set_failed(kd, KD_XSTATE, "PTRACE_GETREGSET NT_X86_XSTATE", negerrno());
	if (iov.iov_len < 576 || iov.iov_len > cap)
		return kd_set_item(kd, KD_XSTATE, false, "implausible xstate size %zu",
				   iov.iov_len);
	kd->xstate_size = iov.iov_len;
	/* The kernel describes the layout in the FXSAVE area's software bytes. */
	memcpy(&magic, buf + KD_FX_SW_BYTES_OFF, sizeof(magic));
	if (magic == KD_FP_XSTATE_MAGIC1)
		memcpy(&kd->xfeatures, buf + KD_FX_SW_BYTES_OFF + 8, sizeof(kd->xfeatures));
	else
		kd->xfeatures = read_xcr0();
	kd_set_item(kd, KD_XSTATE, true, "%u bytes, xfeatures 0x%llx", kd->xstate_size,
		    (unsigned long long)kd->xfeatures);
}

/* Probes that need a live child: one sleeping child serves them all. */
static void probe_child_items(struct kerndat *kd)
{
	char marker[32] = "relive kerndat marker";
	_cleanup_close_ int pipe_rd = -1, pipe_wr = -1;
	_cleanup_child_ pid_t pid = -1;
	int fds[2];
	int r;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = negerrno();
		for (enum kd_item i = KD_PTRACE_SEIZE; i <= KD_XSTATE; i++)
			if (i != KD_CLONE3_SET_TID)
				kd_set_failed(kd, i, "pipe2", r);
		return;
	}
	pipe_rd = fds[0];
	pipe_wr = fds[1];
	pid = fork_sleeper();
	if (pid < 0) {
		r = pid;
		pid = -1;
		for (enum kd_item i = KD_PTRACE_SEIZE; i <= KD_XSTATE; i++)
			if (i != KD_CLONE3_SET_TID)
				kd_set_failed(kd, i, "fork", r);
		return;
	}
	probe_process_vm(kd, pid, marker, sizeof(marker));
	probe_pidfd_getfd(kd, pid, pipe_wr);
	if (probe_seize(kd, pid) < 0) {
		kd_set_item(kd, KD_RSEQ_CONFIG, false, "not probed: ptrace-seize failed");
		kd_set_item(kd, KD_XSTATE, false, "not probed: ptrace-seize failed");
		return;
	}
	probe_rseq(kd, pid);
	probe_xstate(kd, pid);
}

/* clone3 with one set_tid entry: the pid in the innermost pid namespace. */
static pid_t clone3_set_tid(pid_t tid)
{
	pid_t want = tid;
	struct kd_clone_args args = {
	    .exit_signal = SIGCHLD,
	    .set_tid = (uintptr_t)&want,
	    .set_tid_size = 1,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	return r < 0 ? negerrno() : (pid_t)r;
}

struct clone3_result {
	int err;    /* 0 or -errno */
	int step;   /* which step failed or 0 */
	int new_ns; /* 1 when done in a new pid namespace */
	pid_t tid;  /* the pid we asked for last */
};

/* Create a child with pid tid that checks it got it; returns 0 or -errno. */
static int clone3_try(pid_t tid)
{
	_cleanup_child_ pid_t pid = clone3_set_tid(tid);
	int r;

	if (pid == 0)
		_exit(getpid() == tid ? 0 : 1);
	if (pid < 0) {
		r = pid;
		pid = -1;
		return r;
	}
	r = wait_exit_code(&pid);
	if (r < 0)
		return r;
	return r == 0 ? 0 : -EPROTO;
}

int kd_read_proc_int(const char *path, int *ret)
{
	_cleanup_free_ char *s = NULL;
	size_t len;
	int r = read_file_str(path, &s, &len);

	if (r < 0)
		return r;
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = '\0';
	return parse_int(s, ret);
}

/* Without CAP_SYS_ADMIN: pick a free pid above ns_last_pid in our namespace. */
static void clone3_same_ns(struct clone3_result *res)
{
	int last, max, r = -EEXIST;

	res->new_ns = 0;
	res->step = 3;
	if ((r = kd_read_proc_int("/proc/sys/kernel/ns_last_pid", &last)) < 0 ||
	    (r = kd_read_proc_int("/proc/sys/kernel/pid_max", &max)) < 0) {
		res->err = r;
		return;
	}
	res->tid = last + 200;
	for (int tries = 0; tries < 16; tries++, res->tid += 37) {
		if (res->tid >= max || res->tid < 300)
			res->tid = 300 + tries;
		r = clone3_try(res->tid);
		if (r != -EEXIST)
			break;
	}
	res->err = r;
}

/*
 * In a new pid namespace nobody else allocates pids, so set_tid cannot
 * collide: the first child must be 1 (the namespace's init, which has to
 * stay alive for further forks), then a second one gets pid 5.
 */
static void clone3_new_ns(struct clone3_result *res)
{
	_cleanup_child_ pid_t init = -1;

	res->new_ns = 1;
	res->step = 1;
	res->tid = 1;
	init = clone3_set_tid(1);
	if (init == 0) {
		/* getppid() is 0 here: our parent is outside the namespace. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getpid() != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (init < 0) {
		res->err = init;
		init = -1;
		return;
	}
	res->step = 2;
	res->tid = 5;
	res->err = clone3_try(5);
}

static void __attribute__((noreturn)) clone3_helper(int result_fd, pid_t parent)
{
	struct clone3_result res = {0};

	child_tie_to_parent(parent);
	if (unshare(CLONE_NEWPID) == 0)
		clone3_new_ns(&res);
	else
		clone3_same_ns(&res);
	_exit(write_all(result_fd, &res, sizeof(res)) < 0 ? 1 : 0);
}

static void probe_clone3(struct kerndat *kd)
{
	static const char *const steps[] = {"", "pid 1 in a new pid namespace",
					    "pid 5 in a new pid namespace",
					    "a free pid in our pid namespace"};
	_cleanup_close_ int rd = -1, wr = -1;
	_cleanup_child_ pid_t helper = -1;
	struct clone3_result res;
	pid_t parent = getpid();
	int fds[2], r;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return kd_set_failed(kd, KD_CLONE3_SET_TID, "pipe2", negerrno());
	rd = fds[0];
	wr = fds[1];
	helper = fork();
	if (helper == 0)
		clone3_helper(wr, parent);
	if (helper < 0) {
		r = negerrno();
		helper = -1;
		return kd_set_failed(kd, KD_CLONE3_SET_TID, "fork", r);
	}
	close(wr);
	wr = -1;
	r = read_all(rd, &res, sizeof(res));
	if (r < 0)
		return kd_set_item(kd, KD_CLONE3_SET_TID, false, "the probe helper died");
	(void)wait_exit_code(&helper);
	if (res.step < 0 || res.step >= (int)ARRAY_SIZE(steps))
		return kd_set_item(kd, KD_CLONE3_SET_TID, false, "bad helper answer");
	if (res.err == -EPROTO)
		return kd_set_item(kd, KD_CLONE3_SET_TID, false, "clone3 gave a pid other than %d",
				   res.tid);
	if (res.err < 0)
		return kd_set_item(kd, KD_CLONE3_SET_TID, false, "clone3 set_tid (%s): %s",
				   steps[res.step], strerror(-res.err));
	kd_set_item(kd, KD_CLONE3_SET_TID, true, "created pid %d %s", res.tid,
		    res.new_ns ? "in a new pid namespace" : "in our pid namespace");
}

static void probe_time_ns(struct kerndat *kd)
{
	_cleanup_child_ pid_t pid = -1;
	pid_t parent = getpid();
	int r;

	/* unshare(CLONE_NEWTIME) changes our children's namespace: do it in a child. */
	pid = fork();
	if (pid == 0) {
		child_tie_to_parent(parent);
		_exit(unshare(CLONE_NEWTIME) == 0 ? 0 : (errno & 0x7f));
	}
	if (pid < 0) {
		r = negerrno();
		pid = -1;
		return kd_set_failed(kd, KD_TIME_NS, "fork", r);
	}
	r = wait_exit_code(&pid);
	if (r < 0)
		return kd_set_failed(kd, KD_TIME_NS, "waitpid", r);
	if (r > 0)
		return kd_set_item(
		    kd, KD_TIME_NS, false, "unshare(CLONE_NEWTIME): %s%s", strerror(r),
		    access("/proc/self/ns/time", F_OK) == 0 ? " (the kernel has time namespaces)"
							    : "");
	kd_set_item(kd, KD_TIME_NS, true, "unshare(CLONE_NEWTIME) works");
}

static void probe_vdso(struct kerndat *kd)
{
	_cleanup_free_ char *maps = NULL;
	unsigned long at = getauxval(AT_SYSINFO_EHDR);
	unsigned long start, end;
	char *line;
	int r;

	if (!at)
		return kd_set_item(kd, KD_VDSO, false,
				   "no AT_SYSINFO_EHDR in the auxiliary vector");
	r = read_file_str("/proc/self/maps", &maps, NULL);
	if (r < 0)
		return kd_set_failed(kd, KD_VDSO, "/proc/self/maps", r);
	for (line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		size_t len = strlen(line);

		if (len < 6 || strcmp(line + len - 6, "[vdso]"))
			continue;
		if (sscanf(line, "%lx-%lx", &start, &end) != 2 || end <= start)
			break;
		if (at < start || at >= end)
			break;
		return kd_set_item(kd, KD_VDSO, true, "[vdso] at 0x%lx, %lu KiB", start,
				   (end - start) >> 10);
	}
	kd_set_item(kd, KD_VDSO, false, "no [vdso] mapping holding AT_SYSINFO_EHDR 0x%lx", at);
}

int kerndat_probe(struct kerndat *kd)
{
	struct utsname u;

	memset(kd, 0, sizeof(*kd));
	/* Placeholder, overwritten by every probe; the unit test checks that. */
	for (enum kd_item i = 0; i < KD_NR_ITEMS; i++)
		snprintf(kd->item[i].detail, sizeof(kd->item[i].detail), "not probed");
	if (uname(&u) == 0)
		snprintf(kd->release, sizeof(kd->release), "%s", u.release);
	else
		snprintf(kd->release, sizeof(kd->release), "unknown");
	if (kd_read_proc_int("/proc/sys/vm/unprivileged_userfaultfd",
			     &kd->unprivileged_userfaultfd) < 0)
		kd->unprivileged_userfaultfd = -1;

	probe_child_items(kd);
	probe_clone3(kd);
	probe_vdso(kd);
	kerndat_probe_uffd(kd);
	kerndat_probe_pagemap(kd);
	probe_time_ns(kd);
	kerndat_probe_sock_diag(kd);
	return 0;
}
