// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of image I/O and validation: round trips, corrupt files, rule violations. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img.h"
#include "log.h"
#include "util.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* ---- valid sample messages of every type, all storage in one struct ---- */

struct samples {
	InventoryEntry inv;
	PstreeEntry ps[2];
	uint32_t ps_threads[2][2];
	TaskCoreEntry core;
	ThreadCoreEntry thr[2];
	ThreadCoreEntry *thrp[2];
	UserRegsEntry regs[2];
	uint8_t xstate[2][832];
	RseqEntry rseq;
	SigaltstackEntry ss;
	ProtobufCBinaryData pending[1], shared_pending[1];
	uint8_t siginfo[2][128];
	SigactionEntry sa[2];
	SigactionEntry *sap[2];
	ItimerEntry it[1];
	ItimerEntry *itp[1];
	RlimitEntry rl[2];
	RlimitEntry *rlp[2];
	CredsEntry creds;
	uint32_t groups[2];
	char long_path[5000];
	MmEntry mm;
	VmaEntry vma[4];
	VmaEntry *vmap[4];
	uint64_t auxv[4];
	PagemapHead pmh;
	PagemapEntry pme[3];
	FilesHead fh;
	FileEntry fe[3];
	RegFileEntry reg[2];
	FdEntry fd[3];
};

