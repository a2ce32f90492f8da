// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer harness: arbitrary bytes through every /proc parser of proc-parse.h. */
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "proc-parse.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (log_init(LOG_DEBUG, "/dev/null") < 0)
		abort();
	return 0;
}

/*
 * Byte 0 picks the parser (its value modulo the count, so the ASCII digit
 * '0'..'7' of a seed names it), the rest is the text. The parsers take a
 * length and need no NUL: the text is the tail of libFuzzer's own exact-size
 * buffer, so reading one byte past it is an ASan report.
 *
 * Besides not crashing, what a parser accepts must hold the promises of
 * proc-parse.h; a broken promise aborts, which libFuzzer reports as a crash.
 */
enum {
	FUZZ_MAPS_LINE,
	FUZZ_VMFLAGS,
	FUZZ_SMAPS,
	FUZZ_STATUS,
	FUZZ_STAT,
	FUZZ_FDINFO,
	FUZZ_AUXV,
	FUZZ_PID_LIST,
	FUZZ_NR,
};

#define PROT_ALL (PROT_READ | PROT_WRITE | PROT_EXEC)

static void check_vma(const struct proc_vma *v)
{
	if (v->start >= v->end || v->start % 4096 || v->end % 4096 || v->prot & ~PROT_ALL)
		abort();
	/* A name is never empty: no name is NULL. */
	if (v->path && !v->path[0])
		abort();
	if (v->deleted && !v->path)
		abort();
}

static void fuzz_maps_line(const char *s, size_t len)
{
	struct proc_vma v;

	_cleanup_free_ char *line = NULL;
	struct proc_vma again;
	int n;

	if (proc_parse_maps_line(s, len, &v) < 0)
		return;
	check_vma(&v);
	if (v.has_vmflags || v.vmflags || v.vm_io)
		abort();
	/* Printed back the way the kernel prints it, the line must parse to
	 * the same VMA: nothing in it was misread. */
	n = asprintf(&line,
		     "%" PRIx64 "-%" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 "%s%s%s",
		     v.start, v.end, v.prot & PROT_READ ? 'r' : '-',
		     v.prot & PROT_WRITE ? 'w' : '-', v.prot & PROT_EXEC ? 'x' : '-',
		     v.shared ? 's' : 'p', v.pgoff, major(v.dev), minor(v.dev), v.ino,
		     v.path ? " " : "", v.path ? v.path : "", v.deleted ? " (deleted)" : "");
	if (n < 0 || proc_parse_maps_line(line, n, &again) < 0)
		abort();
	if (again.start != v.start || again.end != v.end || again.pgoff != v.pgoff ||
	    again.prot != v.prot || again.shared != v.shared || again.dev != v.dev ||
	    again.ino != v.ino || again.deleted != v.deleted || !again.path != !v.path ||
	    (v.path && strcmp(again.path, v.path)))
		abort();
	free(again.path);
	free(v.path);
}

static void fuzz_vmflags(const char *s, size_t len)
{
	uint64_t flags;
	bool io;

	proc_parse_vmflags(s, len, &flags, &io);
}

static void fuzz_smaps(const char *s, size_t len)
{
	struct proc_vmas vmas = {0};

	if (proc_parse_smaps(s, len, &vmas) < 0)
		return;
	if (vmas.nr > vmas.cap)
		abort();
	for (size_t i = 0; i < vmas.nr; i++) {
		check_vma(&vmas.v[i]);
		if (i && vmas.v[i].start < vmas.v[i - 1].end)
			abort();
		if (!vmas.v[i].has_vmflags && (vmas.v[i].vmflags || vmas.v[i].vm_io))
			abort();
	}
	proc_vmas_free(&vmas);
}

static void fuzz_status(const char *s, size_t len)
{
	struct proc_status st;

	if (proc_parse_status(s, len, &st) < 0)
		return;
	if (st.umask > 0777 || st.tgid < 0 || st.ppid < 0 || st.tracer_pid < 0 || st.seccomp < -1 ||
	    st.seccomp > 2 || st.nr_groups > 65536 || (st.nr_groups && !st.groups))
		abort();
	proc_status_free(&st);
}

static void fuzz_stat(const char *s, size_t len)
{
	struct proc_stat st;

	if (proc_parse_stat(s, len, &st) < 0)
		return;
	if (st.pid <= 0 || st.ppid < 0 || st.pgid < 0 || st.sid < 0 ||
	    !memchr(st.comm, '\0', sizeof(st.comm)) || st.exit_signal < 0 || st.exit_signal > 64)
		abort();
}

static void fuzz_fdinfo(const char *s, size_t len)
{
	struct proc_fdinfo fi;

	if (proc_parse_fdinfo(s, len, &fi) < 0)
		return;
	if (fi.pos > INT64_MAX || fi.mnt_id < -1)
		abort();
}

static void fuzz_auxv(const uint8_t *p, size_t len)
{
	uint64_t *out = NULL;
	size_t nr = 0;

	if (proc_parse_auxv(p, len, &out, &nr) < 0)
		return;
	/* Whole pairs, inside the input, ending at AT_NULL, copied. */
	if (nr < 2 || nr % 2 || nr * sizeof(uint64_t) > len || out[nr - 2] != AT_NULL ||
	    memcmp(out, p, nr * sizeof(uint64_t)))
		abort();
	free(out);
}

static void fuzz_pid_list(const char *s, size_t len)
{
	/* Two calls appending to one list, as for several threads'
	 * children files; the cap is small so E2BIG is reached too. */
	const size_t max = 64;
	_cleanup_free_ pid_t *list = NULL;
	size_t nr = 0, half = len / 2;
	int r;

	r = proc_parse_pid_list(s, half, &list, &nr, max);
	if (r == 0)
		r = proc_parse_pid_list(s + half, len - half, &list, &nr, max);
	if (nr > max || (nr && !list))
		abort();
	for (size_t i = 0; i < nr; i++)
		if (list[i] <= 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t len;

	if (size < 1)
		return 0;
	len = size - 1;
	switch (data[0] % FUZZ_NR) {
	case FUZZ_MAPS_LINE:
		fuzz_maps_line(s, len);
		break;
	case FUZZ_VMFLAGS:
		fuzz_vmflags(s, len);
		break;
	case FUZZ_SMAPS:
		fuzz_smaps(s, len);
		break;
	case FUZZ_STATUS:
		fuzz_status(s, len);
		break;
	case FUZZ_STAT:
		fuzz_stat(s, len);
		break;
	case FUZZ_FDINFO:
		fuzz_fdinfo(s, len);
		break;
	case FUZZ_AUXV: {
		/* auxv is read into an aligned buffer by its callers. */
		_cleanup_free_ uint8_t *copy = malloc(len ? len : 1);

		if (!copy)
			abort();
		memcpy(copy, s, len);
		fuzz_auxv(copy, len);
		break;
	}
	case FUZZ_PID_LIST:
		fuzz_pid_list(s, len);
		break;
	}
	return 0;
}
