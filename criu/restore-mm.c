// SPDX-License-Identifier: GPL-2.0-or-later
/* Address-space rebuild of a restored task by remote syscalls (phase B). */
#define LOG_PREFIX "restore-mm: "
#include <fcntl.h>
#include <limits.h>
#include <linux/prctl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

#include "img.h"
#include "inject.h"
#include "log.h"
#include "proc-parse.h"
#include "restore-mm-ctx.h"
#include "restore-mm-hole.h"
#include "restore-mm-pages.h"
#include "restore-mm-vdso.h"
#include "restore-mm.h"
#include "restore-shmem.h"
#include "util.h"

#define TASK_SIZE_MAX 0x7ffffffff000ull
#define MMAP_MIN_ADDR 0x10000ull

#ifndef RSEQ_FLAG_UNREGISTER
#define RSEQ_FLAG_UNREGISTER 1
#endif

/* Layout of the kernel's struct ptrace_rseq_configuration (linux/ptrace.h
 * can't be included next to sys/ptrace.h). */
struct rseq_config {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* Run a remote call. A ptrace failure is logged (by inject.c) and
 * returned; the call's own result, -errno included, goes to *ret. */
static int rsys(struct rmm_ctx *c, long *ret, long nr, unsigned long a1, unsigned long a2,
		unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	return remote_syscall(c->rt, ret, nr, a1, a2, a3, a4, a5, a6);
}

static bool is_cluster_kind(VmaKind k)
{
	return k == VMA_KIND__VMA_VDSO || k == VMA_KIND__VMA_VVAR || k == VMA_KIND__VMA_VVAR_VCLOCK;
}

/* ---- step 1: the rseq area inherited from relive ---- */

static int unregister_rseq(struct rmm_ctx *c)
{
	struct rseq_config conf = {0};
	long ret;
	int r;

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, c->pid, sizeof(conf), &conf) < 0)
		return pr_err_ret(-errno,
				  "task %d: PTRACE_GET_RSEQ_CONFIGURATION failed; without it the "
				  "inherited rseq area cannot be unregistered",
				  c->pid);
	if (!conf.rseq_abi_pointer)
		return 0;
	/* Must happen while relive's TLS is still mapped: the kernel writes
	 * the area on the way back to user space and would fault after the
	 * mass munmap. */
	r = rsys(c, &ret, SYS_rseq, conf.rseq_abi_pointer, conf.rseq_abi_size, RSEQ_FLAG_UNREGISTER,
		 conf.signature, 0, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: cannot unregister the rseq area at %#llx",
				  c->pid, (unsigned long long)conf.rseq_abi_pointer);
	pr_debug("task %d: unregistered rseq at %#llx\n", c->pid,
		 (unsigned long long)conf.rseq_abi_pointer);
	return 0;
}

/* ---- step 2: clear the address space ---- */

static int read_task_maps(pid_t pid, struct proc_vmas *ret)
{
	_cleanup_free_ char *text = NULL;
	char path[64];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	r = read_file_str(path, &text, &len);
	if (r < 0)
		return pr_err_ret(r, "cannot read %s", path);
	r = proc_parse_smaps(text, len, ret);
	if (r < 0)
		return pr_err_ret(r, "cannot parse %s", path);
	return 0;
}

static int cluster_kind_of(const struct proc_vma *v)
{
	if (!v->path)
		return 0;
	if (!strcmp(v->path, "[vdso]"))
		return VMA_KIND__VMA_VDSO;
	if (!strcmp(v->path, "[vvar]"))
		return VMA_KIND__VMA_VVAR;
	if (!strcmp(v->path, "[vvar_vclock]"))
		return VMA_KIND__VMA_VVAR_VCLOCK;
	return 0;
}

static bool is_vsyscall_line(const struct proc_vma *v)
{
	return v->path && !strcmp(v->path, "[vsyscall]");
}

static int munmap_range(struct rmm_ctx *c, uint64_t start, uint64_t end)
{
	long ret;
	int r;

	r = rsys(c, &ret, SYS_munmap, start, end - start, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: cannot unmap %#llx-%#llx", c->pid,
				  (unsigned long long)start, (unsigned long long)end);
	return 0;
}

/*
 * Unmap everything but the scratch area, the vdso cluster and [vsyscall]
 * (which can't be unmapped). Runs of neighbouring mappings with nothing to
 * keep in between go in one call. Fills cur[] with the vdso cluster as it
 * is now.
 */
