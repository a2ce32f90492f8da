// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Address-space rebuild on live children: a target builds a known layout, the
 * test captures it (VMAs, pagemap, pages, mm fields) by hand from /proc and
 * process_vm_readv, kills it, rebuilds it with restore_mm in a fresh fork of
 * the test, and compares maps, VmFlags, contents, auxv and exe.
 * With --bench MiB it times restore_mm of a region of that size next to a
 * memcpy into freshly allocated pages of the same size.
 */
#include <fcntl.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "img.h"
#include "inject.h"
#include "log.h"
#include "proc-parse.h"
#include "restore-mm.h"
#include "util.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)
#define DIE(...)                                                                                   \
	do {                                                                                       \
		fprintf(stderr, __VA_ARGS__);                                                      \
		exit(2);                                                                           \
	} while (0)

#define PG 4096UL

/* What the target reports once its layout is built. */
struct target_info {
	unsigned long brk;
	unsigned long big; /* the bench region, or 0 */
};

/* ---- the target ---- */

/* Exit codes of a target that was restored and resumed. */
#define RUN_OK	       42
#define RUN_BAD_MEMORY 43
#define RUN_BAD_CLOCK  44
#define RUN_BAD_SIGNAL 45

static void fill_page(unsigned char *p, unsigned long tag)
{
	memset(p, (int)(tag * 13 + 1), PG);
	memcpy(p, &tag, sizeof(tag));
}

static bool page_is(const unsigned char *p, unsigned long tag)
{
	unsigned char want[PG];

	fill_page(want, tag);
	return !memcmp(p, want, PG);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = sig;
}

/*
 * What the target checks when it runs again after a restore: its memory,
 * the vdso clock (the moved [vvar]/[vdso] must work) and a signal handler
 * that must return (the kernel follows the moved vdso for that).
 */
static int target_check(unsigned char *a, unsigned char *ro, unsigned char *f, unsigned char *named,
			const char *heap)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	struct timespec t1, t2;

	for (unsigned long i = 0; i < 64; i++) {
		if (i == 10)
			continue;
		if (i < 40 || i >= 50 ? !page_is(a + i * PG, 1000 + i) : a[i * PG] != 0)
			return RUN_BAD_MEMORY;
	}
	for (unsigned long i = 0; i < 8; i++)
		if (!page_is(ro + i * PG, 2000 + i))
			return RUN_BAD_MEMORY;
	if (!page_is(f, 9000) || !page_is(f + PG, 3001) || !page_is(f + 2 * PG, 9002) ||
	    !page_is(named, 4000) || heap[99999] != 0x5a)
		return RUN_BAD_MEMORY;
	if (clock_gettime(CLOCK_MONOTONIC, &t1) || clock_gettime(CLOCK_MONOTONIC, &t2) ||
	    t1.tv_sec == 0 || t2.tv_sec < t1.tv_sec)
		return RUN_BAD_CLOCK;
	if (sigaction(SIGUSR1, &sa, NULL) || raise(SIGUSR1) || got_usr1 != SIGUSR1)
		return RUN_BAD_SIGNAL;
	return RUN_OK;
}

