// SPDX-License-Identifier: GPL-2.0-or-later
/* Cross-checks of a loaded image set, and loading one written to a directory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image-set.h"
#include "img.h"
#include "log.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PID 100

/* A small valid image set, built in memory; each case breaks one thing. */
struct fixture {
	InventoryEntry inv;
	PstreeEntry ps;
	PstreeEntry *pstree[1];
	uint32_t threads[1];
	TaskCoreEntry core;
	ThreadCoreEntry thread;
	ThreadCoreEntry *core_threads[1];
	UserRegsEntry regs;
	uint8_t xstate[832];
	uint8_t siginfo[128];
	ProtobufCBinaryData pending[1];
	MmEntry mm;
	uint64_t auxv[2];
	VmaEntry vma[3];
	VmaEntry *vmas[3];
	PagemapHead head;
	PagemapEntry pe[2];
	PagemapEntry *pes[2];
	FilesHead files_head;
	FileEntry file;
	FileEntry *files[1];
	RegFileEntry reg;
	FdEntry fd[2];
	FdEntry *fds[2];
	struct image_proc proc;
	struct image_set set;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	inventory_entry__init(&f->inv);
	f->inv.format_version = 1;
	f->inv.root_pid = PID;
	f->inv.image_set_id = "0123456789abcdef0123456789abcdef";
	f->inv.page_size = 4096;

	pstree_entry__init(&f->ps);
	f->ps.pid = PID;
	f->ps.pgid = PID;
	f->ps.sid = PID;
	f->threads[0] = PID;
	f->ps.threads = f->threads;
	f->ps.n_threads = 1;
	f->pstree[0] = &f->ps;

	user_regs_entry__init(&f->regs);
	f->regs.cs = 0x33;
	f->regs.ss = 0x2b;
	thread_core_entry__init(&f->thread);
	f->thread.tid = PID;
	f->thread.regs = &f->regs;
	f->thread.xstate.data = f->xstate;
	f->thread.xstate.len = sizeof(f->xstate);
	f->siginfo[0] = 10; /* si_signo: SIGUSR1 */
	f->pending[0].data = f->siginfo;
	f->pending[0].len = sizeof(f->siginfo);
	f->thread.pending = f->pending;
	f->thread.n_pending = 1;
	f->core_threads[0] = &f->thread;
	task_core_entry__init(&f->core);
	f->core.pid = PID;
	f->core.state = TASK_STATE__TASK_ALIVE;
	f->core.comm = "test";
	f->core.threads = f->core_threads;
	f->core.n_threads = 1;

	mm_entry__init(&f->mm);
	f->mm.exe_path = "/bin/true";
	f->mm.auxv = f->auxv;
	f->mm.n_auxv = 2;
	for (int i = 0; i < 3; i++) {
		vma_entry__init(&f->vma[i]);
		f->vma[i].kind = VMA_KIND__VMA_ANON;
		f->vma[i].flags = MAP_PRIVATE | MAP_ANONYMOUS;
		f->vmas[i] = &f->vma[i];
	}
	/* Two adjacent VMAs and a third one after a gap. */
	f->vma[0].start = 0x400000;
	f->vma[0].end = 0x401000;
	f->vma[1].start = 0x401000;
	f->vma[1].end = 0x403000;
	f->vma[2].start = 0x600000;
	f->vma[2].end = 0x601000;
	f->mm.vmas = f->vmas;
	f->mm.n_vmas = 3;

	pagemap_head__init(&f->head);
	f->head.id = PID;
	f->head.nr_entries = 2;
	f->head.nr_file_pages = 3;
	for (int i = 0; i < 2; i++) {
		pagemap_entry__init(&f->pe[i]);
		f->pes[i] = &f->pe[i];
	}
	/* The first entry spans both adjacent VMAs. */
	f->pe[0].vaddr = 0x400000;
	f->pe[0].nr_pages = 3;
	f->pe[0].flags = PAGEMAP_FLAG__PE_PAGES;
	f->pe[1].vaddr = 0x600000;
	f->pe[1].nr_pages = 1;
	f->pe[1].flags = PAGEMAP_FLAG__PE_LAZY | PAGEMAP_FLAG__PE_REMOTE;

	files_head__init(&f->files_head);
	f->files_head.nr_files = 1;
	reg_file_entry__init(&f->reg);
	f->reg.path = "/dev/null";
	f->reg.flags = O_RDWR;
	file_entry__init(&f->file);
	f->file.id = 7;
	f->file.type = FILE_TYPE__FT_CHR;
	f->file.reg = &f->reg;
	f->files[0] = &f->file;
	for (int i = 0; i < 2; i++) {
		fd_entry__init(&f->fd[i]);
		f->fd[i].fd = (uint32_t)i;
		f->fd[i].file_id = 7;
		f->fds[i] = &f->fd[i];
	}

	f->proc.pstree = &f->ps;
	f->proc.core = &f->core;
	f->proc.mm = &f->mm;
	f->proc.pagemap_head = &f->head;
	f->proc.pages.entries = f->pes;
	f->proc.pages.nr_entries = 2;
	f->proc.pages.pages_fd = -1;
	f->proc.fds = f->fds;
	f->proc.nr_fds = 2;