static int clear_address_space(struct rmm_ctx *c, struct vdso_part cur[VDSO_NR_PARTS])
{
	struct proc_vmas maps = {0};
	uint64_t scr_start = c->rt->scratch, scr_end = c->rt->scratch + c->rt->scratch_len;
	uint64_t run_start = 0, run_end = 0, scr_mapped = 0;
	unsigned nr_calls = 0;
	int r;

	r = read_task_maps(c->pid, &maps);
	if (r < 0)
		return r;
	/* the scratch area must really be there: our calls run from it */
	for (size_t i = 0; i < maps.nr; i++) {
		const struct proc_vma *v = &maps.v[i];

		if (mm_ranges_overlap(v->start, v->end, scr_start, scr_end))
			scr_mapped += (v->end < scr_end ? v->end : scr_end) -
				      (v->start > scr_start ? v->start : scr_start);
	}
	if (scr_mapped != scr_end - scr_start) {
		pr_err("task %d: the scratch area %#llx-%#llx is not (entirely) mapped\n", c->pid,
		       (unsigned long long)scr_start, (unsigned long long)scr_end);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < maps.nr; i++) {
		const struct proc_vma *v = &maps.v[i];
		int kind = cluster_kind_of(v);
		uint64_t pieces[2][2];
		unsigned nr_pieces = 0;

		if (kind || is_vsyscall_line(v)) {
			if (kind) {
				struct vdso_part *p = &cur[vdso_part_index(kind)];

				if (p->present) {
					pr_err("task %d: two %s mappings\n", c->pid, v->path);
					r = -EINVAL;
					goto out;
				}
				p->present = true;
				p->start = v->start;
				p->end = v->end;
			}
			/* something kept lies between: close the run */
			if (run_end) {
				r = munmap_range(c, run_start, run_end);
				if (r < 0)
					goto out;
				nr_calls++;
				run_start = run_end = 0;
			}
			continue;
		}
		/* what of this mapping lies outside the scratch area */
		if (!mm_ranges_overlap(v->start, v->end, scr_start, scr_end)) {
			pieces[nr_pieces][0] = v->start;
			pieces[nr_pieces++][1] = v->end;
		} else {
			if (v->start < scr_start) {
				pieces[nr_pieces][0] = v->start;
				pieces[nr_pieces++][1] = scr_start;
			}
			if (v->end > scr_end) {
				pieces[nr_pieces][0] = scr_end;
				pieces[nr_pieces++][1] = v->end;
			}
		}
		for (unsigned k = 0; k < nr_pieces; k++) {
			bool kept_between =
			    run_end && mm_ranges_overlap(run_end, pieces[k][0], scr_start, scr_end);

			if (run_end && !kept_between) {
				run_end = pieces[k][1];
				continue;
			}
			if (run_end) {
				r = munmap_range(c, run_start, run_end);
				if (r < 0)
					goto out;
				nr_calls++;
			}
			run_start = pieces[k][0];
			run_end = pieces[k][1];
		}
	}
	if (run_end) {
		r = munmap_range(c, run_start, run_end);
		if (r < 0)
			goto out;
		nr_calls++;
	}
	pr_debug("task %d: address space cleared in %u calls\n", c->pid, nr_calls);
	r = 0;
out:
	proc_vmas_free(&maps);
	return r;
}

/* ---- step 3: the vdso cluster ---- */

static int mremap_part(struct rmm_ctx *c, const char *name, uint64_t from, uint64_t len,
		       uint64_t to)
{
	long ret;
	int r;

	if (from == to)
		return 0;
	r = rsys(c, &ret, SYS_mremap, from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: cannot move %s from %#llx to %#llx", c->pid,
				  name, (unsigned long long)from, (unsigned long long)to);
	if ((uint64_t)ret != to) {
		pr_err("task %d: %s moved to %#lx instead of %#llx\n", c->pid, name, ret,
		       (unsigned long long)to);
		return -EIO;
	}
	return 0;
}

static int move_vdso_cluster(struct rmm_ctx *c, struct vdso_part cur[VDSO_NR_PARTS])
{
	struct vdso_part want[VDSO_NR_PARTS] = {0};
	struct vdso_move plan[2 * VDSO_NR_PARTS];
	size_t nr_plan = 0;
	int r;

	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];
		struct vdso_part *p;

		if (!is_cluster_kind(v->kind))
			continue;
		p = &want[vdso_part_index(v->kind)];
		if (p->present) {
			pr_err("the image has two %s VMAs\n", vdso_part_name(v->kind));
			return -EINVAL;
		}
		p->present = true;
		p->start = v->start;
		p->end = v->end;
	}
	r = vdso_plan_moves(cur, want, c->rt->scratch, c->rt->scratch + c->rt->scratch_len, plan,
			    &nr_plan);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nr_plan; i++) {
		const struct vdso_move *m = &plan[i];

		if (m->unmap)
			r = munmap_range(c, m->from, m->from + m->len);
		else
			r = mremap_part(c, vdso_part_name(m->kind), m->from, m->len, m->to);
		if (r < 0)
			return r;
		pr_debug("task %d: %s %s %#llx -> %#llx\n", c->pid, m->unmap ? "unmap" : "move",
			 vdso_part_name(m->kind), (unsigned long long)m->from,
			 (unsigned long long)m->to);
	}
	return 0;
}