static void samples_init(struct samples *s)
{
	memset(s, 0, sizeof(*s));
	s->inv = (InventoryEntry)INVENTORY_ENTRY__INIT;
	s->inv.format_version = IMG_FORMAT_VERSION;
	s->inv.root_pid = 100;
	s->inv.image_set_id = "0123456789abcdef0123456789abcdef";
	s->inv.page_size = 4096;
	s->inv.kernel_release = "6.18.0";
	s->inv.has_xfeatures = true;
	s->inv.xfeatures = 0x2e7;

	for (int i = 0; i < 2; i++) {
		s->ps[i] = (PstreeEntry)PSTREE_ENTRY__INIT;
		s->ps[i].pgid = s->ps[i].sid = 100;
		s->ps[i].threads = s->ps_threads[i];
	}
	s->ps[0].pid = 100;
	s->ps_threads[0][0] = 100;
	s->ps_threads[0][1] = 101;
	s->ps[0].n_threads = 2;
	s->ps[1].pid = 102;
	s->ps[1].ppid = 100;
	s->ps_threads[1][0] = 102;
	s->ps[1].n_threads = 1;

	s->rseq = (RseqEntry)RSEQ_ENTRY__INIT;
	s->rseq.rseq_abi_pointer = 0x7f0000003020;
	s->rseq.rseq_abi_size = 32;
	s->rseq.signature = 0x53053053;
	s->ss = (SigaltstackEntry)SIGALTSTACK_ENTRY__INIT;
	s->ss.flags = SS_DISABLE;
	s->siginfo[0][0] = SIGUSR1;
	s->siginfo[1][0] = SIGUSR2;
	s->pending[0] = (ProtobufCBinaryData){128, s->siginfo[0]};
	s->shared_pending[0] = (ProtobufCBinaryData){128, s->siginfo[1]};
	for (int i = 0; i < 2; i++) {
		ThreadCoreEntry *t = &s->thr[i];

		s->regs[i] = (UserRegsEntry)USER_REGS_ENTRY__INIT;
		s->regs[i].cs = 0x33;
		s->regs[i].ss = 0x2b;
		s->regs[i].ip = 0x401234;
		s->regs[i].fs_base = 0x7f0000002000;
		s->xstate[i][0] = 0x7f;	 /* fcw */
		s->xstate[i][512] = 0x3; /* xstate_bv: x87, SSE */
		*t = (ThreadCoreEntry)THREAD_CORE_ENTRY__INIT;
		t->tid = 100 + i;
		t->regs = &s->regs[i];
		t->xstate = (ProtobufCBinaryData){sizeof(s->xstate[i]), s->xstate[i]};
		t->comm = "worker";
		s->thrp[i] = t;
	}
	s->thr[0].n_pending = 1;
	s->thr[0].pending = s->pending;
	s->thr[0].rseq = &s->rseq;
	s->thr[0].has_robust_list = s->thr[0].has_robust_list_len = true;
	s->thr[0].robust_list = 0x7f0000002100;
	s->thr[0].robust_list_len = 24;
	s->thr[0].sigaltstack = &s->ss;
	s->thr[1].has_in_syscall = true;
	s->thr[1].in_syscall = true;

	for (int i = 0; i < 2; i++) {
		s->sa[i] = (SigactionEntry)SIGACTION_ENTRY__INIT;
		s->sa[i].handler = 0x401000;
		s->sa[i].flags = SA_SIGINFO | SA_RESTART | 0x04000000;
		s->sa[i].restorer = 0x7f0000001000;
		s->sap[i] = &s->sa[i];
	}
	s->sa[0].signo = SIGUSR1;
	s->sa[1].signo = SIGTERM;
	s->it[0] = (ItimerEntry)ITIMER_ENTRY__INIT;
	s->it[0].value_usec = 1000000;
	s->itp[0] = &s->it[0];
	for (int i = 0; i < 2; i++) {
		s->rl[i] = (RlimitEntry)RLIMIT_ENTRY__INIT;
		s->rlp[i] = &s->rl[i];
	}
	s->rl[0].resource = RLIMIT_NOFILE;
	s->rl[0].cur = 1024;
	s->rl[0].max = 4096;
	s->rl[1].resource = RLIMIT_STACK;
	s->rl[1].cur = 8 << 20;
	s->rl[1].max = RLIM_INFINITY;
	s->creds = (CredsEntry)CREDS_ENTRY__INIT;
	s->groups[1] = 10;
	s->creds.n_groups = 2;
	s->creds.groups = s->groups;
	s->creds.cap_bnd = s->creds.cap_prm = s->creds.cap_eff = (1ull << 41) - 1;
	s->core = (TaskCoreEntry)TASK_CORE_ENTRY__INIT;
	s->core.pid = 100;
	s->core.state = TASK_STATE__TASK_ALIVE;
	s->core.comm = "worker";
	s->core.umask = 022;
	s->core.n_sigactions = 2;
	s->core.sigactions = s->sap;
	s->core.n_itimers = 1;
	s->core.itimers = s->itp;
	s->core.n_rlimits = 2;
	s->core.rlimits = s->rlp;
	s->core.creds = &s->creds;
	s->core.cwd = "/tmp";
	s->core.root = "/";
	s->core.n_shared_pending = 1;
	s->core.shared_pending = s->shared_pending;
	s->core.n_threads = 2;
	s->core.threads = s->thrp;
	s->core.has_exit_signal = true;
	s->core.exit_signal = SIGCHLD;
	memset(s->long_path, 'a', sizeof(s->long_path) - 1);
	s->long_path[0] = '/';

	static const struct {
		uint64_t start, end;
		uint32_t prot, flags;
		VmaKind kind;
		const char *path;
		uint64_t vmflags;
	} vmas[] = {
	    {0x400000, 0x401000, PROT_READ | PROT_EXEC, MAP_PRIVATE, VMA_KIND__VMA_FILE_PRIVATE,
	     "/usr/lib/libworker.so", 0},
	    {0x602000, 0x623000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	     VMA_KIND__VMA_ANON, NULL, VMA_FLAG__VMF_ACCOUNT},
	    {0x7ffff0000000, 0x7ffff0010000, PROT_READ | PROT_WRITE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, VMA_KIND__VMA_ANON, NULL,
	     VMA_FLAG__VMF_ACCOUNT | VMA_FLAG__VMF_GROWSDOWN},
	    {0xffffffffff600000, 0xffffffffff601000, PROT_EXEC, MAP_PRIVATE, VMA_KIND__VMA_VSYSCALL,
	     NULL, 0},
	};
	for (int i = 0; i < 4; i++) {
		VmaEntry *v = &s->vma[i];

		*v = (VmaEntry)VMA_ENTRY__INIT;
		v->start = vmas[i].start;
		v->end = vmas[i].end;
		v->prot = vmas[i].prot;
		v->flags = vmas[i].flags;
		v->kind = vmas[i].kind;
		v->path = (char *)vmas[i].path;
		v->has_vmflags = vmas[i].vmflags != 0;
		v->vmflags = vmas[i].vmflags;
		s->vmap[i] = v;
	}
	s->vma[0].has_pgoff = true;
	s->vma[1].name = "my heap";
	s->auxv[0] = 6; /* AT_PAGESZ */
	s->auxv[1] = 4096;
	s->mm = (MmEntry)MM_ENTRY__INIT;
	s->mm.start_code = 0x400000;
	s->mm.end_code = 0x401000;
	s->mm.start_data = 0x600000;
	s->mm.end_data = 0x601000;
	s->mm.start_brk = 0x602000;
	s->mm.brk = 0x623000;
	s->mm.start_stack = 0x7ffff000f000;
	s->mm.arg_start = 0x7ffff000f100;
	s->mm.arg_end = s->mm.env_start = 0x7ffff000f200;
	s->mm.env_end = 0x7ffff000f300;
	s->mm.n_auxv = 4;
	s->mm.auxv = s->auxv;
	s->mm.exe_path = "/usr/bin/worker";
	s->mm.n_vmas = 4;
	s->mm.vmas = s->vmap;

	s->pmh = (PagemapHead)PAGEMAP_HEAD__INIT;
	s->pmh.id = 100;
	s->pmh.nr_entries = 3;
	s->pmh.nr_file_pages = 3;
	static const struct {
		uint64_t vaddr, nr_pages;
		uint32_t flags;
	} pme[] = {
	    {0x602000, 2, PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_LAZY},
	    {0x610000, 5, PAGEMAP_FLAG__PE_PARENT},
	    {0x7ffff000e000, 1, PAGEMAP_FLAG__PE_PAGES},
	};
	for (int i = 0; i < 3; i++) {
		s->pme[i] = (PagemapEntry)PAGEMAP_ENTRY__INIT;
		s->pme[i].vaddr = pme[i].vaddr;
		s->pme[i].nr_pages = pme[i].nr_pages;
		s->pme[i].flags = pme[i].flags;
	}

	s->fh = (FilesHead)FILES_HEAD__INIT;
	s->fh.nr_files = 3;
	for (int i = 0; i < 3; i++) {
		s->fe[i] = (FileEntry)FILE_ENTRY__INIT;
		s->fe[i].id = i + 1;
	}
	for (int i = 0; i < 2; i++) {
		s->reg[i] = (RegFileEntry)REG_FILE_ENTRY__INIT;
		s->reg[i].has_mode = true;
	}
	s->reg[0].path = "/tmp/log";
	s->reg[0].flags = O_WRONLY | O_APPEND;
	s->reg[0].pos = 42;
	s->reg[0].mode = S_IFREG | 0644;
	s->reg[1].path = "/dev/null";
	s->reg[1].flags = O_RDWR;
	s->reg[1].mode = S_IFCHR | 0666;
	s->fe[0].type = FILE_TYPE__FT_REG;
	s->fe[0].reg = &s->reg[0];
	s->fe[1].type = FILE_TYPE__FT_PIPE;
	s->fe[2].type = FILE_TYPE__FT_CHR;
	s->fe[2].reg = &s->reg[1];
	for (int i = 0; i < 3; i++) {
		s->fd[i] = (FdEntry)FD_ENTRY__INIT;
		s->fd[i].file_id = 3 - i;
	}
	s->fd[1].fd = 1;
	s->fd[2].fd = 5;
	s->fd[2].has_cloexec = s->fd[2].cloexec = true;
}