	f->set.inventory = &f->inv;
	f->set.pstree = f->pstree;
	f->set.nr_procs = 1;
	f->set.procs = &f->proc;
	f->set.files_head = &f->files_head;
	f->set.files = f->files;
	f->set.nr_files = 1;
}

struct bad_case {
	const char *name;
	void (*breakit)(struct fixture *f);
};

static void b_root(struct fixture *f)
{
	f->inv.root_pid = PID + 1;
}
static void b_root_ppid(struct fixture *f)
{
	f->ps.ppid = 1;
}
static void b_core_pid(struct fixture *f)
{
	f->core.pid = PID + 1;
}
static void b_threads(struct fixture *f)
{
	static uint32_t two[2] = {PID, PID + 1};

	f->ps.threads = two;
	f->ps.n_threads = 2;
}
static void b_tid(struct fixture *f)
{
	f->thread.tid = PID + 1;
}
static void b_xstate(struct fixture *f)
{
	f->thread.xstate.len = 100;
}
static void b_siginfo(struct fixture *f)
{
	f->pending[0].len = 64;
}
static void b_vma_order(struct fixture *f)
{
	f->vma[1].start = 0x400800;
}
static void b_vma_align(struct fixture *f)
{
	f->vma[2].end = 0x600800;
}
static void b_pe_outside(struct fixture *f)
{
	f->pe[1].vaddr = 0x500000;
}
static void b_pe_gap(struct fixture *f)
{
	f->pe[0].nr_pages = 4;
	f->head.nr_file_pages = 4;
}
static void b_pe_align(struct fixture *f)
{
	f->pe[0].vaddr = 0x400010;
}
static void b_pe_overflow(struct fixture *f)
{
	f->pe[1].nr_pages = UINT64_MAX / 2;
}
static void b_pe_order(struct fixture *f)
{
	f->pe[1].vaddr = 0x401000;
}
static void b_pe_flags(struct fixture *f)
{
	f->pe[0].flags |= PAGEMAP_FLAG__PE_PARENT;
}
static void b_pe_zero(struct fixture *f)
{
	f->pe[1].nr_pages = 0;
}
static void b_nr_file_pages(struct fixture *f)
{
	f->head.nr_file_pages = 2;
}
static void b_nr_entries(struct fixture *f)
{
	f->head.nr_entries = 3;
}
static void b_pagemap_id(struct fixture *f)
{
	f->head.id = 1;
}
static void b_fd_file(struct fixture *f)
{
	f->fd[1].file_id = 8;
}
static void b_fd_dup(struct fixture *f)
{
	f->fd[1].fd = 0;
}
static void b_fd_range(struct fixture *f)
{
	f->fd[1].fd = 1u << 30;
}
static void b_files_count(struct fixture *f)
{
	f->files_head.nr_files = 2;
}
static void b_file_path(struct fixture *f)
{
	f->file.reg = NULL;
}
static void b_sigaction(struct fixture *f)
{
	static SigactionEntry sa = SIGACTION_ENTRY__INIT;
	static SigactionEntry *sas[1] = {&sa};

	sa.signo = 65;
	f->core.sigactions = sas;
	f->core.n_sigactions = 1;
}
static void b_rlimit(struct fixture *f)
{
	static RlimitEntry rl = RLIMIT_ENTRY__INIT;
	static RlimitEntry *rls[1] = {&rl};

	rl.resource = 99;
	f->core.rlimits = rls;
	f->core.n_rlimits = 1;
}

static const struct bad_case bad_cases[] = {
    {"root pid differs from inventory", b_root},
    {"root has a parent", b_root_ppid},
    {"core of another pid", b_core_pid},
    {"thread count differs", b_threads},
    {"thread id differs", b_tid},
    {"xstate too small", b_xstate},
    {"siginfo of wrong size", b_siginfo},
    {"VMAs overlap", b_vma_order},
    {"VMA not page-aligned", b_vma_align},
    {"pagemap entry outside every VMA", b_pe_outside},
    {"pagemap entry across a gap", b_pe_gap},
    {"pagemap entry not page-aligned", b_pe_align},
    {"pagemap entry overflows", b_pe_overflow},
    {"pagemap entries out of order", b_pe_order},
    {"pagemap entry in two places", b_pe_flags},
    {"pagemap entry of no pages", b_pe_zero},
    {"stored page count differs", b_nr_file_pages},
    {"entry count differs", b_nr_entries},
    {"pagemap of another process", b_pagemap_id},
    {"fd names an unknown file", b_fd_file},
    {"fd listed twice", b_fd_dup},
    {"fd number out of range", b_fd_range},
    {"file count differs", b_files_count},
    {"file without a path", b_file_path},
    {"sigaction of signal 65", b_sigaction},
    {"rlimit of unknown resource", b_rlimit},
};