static void target_layout(const char *file, int out)
{
	struct target_info ti = {0};
	unsigned char *a, *ro, *f, *named, *dd, *none, *sh, *misc, *left, *right, *never;
	volatile unsigned char sink;
	char *heap;
	int fd;

	/* anonymous, patterned, with a hole and never-touched pages */
	a = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned long i = 0; i < 64; i++)
		if (i < 40 || i >= 50)
			fill_page(a + i * PG, 1000 + i);
	munmap(a + 10 * PG, PG);
	/* read-only now, writable once: "ac" */
	ro = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned long i = 0; i < 8; i++)
		fill_page(ro + i * PG, 2000 + i);
	mprotect(ro, 8 * PG, PROT_READ);
	/* private file mapping: page 1 modified (anonymous), page 2 read */
	fd = open(file, O_RDWR);
	f = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	fill_page(f + PG, 3001);
	sink = f[2 * PG];
	(void)sink;
	/* shared file mapping, read-only, at an offset */
	sh = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
	sink = sh[0];
	close(fd);
	/* a named anonymous region */
	named = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned long i = 0; i < 4; i++)
		fill_page(named + i * PG, 4000 + i);
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)named, 4 * PG,
	      (unsigned long)"relive-test");
	/* madvise state */
	dd = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill_page(dd, 5000);
	madvise(dd, 4 * PG, MADV_DONTDUMP);
	madvise(dd + 2 * PG, 2 * PG, MADV_DONTFORK);
	/* a guard region */
	none = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)none;
	/* more madvise state, and an mlock */
	misc = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (unsigned long i = 0; i < 8; i++)
		fill_page(misc + i * PG, 6000 + i);
	madvise(misc, 2 * PG, MADV_WIPEONFORK);
	mlock(misc + 2 * PG, 2 * PG);
	madvise(misc + 4 * PG, 2 * PG, MADV_RANDOM);
	madvise(misc + 6 * PG, 2 * PG, MADV_HUGEPAGE);
	/* two neighbours with the same flags that are still two VMAs: the
	 * second one was moved there with its own anon_vma */
	left = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	right = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(left + 4 * PG, 4 * PG);
	for (unsigned long i = 0; i < 4; i++) {
		fill_page(left + i * PG, 7000 + i);
		fill_page(right + i * PG, 7100 + i);
	}
	right = mremap(right, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, left + 4 * PG);
	/* read-only and never writable, yet with data (written the way a
	 * debugger does): no "ac", filled through /proc/PID/mem */
	never = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/proc/self/mem", O_RDWR);
	for (unsigned long i = 0; i < 4; i++) {
		unsigned char page[PG];

		fill_page(page, 8000 + i);
		if (pwrite(fd, page, PG, (off_t)(unsigned long)(never + i * PG)) != (ssize_t)PG)
			_exit(3);
	}
	close(fd);
	heap = malloc(100000);
	memset(heap, 0x5a, 100000);
	ti.brk = (unsigned long)sbrk(0);
	if (write(out, &ti, sizeof(ti)) != sizeof(ti))
		_exit(3);
	raise(SIGSTOP);
	/* here only when restored and resumed with our registers */
	_exit(target_check(a, ro, f, named, heap) == RUN_OK && page_is(misc + 3 * PG, 6003) &&
		      page_is(right + 3 * PG, 7103) && page_is(never + 2 * PG, 8002)
		  ? RUN_OK
		  : RUN_BAD_MEMORY);
}

static void target_bench(size_t size, int out)
{
	struct target_info ti = {0};
	unsigned char *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	for (size_t i = 0; i < size / PG; i++)
		fill_page(p + i * PG, i);
	ti.brk = (unsigned long)sbrk(0);
	ti.big = (unsigned long)p;
	if (write(out, &ti, sizeof(ti)) != sizeof(ti))
		_exit(3);
	raise(SIGSTOP);
	_exit(0);
}

/* ---- capture, by hand from /proc ---- */

struct saved_vma {
	uint64_t start, end;
	unsigned char *data; /* contents when readable, else NULL */
};

struct capture {
	MmEntry mm;
	VmaEntry *vma_store;
	VmaEntry **vmas;
	uint64_t auxv[128];
	PagemapEntry *pe_store;
	PagemapEntry **pes;
	size_t nr_pe, cap_pe;
	uint64_t nr_file_pages;
	struct mm_pages pages;
	struct proc_vmas smaps;
	char *maps;
	size_t maps_len;
	struct saved_vma *saved;
	size_t nr_saved;
	char exe[4096];
	struct user_regs_struct regs; /* the target's, where it stopped */
};

static char *slurp(const char *what, pid_t pid, size_t *len)
{
	char path[64], *text = NULL;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	if (read_file_str(path, &text, len) < 0)
		DIE("cannot read %s\n", path);
	return text;
}

static int kind_of(const struct proc_vma *v)
{
	static const struct {
		const char *name;
		int kind;
	} special[] = {
	    {"[vdso]", VMA_KIND__VMA_VDSO},
	    {"[vvar]", VMA_KIND__VMA_VVAR},
	    {"[vvar_vclock]", VMA_KIND__VMA_VVAR_VCLOCK},
	    {"[vsyscall]", VMA_KIND__VMA_VSYSCALL},
	};

	for (size_t i = 0; v->path && i < ARRAY_SIZE(special); i++)
		if (!strcmp(v->path, special[i].name))
			return special[i].kind;
	if (v->path && v->path[0] == '/')
		return v->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
	if (v->shared)
		return VMA_KIND__VMA_SHARED_ANON;
	return VMA_KIND__VMA_ANON;
}

