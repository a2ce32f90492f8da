/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump of a process tree into an images directory: the data model (a tree
 * of processes, each with threads) and the entry point. The pieces live in
 * seize.c (stop and resume), dump-thread.c (per-thread state),
 * dump-task.c (per-process state), dump-mm.c (address space and pages) and
 * dump-files.c (file descriptors); dump.c runs them in order.
 */
#ifndef RELIVE_DUMP_H
#define RELIVE_DUMP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "inject.h"
#include "proc-parse.h"

struct opts;

/* Raw siginfo_t as the kernel hands it out (PTRACE_PEEKSIGINFO). */
#define DUMP_SIGINFO_SIZE 128
/* More queued signals than this in one queue is not a state we keep. */
#define DUMP_MAX_PENDING 4096

struct dump_siginfo {
	unsigned char raw[DUMP_SIGINFO_SIZE];
};

struct dump_thread {
	pid_t tid;
	bool seized;	   /* we are its tracer, it sits in a ptrace stop */
	bool remote_ready; /* rt holds its registers: remote_fini must run */
	struct remote rt;  /* rt.regs: the registers before any remote call */

	/* Collected state (dump-thread.c). */
	unsigned char *xstate; /* NT_X86_XSTATE, exactly as long as returned */
	size_t xstate_len;
	uint64_t blocked;
	struct dump_siginfo *pending;
	size_t nr_pending;
	bool has_rseq;
	uint64_t rseq_ptr;
	uint32_t rseq_len, rseq_sig, rseq_flags;
	uint64_t robust_list, robust_list_len;
	uint64_t clear_child_tid;
	char comm[64];
	uint64_t ss_sp, ss_size;
	uint32_t ss_flags;
	bool in_syscall;
};

struct dump_sigaction {
	uint32_t signo;
	uint64_t handler, flags, restorer, mask;
};

struct dump_itimer {
	uint32_t which;
	uint64_t interval_usec, value_usec;
};

struct dump_task {
	pid_t pid;
	pid_t ppid; /* parent inside the dumped tree, 0 for the root */
	pid_t pgid, sid;
	/* A zombie: nothing is seized or collected but its ids, name and
	 * exit status (waitpid form, /proc/PID/stat). */
	bool zombie;
	int exit_code;
	struct dump_thread *threads; /* threads[0] is the leader (tid == pid) */
	size_t nr_threads;
	/* The scratch area, mapped through threads[0].rt. */
	bool scratch_mapped;

	/* /proc, read before the scratch area was mapped. */
	struct proc_vmas vmas;
	struct proc_stat stat;
	struct proc_status status;

	/* Process state (dump-task.c). */
	char comm[64];
	uint32_t personality;
	struct dump_sigaction sigactions[64];
	size_t nr_sigactions;
	struct dump_itimer itimers[3];
	struct rlimit rlimits[RLIM_NLIMITS];
	uint32_t securebits, dumpable, pdeath_signal;
	uint64_t timerslack_ns;
	uint64_t brk;
	uint64_t *auxv;
	size_t nr_auxv;
	char *exe, *cwd, *root;
	uint64_t exe_dev, exe_ino;
	struct dump_siginfo *shared_pending;
	size_t nr_shared_pending;
	struct dump_fd *fds;
	size_t nr_fds;
};

/* One open file description of the tree (files.img). */
struct dump_file {
	uint32_t id;
	uint32_t type; /* enum FileType of fdinfo.proto */
	pid_t pid;     /* where it was first seen: pid and fd, for kcmp */
	int fd;
	char *path;
	uint32_t flags; /* open flags without O_CLOEXEC */
	uint64_t pos, dev, ino, size, rdev;
	uint32_t mode;
	uint64_t shmid; /* FT_MEMFD: its object in shmem.img */
};

/* One slot of a descriptor table (fds-PID.img). */
struct dump_fd {
	int fd;
	uint32_t file_id;
	bool cloexec;
};

struct dump_stats {
	uint64_t nr_vmas;
	uint64_t nr_pages; /* written to pages files */
	uint64_t nr_zero;  /* present but all zero: left as holes */
	uint64_t nr_remote_calls;
};

struct ps_lazy;
struct ps_push;

struct dump_ctx {
	const struct opts *o;
	int dirfd; /* the images directory */
	/* --lazy-pages --port: anonymous memory stays for this server. */
	struct ps_lazy *lazy;
	/* --page-server: pages go to a page server, not pages-ID.img. */
	struct ps_push *push;
	char image_set_id[33];
	struct dump_task *tasks; /* parents before children; tasks[0] is the root */
	size_t nr_tasks;
	struct dump_file *files;
	size_t nr_files;
	/* Pipes and shared memory objects seen so far (dump-pipes.c,
	 * dump-shmem.c). */
	struct dump_pipes *pipes;
	struct dump_shmem *shmem;
	struct dump_stats stats;
	/* Reused page buffer for dump-mm.c. */
	unsigned char *page_buf;
	size_t page_buf_len;
};

/* Run a whole dump as the options say. Returns 0 or -errno (logged). */
int dump_tree(const struct opts *o);

/* Read a /proc file of pid ("status") into a heap string. */
int dump_read_proc(pid_t pid, const char *name, char **ret, size_t *ret_len);

#endif