/* The messages of one image file built from the samples. */
struct msg_list {
	enum img_type type;
	const char *name;
	size_t n;
	const ProtobufCMessage *msgs[8];
};

static struct msg_list sample_image(struct samples *s, enum img_type type)
{
	struct msg_list l = {.type = type};

#define M(x) ((const ProtobufCMessage *)(x))
	switch (type) {
	case IMG_INVENTORY:
		l = (struct msg_list){type, "inventory.img", 1, {M(&s->inv)}};
		break;
	case IMG_PSTREE:
		l = (struct msg_list){type, "pstree.img", 2, {M(&s->ps[0]), M(&s->ps[1])}};
		break;
	case IMG_CORE:
		l = (struct msg_list){type, "core-100.img", 1, {M(&s->core)}};
		break;
	case IMG_MM:
		l = (struct msg_list){type, "mm-100.img", 1, {M(&s->mm)}};
		break;
	case IMG_PAGEMAP:
		l = (struct msg_list){type,
				      "pagemap-100.img",
				      4,
				      {M(&s->pmh), M(&s->pme[0]), M(&s->pme[1]), M(&s->pme[2])}};
		break;
	case IMG_FILES:
		l = (struct msg_list){
		    type, "files.img", 4, {M(&s->fh), M(&s->fe[0]), M(&s->fe[1]), M(&s->fe[2])}};
		break;
	case IMG_FDS:
		l = (struct msg_list){
		    type, "fds-100.img", 3, {M(&s->fd[0]), M(&s->fd[1]), M(&s->fd[2])}};
		break;
	default:
		break;
	}
#undef M
	return l;
}

/* ---- helpers ---- */

static int test_dir = -1;
static char log_path[] = "/tmp/relive-test-img-log.XXXXXX";
static off_t log_seen;

/* Error lines logged since the last call. */
static char *new_log(void)
{
	int fd = open(log_path, O_RDONLY);
	char *buf = calloc(1, 65536);
	ssize_t n = -1;

	if (fd >= 0 && buf) {
		n = pread(fd, buf, 65535, log_seen);
		if (n > 0)
			log_seen += n;
		close(fd);
	}
	if (n < 0 && buf)
		buf[0] = 0;
	return buf;
}

static int write_image(const struct msg_list *l)
{
	_cleanup_img_ struct img *img = NULL;
	int r = img_open_write(test_dir, l->name, l->type, &img);

	for (size_t i = 0; r == 0 && i < l->n; i++)
		r = img_write_msg(img, l->msgs[i]);
	if (r == 0)
		r = img_commit(img);
	return r;
}

/* Read every message of a file; returns the count or the first error. */
static int read_image(const char *name, enum img_type type, ProtobufCMessage **out, size_t max)
{
	_cleanup_img_ struct img *img = NULL;
	int r = img_open_read(test_dir, name, type, &img);
	size_t n = 0;

	while (r >= 0) {
		ProtobufCMessage *m = NULL;

		r = img_read_msg(img, &m);
		if (r <= 0)
			break;
		if (out && n < max)
			out[n] = m;
		else
			img_free_msg(m);
		n++;
	}
	return r < 0 ? r : (int)n;
}

static bool same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a);
	size_t lb = protobuf_c_message_get_packed_size(b);
	_cleanup_free_ uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);

	if (!pa || !pb || la != lb || a->descriptor != b->descriptor)
		return false;
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	return memcmp(pa, pb, la) == 0;
}

static const enum img_type msg_types[] = {IMG_INVENTORY, IMG_PSTREE, IMG_CORE, IMG_MM,
					  IMG_PAGEMAP,	 IMG_FILES,  IMG_FDS};

/* ---- round trips ---- */