static void add_pe(struct capture *c, uint64_t vaddr, uint64_t nr, uint32_t flags)
{
	if (c->nr_pe == c->cap_pe) {
		c->cap_pe = c->cap_pe ? 2 * c->cap_pe : 64;
		c->pe_store = realloc(c->pe_store, c->cap_pe * sizeof(*c->pe_store));
	}
	pagemap_entry__init(&c->pe_store[c->nr_pe]);
	c->pe_store[c->nr_pe].vaddr = vaddr;
	c->pe_store[c->nr_pe].nr_pages = nr;
	c->pe_store[c->nr_pe].flags = flags;
	c->nr_pe++;
}

/* Append [addr, addr + len) of pid to the pages file, in 8 MiB steps. */
static void save_pages(struct capture *c, pid_t pid, uint64_t addr, uint64_t len)
{
	static unsigned char buf[8 << 20];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (remote_read(pid, addr, buf, n) < 0)
			DIE("cannot read pages at %#lx\n", (unsigned long)addr);
		if (pwrite_all(c->pages.pages_fd, buf, n, img_pages_offset(c->nr_file_pages)) < 0)
			DIE("cannot write the pages file\n");
		c->nr_file_pages += n / PG;
		addr += n;
		len -= n;
	}
}

static void capture_pagemap(struct capture *c, pid_t pid, const VmaEntry *v, int pm_fd)
{
	uint64_t npages = (v->end - v->start) / PG, run_start = 0, run_len = 0;
	uint64_t *pm = malloc(npages * sizeof(*pm));
	uint32_t flags = PAGEMAP_FLAG__PE_PAGES;

	if (v->kind == VMA_KIND__VMA_ANON)
		flags |= PAGEMAP_FLAG__PE_LAZY;
	if (pread_all(pm_fd, pm, npages * sizeof(*pm), (off_t)(v->start / PG * 8)) < 0)
		DIE("cannot read pagemap\n");
	for (uint64_t i = 0; i <= npages; i++) {
		bool want = false;

		if (i < npages) {
			bool present = pm[i] >> 63 & 1, swapped = pm[i] >> 62 & 1;
			bool file = pm[i] >> 61 & 1;

			want = (present || swapped) && (v->kind == VMA_KIND__VMA_ANON || !file);
		}
		if (want && !run_len)
			run_start = v->start + i * PG;
		if (want) {
			run_len++;
			continue;
		}
		if (run_len) {
			add_pe(c, run_start, run_len, flags);
			save_pages(c, pid, run_start, run_len * PG);
			run_len = 0;
		}
	}
	free(pm);
}

static void capture_regs(struct capture *c, pid_t pid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
	    waitpid(pid, &status, __WALL) != pid || ptrace(PTRACE_GETREGS, pid, 0, &c->regs) < 0)
		DIE("cannot read the target's registers\n");
}