/* ---- step 4: mappings ---- */

static void close_cached_file(struct rmm_ctx *c)
{
	long ret;

	if (c->file_fd < 0)
		return;
	/* A failed close leaves a stray fd in a task that is being rebuilt;
	 * the fd table is set up later from the images anyway. */
	if (rsys(c, &ret, SYS_close, c->file_fd, 0, 0, 0, 0, 0) == 0 && ret < 0)
		pr_warn("task %d: close of fd %d failed: %s\n", c->pid, c->file_fd,
			strerror((int)-ret));
	c->file_fd = -1;
	c->file_path = NULL;
}

/* Write a NUL-terminated string into the argument area. */
static int put_string(struct rmm_ctx *c, const char *s, unsigned long *ret_addr)
{
	size_t len = strlen(s) + 1;
	int r;

	if (len > c->args_len) {
		pr_err("task %d: string of %zu bytes does not fit the scratch area\n", c->pid, len);
		return -ENAMETOOLONG;
	}
	r = remote_write(c->pid, c->args, s, len);
	if (r < 0)
		return r;
	*ret_addr = c->args;
	return 0;
}

/* Open path in the task and check it is the file the image names. */
static int open_in_task(struct rmm_ctx *c, const char *path, int flags, bool has_id, uint64_t dev,
			uint64_t ino, int *ret_fd)
{
	unsigned long addr;
	char fdpath[64];
	struct stat st;
	long ret;
	int r;

	r = put_string(c, path, &addr);
	if (r < 0)
		return r;
	r = rsys(c, &ret, SYS_openat, AT_FDCWD, addr, flags | O_CLOEXEC, 0, 0, 0);
	if (r < 0)
		return r;
	if (ret < 0)
		return pr_err_ret((int)ret, "task %d: cannot open %s", c->pid, path);
	snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%ld", c->pid, ret);
	if (stat(fdpath, &st) < 0) {
		r = pr_err_ret(-errno, "cannot stat %s (%s)", fdpath, path);
	} else if (has_id && ((uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino)) {
		pr_err("%s is not the dumped file: device %#llx inode %llu now, %#llx %llu in "
		       "the image\n",
		       path, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)dev, (unsigned long long)ino);
		r = -ESTALE;
	} else {
		*ret_fd = (int)ret;
		return 0;
	}
	rsys(c, &ret, SYS_close, ret, 0, 0, 0, 0, 0);
	return r;
}

static int vma_file_fd(struct rmm_ctx *c, const VmaEntry *v, int *ret_fd)
{
	bool shared = (v->flags & MAP_SHARED) != 0;
	/* A shared writable mapping needs a writable file; a private one
	 * never writes to the file. */
	int flags = shared && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
	int fd = -1, r;

	if (c->file_fd >= 0 && c->file_flags == flags && !strcmp(c->file_path, v->path)) {
		*ret_fd = c->file_fd;
		return 0;
	}
	close_cached_file(c);
	r = open_in_task(c, v->path, flags, v->has_dev && v->has_ino, v->dev, v->ino, &fd);
	if (r < 0)
		return r;
	c->file_fd = fd;
	c->file_path = v->path;
	c->file_flags = flags;
	*ret_fd = fd;
	return 0;
}

/*
 * A shared memory object for v: relive recreated it once (restore-shmem.c);
 * the task opens relive's fd through /proc, which gives a description of
 * the same inode, so every sharer maps the same memory. Read-write always:
 * the dumped mapping may be mprotected writable later (a write-sealed
 * memfd still opens read-write, only its mappings can't write).
 */
static int shmem_vma_fd(struct rmm_ctx *c, const VmaEntry *v, int *ret_fd)
{
	char path[64];
	struct stat st;
	int ours, fd = -1, r;

	r = restore_shmem_fd(c->pages->shmem, v->shmid, &ours, &st);
	if (r < 0)
		return r;
	close_cached_file(c);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), ours);
	r = open_in_task(c, path, O_RDWR, true, st.st_dev, st.st_ino, &fd);
	if (r < 0)
		return r;
	/* Cached like a file, closed with it; "" matches no VMA path. */
	c->file_fd = fd;
	c->file_path = "";
	c->file_flags = -1;
	*ret_fd = fd;
	return 0;
}