static void test_round_trip(void)
{
	struct samples s;

	samples_init(&s);
	for (size_t t = 0; t < ARRAY_SIZE(msg_types); t++) {
		struct msg_list l = sample_image(&s, msg_types[t]);
		ProtobufCMessage *got[8] = {0};
		int r;

		CHECK(write_image(&l) == 0);
		r = read_image(l.name, l.type, got, 8);
		if (r != (int)l.n) {
			fprintf(stderr, "round trip of %s: read %d messages, wrote %zu\n", l.name,
				r, l.n);
			fails++;
		}
		for (size_t i = 0; r > 0 && i < l.n; i++)
			CHECK(got[i] && same_msg(l.msgs[i], got[i]));
		for (size_t i = 0; i < 8; i++)
			img_free_msg(got[i]);
		enum img_type guessed;
		CHECK(img_type_from_name(l.name, &guessed) == 0 && guessed == l.type);
	}
	free(new_log());

	/* img_read_one on a single-message image. */
	{
		_cleanup_img_ struct img *img = NULL;
		_cleanup_msg_ ProtobufCMessage *m = NULL;

		CHECK(img_open_read(test_dir, "core-100.img", IMG_CORE, &img) == 0);
		CHECK(img && img_read_one(img, &m) == 0 && m && same_msg(m, &s.core.base));
	}

	/* Pages: raw, page-aligned after the header page. */
	{
		_cleanup_img_ struct img *w = NULL, *rd = NULL;
		static uint8_t pages[3][4096], back[4096];

		for (int i = 0; i < 3; i++)
			memset(pages[i], 'a' + i, 4096);
		CHECK(img_open_write(test_dir, "pages-100.img", IMG_PAGES, &w) == 0);
		CHECK(w && img_write_pages(w, pages, sizeof(pages)) == 0);
		CHECK(w && img_commit(w) == 0);
		CHECK(img_open_read(test_dir, "pages-100.img", IMG_PAGES, &rd) == 0);
		CHECK(rd && img_nr_pages(rd) == 3);
		CHECK(rd && pread(img_fd(rd), back, 4096, img_pages_offset(2)) == 4096 &&
		      memcmp(back, pages[2], 4096) == 0);
	}

	/* An image that was not committed leaves nothing behind. */
	{
		struct img *img = NULL;

		CHECK(img_open_write(test_dir, "fds-7.img", IMG_FDS, &img) == 0);
		img_close(img);
		CHECK(faccessat(test_dir, "fds-7.img", F_OK, 0) < 0);
		CHECK(faccessat(test_dir, "fds-7.img.tmp", F_OK, 0) < 0);
	}
}

/* ---- byte-level corruption of a valid file ---- */

static uint8_t *file_bytes(const char *name, size_t *len)
{
	_cleanup_close_ int fd = openat(test_dir, name, O_RDONLY);
	struct stat st;
	uint8_t *buf;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	buf = malloc(st.st_size + 1);
	if (buf && read_all(fd, buf, st.st_size) < 0) {
		free(buf);
		return NULL;
	}
	*len = st.st_size;
	return buf;
}

static void put_file(const char *name, const uint8_t *buf, size_t len)
{
	_cleanup_close_ int fd = openat(test_dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0 && write_all(fd, buf, len) == 0);
}

/* Changes a valid file's bytes; returns the new length. */
typedef size_t (*byte_mutator)(uint8_t *buf, size_t len, const void *arg);

static size_t cut_at(uint8_t *buf, size_t len, const void *arg)
{
	return *(const size_t *)arg;
}

static size_t cut_end(uint8_t *buf, size_t len, const void *arg)
{
	return len - *(const size_t *)arg;
}

static size_t put_u32_at(uint8_t *buf, size_t len, const void *arg)
{
	const uint32_t *a = arg; /* offset, value */

	memcpy(buf + a[0], &a[1], 4);
	return len;
}

static size_t garbage_body(uint8_t *buf, size_t len, const void *arg)
{
	memset(buf + 20, 0xff, len - 20);
	return len;
}

/* Replace the first occurrence of a string's last byte with NUL. */
static size_t nul_in_string(uint8_t *buf, size_t len, const void *arg)
{
	const char *s = arg;
	uint8_t *p = memmem(buf, len, s, strlen(s));

	if (p)
		p[strlen(s) - 1] = 0;
	return len;
}

static void test_corrupt_bytes(void)
{
	static const size_t cut_header = 8, cut_prefix = 18, cut_body = 40, cut_after_hdr = 16,
			    two = 2;
	static const uint32_t bad_magic[] = {0, 0x41414141}, bad_version[] = {8, 2},
			      bad_type[] = {12, IMG_MM}, unknown_type[] = {12, 99},
			      huge_len[] = {16, IMG_MAX_MSG_SIZE + 1}, pm_len[] = {16, 4097};
	static const struct {
		const char *what;
		enum img_type type;
		byte_mutator fn;
		const void *arg;
		const char *expect;
	} cases[] = {
	    {"cut inside the header", IMG_CORE, cut_at, &cut_header,
	     "shorter than the 16-byte header"},
	    {"cut inside a length prefix", IMG_CORE, cut_at, &cut_prefix,
	     "truncated: the length prefix"},
	    {"cut inside a message", IMG_CORE, cut_at, &cut_body, "truncated: the body"},
	    {"cut after the header", IMG_CORE, cut_at, &cut_after_hdr, "empty, expected one"},
	    {"empty pstree", IMG_PSTREE, cut_at, &cut_after_hdr, "pstree.img: no processes"},
	    {"pagemap without its head", IMG_PAGEMAP, cut_at, &cut_after_hdr,
	     "pagemap-100.img: missing the head message"},
	    {"cut inside the last message", IMG_PAGEMAP, cut_end, &two,
	     "truncated: the body of message 3"},
	    {"wrong magic", IMG_CORE, put_u32_at, bad_magic, "bad magic"},
	    {"wrong version", IMG_CORE, put_u32_at, bad_version, "format version 2"},
	    {"wrong type", IMG_CORE, put_u32_at, bad_type, "is a mm image, expected a core image"},
	    {"unknown type", IMG_CORE, put_u32_at, unknown_type, "unknown image type 99"},
	    {"length above the cap", IMG_CORE, put_u32_at, huge_len,
	     "more than the 67108864-byte limit"},
	    {"length above the type's cap", IMG_PAGEMAP, put_u32_at, pm_len,
	     "claims 4097 bytes, more than the 4096-byte limit of a pagemap_head"},
	    {"garbage payload", IMG_CORE, garbage_body, NULL, "not a valid task_core_entry"},
	    {"NUL inside a string", IMG_CORE, nul_in_string, "/tmp",
	     "task_core_entry.cwd contains a NUL byte"},
	    {"NUL inside a nested string", IMG_MM, nul_in_string, "/usr/lib/libworker.so",
	     "vma_entry.path contains a NUL byte"},
	};
	struct samples s;

	samples_init(&s);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct msg_list l = sample_image(&s, cases[i].type);
		_cleanup_free_ uint8_t *buf = NULL;
		_cleanup_free_ char *log = NULL;
		size_t len = 0;
		int r;

		if (write_image(&l) < 0 || !(buf = file_bytes(l.name, &len))) {
			fprintf(stderr, "%s: cannot build the file\n", cases[i].what);
			fails++;
			continue;
		}
		len = cases[i].fn(buf, len, cases[i].arg);
		put_file(l.name, buf, len);
		free(new_log());
		r = read_image(l.name, l.type, NULL, 0);
		log = new_log();
		if (r != -EINVAL || !strstr(log, cases[i].expect) || !strstr(log, l.name)) {
			fprintf(stderr, "corrupt case '%s': got %d, log: %s", cases[i].what, r,
				log);
			fails++;
		}
	}
}