static void capture(struct capture *c, pid_t pid, const struct target_info *ti)
{
	struct proc_stat st;
	uint64_t *auxv;
	size_t len, nr_auxv;
	char *text, path[64];
	struct stat exe_st;
	int pm_fd;
	ssize_t n;

	memset(c, 0, sizeof(*c));
	mm_entry__init(&c->mm);
	c->maps = slurp("maps", pid, &c->maps_len);
	text = slurp("smaps", pid, &len);
	if (proc_parse_smaps(text, len, &c->smaps) < 0)
		DIE("cannot parse smaps\n");
	free(text);
	text = slurp("stat", pid, &len);
	if (proc_parse_stat(text, len, &st) < 0)
		DIE("cannot parse stat\n");
	free(text);
	c->mm.start_code = st.start_code;
	c->mm.end_code = st.end_code;
	c->mm.start_data = st.start_data;
	c->mm.end_data = st.end_data;
	c->mm.start_brk = st.start_brk;
	c->mm.brk = ti->brk;
	c->mm.start_stack = st.start_stack;
	c->mm.arg_start = st.arg_start;
	c->mm.arg_end = st.arg_end;
	c->mm.env_start = st.env_start;
	c->mm.env_end = st.env_end;
	text = slurp("auxv", pid, &len);
	if (proc_parse_auxv(text, len, &auxv, &nr_auxv) < 0 || nr_auxv > 128)
		DIE("cannot parse auxv\n");
	memcpy(c->auxv, auxv, nr_auxv * 8);
	free(auxv);
	free(text);
	c->mm.auxv = c->auxv;
	c->mm.n_auxv = nr_auxv;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, c->exe, sizeof(c->exe) - 1);
	if (n < 0 || stat(path, &exe_st) < 0)
		DIE("cannot read %s\n", path);
	c->exe[n] = 0;
	c->mm.exe_path = c->exe;
	c->mm.has_exe_dev = c->mm.has_exe_ino = true;
	c->mm.exe_dev = exe_st.st_dev;
	c->mm.exe_ino = exe_st.st_ino;

	c->pages.pages_fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	if (c->pages.pages_fd < 0)
		DIE("cannot create the pages file\n");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm_fd = open(path, O_RDONLY);
	if (pm_fd < 0)
		DIE("cannot open %s\n", path);
	c->vma_store = calloc(c->smaps.nr, sizeof(*c->vma_store));
	c->vmas = calloc(c->smaps.nr, sizeof(*c->vmas));
	c->saved = calloc(c->smaps.nr, sizeof(*c->saved));
	for (size_t i = 0; i < c->smaps.nr; i++) {
		const struct proc_vma *p = &c->smaps.v[i];
		VmaEntry *v = &c->vma_store[i];

		vma_entry__init(v);
		v->start = p->start;
		v->end = p->end;
		v->prot = p->prot;
		v->kind = kind_of(p);
		v->flags = p->shared ? MAP_SHARED : MAP_PRIVATE;
		if (v->kind == VMA_KIND__VMA_ANON)
			v->flags |= MAP_ANONYMOUS;
		if (p->vmflags & VMA_FLAG__VMF_GROWSDOWN)
			v->flags |= MAP_GROWSDOWN;
		v->has_vmflags = p->has_vmflags;
		v->vmflags = p->vmflags;
		if (v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_FILE_SHARED) {
			v->path = p->path;
			v->has_pgoff = v->has_dev = v->has_ino = true;
			v->pgoff = p->pgoff;
			v->dev = p->dev;
			v->ino = p->ino;
		}
		if (p->path && !strncmp(p->path, "[anon:", 6)) {
			v->name = strndup(p->path + 6, strlen(p->path) - 7);
		}
		c->vmas[i] = v;
		if (v->kind == VMA_KIND__VMA_ANON || v->kind == VMA_KIND__VMA_FILE_PRIVATE)
			capture_pagemap(c, pid, v, pm_fd);
	}
	close(pm_fd);
	capture_regs(c, pid);
	c->mm.vmas = c->vmas;
	c->mm.n_vmas = c->smaps.nr;
	c->pes = calloc(c->nr_pe + 1, sizeof(*c->pes));
	for (size_t i = 0; i < c->nr_pe; i++)
		c->pes[i] = &c->pe_store[i];
	c->pages.entries = c->pes;
	c->pages.nr_entries = c->nr_pe;
	/* contents of everything readable, after the pagemap was read */
	for (size_t i = 0; i < c->smaps.nr; i++) {
		const VmaEntry *v = c->vmas[i];
		struct saved_vma *s = &c->saved[c->nr_saved++];

		s->start = v->start;
		s->end = v->end;
		if (!(v->prot & PROT_READ) || v->kind == VMA_KIND__VMA_VVAR ||
		    v->kind == VMA_KIND__VMA_VVAR_VCLOCK || v->kind == VMA_KIND__VMA_VSYSCALL)
			continue;
		/* not inherited by the restore children: relive would not hold
		 * such a copy, and unmapping it would count in the timing */
		s->data = mmap(NULL, v->end - v->start, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->data == MAP_FAILED || madvise(s->data, v->end - v->start, MADV_DONTFORK))
			DIE("cannot allocate %#lx bytes\n", (unsigned long)(v->end - v->start));
		if (remote_read(pid, v->start, s->data, v->end - v->start) < 0)
			DIE("cannot read %#lx\n", (unsigned long)v->start);
	}
}

/* ---- restore into a fresh fork ---- */

/* A system call without libc: the child below may have unmapped ld.so. */
static long raw_syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

