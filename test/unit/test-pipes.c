// SPDX-License-Identifier: GPL-2.0-or-later
/* Pipes: data in flight read without loss, and pipes and FIFOs recreated. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dump-pipes.h"
#include "image-set.h"
#include "img.h"
#include "log.h"
#include "restore-pipes.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static char dir[] = "/tmp/test-pipes-XXXXXX";
static int dirfd_;

/* Status flags without the O_LARGEFILE the kernel adds on open. */
static int getfl(int fd)
{
	return fcntl(fd, F_GETFL) & ~0100000;
}

static int max_pipe_size(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "r");
	int v = 0;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* ---- dump: peek ---- */

static void test_peek(void)
{
	char buf[256] = {0}, msg[200];
	void *data = NULL;
	size_t len = 1;
	uint32_t size = 0;
	int p[2];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	CHECK(pipe(p) == 0);
	/* Empty pipe. */
	CHECK(dump_pipe_peek(p[0], &data, &len, &size) == 0);
	CHECK(data == NULL && len == 0 && size == 65536);
	/* Two writes: two buffers. From the read end, then the write end. */
	CHECK(write(p[1], msg, 100) == 100);
	CHECK(write(p[1], msg + 100, 100) == 100);
	CHECK(fcntl(p[1], F_SETPIPE_SZ, 8192) == 8192);
	for (int end = 0; end < 2; end++) {
		CHECK(dump_pipe_peek(p[end], &data, &len, &size) == 0);
		CHECK(len == 200 && data && !memcmp(data, msg, 200));
		CHECK(size == 8192);
		free(data);
		data = NULL;
	}
	/* Nothing was consumed. */
	CHECK(read(p[0], buf, sizeof(buf)) == 200);
	CHECK(!memcmp(buf, msg, 200));
	close(p[0]);
	close(p[1]);
}

/* A pipe of another process, both ends: one pipe, two descriptions, its
 * data read once and left in place. */
static void test_collect(void)
{
	struct dump_pipes *pp = NULL;
	PipeFileEntry e1 = PIPE_FILE_ENTRY__INIT, e2 = PIPE_FILE_ENTRY__INIT;
	int p[2], sync[2], status;
	struct stat st;
	char c, buf[16] = {0};
	pid_t pid;

	CHECK(pipe(p) == 0 && pipe(sync) == 0);
	CHECK(write(p[1], "child data", 10) == 10);
	pid = fork();
	if (pid == 0) {
		/* Hold both ends until told, then check the data is intact. */
		close(sync[1]);
		if (read(sync[0], &c, 1) != 1 || read(p[0], buf, sizeof(buf)) != 10 ||
		    memcmp(buf, "child data", 10))
			_exit(1);
		_exit(0);
	}
	close(sync[0]);
	CHECK(fstat(p[0], &st) == 0);
	CHECK(dump_pipe_collect(&pp, pid, p[0], &st, O_RDONLY, 4) == 0);
	CHECK(dump_pipe_collect(&pp, pid, p[1], &st, O_WRONLY | O_NONBLOCK, 5) == 0);
	CHECK(dump_pipe_entry(pp, 4, &e1) == 0 && dump_pipe_entry(pp, 5, &e2) == 0);
	CHECK(e1.pipe_id == e2.pipe_id && e1.pipe_id != 0);
	CHECK(e1.flags == O_RDONLY && e2.flags == (O_WRONLY | O_NONBLOCK));
	CHECK(e1.has_pipe_size && e1.pipe_size == 65536);
	CHECK(dump_pipe_entry(pp, 6, &e1) == -ENOENT);
	/* A packet-mode description of a pipe holding data: refused. */
	CHECK(dump_pipe_collect(&pp, pid, p[1], &st, O_WRONLY | O_DIRECT, 7) == -EOPNOTSUPP);
	CHECK(dump_pipes_write(pp, dirfd_) == 0);
	CHECK(faccessat(dirfd_, "pipes-data.img", F_OK, 0) == 0);
	unlinkat(dirfd_, "pipes-data.img", 0);
	dump_pipes_free(pp);
	close(p[0]);
	close(p[1]);
	CHECK(write(sync[1], "g", 1) == 1);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sync[1]);
}