/* Does any page of [start, end) come from the pages file? */
static bool has_pages_in(const struct mm_pages *pages, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = pages->nr_entries;

	/* entries are sorted: find the first one ending after start */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const PagemapEntry *e = pages->entries[mid];

		if (e->vaddr + e->nr_pages * RMM_PAGE <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < pages->nr_entries && pages->entries[i]->vaddr < end; i++)
		if (pages->entries[i]->flags & PAGEMAP_FLAG__PE_PAGES)
			return true;
	return false;
}

/*
 * The protection a VMA is mapped with while its pages are written. A VMA
 * that was writable once ("ac") is mapped writable: that gives it the same
 * VM_ACCOUNT and so the same merging with its neighbours, and its pages go
 * in with process_vm_writev. One that never was keeps its protection and
 * gets its pages through /proc/PID/mem, which does not add VM_ACCOUNT.
 */
static uint32_t fill_prot(const VmaEntry *v, const struct mm_pages *pages)
{
	if (v->kind != VMA_KIND__VMA_ANON && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
		return v->prot;
	if (vma_vmflags(v) & VMA_FLAG__VMF_ACCOUNT)
		return v->prot | PROT_WRITE;
	if (!v->has_vmflags && has_pages_in(pages, v->start, v->end))
		return v->prot | PROT_WRITE;
	return v->prot;
}

static const char *kind_name(VmaKind k)
{
	switch (k) {
	case VMA_KIND__VMA_SHARED_ANON:
		return "shared anonymous memory";
	case VMA_KIND__VMA_MEMFD:
		return "memfd mapping";
	default:
		return "mapping";
	}
}

static int map_vma(struct rmm_ctx *c, const VmaEntry *v, uint32_t prot)
{
	uint64_t len = v->end - v->start, vmf = vma_vmflags(v);
	unsigned long flags = MAP_FIXED;
	long fd = -1, ret;
	int r;

	switch (v->kind) {
	case VMA_KIND__VMA_ANON:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case VMA_KIND__VMA_FILE_PRIVATE:
	case VMA_KIND__VMA_FILE_SHARED: {
		int f;

		r = vma_file_fd(c, v, &f);
		if (r < 0)
			return r;
		fd = f;
		flags |= v->kind == VMA_KIND__VMA_FILE_SHARED ? MAP_SHARED : MAP_PRIVATE;
		break;
	}
	case VMA_KIND__VMA_SHARED_ANON:
	case VMA_KIND__VMA_MEMFD: {
		int f;

		r = shmem_vma_fd(c, v, &f);
		if (r < 0)
			return r;
		fd = f;
		flags |= MAP_SHARED;
		break;
	}
	default:
		pr_err("not supported: %s at %#llx-%#llx\n",
		       kind_name(v->kind), (unsigned long long)v->start,
		       (unsigned long long)v->end);
		return -EOPNOTSUPP;
	}
	if ((vmf & VMA_FLAG__VMF_GROWSDOWN) || (v->flags & MAP_GROWSDOWN))
		flags |= MAP_GROWSDOWN;
	if (vmf & VMA_FLAG__VMF_NORESERVE)
		flags |= MAP_NORESERVE;
	r = rsys(c, &ret, SYS_mmap, v->start, len, prot, flags, (unsigned long)fd,
		 v->has_pgoff ? v->pgoff : 0);
	if (r < 0)
		return r;
	if (ret < 0 && ret > -4096)
		return pr_err_ret((int)ret, "task %d: cannot map %#llx-%#llx%s%s", c->pid,
				  (unsigned long long)v->start, (unsigned long long)v->end,
				  v->path ? " of " : "", v->path ? v->path : "");
	if ((uint64_t)ret != v->start) {
		pr_err("task %d: mapping of %#llx landed at %#lx\n", c->pid,
		       (unsigned long long)v->start, ret);
		return -EIO;
	}
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/*
 * Would the kernel merge b into a if both were mapped as dumped? The dump
 * shows them apart, so they had different anon_vmas (a fork or an mremap
 * in their past); mapped afresh they would fuse into one VMA.
 */
static bool would_merge(const VmaEntry *a, const VmaEntry *b)
{
	uint64_t mask = ~(uint64_t)VMA_FLAG__VMF_SOFTDIRTY;

	if (a->end != b->start || a->kind != b->kind || a->prot != b->prot ||
	    a->flags != b->flags || (vma_vmflags(a) & mask) != (vma_vmflags(b) & mask) ||
	    !same_str(a->name, b->name))
		return false;
	if (a->kind == VMA_KIND__VMA_ANON)
		return true;
	if (a->kind == VMA_KIND__VMA_FILE_PRIVATE)
		return same_str(a->path, b->path) && a->dev == b->dev && a->ino == b->ino &&
		       a->pgoff + (a->end - a->start) == b->pgoff;
	return false;
}

/*
 * Two dumped VMAs that would merge are kept apart this way: the second is
 * mapped with PROT_EXEC flipped, so it does not merge at mmap time, and
 * with MADV_DONTDUMP flipped, so that the first page written into either
 * one does not reuse the other's anon_vma (the kernel shares an anon_vma
 * between neighbours whose flags differ only in access bits). Both get a
 * page written, hence an anon_vma each, before fix_all gives the second
 * its real flags; VMAs with different anon_vmas do not merge. In a run of
 * such VMAs every other one is flipped.
 */
static void plan_keep_apart(struct rmm_ctx *c)
{
	bool flipped_prev = false;

	for (size_t i = 1; i < c->mm->n_vmas; i++) {
		bool flip = !flipped_prev && would_merge(c->mm->vmas[i - 1], c->mm->vmas[i]);

		if (would_merge(c->mm->vmas[i - 1], c->mm->vmas[i])) {
			c->st[i - 1].keep_apart = true;
			c->st[i].keep_apart = true;
			pr_debug("task %d: keeping %#llx-%#llx apart from its left neighbour\n",
				 c->pid, (unsigned long long)c->mm->vmas[i]->start,
				 (unsigned long long)c->mm->vmas[i]->end);
		}
		if (flip) {
			c->st[i].map_prot ^= PROT_EXEC;
			c->st[i].flipped = true;
		}
		flipped_prev = flip;
	}
}

/* The madvise state smaps shows as VmFlags. The huge page choice goes in
 * before the pages (early), so that filling faults in the right size. */
static const struct {
	uint64_t bit;
	int advice;
	const char *name;
	bool early;
} advices[] = {
    {VMA_FLAG__VMF_HUGEPAGE, MADV_HUGEPAGE, "MADV_HUGEPAGE", true},
    {VMA_FLAG__VMF_NOHUGEPAGE, MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE", true},
    {VMA_FLAG__VMF_DONTCOPY, MADV_DONTFORK, "MADV_DONTFORK", false},
    {VMA_FLAG__VMF_DONTDUMP, MADV_DONTDUMP, "MADV_DONTDUMP", false},
    {VMA_FLAG__VMF_WIPEONFORK, MADV_WIPEONFORK, "MADV_WIPEONFORK", false},
    {VMA_FLAG__VMF_SEQ_READ, MADV_SEQUENTIAL, "MADV_SEQUENTIAL", false},
    {VMA_FLAG__VMF_RAND_READ, MADV_RANDOM, "MADV_RANDOM", false},
    {VMA_FLAG__VMF_MERGEABLE, MADV_MERGEABLE, "MADV_MERGEABLE", false},
};

/* Replay the early or the late part of a VMA's madvise state; a refusal
 * is a warning: the program runs the same, only smaps differs. */
static int advise_vma(struct rmm_ctx *c, const VmaEntry *v, bool early)
{
	uint64_t len = v->end - v->start, vmf = vma_vmflags(v);
	long ret;
	int r;

	for (size_t k = 0; k < ARRAY_SIZE(advices); k++) {
		if (!(vmf & advices[k].bit) || advices[k].early != early)
			continue;
		r = rsys(c, &ret, SYS_madvise, v->start, len, advices[k].advice, 0, 0, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			pr_warn("task %d: %s on %#llx-%#llx refused (%s): the restored VMA "
				"differs there\n",
				c->pid, advices[k].name, (unsigned long long)v->start,
				(unsigned long long)v->end, strerror((int)-ret));
	}
	return 0;
}

static int map_all(struct rmm_ctx *c)
{
	int r = 0;

	for (size_t i = 0; i < c->mm->n_vmas; i++)
		c->st[i].map_prot = fill_prot(c->mm->vmas[i], c->pages);
	plan_keep_apart(c);
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];

		if (is_cluster_kind(v->kind) || v->kind == VMA_KIND__VMA_VSYSCALL)
			continue;
		r = map_vma(c, v, c->st[i].map_prot);
		if (r < 0)
			break;
		if (c->st[i].flipped) {
			bool dd = vma_vmflags(v) & VMA_FLAG__VMF_DONTDUMP;
			long ret;

			r = rsys(c, &ret, SYS_madvise, v->start, v->end - v->start,
				 dd ? MADV_DODUMP : MADV_DONTDUMP, 0, 0, 0);
			if (r < 0)
				break;
			if (ret < 0) {
				r = pr_err_ret((int)ret, "task %d: madvise of %#llx-%#llx", c->pid,
					       (unsigned long long)v->start,
					       (unsigned long long)v->end);
				break;
			}
		}
		r = advise_vma(c, v, true);
		if (r < 0)
			break;
	}
	close_cached_file(c);
	return r;
}

/* ---- step 6: protections, madvise state, names ---- */

static int fix_vma(struct rmm_ctx *c, size_t i)
{
	const VmaEntry *v = c->mm->vmas[i];
	uint64_t len = v->end - v->start, vmf = vma_vmflags(v);
	long ret;
	int r;

	if (c->st[i].map_prot != v->prot) {
		r = rsys(c, &ret, SYS_mprotect, v->start, len, v->prot, 0, 0, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret((int)ret, "task %d: cannot mprotect %#llx-%#llx", c->pid,
					  (unsigned long long)v->start, (unsigned long long)v->end);
	}
	/* undo the MADV_DONTDUMP flip of a VMA kept apart */
	if (c->st[i].flipped && !(vmf & VMA_FLAG__VMF_DONTDUMP)) {
		r = rsys(c, &ret, SYS_madvise, v->start, len, MADV_DODUMP, 0, 0, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			return pr_err_ret((int)ret, "task %d: MADV_DODUMP on %#llx-%#llx", c->pid,
					  (unsigned long long)v->start, (unsigned long long)v->end);
	}
	r = advise_vma(c, v, false);
	if (r < 0)
		return r;
	if (v->name && v->kind == VMA_KIND__VMA_ANON) {
		unsigned long addr;

		r = put_string(c, v->name, &addr);
		if (r < 0)
			return r;
		r = rsys(c, &ret, SYS_prctl, PR_SET_VMA, PR_SET_VMA_ANON_NAME, v->start, len, addr,
			 0);
		if (r < 0)
			return r;
		/* a kernel without CONFIG_ANON_VMA_NAME says EINVAL; the
		 * program does not depend on the name, only maps shows it */
		if (ret < 0)
			pr_warn("task %d: cannot name %#llx-%#llx \"%s\" (%s): it stays unnamed\n",
				c->pid, (unsigned long long)v->start, (unsigned long long)v->end,
				v->name, strerror((int)-ret));
	}
	if (vmf & VMA_FLAG__VMF_LOCKED) {
		r = rsys(c, &ret, SYS_mlock, v->start, len, 0, 0, 0, 0);
		if (r < 0)
			return r;
		if (ret < 0)
			pr_warn("task %d: mlock of %#llx-%#llx refused (%s): it stays unlocked\n",
				c->pid, (unsigned long long)v->start, (unsigned long long)v->end,
				strerror((int)-ret));
	}
	return 0;
}

static int fix_all(struct rmm_ctx *c)
{
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];
		int r;

		if (is_cluster_kind(v->kind) || v->kind == VMA_KIND__VMA_VSYSCALL)
			continue;
		r = fix_vma(c, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- step 7: mm fields, auxv, exe ---- */

static int set_mm_map(struct rmm_ctx *c)
{
	const MmEntry *mm = c->mm;
	struct prctl_mm_map map = {
	    .start_code = mm->start_code,
	    .end_code = mm->end_code,
	    .start_data = mm->start_data,
	    .end_data = mm->end_data,
	    .start_brk = mm->start_brk,
	    .brk = mm->brk,
	    .start_stack = mm->start_stack,
	    .arg_start = mm->arg_start,
	    .arg_end = mm->arg_end,
	    .env_start = mm->env_start,
	    .env_end = mm->env_end,
	};
	size_t auxv_len = mm->n_auxv * sizeof(uint64_t);
	/* the struct first, then the auxv, 8-byte aligned */
	unsigned long map_addr = c->args, auxv_addr = c->args + sizeof(map);
	int exe_fd = -1, r;
	long ret;

	if (sizeof(map) + auxv_len > c->args_len)
		return -E2BIG;
	r = open_in_task(c, mm->exe_path, O_RDONLY, mm->has_exe_dev && mm->has_exe_ino, mm->exe_dev,
			 mm->exe_ino, &exe_fd);
	if (r < 0)
		return r;
	map.auxv = (__u64 *)auxv_addr;
	map.auxv_size = (uint32_t)auxv_len;
	map.exe_fd = (uint32_t)exe_fd;
	r = remote_write(c->pid, map_addr, &map, sizeof(map));
	if (r == 0)
		r = remote_write(c->pid, auxv_addr, mm->auxv, auxv_len);
	if (r == 0)
		r = rsys(c, &ret, SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, map_addr, sizeof(map), 0, 0);
	if (r == 0 && ret < 0)
		r = pr_err_ret((int)ret,
			       "task %d: PR_SET_MM_MAP refused (code %#llx-%#llx, brk %#llx-%#llx, "
			       "exe %s)",
			       c->pid, (unsigned long long)mm->start_code,
			       (unsigned long long)mm->end_code, (unsigned long long)mm->start_brk,
			       (unsigned long long)mm->brk, mm->exe_path);
	{
		long cret;

		if (rsys(c, &cret, SYS_close, exe_fd, 0, 0, 0, 0, 0) == 0 && cret < 0)
			pr_warn("task %d: close of the exe fd %d failed\n", c->pid, exe_fd);
	}
	return r;
}

/* ---- checks before anything is touched ---- */

/*
 * Every page with data in the image must fall inside a VMA that is
 * restored from pages (private anonymous or private file): nothing is
 * written to a hole, the scratch area or a shared file. Pages held by a
 * page server can only be served lazily, so only in private anonymous
 * VMAs.
 */
static int check_pages_in_vmas(const MmEntry *mm, const struct mm_pages *pages)
{
	size_t vi = 0;

	for (size_t i = 0; i < pages->nr_entries; i++) {
		const PagemapEntry *e = pages->entries[i];
		uint64_t addr = e->vaddr, end = e->vaddr + e->nr_pages * RMM_PAGE;

		bool remote = e->flags & PAGEMAP_FLAG__PE_REMOTE;

		if (!(e->flags & PAGEMAP_FLAG__PE_PAGES) && !remote)
			continue;
		if (e->nr_pages > TASK_SIZE_MAX / RMM_PAGE || end < addr) {
			pr_err("pagemap entry %zu: %llu pages overflow\n", i,
			       (unsigned long long)e->nr_pages);
			return -EINVAL;
		}
		while (addr < end) {
			const VmaEntry *v;

			while (vi < mm->n_vmas && mm->vmas[vi]->end <= addr)
				vi++;
			if (vi == mm->n_vmas || mm->vmas[vi]->start > addr) {
				pr_err("pagemap entry %zu: page %#llx is in no VMA\n", i,
				       (unsigned long long)addr);
				return -EINVAL;
			}
			v = mm->vmas[vi];
			if (v->kind != VMA_KIND__VMA_ANON &&
			    v->kind != VMA_KIND__VMA_FILE_PRIVATE) {
				pr_err(
				    "pagemap entry %zu: pages at %#llx in a VMA of kind %d, which "
				    "is not restored from pages\n",
				    i, (unsigned long long)addr, (int)v->kind);
				return -EINVAL;
			}
			if (remote && v->kind != VMA_KIND__VMA_ANON) {
				pr_err("pagemap entry %zu: pages at %#llx of a file mapping are "
				       "left on the page server, but only anonymous memory can be "
				       "served lazily\n",
				       i, (unsigned long long)addr);
				return -EINVAL;
			}
			addr = v->end < end ? v->end : end;
		}
	}
	return 0;
}

static int check_inputs(struct rmm_ctx *c)
{
	const struct remote *rt = c->rt;
	uint64_t scr_end = rt->scratch + rt->scratch_len;

	if (!rt->scratch || rt->scratch_len < 2 * RMM_PAGE || (rt->scratch & (RMM_PAGE - 1)) ||
	    (rt->scratch_len & (RMM_PAGE - 1)) || scr_end > TASK_SIZE_MAX ||
	    scr_end < rt->scratch) {
		pr_err("task %d: bad scratch area %#lx+%#zx\n", c->pid, rt->scratch,
		       rt->scratch_len);
		return -EINVAL;
	}
	/* The syscall instruction must be in the first page: the rest is
	 * for arguments. */
	if (rt->syscall_ip < rt->scratch || rt->syscall_ip + 2 > rt->scratch + RMM_PAGE) {
		pr_err("task %d: syscall instruction %#lx not in the first page of the scratch "
		       "area %#lx\n",
		       c->pid, rt->syscall_ip, rt->scratch);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->mm->n_vmas; i++) {
		const VmaEntry *v = c->mm->vmas[i];

		if (mm_ranges_overlap(v->start, v->end, rt->scratch, scr_end)) {
			pr_err("task %d: the scratch area %#lx-%#llx overlaps the dumped VMA "
			       "%#llx-%#llx\n",
			       c->pid, rt->scratch, (unsigned long long)scr_end,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -EINVAL;
		}
		if ((v->kind == VMA_KIND__VMA_SHARED_ANON || v->kind == VMA_KIND__VMA_MEMFD) &&
		    !c->pages->shmem) {
			pr_err("%s at %#llx-%#llx: the image set has no shared memory objects\n",
			       kind_name(v->kind), (unsigned long long)v->start,
			       (unsigned long long)v->end);
			return -EINVAL;
		}
		if (i && v->start < c->mm->vmas[i - 1]->end) {
			pr_err("VMAs %zu and %zu overlap\n", i - 1, i);
			return -EINVAL;
		}
	}
	for (size_t i = 1; i < c->pages->nr_entries; i++) {
		const PagemapEntry *p = c->pages->entries[i - 1], *e = c->pages->entries[i];

		if (e->vaddr < p->vaddr + p->nr_pages * RMM_PAGE) {
			pr_err("pagemap entries %zu and %zu overlap or are out of order\n", i - 1,
			       i);
			return -EINVAL;
		}
	}
	return check_pages_in_vmas(c->mm, c->pages);
}

static double elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

int restore_mm(struct remote *rt, const MmEntry *mm, const struct mm_pages *pages, bool lazy)
{
	struct rmm_ctx c = {
	    .rt = rt,
	    .pid = rt->pid,
	    .mm = mm,
	    .pages = pages,
	    .lazy = lazy,
	    .file_fd = -1,
	    .mem_fd = -1,
	};
	struct vdso_part cur[VDSO_NR_PARTS] = {0};
	_cleanup_free_ struct vma_state *st = NULL;
	unsigned long calls0 = rt->nr_calls;
	uint64_t bytes = 0;
	struct timespec t0;
	double t_map, t_pages;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = check_inputs(&c);
	if (r < 0)
		return r;
	st = calloc(mm->n_vmas ? mm->n_vmas : 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	c.st = st;
	c.args = rt->scratch + RMM_PAGE;
	c.args_len = rt->scratch_len - RMM_PAGE;

	r = unregister_rseq(&c);
	if (r == 0)
		r = clear_address_space(&c, cur);
	if (r == 0)
		r = move_vdso_cluster(&c, cur);
	/*
	 * mm fields, auxv and exe now, while nothing is mapped: the kernel
	 * refuses to change the exe (EBUSY) while any VMA maps the old one,
	 * and the old one is also the new one when relive restores a copy of
	 * itself (or when the test restores a fork of itself).
	 */
	if (r == 0)
		r = set_mm_map(&c);
	/* Only now is MAP_FIXED safe: it would have silently replaced a vdso
	 * part still sitting on a dumped address. */
	if (r == 0)
		r = map_all(&c);
	t_map = elapsed_ms(&t0);
	if (r == 0)
		r = restore_mm_write_pages(&c, &bytes);
	t_pages = elapsed_ms(&t0) - t_map;
	if (r == 0)
		r = fix_all(&c);
	if (c.mem_fd >= 0)
		close(c.mem_fd);
	if (r < 0)
		return r;
	pr_info("task %d: %zu VMAs, %llu MiB of pages, %lu remote calls, %.1f ms (mappings "
		"%.1f ms, pages %.1f ms)\n",
		c.pid, mm->n_vmas, (unsigned long long)(bytes >> 20), rt->nr_calls - calls0,
		elapsed_ms(&t0), t_map, t_pages);
	return 0;
}

int restore_mm_pick_scratch(const MmEntry *mm, size_t len, unsigned long *ret)
{
	/* keep a distance so nothing grows into it or merges with it */
	const uint64_t guard = 1ull << 20;
	_cleanup_free_ struct mm_range *busy = NULL;
	struct proc_vmas self = {0};
	size_t nr = 0;
	uint64_t addr;
	int r;

	r = read_task_maps(getpid(), &self);
	if (r < 0)
		return r;
	busy = calloc(mm->n_vmas + self.nr + 1, sizeof(*busy));
	if (!busy) {
		proc_vmas_free(&self);
		return -ENOMEM;
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		busy[nr].start = v->start > guard ? v->start - guard : 0;
		busy[nr].end = v->end + guard;
		nr++;
	}
	for (size_t i = 0; i < self.nr; i++) {
		busy[nr].start = self.v[i].start;
		busy[nr].end = self.v[i].end;
		nr++;
	}
	proc_vmas_free(&self);
	r = mm_hole_pick(busy, nr, len, MMAP_MIN_ADDR, TASK_SIZE_MAX, &addr);
	if (r < 0)
		return pr_err_ret(r, "no hole of %zu bytes for the scratch area", len);
	*ret = addr;
	return 0;
}