/*
 * Move this process's vdso cluster by delta bytes, through a far spot so
 * that no move overlaps itself. Whatever sits at the new place is replaced:
 * the caller only stops afterwards, with raw system calls.
 */
static void move_own_vdso(long delta)
{
	const unsigned long far = 1UL << 40;
	struct proc_vmas maps = {0};
	unsigned long from[3], len[3];
	size_t nr = 0, tlen;
	char *text;

	if (read_file_str("/proc/self/maps", &text, &tlen) < 0 ||
	    proc_parse_smaps(text, tlen, &maps) < 0)
		_exit(4);
	for (size_t i = 0; i < maps.nr && nr < 3; i++) {
		const char *n = maps.v[i].path;

		if (n &&
		    (!strcmp(n, "[vvar]") || !strcmp(n, "[vvar_vclock]") || !strcmp(n, "[vdso]"))) {
			from[nr] = maps.v[i].start;
			len[nr++] = maps.v[i].end - maps.v[i].start;
		}
	}
	for (size_t i = 0; i < nr; i++)
		if (raw_syscall5(SYS_mremap, from[i], len[i], len[i], MREMAP_MAYMOVE | MREMAP_FIXED,
				 from[i] - far) != (long)(from[i] - far))
			_exit(5);
	for (size_t i = 0; i < nr; i++)
		if (raw_syscall5(SYS_mremap, from[i] - far, len[i], len[i],
				 MREMAP_MAYMOVE | MREMAP_FIXED,
				 from[i] + delta) != (long)(from[i] + delta))
			_exit(6);
}

/*
 * A child of the test with only the scratch area added, ptrace-stopped.
 * With vdso_delta its vdso cluster first moves away from where the dumped
 * one was, so that restore_mm has to move it back.
 */
static pid_t fork_restore_child(unsigned long scratch, long vdso_delta)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		DIE("fork\n");
	if (pid == 0) {
		unsigned char *p =
		    mmap((void *)scratch, RESTORE_SCRATCH_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		long self = getpid();

		if (p != (void *)scratch)
			_exit(2);
		p[0] = 0x0f;
		p[1] = 0x05;
		if (vdso_delta)
			move_own_vdso(vdso_delta);
		raw_syscall5(SYS_kill, self, SIGSTOP, 0, 0, 0);
		raw_syscall5(SYS_exit, 3, 0, 0, 0, 0);
	}
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		DIE("restore child did not stop (status %#x)\n", status);
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
		DIE("cannot seize %d\n", pid);
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status))
		DIE("seized child did not stop\n");
	return pid;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Rebuild c in a new child; returns the child (stopped), *err from restore_mm. */
static pid_t restore_into_child_ex(struct capture *c, const MmEntry *mm, long vdso_delta, bool lazy,
				   int *err, double *ms, unsigned long *calls)
{
	struct remote rt;
	unsigned long scratch;
	double t0;
	pid_t pid;

	if (restore_mm_pick_scratch(mm, RESTORE_SCRATCH_SIZE, &scratch) < 0)
		DIE("no scratch spot\n");
	pid = fork_restore_child(scratch, vdso_delta);
	if (remote_init(&rt, pid, scratch) < 0)
		DIE("remote_init\n");
	rt.scratch = scratch;
	rt.scratch_len = RESTORE_SCRATCH_SIZE;
	t0 = now_ms();
	*err = restore_mm(&rt, mm, &c->pages, lazy);
	if (ms)
		*ms = now_ms() - t0;
	if (calls)
		*calls = rt.nr_calls;
	return pid;
}

static pid_t restore_into_child(struct capture *c, const MmEntry *mm, int *err, double *ms,
				unsigned long *calls)
{
	return restore_into_child_ex(c, mm, 0, false, err, ms, calls);
}

/* Let the restored child run on from where the target stopped; its exit
 * code says what it found (RUN_*). */
static int run_restored(const struct capture *c, pid_t pid)
{
	struct user_regs_struct regs = c->regs;
	int status;

	/* no syscall restart logic on the way out */
	regs.orig_rax = (unsigned long)-1;
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0 || ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
		return -1;
	kill(pid, SIGCONT);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status)) {
		fprintf(stderr, "restored child: status %#x\n", status);
		return -1;
	}
	return WEXITSTATUS(status);
}