/* ---- semantic violations: one valid sample changed in one place ---- */

#define MUT(fn, body)                                                                              \
	static void fn(struct samples *s)                                                          \
	{                                                                                          \
		body;                                                                              \
	}

MUT(inv_page_size, s->inv.page_size = 8192)
MUT(inv_set_id, s->inv.image_set_id = "0123456789ABCDEF0123456789abcdef")
MUT(inv_version, s->inv.format_version = 2)
MUT(inv_root, s->inv.root_pid = 0)
MUT(ps_parent_missing, s->ps[1].ppid = 999)
MUT(ps_root_ppid, s->ps[0].ppid = 5)
MUT(ps_dup_pid, s->ps[1].pid = s->ps_threads[1][0] = 100)
MUT(ps_first_thread, s->ps_threads[0][0] = 101; s->ps_threads[0][1] = 100)
MUT(ps_tid_range, s->ps_threads[0][1] = 5000000)
MUT(ps_dup_tid, s->ps[1].n_threads = 2; s->ps_threads[1][1] = 101)
MUT(ps_no_threads, s->ps[1].n_threads = 0)
MUT(core_comm, s->core.comm = "sixteen-chars-xx")
MUT(core_state, s->core.state = 9)
MUT(core_sigkill, s->sa[1].signo = SIGKILL)
MUT(core_signo, s->sa[1].signo = 65)
MUT(core_dup_sig, s->sa[1].signo = SIGUSR1)
MUT(core_sa_flags, s->sa[0].flags |= 0x100)
MUT(core_itimer, s->it[0].which = 3)
MUT(core_rlimit_res, s->rl[1].resource = RLIM_NLIMITS)
MUT(core_rlimit_cur, s->rl[0].cur = 5000)
MUT(core_xstate_small, s->thr[1].xstate.len = 512)
MUT(core_xstate_align, s->thr[1].xstate.len = 800)
MUT(core_xstate_hdr, s->xstate[1][530] = 1)
MUT(core_siginfo_len, s->pending[0].len = 127)
MUT(core_siginfo_signo, s->siginfo[1][0] = 0)
MUT(core_dup_tid, s->thr[1].tid = 100)
MUT(core_tid_range, s->thr[1].tid = 0)
MUT(core_cwd_rel, s->core.cwd = "tmp")
MUT(core_cwd_long, s->core.cwd = s->long_path)
MUT(core_caps, s->creds.cap_eff = 1ull << 50)
MUT(core_nice, s->core.has_nice = true; s->core.nice = 20)
MUT(core_umask, s->core.umask = 01000)
MUT(core_rseq, s->rseq.rseq_abi_pointer += 8)
MUT(core_cs, s->regs[0].cs = 0x10)
MUT(core_thread_comm, s->thr[1].comm = "0123456789abcdefg")
MUT(core_robust_len, s->thr[0].robust_list_len = 16)
MUT(core_groups, s->groups[0] = (uint32_t)-1)
MUT(core_dumpable, s->creds.has_dumpable = true; s->creds.dumpable = 3)
MUT(core_no_threads, s->core.n_threads = 0)
MUT(mm_end_below, s->vma[1].start = 0x623000; s->vma[1].end = 0x602000)
MUT(mm_unaligned, s->vma[1].start = 0x602010)
MUT(mm_overlap, s->vma[2].start = 0x620000; s->vma[2].end = 0x630000)
MUT(mm_unsorted, s->vmap[0] = &s->vma[1]; s->vmap[1] = &s->vma[0])
MUT(mm_prot, s->vma[1].prot = 8)
MUT(mm_both_shares, s->vma[1].flags |= MAP_SHARED)
MUT(mm_no_share, s->vma[1].flags = MAP_ANONYMOUS)
MUT(mm_flags, s->vma[1].flags |= 0x40)
MUT(mm_file_no_path, s->vma[0].path = NULL)
MUT(mm_kind, s->vma[1].kind = 42)
MUT(mm_vmflags, s->vma[1].vmflags = 1 << 20)
MUT(mm_kernel_addr, s->vma[2].end = 0x800000000000)
MUT(mm_fake_vsyscall, s->vma[3].start = 0xffffffffff700000; s->vma[3].end = 0xffffffffff701000)
MUT(mm_auxv_odd, s->mm.n_auxv = 3)
MUT(mm_auxv_null, s->auxv[2] = 7)
MUT(mm_code, s->mm.end_code = 0x300000)
MUT(mm_exe_rel, s->mm.exe_path = "worker")
MUT(mm_name, s->vma[1].name = "bad[name]")
MUT(mm_shared_private, s->vma[1].flags = MAP_SHARED | MAP_ANONYMOUS)
MUT(pm_unaligned, s->pme[1].vaddr = 0x610100)
MUT(pm_no_pages, s->pme[1].nr_pages = 0)
MUT(pm_overflow, s->pme[2].nr_pages = 1ull << 52)
MUT(pm_flags, s->pme[1].flags = 0x10)
MUT(pm_where, s->pme[0].flags |= PAGEMAP_FLAG__PE_REMOTE)
MUT(pm_overlap, s->pme[1].vaddr = 0x603000)
MUT(pm_more_than_head, s->pmh.nr_entries = 2)
MUT(pm_fewer_than_head, s->pmh.nr_entries = 4)
MUT(pm_file_pages, s->pmh.nr_file_pages = 5)
MUT(pm_head_cap, s->pmh.nr_entries = 1ull << 40)
MUT(files_type, s->fe[1].type = 0)
MUT(files_no_reg, s->fe[0].reg = NULL)
MUT(files_dup_id, s->fe[2].id = 1)
MUT(files_count, s->fh.nr_files = 4)
MUT(files_accmode, s->reg[0].flags = O_ACCMODE)
MUT(files_oflags, s->reg[0].flags |= 0x80000000u)
MUT(files_mode, s->reg[1].mode = S_IFREG | 0644)
MUT(files_path, s->reg[0].path = "log")
MUT(fds_range, s->fd[2].fd = 2000000)
MUT(fds_dup, s->fd[1].fd = 0)

