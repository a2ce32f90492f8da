/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parsers of /proc text (maps, smaps, status, stat, fdinfo, children) and of
 * the binary auxv. Pure functions on a buffer: they never open a file, so
 * they are unit-tested on tables of real-looking input. The input is
 * untrusted: every field is range-checked and a malformed line is rejected
 * with -EINVAL (or -EPROTO when a required field is missing).
 */
#ifndef RELIVE_PROC_PARSE_H
#define RELIVE_PROC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps, plus its smaps VmFlags when known. */
struct proc_vma {
	uint64_t start, end;
	uint64_t pgoff; /* offset in the file, bytes */
	uint32_t prot;	/* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;	/* 's' in the permissions, else 'p' */
	uint64_t dev;	/* makedev(major, minor), as stat() reports st_dev */
	uint64_t ino;
	char *path;	  /* heap; NULL when the line has no name */
	bool deleted;	  /* " (deleted)" was stripped from path */
	uint64_t vmflags; /* VMF_* bits of mm.proto */
	bool has_vmflags; /* a VmFlags line was seen */
	bool vm_io;	  /* "io" or "pf": device memory, no pages to read */
};

struct proc_vmas {
	struct proc_vma *v;
	size_t nr, cap;
};

/*
 * Parse one maps line (with or without its newline) into ret; ret->path is
 * allocated. Returns 0 or -EINVAL.
 */
int proc_parse_maps_line(const char *line, size_t len, struct proc_vma *ret);
/* Parse the value of a "VmFlags:" line into VMF_* bits; sets *ret_io for
 * io/pf. Unknown two-letter flags are ignored (newer kernels add some). */
int proc_parse_vmflags(const char *s, size_t len, uint64_t *ret, bool *ret_io);
/*
 * Parse the whole text of /proc/PID/smaps (or maps: then has_vmflags stays
 * false). VMAs must come in increasing, non-overlapping order.
 */
int proc_parse_smaps(const char *text, size_t len, struct proc_vmas *ret);
void proc_vmas_free(struct proc_vmas *vmas);

/* What dump needs from /proc/PID/status. */
struct proc_status {
	char state; /* first letter of State: */
	uint32_t umask;
	pid_t tgid, ppid, tracer_pid;
	uint32_t threads;
	uint32_t uid[4], gid[4]; /* real, effective, saved, fs */
	uint32_t *groups;	 /* heap */
	size_t nr_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	bool no_new_privs;
	int seccomp; /* 0 none, 1 strict, 2 filter; -1 when the kernel has no seccomp */
};
/* Every field above is required. Free with proc_status_free. */
int proc_parse_status(const char *text, size_t len, struct proc_status *ret);
void proc_status_free(struct proc_status *st);

/* What dump needs from /proc/PID/stat. */
struct proc_stat {
	pid_t pid;
	char comm[64];
	char state;
	pid_t ppid, pgid, sid;
	int64_t nice;
	int64_t num_threads;
	uint64_t start_code, end_code, start_stack;
	int exit_signal;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
	int exit_code;
};
int proc_parse_stat(const char *text, size_t len, struct proc_stat *ret);

/* /proc/PID/fdinfo/N: pos and flags are required. */
struct proc_fdinfo {
	uint64_t pos;
	uint32_t flags; /* octal in the file; includes O_CLOEXEC */
	int mnt_id;	/* -1 when absent */
	uint64_t ino;
};
int proc_parse_fdinfo(const char *text, size_t len, struct proc_fdinfo *ret);

/*
 * /proc/PID/auxv: (type, value) pairs of 64-bit words ending at AT_NULL.
 * *ret_nr counts words, AT_NULL pair included; *ret is heap.
 */
int proc_parse_auxv(const void *buf, size_t len, uint64_t **ret, size_t *ret_nr);

/* A space-separated list of pids (/proc/PID/task/TID/children). Appends to
 * *list (heap, grown), capped at max entries in total. */
int proc_parse_pid_list(const char *text, size_t len, pid_t **list, size_t *nr, size_t max);

#endif