/* /proc/PID/maps of the restored child without the scratch area. */
static char *maps_without_scratch(pid_t pid, size_t *len)
{
	char *text = slurp("maps", pid, len), *out = calloc(1, *len + 1), *o = out;

	/* the scratch area is the rwx anonymous mapping of the restore child */
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		struct proc_vma pv;

		if (proc_parse_maps_line(line, n, &pv) == 0) {
			bool scratch = pv.prot == (PROT_READ | PROT_WRITE | PROT_EXEC) &&
				       !pv.path && pv.end - pv.start == RESTORE_SCRATCH_SIZE;

			free(pv.path);
			if (scratch) {
				line += n;
				continue;
			}
		}
		memcpy(o, line, n);
		o += n;
		line += n;
	}
	free(text);
	*len = (size_t)(o - out);
	return out;
}

static void compare_maps(const struct capture *c, pid_t pid)
{
	size_t len;
	char *now = maps_without_scratch(pid, &len);

	CHECK(len == c->maps_len && !memcmp(now, c->maps, len));
	if (len != c->maps_len || memcmp(now, c->maps, len))
		fprintf(stderr, "--- dumped maps:\n%s--- restored maps:\n%s", c->maps, now);
	free(now);
}

static void compare_vmflags(const struct capture *c, pid_t pid)
{
	size_t len, j = 0;
	char *text = slurp("smaps", pid, &len);
	struct proc_vmas now = {0};

	CHECK(proc_parse_smaps(text, len, &now) == 0);
	for (size_t i = 0; i < now.nr; i++) {
		const struct proc_vma *n = &now.v[i], *o;

		if (j == c->smaps.nr || n->start != c->smaps.v[j].start)
			continue; /* the scratch area */
		o = &c->smaps.v[j++];
		if ((n->vmflags & ~(uint64_t)VMA_FLAG__VMF_SOFTDIRTY) !=
		    (o->vmflags & ~(uint64_t)VMA_FLAG__VMF_SOFTDIRTY)) {
			fprintf(stderr, "VmFlags of %#lx-%#lx: %#lx dumped, %#lx restored\n",
				(unsigned long)o->start, (unsigned long)o->end,
				(unsigned long)o->vmflags, (unsigned long)n->vmflags);
			fails++;
		}
	}
	CHECK(j == c->smaps.nr);
	proc_vmas_free(&now);
	free(text);
}

static void compare_contents(const struct capture *c, pid_t pid)
{
	for (size_t i = 0; i < c->nr_saved; i++) {
		const struct saved_vma *s = &c->saved[i];
		size_t len = s->end - s->start;
		unsigned char *buf;

		if (!s->data)
			continue;
		buf = malloc(len);
		if (remote_read(pid, s->start, buf, len) < 0 || memcmp(buf, s->data, len)) {
			fprintf(stderr, "contents of %#lx-%#lx differ\n", (unsigned long)s->start,
				(unsigned long)s->end);
			fails++;
		}
		free(buf);
	}
}

static void compare_mm(const struct capture *c, pid_t pid)
{
	size_t len;
	char *text = slurp("auxv", pid, &len), exe[4096], path[64];
	struct proc_stat st;
	ssize_t n;

	CHECK(len >= c->mm.n_auxv * 8 && !memcmp(text, c->auxv, c->mm.n_auxv * 8));
	free(text);
	text = slurp("stat", pid, &len);
	CHECK(proc_parse_stat(text, len, &st) == 0);
	CHECK(st.start_code == c->mm.start_code && st.end_code == c->mm.end_code);
	CHECK(st.start_data == c->mm.start_data && st.end_data == c->mm.end_data);
	CHECK(st.start_brk == c->mm.start_brk && st.start_stack == c->mm.start_stack);
	CHECK(st.arg_start == c->mm.arg_start && st.env_end == c->mm.env_end);
	free(text);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	CHECK(n > 0);
	if (n > 0) {
		exe[n] = 0;
		CHECK(!strcmp(exe, c->exe));
	}
}

static pid_t start_target(const char *file, size_t bench_size, struct target_info *ti)
{
	int pipefd[2], status;
	pid_t pid;

	if (pipe(pipefd) < 0)
		DIE("pipe\n");
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		if (bench_size)
			target_bench(bench_size, pipefd[1]);
		else
			target_layout(file, pipefd[1]);
	}
	close(pipefd[1]);
	if (read_all(pipefd[0], ti, sizeof(*ti)) < 0)
		DIE("target failed\n");
	close(pipefd[0]);
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		DIE("target did not stop\n");
	return pid;
}

