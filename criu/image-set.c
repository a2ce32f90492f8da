// SPDX-License-Identifier: GPL-2.0-or-later
/* Load a whole image set into memory and cross-check it before restore. */
#define LOG_PREFIX "images: "
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-set.h"
#include "img.h"
#include "log.h"
#include "restore-pipes.h"
#include "restore-shmem.h"
#include "util.h"

/* Caps on counts a corrupt or hostile image could make us allocate. */
#define MAX_PROCS	32768
#define MAX_FILES	(1u << 20)
#define MAX_FDS		(1u << 20)
#define MAX_PAGEMAP	(1u << 24)
#define MAX_FD_NUMBER	(1u << 20) /* the kernel's NR_OPEN */
#define SIGINFO_SIZE	128
#define MAX_XSTATE_SIZE (1u << 16)
#define PAGE_SHIFT_4K	12

/* Append msg to a growing array of message pointers, at most max of them. */
static int msg_array_push(void ***arr, size_t *nr, size_t *cap, void *msg, size_t max)
{
	if (*nr >= max)
		return -E2BIG;
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void **n = reallocarray(*arr, ncap, sizeof(**arr));

		if (!n)
			return -ENOMEM;
		*arr = n;
		*cap = ncap;
	}
	(*arr)[(*nr)++] = msg;
	return 0;
}

/*
 * Read the remaining messages of img into *ret.
 * A file holding more than max is refused as corrupt.
 */
static int read_all_msgs(struct img *img, void ***ret, size_t *ret_nr, size_t max)
{
	size_t cap = 0;

	for (;;) {
		ProtobufCMessage *msg = NULL;
		int r = img_read_msg(img, &msg);

		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		r = msg_array_push(ret, ret_nr, &cap, msg, max);
		if (r < 0) {
			img_free_msg(msg);
			if (r == -E2BIG)
				pr_err("%s: more than %zu entries (corrupt?)\n", img_name(img),
				       max);
			return r;
		}
	}
}

static void free_msgs(void **arr, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		img_free_msg(arr[i]);
	free(arr);
}

static int load_one(int dirfd, const char *name, enum img_type type, void **ret)
{
	_cleanup_img_ struct img *img = NULL;
	int r = img_open_read(dirfd, name, type, &img);

	if (r < 0)
		return r;
	return img_read_one(img, (ProtobufCMessage **)ret);
}

static int load_pagemap(int dirfd, struct image_proc *p, pid_t pid)
{
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	size_t max;
	uint64_t pages_size;
	struct stat st;
	int r;

	snprintf(name, sizeof(name), "pagemap-%d.img", pid);
	r = img_open_read(dirfd, name, IMG_PAGEMAP, &img);
	if (r < 0)
		return r;
	r = img_read_msg(img, (ProtobufCMessage **)&p->pagemap_head);
	if (r < 0)
		return r;
	if (r == 0) {
		pr_err("%s: empty image, expected a pagemap head\n", name);
		return -EINVAL;
	}
	max = p->pagemap_head->nr_entries < MAX_PAGEMAP ? p->pagemap_head->nr_entries : MAX_PAGEMAP;
	/* One more than announced is read so that a surplus is detected. */
	r = read_all_msgs(img, (void ***)&p->pages.entries, &p->pages.nr_entries, max + 1);
	if (r < 0)
		return r;
	p->pages.pages_fd = -1;

	snprintf(name, sizeof(name), "pages-%d.img", pid);
	if (faccessat(dirfd, name, F_OK, 0) < 0) {
		if (errno != ENOENT)
			return pr_err_ret(-errno, "%s: cannot access", name);
		if (p->pagemap_head->nr_file_pages) {
			pr_err("%s: missing image file (pagemap-%d.img lists %" PRIu64
			       " stored pages)\n",
			       name, pid, (uint64_t)p->pagemap_head->nr_file_pages);
			return -ENOENT;
		}
		return 0;
	}
	r = img_open_read(dirfd, name, IMG_PAGES, &p->pages_img);
	if (r < 0)
		return r;
	if (fstat(img_fd(p->pages_img), &st) < 0)
		return pr_err_ret(-errno, "%s: cannot stat", name);
	if (p->pagemap_head->nr_file_pages > (UINT64_MAX - IMG_PAGES_HDR_SIZE) >> PAGE_SHIFT_4K)
		pages_size = UINT64_MAX;
	else
		pages_size = img_pages_offset(p->pagemap_head->nr_file_pages);
	if ((uint64_t)st.st_size != pages_size) {
		pr_err("%s: size %lld does not match the %" PRIu64
		       " pages that pagemap-%d.img announces (truncated or corrupt)\n",
		       name, (long long)st.st_size, (uint64_t)p->pagemap_head->nr_file_pages, pid);
		return -EINVAL;
	}
	p->pages.pages_fd = img_fd(p->pages_img);
	return 0;
}