static const struct sem_case {
	const char *what;
	enum img_type type;
	void (*mutate)(struct samples *s);
	const char *expect;
} sem_cases[] = {
    {"inventory page size", IMG_INVENTORY, inv_page_size, "page size 8192"},
    {"inventory set id", IMG_INVENTORY, inv_set_id, "not 32 lowercase hex"},
    {"inventory version", IMG_INVENTORY, inv_version, "format version 2"},
    {"inventory root pid", IMG_INVENTORY, inv_root, "root pid 0 out of range"},
    {"pstree parent missing", IMG_PSTREE, ps_parent_missing, "parent 999 is not listed before"},
    {"pstree root ppid", IMG_PSTREE, ps_root_ppid, "ppid is 5"},
    {"pstree duplicate pid", IMG_PSTREE, ps_dup_pid, "pid 100 listed twice"},
    {"pstree first thread", IMG_PSTREE, ps_first_thread, "first thread is 101"},
    {"pstree tid range", IMG_PSTREE, ps_tid_range, "tid 5000000 out of range"},
    {"pstree duplicate tid", IMG_PSTREE, ps_dup_tid, "tid 101 listed twice"},
    {"pstree no threads", IMG_PSTREE, ps_no_threads, "0 threads"},
    {"core comm length", IMG_CORE, core_comm, "comm is 16 characters"},
    {"core state enum", IMG_CORE, core_state, "task state 9 unknown"},
    {"core SIGKILL handler", IMG_CORE, core_sigkill, "sigaction 1: signal 9 cannot have a handler"},
    {"core signal range", IMG_CORE, core_signo, "signal 65 out of range"},
    {"core duplicate sigaction", IMG_CORE, core_dup_sig, "signal 10 listed twice"},
    {"core sa_flags", IMG_CORE, core_sa_flags, "flags 0x14000104 has unknown bits"},
    {"core itimer which", IMG_CORE, core_itimer, "which 3 out of range 0..2"},
    {"core rlimit resource", IMG_CORE, core_rlimit_res, "resource 16 out of range"},
    {"core rlimit cur > max", IMG_CORE, core_rlimit_cur, "soft limit 5000 above hard limit 4096"},
    {"core xstate too small", IMG_CORE, core_xstate_small, "thread 1: xstate is 512 bytes"},
    {"core xstate not 64-aligned", IMG_CORE, core_xstate_align, "xstate is 800 bytes"},
    {"core xstate header", IMG_CORE, core_xstate_hdr, "XSAVE header"},
    {"core siginfo size", IMG_CORE, core_siginfo_len,
     "thread 0: pending signal 0: siginfo is 127 bytes"},
    {"core siginfo signo", IMG_CORE, core_siginfo_signo,
     "shared pending signal 0: signal number 0"},
    {"core duplicate tid", IMG_CORE, core_dup_tid, "thread 1: tid 100 listed twice"},
    {"core tid range", IMG_CORE, core_tid_range, "thread 1: tid 0 out of range"},
    {"core relative cwd", IMG_CORE, core_cwd_rel, "cwd \"tmp\" is not an absolute path"},
    {"core long cwd", IMG_CORE, core_cwd_long, "cwd is 4999 bytes long, more than PATH_MAX"},
    {"core capabilities", IMG_CORE, core_caps, "beyond CAP_LAST_CAP"},
    {"core nice", IMG_CORE, core_nice, "nice 20 out of range"},
    {"core umask", IMG_CORE, core_umask, "umask 01000"},
    {"core rseq alignment", IMG_CORE, core_rseq, "rseq area 0x7f0000003028"},
    {"core code segment", IMG_CORE, core_cs, "cs 0x10"},
    {"core thread comm", IMG_CORE, core_thread_comm, "thread 1: comm is 17 characters"},
    {"core robust list length", IMG_CORE, core_robust_len, "robust list length 16"},
    {"core group -1", IMG_CORE, core_groups, "group 0 is -1"},
    {"core dumpable", IMG_CORE, core_dumpable, "dumpable 3 out of range"},
    {"core no threads", IMG_CORE, core_no_threads, "no threads in a live task"},
    {"mm end below start", IMG_MM, mm_end_below, "vma 1: end 0x602000 not above start 0x623000"},
    {"mm unaligned", IMG_MM, mm_unaligned,
     "vma 1: start 0x602010 or end 0x623000 not page-aligned"},
    {"mm overlap", IMG_MM, mm_overlap, "vma 2: start 0x620000 below the end 0x623000 of vma 1"},
    {"mm unsorted", IMG_MM, mm_unsorted, "vma 1: start 0x400000 below the end 0x623000 of vma 0"},
    {"mm prot", IMG_MM, mm_prot, "vma 1: prot 0x8"},
    {"mm private and shared", IMG_MM, mm_both_shares, "exactly one of MAP_PRIVATE and MAP_SHARED"},
    {"mm neither private nor shared", IMG_MM, mm_no_share, "exactly one of MAP_PRIVATE"},
    {"mm unknown flags", IMG_MM, mm_flags, "vma 1: flags 0x62 has unknown bits"},
    {"mm file without path", IMG_MM, mm_file_no_path, "vma 0: file mapping without a path"},
    {"mm kind enum", IMG_MM, mm_kind, "vma 1: kind 42 unknown"},
    {"mm vmflags", IMG_MM, mm_vmflags, "vma 1: vmflags 0x100000 has unknown bits"},
    {"mm above user space", IMG_MM, mm_kernel_addr,
     "vma 2: 0x7ffff0000000-0x800000000000 outside user space"},
    {"mm fake vsyscall", IMG_MM, mm_fake_vsyscall,
     "vma 3: 0xffffffffff700000-0xffffffffff701000 outside"},
    {"mm auxv odd", IMG_MM, mm_auxv_odd, "auxv has 3 words"},
    {"mm auxv without AT_NULL", IMG_MM, mm_auxv_null, "auxv does not end with AT_NULL"},
    {"mm code range", IMG_MM, mm_code, "code area 0x400000-0x300000"},
    {"mm relative exe", IMG_MM, mm_exe_rel, "exe path \"worker\" is not an absolute path"},
    {"mm anon name", IMG_MM, mm_name, "forbidden character 0x5b"},
    {"mm anon kind shared", IMG_MM, mm_shared_private, "vma 1: a private kind mapped MAP_SHARED"},
    {"pagemap unaligned", IMG_PAGEMAP, pm_unaligned, "entry 1: vaddr 0x610100 not page-aligned"},
    {"pagemap no pages", IMG_PAGEMAP, pm_no_pages, "entry 1: no pages"},
    {"pagemap overflow", IMG_PAGEMAP, pm_overflow,
     "entry 2: 0x7ffff000e000 + 4503599627370496 pages outside"},
    {"pagemap flags", IMG_PAGEMAP, pm_flags, "entry 1: flags 0x10 has unknown bits"},
    {"pagemap two locations", IMG_PAGEMAP, pm_where, "more than one of PAGES, PARENT, REMOTE"},
    {"pagemap overlap", IMG_PAGEMAP, pm_overlap,
     "entry 1: vaddr 0x603000 below the end 0x604000 of entry 0"},
    {"pagemap more than head", IMG_PAGEMAP, pm_more_than_head,
     "entry 2: the head announced only 2 entries"},
    {"pagemap fewer than head", IMG_PAGEMAP, pm_fewer_than_head,
     "the head announced 4 entries, found 3"},
    {"pagemap file pages", IMG_PAGEMAP, pm_file_pages,
     "announced 5 file pages, the entries add up to 3"},
    {"pagemap head cap", IMG_PAGEMAP, pm_head_cap, "head: 1099511627776 entries"},
    {"files type enum", IMG_FILES, files_type, "file 1: type 0 unknown"},
    {"files reg missing", IMG_FILES, files_no_reg, "file 0 (id 1): needs a path"},
    {"files duplicate id", IMG_FILES, files_dup_id, "file 2: id 1 listed twice"},
    {"files count", IMG_FILES, files_count, "announced 4 entries, found 3"},
    {"files access mode", IMG_FILES, files_accmode, "invalid access mode"},
    {"files open flags", IMG_FILES, files_oflags, "have unknown bits"},
    {"files mode vs type", IMG_FILES, files_mode, "file 2 (id 3): mode 0100644 does not match"},
    {"files relative path", IMG_FILES, files_path, "path \"log\" is not an absolute path"},
    {"fds range", IMG_FDS, fds_range, "fd 2000000 not below 1048576"},
    {"fds duplicate", IMG_FDS, fds_dup, "fd 0 listed twice"},
};