static void make_file(char *path)
{
	int fd = mkstemp(path);

	if (fd < 0)
		DIE("mkstemp\n");
	for (unsigned long i = 0; i < 4; i++) {
		unsigned char page[PG];

		fill_page(page, 9000 + i);
		if (write_all(fd, page, PG) < 0)
			DIE("write\n");
	}
	close(fd);
}

/* Lazy: PE_LAZY pages of anonymous VMAs stay empty, the rest is there. */
static void check_lazy(struct capture *c)
{
	unsigned char page[PG], want[PG];
	size_t lazy_zero = 0, eager = 0;
	uint64_t n = 0;
	pid_t pid;
	int err;

	pid = restore_into_child_ex(c, &c->mm, 0, true, &err, NULL, NULL);
	CHECK(err == 0);
	for (size_t i = 0; err == 0 && i < c->nr_pe; n += c->pes[i]->nr_pages, i++) {
		const PagemapEntry *e = c->pes[i];
		bool zero = true;

		CHECK(remote_read(pid, e->vaddr, page, PG) == 0);
		for (size_t k = 0; k < PG; k++)
			zero &= page[k] == 0;
		if (e->flags & PAGEMAP_FLAG__PE_LAZY) {
			/* the first page of a VMA kept apart is written anyway */
			lazy_zero += zero;
			continue;
		}
		CHECK(pread_all(c->pages.pages_fd, want, PG, img_pages_offset(n)) == 0);
		CHECK(!memcmp(page, want, PG));
		eager++;
	}
	CHECK(lazy_zero > 0 && eager > 0);
	kill_child(pid);
}

static bool in_some_vma(const struct capture *c, uint64_t addr)
{
	for (size_t i = 0; i < c->mm.n_vmas; i++)
		if (addr >= c->vmas[i]->start && addr < c->vmas[i]->end)
			return true;
	return false;
}

/* Shared anonymous memory whose object the set lacks is refused before
 * anything is mapped, not half restored. */
static void refuse_shared_anon(struct capture *c)
{
	size_t ai = c->mm.n_vmas;
	VmaEntry saved;
	pid_t pid;
	int err;

	for (size_t i = 0; i < c->mm.n_vmas && ai == c->mm.n_vmas; i++)
		if (c->vmas[i]->kind == VMA_KIND__VMA_ANON && !c->vmas[i]->name)
			ai = i;
	CHECK(ai < c->mm.n_vmas);
	if (ai == c->mm.n_vmas)
		return;
	saved = *c->vmas[ai];
	c->vmas[ai]->kind = VMA_KIND__VMA_SHARED_ANON;
	c->vmas[ai]->flags = MAP_SHARED | MAP_ANONYMOUS;
	c->vmas[ai]->has_shmid = true;
	pid = restore_into_child(c, &c->mm, &err, NULL, NULL);
	CHECK(err == -EINVAL);
	kill_child(pid);
	*c->vmas[ai] = saved;
}

/* A pagemap entry reaching past its VMA into a hole is refused. */
static void refuse_page_outside(struct capture *c)
{
	size_t pi = c->nr_pe;
	pid_t pid;
	int err;

	for (size_t i = 0; i < c->nr_pe && pi == c->nr_pe; i++) {
		uint64_t end = c->pes[i]->vaddr + c->pes[i]->nr_pages * PG;

		if (!in_some_vma(c, end) && (i + 1 == c->nr_pe || c->pes[i + 1]->vaddr > end))
			pi = i;
	}
	CHECK(pi < c->nr_pe);
	if (pi == c->nr_pe)
		return;
	c->pes[pi]->nr_pages++;
	pid = restore_into_child(c, &c->mm, &err, NULL, NULL);
	CHECK(err == -EINVAL);
	kill_child(pid);
	c->pes[pi]->nr_pages--;
}