static void test_cross_checks(void)
{
	struct fixture f;

	fixture_init(&f);
	CHECK(image_set_check(&f.set) == 0);
	CHECK(image_set_find_file(&f.set, 7) == &f.file);
	CHECK(image_set_find_file(&f.set, 8) == NULL);
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		fixture_init(&f);
		bad_cases[i].breakit(&f);
		if (image_set_check(&f.set) != -EINVAL) {
			fprintf(stderr, "case '%s' was not refused\n", bad_cases[i].name);
			fails++;
		}
	}
}

/* ---- loading from a directory ---- */

static int write_msgs(int dirfd, const char *name, enum img_type type,
		      const ProtobufCMessage *const *msgs, size_t n)
{
	struct img *img;
	int r = img_open_write(dirfd, name, type, &img);

	for (size_t i = 0; r == 0 && i < n; i++)
		r = img_write_msg(img, msgs[i]);
	if (r == 0)
		r = img_commit(img);
	img_close(img);
	return r;
}

static int write_set(int dirfd, struct fixture *f, size_t nr_pages)
{
	const ProtobufCMessage *pm[] = {&f->head.base, &f->pe[0].base, &f->pe[1].base};
	const ProtobufCMessage *fl[] = {&f->files_head.base, &f->file.base};
	const ProtobufCMessage *fd[] = {&f->fd[0].base, &f->fd[1].base};
	static const uint8_t page[4096];
	char name[64];
	struct img *img;
	int r = 0;

#define ONE(m) ((const ProtobufCMessage *const[]){&(m).base})
	r |= write_msgs(dirfd, "pstree.img", IMG_PSTREE, ONE(f->ps), 1);
	snprintf(name, sizeof(name), "core-%d.img", PID);
	r |= write_msgs(dirfd, name, IMG_CORE, ONE(f->core), 1);
	snprintf(name, sizeof(name), "mm-%d.img", PID);
	r |= write_msgs(dirfd, name, IMG_MM, ONE(f->mm), 1);
	snprintf(name, sizeof(name), "pagemap-%d.img", PID);
	r |= write_msgs(dirfd, name, IMG_PAGEMAP, pm, 3);
	r |= write_msgs(dirfd, "files.img", IMG_FILES, fl, 2);
	snprintf(name, sizeof(name), "fds-%d.img", PID);
	r |= write_msgs(dirfd, name, IMG_FDS, fd, 2);
	snprintf(name, sizeof(name), "pages-%d.img", PID);
	if (img_open_write(dirfd, name, IMG_PAGES, &img) == 0) {
		for (size_t i = 0; i < nr_pages; i++)
			r |= img_write_pages(img, page, sizeof(page));
		r |= img_commit(img);
		img_close(img);
	} else {
		r = -1;
	}
	/* The inventory last, as dump does. */
	r |= write_msgs(dirfd, "inventory.img", IMG_INVENTORY, ONE(f->inv), 1);
#undef ONE
	return r;
}

static int load_dir(const char *dir)
{
	struct image_set set;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	int r;

	if (dirfd < 0)
		return -errno;
	r = image_set_load(dirfd, dir, &set);
	if (r == 0) {
		CHECK(set.nr_procs == 1);
		CHECK(set.procs[0].pages.nr_entries == 2);
		CHECK(set.procs[0].pages.pages_fd >= 0);
		CHECK(set.procs[0].nr_fds == 2);
		image_set_free(&set);
	}
	close(dirfd);
	return r;
}

static void test_load(void)
{
	char dir[] = "/tmp/test-image-set.XXXXXX";
	char path[128];
	struct fixture f;
	int dirfd;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		fails++;
		return;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	fixture_init(&f);
	CHECK(write_set(dirfd, &f, 3) == 0);
	CHECK(load_dir(dir) == 0);

	/* A pages file one page short of what the pagemap announces. */
	CHECK(write_set(dirfd, &f, 2) == 0);
	CHECK(load_dir(dir) == -EINVAL);

	/* An inconsistency found by the cross-checks, after a good load. */
	fixture_init(&f);
	f.fd[1].file_id = 9;
	CHECK(write_set(dirfd, &f, 3) == 0);
	CHECK(load_dir(dir) == -EINVAL);

	/* Without its inventory the set is incomplete. */
	fixture_init(&f);
	CHECK(write_set(dirfd, &f, 3) == 0);
	CHECK(unlinkat(dirfd, "inventory.img", 0) == 0);
	CHECK(load_dir(dir) == -ENOENT);

	/* A missing per-process image. */
	CHECK(write_set(dirfd, &f, 3) == 0);
	snprintf(path, sizeof(path), "mm-%d.img", PID);
	CHECK(unlinkat(dirfd, path, 0) == 0);
	CHECK(load_dir(dir) == -ENOENT);

	const char *names[] = {"inventory.img", "pstree.img", "core-100.img", "pagemap-100.img",
			       "pages-100.img", "files.img",  "fds-100.img"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(dirfd, names[i], 0);
	close(dirfd);
	CHECK(rmdir(dir) == 0);
}

int main(void)
{
	/* The refusals log errors on purpose; keep the output to failures. */
	log_init(LOG_ERROR, NULL);
	test_cross_checks();
	test_load();
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