static int load_proc(int dirfd, struct image_proc *p)
{
	pid_t pid = (pid_t)p->pstree->pid;
	_cleanup_img_ struct img *img = NULL;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "core-%d.img", pid);
	r = load_one(dirfd, name, IMG_CORE, (void **)&p->core);
	if (r < 0)
		return r;
	/* A zombie has no memory and no descriptors left: only its core. */
	if (p->core->state == TASK_STATE__TASK_ZOMBIE)
		return 0;
	snprintf(name, sizeof(name), "mm-%d.img", pid);
	r = load_one(dirfd, name, IMG_MM, (void **)&p->mm);
	if (r < 0)
		return r;
	r = load_pagemap(dirfd, p, pid);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "fds-%d.img", pid);
	r = img_open_read(dirfd, name, IMG_FDS, &img);
	if (r < 0)
		return r;
	return read_all_msgs(img, (void ***)&p->fds, &p->nr_fds, MAX_FDS);
}

static int load_files(int dirfd, struct image_set *set)
{
	_cleanup_img_ struct img *img = NULL;
	size_t max;
	int r = img_open_read(dirfd, "files.img", IMG_FILES, &img);

	if (r < 0)
		return r;
	r = img_read_msg(img, (ProtobufCMessage **)&set->files_head);
	if (r < 0)
		return r;
	if (r == 0) {
		pr_err("files.img: empty image, expected a files head\n");
		return -EINVAL;
	}
	max = set->files_head->nr_files < MAX_FILES ? set->files_head->nr_files : MAX_FILES;
	return read_all_msgs(img, (void ***)&set->files, &set->nr_files, max + 1);
}

int image_set_load(int dirfd, const char *dirname, struct image_set *ret)
{
	struct image_set set = {};
	_cleanup_img_ struct img *img = NULL;
	int r;

	if (faccessat(dirfd, "inventory.img", F_OK, 0) < 0) {
		if (errno == ENOENT) {
			pr_err("%s is not a complete image set (no inventory.img)\n", dirname);
			return -ENOENT;
		}
		return pr_err_ret(-errno, "%s/inventory.img: cannot access", dirname);
	}
	r = load_one(dirfd, "inventory.img", IMG_INVENTORY, (void **)&set.inventory);
	if (r < 0)
		goto fail;

	r = img_open_read(dirfd, "pstree.img", IMG_PSTREE, &img);
	if (r < 0)
		goto fail;
	r = read_all_msgs(img, (void ***)&set.pstree, &set.nr_procs, MAX_PROCS);
	if (r < 0)
		goto fail;
	if (set.nr_procs == 0) {
		pr_err("pstree.img: no process in the tree\n");
		r = -EINVAL;
		goto fail;
	}
	set.procs = calloc(set.nr_procs, sizeof(*set.procs));
	if (!set.procs) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < set.nr_procs; i++) {
		set.procs[i].pstree = set.pstree[i];
		set.procs[i].pages.pages_fd = -1;
	}
	r = load_files(dirfd, &set);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < set.nr_procs; i++) {
		r = load_proc(dirfd, &set.procs[i]);
		if (r < 0)
			goto fail;
	}
	r = image_set_check(&set);
	if (r < 0)
		goto fail;
	r = restore_pipes_load(dirfd, &set, &set.pipes);
	if (r < 0)
		goto fail;
	r = restore_shmem_load(dirfd, &set, &set.shmem);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < set.nr_procs; i++)
		set.procs[i].pages.shmem = set.shmem;
	*ret = set;
	return 0;
fail:
	image_set_free(&set);
	return r;
}