static void test_semantic(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sem_cases); i++) {
		const struct sem_case *c = &sem_cases[i];
		struct samples s;
		struct msg_list l;
		_cleanup_free_ char *log = NULL;
		int r;

		samples_init(&s);
		c->mutate(&s);
		l = sample_image(&s, c->type);
		if (write_image(&l) < 0) {
			fprintf(stderr, "semantic case '%s': cannot write\n", c->what);
			fails++;
			continue;
		}
		free(new_log());
		r = read_image(l.name, l.type, NULL, 0);
		log = new_log();
		if (r != -EINVAL || !strstr(log, c->expect) || !strstr(log, l.name)) {
			fprintf(stderr, "semantic case '%s': got %d, want \"%s\", log: %s", c->what,
				r, c->expect, log);
			fails++;
		}
	}
}

/* A single-message image with a second message, and a pages file that is
 * not whole pages. */
static void test_structure(void)
{
	struct samples s;
	_cleanup_free_ char *log = NULL;
	struct msg_list l;

	samples_init(&s);
	l = sample_image(&s, IMG_CORE);
	l.msgs[1] = l.msgs[0];
	l.n = 2;
	CHECK(write_image(&l) == 0);
	free(new_log());
	CHECK(read_image(l.name, l.type, NULL, 0) == -EINVAL);
	log = new_log();
	CHECK(strstr(log, "core-100.img: message 1: a core image holds one message"));

	{
		_cleanup_img_ struct img *w = NULL, *rd = NULL;
		_cleanup_free_ char *log2 = NULL;
		static uint8_t half[2048];

		CHECK(img_open_write(test_dir, "pages-9.img", IMG_PAGES, &w) == 0);
		CHECK(w && img_write_pages(w, half, sizeof(half)) == 0 && img_commit(w) == 0);
		CHECK(img_open_read(test_dir, "pages-9.img", IMG_PAGES, &rd) == -EINVAL);
		log2 = new_log();
		CHECK(strstr(log2, "pages-9.img: truncated: size 6144"));
	}

	/* A FIFO among the images is refused at once rather than blocking. */
	{
		_cleanup_img_ struct img *rd = NULL;
		_cleanup_free_ char *log3 = NULL;

		CHECK(mkfifoat(test_dir, "fds-8.img", 0600) == 0);
		CHECK(img_open_read(test_dir, "fds-8.img", IMG_FDS, &rd) == -EINVAL);
		log3 = new_log();
		CHECK(strstr(log3, "fds-8.img: not a regular file"));
	}
}

