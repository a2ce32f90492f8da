// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared memory objects: saved once by offset, recreated with name, size,
 * seals and content; shared anonymous memory stays "/dev/zero". */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump-shmem.h"
#include "image-set.h"
#include "img.h"
#include "log.h"
#include "restore-shmem.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define PG 4096

static char dir[] = "/tmp/test-shmem-XXXXXX";
static int dirfd_;

static void test_names(void)
{
	static const struct {
		const char *link, *name;
	} t[] = {
	    {"/memfd:abc (deleted)", "abc"}, {"/memfd:with space (deleted)", "with space"},
	    {"/memfd: (deleted)", ""},	     {"/memfd:nodel", "nodel"},
	    {"/dev/zero (deleted)", NULL},   {"memfd:x", NULL},
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = dump_memfd_name(t[i].link, buf, sizeof(buf));

		CHECK(t[i].name ? r == 0 && !strcmp(buf, t[i].name) : r == -EINVAL);
	}
	CHECK(dump_memfd_name("/memfd:toolong", buf, 4) == -EINVAL);
}

/* Cut the last page off dirfd/name. */
static int truncateat_helper(const char *name)
{
	int fd = openat(dirfd_, name, O_WRONLY);
	struct stat st;
	int r = -1;

	if (fd >= 0 && fstat(fd, &st) == 0)
		r = ftruncate(fd, st.st_size - PG);
	if (fd >= 0)
		close(fd);
	return r;
}

static void write_shmem_img(const ShmemEntry *e, size_t n)
{
	struct img *img = NULL;

	CHECK(img_open_write(dirfd_, "shmem.img", IMG_SHMEM, &img) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(img_write_msg(img, &e[i].base) == 0);
	CHECK(img_commit(img) == 0);
}

static int count_entries(uint64_t id, uint64_t *pages)
{
	struct img *img = NULL;
	PagemapHead *h = NULL;
	char name[64];
	int n = -1;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)id);
	if (img_open_read(dirfd_, name, IMG_PAGEMAP, &img) == 0 &&
	    img_read_msg(img, (ProtobufCMessage **)&h) == 1) {
		n = (int)h->nr_entries;
		*pages = h->nr_file_pages;
	}
	img_free_msg(h ? &h->base : NULL);
	img_close(img);
	return n;
}

/* A memfd: 5 pages and a half; pages 0 and 3 written, page 1 written with
 * zeros, the half page at the end written. Seals: grow and shrink. */
static void test_memfd(void)
{
	int m = memfd_create("test name", MFD_ALLOW_SEALING), fd = -1, fd2 = -1;
	uint64_t size = 5 * PG + PG / 2, stored = 0, id;
	ShmemEntry e = SHMEM_ENTRY__INIT;
	MemfdFileEntry me = MEMFD_FILE_ENTRY__INIT;
	FileEntry fe = FILE_ENTRY__INIT;
	FileEntry *files[1] = {&fe};
	struct image_set set = {};
	char buf[PG], link[128], zero[PG] = {0};
	struct stat st;
	ssize_t n;

	CHECK(m >= 0);
	CHECK(ftruncate(m, (off_t)size) == 0);
	memset(buf, 'A', PG);
	CHECK(pwrite(m, buf, PG, 0) == PG);
	CHECK(pwrite(m, zero, PG, PG) == PG);
	memset(buf, 'D', PG);
	CHECK(pwrite(m, buf, PG, 3 * PG) == PG);
	CHECK(pwrite(m, "tail", 4, 5 * PG + 100) == 4);
	CHECK(fcntl(m, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) == 0);
	CHECK(fstat(m, &st) == 0);
	id = st.st_ino;

	CHECK(dump_shmem_pages(dirfd_, m, id, size) == 0);
	/* Page 1 is zeros and pages 2, 4 are holes: three runs of one page. */
	CHECK(count_entries(id, &stored) == 3);
	CHECK(stored == 3);

	e.id = id;
	e.kind = VMA_KIND__VMA_MEMFD;
	e.size = size;
	e.name = "test name";
	e.has_seals = true;
	e.seals = F_SEAL_GROW | F_SEAL_SHRINK;
	write_shmem_img(&e, 1);
	fe.id = 1;
	fe.type = FILE_TYPE__FT_MEMFD;
	fe.memfd = &me;
	me.shmid = id;
	me.flags = O_RDWR | O_NONBLOCK;
	me.pos = 1234;
	set.files = files;
	set.nr_files = 1;
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == 0);
	CHECK(restore_memfd_open(&set, &fe, &fd) == 0);
	CHECK(restore_memfd_open(&set, &fe, &fd2) == 0);
	close(m);

	CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == size);
	CHECK(fcntl(fd, F_GET_SEALS) == (F_SEAL_GROW | F_SEAL_SHRINK));
	CHECK((fcntl(fd, F_GETFL) & ~0100000) == (O_RDWR | O_NONBLOCK));
	CHECK(lseek(fd, 0, SEEK_CUR) == 1234);
	snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd);
	n = readlink(buf, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(link, "/memfd:test name (deleted)"));
	CHECK(pread(fd, buf, PG, 0) == PG && buf[0] == 'A' && buf[PG - 1] == 'A');
	CHECK(pread(fd, buf, PG, PG) == PG && !memcmp(buf, zero, PG));
	CHECK(pread(fd, buf, PG, 3 * PG) == PG && buf[0] == 'D' && buf[PG - 1] == 'D');
	CHECK(pread(fd, buf, PG, 5 * PG) == PG / 2 && !memcmp(buf + 100, "tail", 4));
	/* Two descriptions of one memfd: a write through one shows in the
	 * other, their offsets are their own. */
	CHECK(pwrite(fd2, "X", 1, 2 * PG) == 1);
	CHECK(pread(fd, buf, 1, 2 * PG) == 1 && buf[0] == 'X');
	CHECK(lseek(fd2, 0, SEEK_SET) == 0 && lseek(fd, 0, SEEK_CUR) == 1234);
	close(fd);
	close(fd2);
	restore_shmem_free(set.shmem);
	set.shmem = NULL;

	/* A memfd entry naming an object shmem.img does not have. */
	me.shmid = id + 1;
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == -EINVAL);
	/* A pages file cut short. */
	me.shmid = id;
	{
		char name[64];

		snprintf(name, sizeof(name), "pages-shmem-%llu.img", (unsigned long long)id);
		CHECK(truncateat_helper(name) == 0);
	}
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == -EINVAL);
}