void image_set_free(struct image_set *set)
{
	for (size_t i = 0; set->procs && i < set->nr_procs; i++) {
		struct image_proc *p = &set->procs[i];

		img_free_msg((ProtobufCMessage *)p->core);
		img_free_msg((ProtobufCMessage *)p->mm);
		img_free_msg((ProtobufCMessage *)p->pagemap_head);
		free_msgs((void **)p->pages.entries, p->pages.nr_entries);
		img_close(p->pages_img);
		free_msgs((void **)p->fds, p->nr_fds);
	}
	free(set->procs);
	free_msgs((void **)set->pstree, set->nr_procs);
	free_msgs((void **)set->files, set->nr_files);
	img_free_msg((ProtobufCMessage *)set->files_head);
	img_free_msg((ProtobufCMessage *)set->inventory);
	restore_pipes_free(set->pipes);
	restore_shmem_free(set->shmem);
	memset(set, 0, sizeof(*set));
}

const FileEntry *image_set_find_file(const struct image_set *set, uint32_t id)
{
	for (size_t i = 0; i < set->nr_files; i++)
		if (set->files[i]->id == id)
			return set->files[i];
	return NULL;
}

/* ---- cross-checks ---- */

static int check_pstree(const struct image_set *set)
{
	const PstreeEntry *root = set->pstree[0];

	if (root->pid != set->inventory->root_pid) {
		pr_err("pstree.img: root pid %u, but inventory.img names %u\n", root->pid,
		       set->inventory->root_pid);
		return -EINVAL;
	}
	if (root->ppid != 0) {
		pr_err("pstree.img: the root %u has parent %u, expected 0\n", root->pid,
		       root->ppid);
		return -EINVAL;
	}
	for (size_t i = 0; i < set->nr_procs; i++) {
		const PstreeEntry *e = set->pstree[i];
		bool parent_seen = i == 0;

		if (e->pid == 0 || e->pid > 4194304) {
			pr_err("pstree.img: entry %zu: pid %u out of range\n", i, e->pid);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (set->pstree[j]->pid == e->pid) {
				pr_err("pstree.img: pid %u listed twice\n", e->pid);
				return -EINVAL;
			}
			if (set->pstree[j]->pid == e->ppid)
				parent_seen = true;
		}
		if (!parent_seen) {
			pr_err("pstree.img: parent %u of %u is not listed before it\n", e->ppid,
			       e->pid);
			return -EINVAL;
		}
		if (e->n_threads == 0 || e->threads[0] != e->pid) {
			pr_err("pstree.img: process %u: the main thread must come first\n", e->pid);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_siginfos(const char *file, const char *what, ProtobufCBinaryData *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].len != SIGINFO_SIZE) {
			pr_err("%s: %s signal %zu: siginfo of %zu bytes, expected %u\n", file, what,
			       i, v[i].len, SIGINFO_SIZE);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * A zombie: an exit status it can reproduce (an exit code, or a signal
 * whose default action ends a process), no threads left.
 */
static int check_zombie(const char *file, const TaskCoreEntry *c, const PstreeEntry *ps)
{
	int st = c->has_exit_code ? c->exit_code : -1;
	int sig = st & 0x7f;

	if (c->n_threads != 0 || ps->n_threads != 1) {
		pr_err("%s: a zombie with threads\n", file);
		return -EINVAL;
	}
	if (st < 0 || st > 0xffff || (sig && st >> 8) || sig == 0x7f || sig > 64 ||
	    (sig && (sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH ||
		     sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))) {
		pr_err("%s: zombie with exit status %#x, which no exit produces\n", file, st);
		return -EINVAL;
	}
	return 0;
}

static int check_core(const struct image_proc *p)
{
	const TaskCoreEntry *c = p->core;
	const PstreeEntry *ps = p->pstree;
	uint64_t seen_sigs = 0;
	char file[64];
	int r;

	snprintf(file, sizeof(file), "core-%u.img", ps->pid);
	if (c->pid != ps->pid) {
		pr_err("%s: holds pid %u\n", file, c->pid);
		return -EINVAL;
	}
	if (c->state == TASK_STATE__TASK_ZOMBIE)
		return check_zombie(file, c, ps);
	if (c->n_threads != ps->n_threads) {
		pr_err("%s: %zu threads, pstree.img lists %zu\n", file, c->n_threads,
		       ps->n_threads);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_threads; i++) {
		const ThreadCoreEntry *t = c->threads[i];

		if (t->tid != ps->threads[i]) {
			pr_err("%s: thread %zu is %u, pstree.img lists %u\n", file, i, t->tid,
			       ps->threads[i]);
			return -EINVAL;
		}
		if (t->xstate.len < 512 + 64 || t->xstate.len > MAX_XSTATE_SIZE) {
			pr_err("%s: thread %u: xstate of %zu bytes is not an XSAVE area\n", file,
			       t->tid, t->xstate.len);
			return -EINVAL;
		}
		r = check_siginfos(file, "pending", t->pending, t->n_pending);
		if (r < 0)
			return r;
	}
	r = check_siginfos(file, "shared pending", c->shared_pending, c->n_shared_pending);
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n_sigactions; i++) {
		uint32_t s = c->sigactions[i]->signo;

		if (s < 1 || s > 64 || (seen_sigs & (1ull << (s - 1)))) {
			pr_err("%s: sigaction %zu: signal %u out of range or repeated\n", file, i,
			       s);
			return -EINVAL;
		}
		seen_sigs |= 1ull << (s - 1);
	}
	for (size_t i = 0; i < c->n_itimers; i++) {
		if (c->itimers[i]->which > 2) {
			pr_err("%s: itimer %zu: unknown timer %u\n", file, i, c->itimers[i]->which);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->n_rlimits; i++) {
		if (c->rlimits[i]->resource >= RLIM_NLIMITS) {
			pr_err("%s: rlimit %zu: unknown resource %u\n", file, i,
			       c->rlimits[i]->resource);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_vmas(const struct image_proc *p)
{
	const MmEntry *mm = p->mm;
	char file[64];

	snprintf(file, sizeof(file), "mm-%u.img", p->pstree->pid);
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->start >= v->end || (v->start | v->end) & (PAGE_SIZE_4K - 1)) {
			pr_err("%s: vma %zu [%#" PRIx64 ", %#" PRIx64
			       ") is empty or not page-aligned\n",
			       file, i, (uint64_t)v->start, (uint64_t)v->end);
			return -EINVAL;
		}
		if (i > 0 && v->start < mm->vmas[i - 1]->end) {
			pr_err("%s: vma %zu at %#" PRIx64 " overlaps or precedes the one before\n",
			       file, i, (uint64_t)v->start);
			return -EINVAL;
		}
	}
	return 0;
}

/* True when [start, end) is covered by VMAs without a gap. */
static bool range_in_vmas(const MmEntry *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	for (size_t i = 0; i < mm->n_vmas && at < end; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->end <= at)
			continue;
		if (v->start > at)
			return false;
		at = v->end;
	}
	return at >= end;
}

static int check_pagemap(const struct image_proc *p)
{
	const PagemapHead *h = p->pagemap_head;
	const unsigned known = PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY |
			       PAGEMAP_FLAG__PE_PARENT | PAGEMAP_FLAG__PE_REMOTE;
	uint64_t prev_end = 0, stored = 0;
	char file[64];

	snprintf(file, sizeof(file), "pagemap-%u.img", p->pstree->pid);
	if (h->id != p->pstree->pid) {
		pr_err("%s: belongs to %" PRIu64 "\n", file, (uint64_t)h->id);
		return -EINVAL;
	}
	if (h->nr_entries != p->pages.nr_entries) {
		pr_err("%s: head announces %" PRIu64 " entries, the file holds %zu\n", file,
		       (uint64_t)h->nr_entries, p->pages.nr_entries);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->pages.nr_entries; i++) {
		const PagemapEntry *e = p->pages.entries[i];
		uint64_t end;
		unsigned where = e->flags & (PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_PARENT |
					     PAGEMAP_FLAG__PE_REMOTE);

		if (e->flags & ~known || (where & (where - 1))) {
			pr_err("%s: entry %zu: bad flags %#x\n", file, i, e->flags);
			return -EINVAL;
		}
		if (e->nr_pages == 0 || e->vaddr & (PAGE_SIZE_4K - 1) ||
		    e->nr_pages > (UINT64_MAX - e->vaddr) >> PAGE_SHIFT_4K) {
			pr_err("%s: entry %zu: bad range %#" PRIx64 " + %" PRIu64 " pages\n", file,
			       i, (uint64_t)e->vaddr, (uint64_t)e->nr_pages);
			return -EINVAL;
		}
		end = e->vaddr + (e->nr_pages << PAGE_SHIFT_4K);
		if (e->vaddr < prev_end) {
			pr_err("%s: entry %zu at %#" PRIx64
			       " overlaps or precedes the one before\n",
			       file, i, (uint64_t)e->vaddr);
			return -EINVAL;
		}
		prev_end = end;
		if (!range_in_vmas(p->mm, e->vaddr, end)) {
			pr_err("%s: entry %zu [%#" PRIx64 ", %#" PRIx64
			       ") lies outside the VMAs of mm-%u.img\n",
			       file, i, (uint64_t)e->vaddr, end, p->pstree->pid);
			return -EINVAL;
		}
		if (e->flags & PAGEMAP_FLAG__PE_PAGES)
			stored += e->nr_pages;
	}
	if (stored != h->nr_file_pages) {
		pr_err("%s: entries hold %" PRIu64 " stored pages, the head says %" PRIu64 "\n",
		       file, stored, (uint64_t)h->nr_file_pages);
		return -EINVAL;
	}
	return 0;
}

static int check_files(const struct image_set *set)
{
	if (set->files_head->nr_files != set->nr_files) {
		pr_err("files.img: head announces %u files, the file holds %zu\n",
		       set->files_head->nr_files, set->nr_files);
		return -EINVAL;
	}
	for (size_t i = 0; i < set->nr_files; i++) {
		const FileEntry *f = set->files[i];

		for (size_t j = 0; j < i; j++) {
			if (set->files[j]->id == f->id) {
				pr_err("files.img: file id %u listed twice\n", f->id);
				return -EINVAL;
			}
		}
		switch (f->type) {
		case FILE_TYPE__FT_REG:
		case FILE_TYPE__FT_DIR:
		case FILE_TYPE__FT_CHR:
			if (!f->reg || !f->reg->path[0]) {
				pr_err("files.img: file %u has no path\n", f->id);
				return -EINVAL;
			}
			break;
		default:
			break;
		}
	}
	return 0;
}

static int check_fds(const struct image_set *set, const struct image_proc *p)
{
	char file[64];

	snprintf(file, sizeof(file), "fds-%u.img", p->pstree->pid);
	for (size_t i = 0; i < p->nr_fds; i++) {
		const FdEntry *e = p->fds[i];

		if (e->fd >= MAX_FD_NUMBER) {
			pr_err("%s: fd %u out of range\n", file, e->fd);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (p->fds[j]->fd == e->fd) {
				pr_err("%s: fd %u listed twice\n", file, e->fd);
				return -EINVAL;
			}
		}
		if (!image_set_find_file(set, e->file_id)) {
			pr_err("%s: fd %u refers to file id %u, which files.img does not have\n",
			       file, e->fd, e->file_id);
			return -EINVAL;
		}
	}
	return 0;
}

/* A zombie is never the root, and its children went to a reaper. */
static int check_zombie_place(const struct image_set *set, size_t i)
{
	uint32_t pid = set->pstree[i]->pid;

	if (i == 0) {
		pr_err("pstree.img: the root %u is a zombie\n", pid);
		return -EINVAL;
	}
	for (size_t j = 0; j < set->nr_procs; j++) {
		if (set->pstree[j]->ppid == pid) {
			pr_err("pstree.img: zombie %u has a child, %u\n", pid, set->pstree[j]->pid);
			return -EINVAL;
		}
	}
	return 0;
}

int image_set_check(const struct image_set *set)
{
	int r = check_pstree(set);

	if (r < 0)
		return r;
	r = check_files(set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < set->nr_procs; i++) {
		const struct image_proc *p = &set->procs[i];

		r = check_core(p);
		if (r < 0)
			return r;
		if (p->core->state == TASK_STATE__TASK_ZOMBIE) {
			r = check_zombie_place(set, i);
			if (r < 0)
				return r;
			continue;
		}
		r = check_vmas(p);
		if (r < 0)
			return r;
		r = check_pagemap(p);
		if (r < 0)
			return r;
		r = check_fds(set, p);
		if (r < 0)
			return r;
	}
	return 0;
}