/* The fuzzer's framed form of an image: type byte, then [u16 LE length]
 * [message] per message (see test/fuzz/fuzz-img.c). */
static int write_framed(const char *name, enum img_type type)
{
	_cleanup_free_ uint8_t *buf = NULL, *out = NULL;
	_cleanup_free_ char *fname = NULL;
	size_t len = 0, off = 16, o = 1;

	buf = file_bytes(name, &len);
	out = malloc(len + 1);
	if (!buf || !out || asprintf(&fname, "%s.framed", name) < 0)
		return -ENOMEM;
	out[0] = type - 1;
	while (off + 4 <= len) {
		uint32_t n;

		memcpy(&n, buf + off, 4);
		if (n > 0xffff || n > len - off - 4)
			return -EINVAL;
		out[o++] = n & 0xff;
		out[o++] = n >> 8;
		memcpy(out + o, buf + off + 4, n);
		o += n;
		off += 4 + n;
	}
	put_file(fname, out, o);
	return 0;
}

/* Writes one valid image of every type into dir, and its framed form: the
 * fuzzer's seed corpus, and something to try relive show on. */
static int write_corpus(const char *dir)
{
	struct samples s;
	static uint8_t page[4096];

	test_dir = open(dir, O_RDONLY | O_DIRECTORY);
	if (test_dir < 0) {
		perror(dir);
		return 1;
	}
	samples_init(&s);
	for (size_t t = 0; t < ARRAY_SIZE(msg_types); t++) {
		struct msg_list l = sample_image(&s, msg_types[t]);

		if (write_image(&l) < 0 || write_framed(l.name, l.type) < 0)
			return 1;
	}
	_cleanup_img_ struct img *w = NULL;
	if (img_open_write(test_dir, "pages-100.img", IMG_PAGES, &w) < 0 ||
	    img_write_pages(w, page, sizeof(page)) < 0 || img_commit(w) < 0)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/relive-test-img.XXXXXX";
	int fd;

	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	fd = mkstemp(log_path);
	if (fd < 0 || !mkdtemp(dir)) {
		perror("temp files");
		return 1;
	}
	close(fd);
	if (log_init(LOG_ERROR, log_path) < 0)
		return 1;
	test_dir = open(dir, O_RDONLY | O_DIRECTORY);
	if (test_dir < 0)
		return 1;

	test_round_trip();
	test_corrupt_bytes();
	test_semantic();
	test_structure();

	log_fini();
	unlink(log_path);
	/* Leave the directory when something failed, for a look at the files. */
	if (!fails) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	printf("test-img: %zu semantic cases, %s\n", ARRAY_SIZE(sem_cases),
	       fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