/* ---- restore ---- */

struct fx {
	FileEntry fe[6];
	FileEntry *files[6];
	PipeFileEntry pe[6];
	RegFileEntry reg[6];
	struct image_set set;
};

static void fx_add(struct fx *x, unsigned type, uint64_t pipe_id, uint32_t flags, uint32_t size,
		   const char *fifo)
{
	size_t i = x->set.nr_files++;

	file_entry__init(&x->fe[i]);
	pipe_file_entry__init(&x->pe[i]);
	x->fe[i].id = (uint32_t)i + 1;
	x->fe[i].type = type;
	x->fe[i].pipe = &x->pe[i];
	x->pe[i].pipe_id = pipe_id;
	x->pe[i].flags = flags;
	x->pe[i].has_pipe_size = true;
	x->pe[i].pipe_size = size;
	if (fifo) {
		reg_file_entry__init(&x->reg[i]);
		x->reg[i].path = (char *)fifo;
		x->reg[i].flags = flags;
		x->fe[i].reg = &x->reg[i];
	}
	x->files[i] = &x->fe[i];
	x->set.files = x->files;
}

/* pipes-data.img with (id, text) pairs; id 0 ends the list. */
static void write_data(uint64_t id1, const char *d1, uint64_t id2, const char *d2)
{
	struct img *img = NULL;
	uint64_t ids[2] = {id1, id2};
	const char *ds[2] = {d1, d2};

	CHECK(img_open_write(dirfd_, "pipes-data.img", IMG_PIPES_DATA, &img) == 0);
	for (int i = 0; i < 2 && ids[i]; i++) {
		PipeDataEntry e = PIPE_DATA_ENTRY__INIT;

		e.pipe_id = ids[i];
		e.data.data = (uint8_t *)ds[i];
		e.data.len = strlen(ds[i]);
		CHECK(img_write_msg(img, &e.base) == 0);
	}
	CHECK(img_commit(img) == 0);
}

static void test_restore_pipe(void)
{
	struct fx x = {};
	int rd = -1, wr = -1, rd2 = -1, other = -1;
	char buf[64] = {0};

	/* Pipe 7: a read end (non-blocking), a write end, a second read
	 * description; pipe 9: only a write end, no data. */
	fx_add(&x, FILE_TYPE__FT_PIPE, 7, O_RDONLY | O_NONBLOCK, 131072, NULL);
	fx_add(&x, FILE_TYPE__FT_PIPE, 7, O_WRONLY, 131072, NULL);
	fx_add(&x, FILE_TYPE__FT_PIPE, 7, O_RDONLY, 131072, NULL);
	fx_add(&x, FILE_TYPE__FT_PIPE, 9, O_WRONLY, 65536, NULL);
	write_data(7, "in flight", 0, NULL);
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == 0);

	CHECK(restore_pipe_open(&x.set, &x.fe[1], &wr) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[0], &rd) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[2], &rd2) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[3], &other) == 0);
	CHECK(rd >= 0 && wr >= 0 && rd2 >= 0 && other >= 0);
	CHECK(getfl(rd) == (O_RDONLY | O_NONBLOCK));
	CHECK(getfl(wr) == O_WRONLY);
	/* A description of its own: its flags are not rd's. */
	CHECK(getfl(rd2) == O_RDONLY);
	CHECK((fcntl(rd, F_GETFD) & FD_CLOEXEC) && (fcntl(wr, F_GETFD) & FD_CLOEXEC));
	CHECK(fcntl(rd, F_GETPIPE_SZ) == 131072);
	CHECK(fcntl(other, F_GETPIPE_SZ) == 65536);
	/* The data came back, and both ends are of one pipe. */
	CHECK(read(rd, buf, sizeof(buf)) == 9 && !memcmp(buf, "in flight", 9));
	CHECK(write(wr, "more", 4) == 4);
	CHECK(read(rd2, buf, sizeof(buf)) == 4 && !memcmp(buf, "more", 4));
	/* Pipe 9 is another pipe: nothing in it. */
	CHECK(read(rd, buf, sizeof(buf)) < 0);

	/* Released: relive's ends are gone, so the last writer's close
	 * gives readers end of file. */
	restore_pipes_release(x.set.pipes);
	close(wr);
	CHECK(read(rd2, buf, sizeof(buf)) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[0], &wr) == -EINVAL);
	close(rd);
	close(rd2);
	close(other);
	restore_pipes_free(x.set.pipes);
	unlinkat(dirfd_, "pipes-data.img", 0);
}