/* A wrong image must fail cleanly, naming what is wrong. */
static void check_refusals(struct capture *c, const char *file)
{
	size_t fi = c->mm.n_vmas;
	VmaEntry saved;
	pid_t pid;
	int err;

	for (size_t i = 0; i < c->mm.n_vmas; i++)
		if (c->vmas[i]->path && !strcmp(c->vmas[i]->path, file))
			fi = i;
	CHECK(fi < c->mm.n_vmas);
	if (fi == c->mm.n_vmas)
		return;
	saved = *c->vmas[fi];
	/* the file was replaced */
	c->vmas[fi]->ino++;
	pid = restore_into_child(c, &c->mm, &err, NULL, NULL);
	CHECK(err == -ESTALE);
	kill_child(pid);
	/* the file is gone */
	c->vmas[fi]->path = "/nonexistent/relive-test-file";
	pid = restore_into_child(c, &c->mm, &err, NULL, NULL);
	CHECK(err == -ENOENT);
	kill_child(pid);
	*c->vmas[fi] = saved;
	refuse_shared_anon(c);
	refuse_page_outside(c);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench(size_t mib)
{
	enum { RUNS = 3 };
	size_t size = mib << 20;
	double t_restore[RUNS], t_memcpy[RUNS];
	unsigned long calls = 0;
	struct target_info ti;
	struct capture c;
	pid_t target, pid;
	const unsigned char *src = NULL;
	int err;

	target = start_target(NULL, size, &ti);
	capture(&c, target, &ti);
	kill_child(target);
	for (size_t i = 0; i < c.nr_saved; i++)
		if (c.saved[i].start == ti.big)
			src = c.saved[i].data;
	if (!src)
		DIE("bench region not captured\n");
	for (int run = 0; run < RUNS; run++) {
		unsigned char *dst;
		double t0;

		pid = restore_into_child(&c, &c.mm, &err, &t_restore[run], &calls);
		CHECK(err == 0);
		if (run == 0 && err == 0) {
			compare_maps(&c, pid);
			compare_contents(&c, pid);
		}
		kill_child(pid);
		dst = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t0 = now_ms();
		memcpy(dst, src, size);
		t_memcpy[run] = now_ms() - t0;
		munmap(dst, size);
	}
	qsort(t_restore, RUNS, sizeof(double), cmp_double);
	qsort(t_memcpy, RUNS, sizeof(double), cmp_double);
	printf("restore_mm %zu MiB eager: median %.1f ms (%.2f GB/s), %lu remote calls, "
	       "%llu pages file pages; memcpy into fresh pages: median %.1f ms (%.2f GB/s)\n",
	       mib, t_restore[RUNS / 2], size / t_restore[RUNS / 2] / 1e6, calls,
	       (unsigned long long)c.nr_file_pages, t_memcpy[RUNS / 2],
	       size / t_memcpy[RUNS / 2] / 1e6);
}

int main(int argc, char **argv)
{
	char file[] = "/tmp/relive-test-restore-mm-XXXXXX";
	struct target_info ti;
	struct capture c;
	pid_t target, pid;
	int err;

	log_init(getenv("RELIVE_TEST_VERBOSE") ? LOG_DEBUG : LOG_WARN, NULL);
	if (argc == 3 && !strcmp(argv[1], "--bench")) {
		bench(strtoul(argv[2], NULL, 10));
		return fails ? 1 : 0;
	}
	make_file(file);
	target = start_target(file, 0, &ti);
	capture(&c, target, &ti);
	kill_child(target);

	/* the vdso where it was, moved through a transit spot (overlapping
	 * source and target), moved directly */
	static const long vdso_deltas[] = {0, -(long)PG, -(1L << 36)};

	for (size_t i = 0; i < ARRAY_SIZE(vdso_deltas); i++) {
		pid = restore_into_child_ex(&c, &c.mm, vdso_deltas[i], false, &err, NULL, NULL);
		CHECK(err == 0);
		if (err == 0) {
			compare_maps(&c, pid);
			compare_vmflags(&c, pid);
			compare_contents(&c, pid);
			compare_mm(&c, pid);
			err = run_restored(&c, pid);
			if (err != RUN_OK)
				fprintf(stderr, "vdso delta %ld: restored child exited %d\n",
					vdso_deltas[i], err);
			CHECK(err == RUN_OK);
		} else {
			kill_child(pid);
		}
	}
	check_lazy(&c);
	fprintf(stderr, "(four errors expected next: a replaced file, a missing file, shared "
			"memory, a page outside the VMAs)\n");
	check_refusals(&c, file);
	unlink(file);
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