/* Shared anonymous memory: saved through map_files, recreated as shared
 * anonymous memory (still "/dev/zero" for maps) and mapped by a VMA. */
static void test_shared_anon(void)
{
	size_t len = 8 * PG;
	unsigned char *a =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char path[96], link[128];
	ShmemEntry e = SHMEM_ENTRY__INIT;
	VmaEntry v = VMA_ENTRY__INIT, *vmas[1] = {&v};
	MmEntry mm = MM_ENTRY__INIT;
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	struct image_proc proc = {};
	struct image_set set = {};
	uint64_t stored = 0;
	struct stat st;
	unsigned char *b;
	int fd, obj = -1;
	ssize_t n;

	CHECK(a != MAP_FAILED);
	memset(a + 2 * PG, 0x5a, PG);
	memset(a + 3 * PG, 0x6b, PG);
	a[7 * PG + 10] = 1;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)a,
		 (unsigned long)a + len);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0 && (size_t)st.st_size == len);
	CHECK(dump_shmem_pages(dirfd_, fd, st.st_ino, len) == 0);
	CHECK(count_entries(st.st_ino, &stored) == 2);
	CHECK(stored == 3);
	close(fd);

	e.id = st.st_ino;
	e.kind = VMA_KIND__VMA_SHARED_ANON;
	e.size = len;
	write_shmem_img(&e, 1);
	v.kind = VMA_KIND__VMA_SHARED_ANON;
	v.has_shmid = true;
	v.shmid = st.st_ino;
	mm.n_vmas = 1;
	mm.vmas = vmas;
	ps.pid = 100;
	proc.pstree = &ps;
	proc.mm = &mm;
	set.procs = &proc;
	set.nr_procs = 1;
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == 0);
	CHECK(restore_shmem_fd(set.shmem, st.st_ino, &obj, NULL) == 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", obj);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(link, "/dev/zero (deleted)"));
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, obj, 0);
	CHECK(b != MAP_FAILED);
	if (b != MAP_FAILED) {
		CHECK(b[0] == 0 && b[2 * PG] == 0x5a && b[4 * PG - 1] == 0x6b);
		CHECK(b[7 * PG + 10] == 1 && b[7 * PG + 11] == 0);
		/* A second mapping is the same memory. */
		unsigned char *c = mmap(NULL, len, PROT_READ, MAP_SHARED, obj, 0);

		CHECK(c != MAP_FAILED);
		b[5 * PG] = 42;
		if (c != MAP_FAILED) {
			CHECK(c[5 * PG] == 42);
			munmap(c, len);
		}
		munmap(b, len);
	}
	restore_shmem_free(set.shmem);
	set.shmem = NULL;

	/* The VMA says memfd, the object is shared anonymous memory. */
	v.kind = VMA_KIND__VMA_MEMFD;
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == -EINVAL);
	/* No shmem.img at all while a VMA needs it. */
	v.kind = VMA_KIND__VMA_SHARED_ANON;
	unlinkat(dirfd_, "shmem.img", 0);
	CHECK(restore_shmem_load(dirfd_, &set, &set.shmem) == -EINVAL);
	munmap(a, len);
}

static void remove_all(void)
{
	DIR *d = fdopendir(dirfd_);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd_, de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	log_init(LOG_ERROR, NULL);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	dirfd_ = open(dir, O_DIRECTORY | O_RDONLY);
	test_names();
	test_memfd();
	test_shared_anon();
	remove_all();
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