static void test_restore_fifo(void)
{
	struct fx x = {};
	char path[64], buf[64] = {0};
	int rd = -1, wr = -1;
	struct stat st;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(stat(path, &st) == 0);
	fx_add(&x, FILE_TYPE__FT_FIFO, 3, O_RDONLY, 65536, path);
	fx_add(&x, FILE_TYPE__FT_FIFO, 3, O_WRONLY | O_NONBLOCK, 65536, path);
	x.reg[0].has_dev = x.reg[0].has_ino = true;
	x.reg[0].dev = st.st_dev;
	x.reg[0].ino = st.st_ino;
	write_data(3, "fifo data", 0, NULL);
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == 0);
	/* Neither open blocks, though the other end is not open yet. */
	CHECK(restore_pipe_open(&x.set, &x.fe[0], &rd) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[1], &wr) == 0);
	CHECK(getfl(rd) == O_RDONLY);
	CHECK(getfl(wr) == (O_WRONLY | O_NONBLOCK));
	restore_pipes_free(x.set.pipes);
	/* The data outlives relive's own end. */
	CHECK(read(rd, buf, sizeof(buf)) == 9 && !memcmp(buf, "fifo data", 9));
	close(rd);
	close(wr);

	/* Another file at that path: refused. */
	x.reg[0].ino++;
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == 0);
	CHECK(restore_pipe_open(&x.set, &x.fe[0], &rd) == -ESTALE);
	restore_pipes_free(x.set.pipes);
	unlink(path);
	unlinkat(dirfd_, "pipes-data.img", 0);
}

static void test_refusals(void)
{
	struct fx x = {};
	int fd = -1, max = max_pipe_size();

	fx_add(&x, FILE_TYPE__FT_PIPE, 1, O_RDONLY, 65536, NULL);
	/* Pipes but no pipes-data.img: an incomplete set. */
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == -ENOENT);
	/* Data of a pipe nobody has. */
	write_data(2, "x", 0, NULL);
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == -EINVAL);
	/* The same pipe twice. */
	write_data(1, "x", 1, "y");
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == -EINVAL);
	/* Descriptions of one pipe disagree on its size. */
	write_data(1, "x", 0, NULL);
	fx_add(&x, FILE_TYPE__FT_PIPE, 1, O_WRONLY, 131072, NULL);
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == -EINVAL);

	/* Larger than pipe-max-size: root here lacks CAP_SYS_RESOURCE. */
	x.pe[0].pipe_size = x.pe[1].pipe_size = 1u << 30;
	CHECK(restore_pipes_load(dirfd_, &x.set, &x.set.pipes) == 0);
	if (max > 0 && max < (1 << 30)) {
		int r = restore_pipe_open(&x.set, &x.fe[0], &fd);

		/* With the capability the kernel allows it: either way, no
		 * silent smaller pipe. */
		CHECK(r == -EPERM || (r == 0 && fcntl(fd, F_GETPIPE_SZ) == (1 << 30)));
		if (r == 0)
			close(fd);
	}
	restore_pipes_free(x.set.pipes);
	unlinkat(dirfd_, "pipes-data.img", 0);
}

int main(void)
{
	log_init(LOG_ERROR, NULL);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	dirfd_ = open(dir, O_DIRECTORY | O_RDONLY);
	test_peek();
	test_collect();
	test_restore_pipe();
	test_restore_fifo();
	test_refusals();
	close(dirfd_);
	rmdir(dir);
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
