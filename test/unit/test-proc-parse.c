// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the /proc parsers on tables of real-looking input. */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "dump-files.h"
#include "dump-mm.h"
#include "log.h"
#include "proc-parse.h"
#include "util.h"

#include "mm.pb-c.h"

static int fails;
#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

static const struct maps_case {
	const char *line;
	int ret;
	uint64_t start, end, pgoff, ino;
	unsigned major, minor;
	uint32_t prot;
	bool shared, deleted;
	const char *path;
} maps_cases[] = {
    {"558572927000-558572929000 r--p 00000000 fe:00 247134                     /usr/bin/cat", 0,
     0x558572927000, 0x558572929000, 0, 247134, 0xfe, 0, PROT_READ, false, false, "/usr/bin/cat"},
    {"7f00aa000000-7f00aa021000 rw-p 00000000 00:00 0 \n", 0, 0x7f00aa000000, 0x7f00aa021000, 0, 0,
     0, 0, PROT_READ | PROT_WRITE, false, false, NULL},
    {"7ffd1c3f0000-7ffd1c411000 rw-p 00000000 00:00 0                          [stack]", 0,
     0x7ffd1c3f0000, 0x7ffd1c411000, 0, 0, 0, 0, PROT_READ | PROT_WRITE, false, false, "[stack]"},
    {"7f1000000000-7f1000002000 r-xs 00003000 103:02 17   /tmp/a dir/with  spaces.bin", 0,
     0x7f1000000000, 0x7f1000002000, 0x3000, 17, 0x103, 2, PROT_READ | PROT_EXEC, true, false,
     "/tmp/a dir/with  spaces.bin"},
    {"7f1000000000-7f1000001000 rw-s 00000000 00:01 1025    /dev/zero (deleted)", 0, 0x7f1000000000,
     0x7f1000001000, 0, 1025, 0, 1, PROT_READ | PROT_WRITE, true, true, "/dev/zero"},
    {"7f1000000000-7f1000001000 ---p 00000000 00:00 0        [anon:my heap (x)]", 0, 0x7f1000000000,
     0x7f1000001000, 0, 0, 0, 0, 0, false, false, "[anon:my heap (x)]"},
    {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", 0,
     0xffffffffff600000, 0xffffffffff601000, 0, 0, 0, 0, PROT_EXEC, false, false, "[vsyscall]"},
    /* malformed */
    {"", -EINVAL},
    {"7f1000001000-7f1000000000 rw-p 00000000 00:00 0", -EINVAL}, /* end < start */
    {"7f1000000000-7f1000000000 rw-p 00000000 00:00 0", -EINVAL}, /* empty */
    {"7f1000000001-7f1000001000 rw-p 00000000 00:00 0", -EINVAL}, /* unaligned */
    {"7f1000000000-7f1000001000 rw-x 00000000 00:00 0", -EINVAL}, /* bad share bit */
    {"7f1000000000-7f1000001000 rwzp 00000000 00:00 0", -EINVAL},
    {"7f1000000000-7f1000001000 rw-p 0000zz00 00:00 0", -EINVAL},
    {"7f1000000000-7f1000001000 rw-p 00000000 0000 0", -EINVAL},
    {"7f1000000000-7f1000001000 rw-p 00000000 00:00", -EINVAL},
    {"7f1000000000-7f1000001000 rw-p 00000000 00:00 12x /a", -EINVAL},
    {"7f1000000000-7f1000001000 rw-p 00000000 00:00 0 /a\n\n", -EINVAL}, /* two lines */
    {"7f1000000000-7f1000001000 rw-p", -EINVAL},
    {"10000000000000000-10000000001000 rw-p 00000000 00:00 0", -EINVAL}, /* overflow */
};

static void test_maps_lines(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(maps_cases); i++) {
		const struct maps_case *t = &maps_cases[i];
		struct proc_vma v;
		int r = proc_parse_maps_line(t->line, strlen(t->line), &v);

		if (r != t->ret) {
			fprintf(stderr, "maps case %zu: got %d, want %d\n", i, r, t->ret);
			fails++;
			if (r == 0)
				free(v.path);
			continue;
		}
		if (r < 0)
			continue;
		CHECK(v.start == t->start && v.end == t->end && v.pgoff == t->pgoff);
		CHECK(v.ino == t->ino && v.dev == makedev(t->major, t->minor));
		CHECK(v.prot == t->prot && v.shared == t->shared && v.deleted == t->deleted);
		CHECK(t->path ? (v.path && !strcmp(v.path, t->path)) : v.path == NULL);
		free(v.path);
	}
}

static void test_vmflags(void)
{
	uint64_t f;
	bool io;

	CHECK(proc_parse_vmflags(" rd wr mr mw me ac sd \n", 23, &f, &io) == 0);
	CHECK(f == (VMA_FLAG__VMF_ACCOUNT | VMA_FLAG__VMF_SOFTDIRTY) && !io);
	CHECK(proc_parse_vmflags(" rd wr mr mw me gd ac dd dc hg wf lo", 36, &f, &io) == 0);
	CHECK(f == (VMA_FLAG__VMF_ACCOUNT | VMA_FLAG__VMF_GROWSDOWN | VMA_FLAG__VMF_DONTDUMP |
		    VMA_FLAG__VMF_DONTCOPY | VMA_FLAG__VMF_HUGEPAGE | VMA_FLAG__VMF_WIPEONFORK |
		    VMA_FLAG__VMF_LOCKED));
	CHECK(proc_parse_vmflags(" rd io pf", 9, &f, &io) == 0 && io);
	CHECK(proc_parse_vmflags(" rd zz", 6, &f, &io) == 0 && f == 0); /* unknown: ignored */
	CHECK(proc_parse_vmflags("", 0, &f, &io) == 0 && f == 0);
	CHECK(proc_parse_vmflags(" rdx wr", 7, &f, &io) == -EINVAL);
	CHECK(proc_parse_vmflags(" RD", 3, &f, &io) == -EINVAL);
}

static const char smaps_text[] =
    "55d000000000-55d000001000 r--p 00000000 fe:00 42                         /bin/x y\n"
    "Size:                  4 kB\n"
    "Rss:                   4 kB\n"
    "THPeligible:           0\n"
    "VmFlags: rd mr mw me \n"
    "55d000001000-55d000003000 rw-p 00000000 00:00 0                          [heap]\n"
    "Size:                  8 kB\n"
    "VmFlags: rd wr mr mw me ac nh \n"
    "7f0000000000-7f0000010000 rw-p 00000000 00:00 0                          [anon:buf]\n"
    "Size:                 64 kB\n"
    "VmFlags: rd wr mr mw me ac dc \n";

static void test_smaps(void)
{
	struct proc_vmas vmas;

	CHECK(proc_parse_smaps(smaps_text, strlen(smaps_text), &vmas) == 0);
	CHECK(vmas.nr == 3);
	if (vmas.nr == 3) {
		CHECK(!strcmp(vmas.v[0].path, "/bin/x y") && vmas.v[0].ino == 42);
		CHECK(vmas.v[0].has_vmflags && vmas.v[0].vmflags == 0);
		CHECK(vmas.v[1].vmflags == (VMA_FLAG__VMF_ACCOUNT | VMA_FLAG__VMF_NOHUGEPAGE));
		CHECK(!strcmp(vmas.v[2].path, "[anon:buf]"));
		CHECK(vmas.v[2].vmflags == (VMA_FLAG__VMF_ACCOUNT | VMA_FLAG__VMF_DONTCOPY));
	}
	proc_vmas_free(&vmas);

	/* plain maps text parses too, without VmFlags */
	static const char maps[] = "1000-2000 r--p 00000000 00:00 0\n3000-5000 rw-p 0 00:00 0\n";
	CHECK(proc_parse_smaps(maps, strlen(maps), &vmas) == 0 && vmas.nr == 2 &&
	      !vmas.v[1].has_vmflags);
	proc_vmas_free(&vmas);

	static const char *const bad[] = {
	    "1000-2000 r--p 0 00:00 0\n1800-3000 r--p 0 00:00 0\n", /* overlap */
	    "VmFlags: rd\n1000-2000 r--p 0 00:00 0\n",		    /* flags before vma */
	    "1000-2000 r--p 0 00:00 0\nVmFlags: rd\nVmFlags: wr\n", /* twice */
	    "1000-2000 r--p 0 00:00 0\ngarbage line\n",
	    "1000-2000 r--p 0 00:00 0\nVmFlags: rd wrx\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = proc_parse_smaps(bad[i], strlen(bad[i]), &vmas);

		if (r == 0) {
			fprintf(stderr, "bad smaps %zu accepted\n", i);
			fails++;
			proc_vmas_free(&vmas);
		}
	}
}

static const char status_text[] = "Name:\tcat\n"
				  "Umask:\t0022\n"
				  "State:\tS (sleeping)\n"
				  "Tgid:\t5754\n"
				  "PPid:\t5394\n"
				  "TracerPid:\t0\n"
				  "Uid:\t1000\t1001\t1002\t1003\n"
				  "Gid:\t0\t0\t0\t5\n"
				  "FDSize:\t256\n"
				  "Groups:\t4 24 27 \n"
				  "Threads:\t3\n"
				  "CapInh:\t0000000000000000\n"
				  "CapPrm:\t000001fffeffffff\n"
				  "CapEff:\t000001fffeffffff\n"
				  "CapBnd:\t000001fffeffffff\n"
				  "CapAmb:\t0000000000000000\n"
				  "NoNewPrivs:\t1\n"
				  "Seccomp:\t0\n";

static void test_status(void)
{
	struct proc_status st;
	char buf[sizeof(status_text) + 64];

	CHECK(proc_parse_status(status_text, strlen(status_text), &st) == 0);
	CHECK(st.umask == 022 && st.state == 'S' && st.ppid == 5394 && st.threads == 3);
	CHECK(st.uid[0] == 1000 && st.uid[3] == 1003 && st.gid[3] == 5);
	CHECK(st.nr_groups == 3 && st.groups[2] == 27);
	CHECK(st.cap_prm == 0x1fffeffffffULL && st.cap_amb == 0 && st.no_new_privs);
	CHECK(st.seccomp == 0 && st.tgid == 5754);
	proc_status_free(&st);

	/* empty Groups */
	snprintf(buf, sizeof(buf), "%s", status_text);
	memcpy(strstr(buf, "Groups:\t") + 8, "       ", 7);
	CHECK(proc_parse_status(buf, strlen(buf), &st) == 0 && st.nr_groups == 0);
	proc_status_free(&st);

	static const struct {
		const char *from, *to;
		int ret;
	} edits[] = {
	    {"Umask:\t0022", "Umask:\t0922", -EINVAL},
	    {"Umask:\t0022", "Umosk:\t0022", -EPROTO},
	    {"Uid:\t1000\t1001\t1002\t1003", "Uid:\t1000\t1001\t1002\t   ", -EINVAL},
	    {"CapEff:\t000001fffeffffff", "CapEff:\t1000001fffeffffff", -EINVAL},
	    {"NoNewPrivs:\t1", "NoNewPrivs:\t2", -EINVAL},
	    {"Groups:\t4 24 27", "Groups:\t4 x4 27", -EINVAL},
	    {"Seccomp:\t0", "Seccomp:\t3", -EINVAL},
	    {"Seccomp:\t0", "Seccomp_x:\t3", 0}, /* a kernel without seccomp */
	};
	for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
		const char *at = strstr(status_text, edits[i].from);
		int r;

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - status_text), status_text,
			 edits[i].to, at + strlen(edits[i].from));
		r = proc_parse_status(buf, strlen(buf), &st);
		if (r != edits[i].ret) {
			fprintf(stderr, "status edit %zu: got %d want %d\n", i, r, edits[i].ret);
			fails++;
		}
		if (r == 0)
			proc_status_free(&st);
	}
}

static void test_stat(void)
{
	static const char text[] =
	    "4242 (a) b (c)) S 1 4242 4242 34816 4242 4194560 120 0 0 0 0 0 0 0 20 -5 1 0 "
	    "123456 2207744 256 18446744073709551615 94000000000000 94000000004000 "
	    "140730000000000 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94000000010000 94000000011000 "
	    "94000000020000 140730000001000 140730000001010 140730000001010 140730000001100 0\n";
	struct proc_stat st;

	CHECK(proc_parse_stat(text, strlen(text), &st) == 0);
	CHECK(st.pid == 4242 && !strcmp(st.comm, "a) b (c)") && st.state == 'S');
	CHECK(st.ppid == 1 && st.pgid == 4242 && st.sid == 4242 && st.nice == -5);
	CHECK(st.num_threads == 1 && st.exit_signal == 17 && st.exit_code == 0);
	CHECK(st.start_code == 94000000000000ULL && st.end_code == 94000000004000ULL);
	CHECK(st.start_stack == 140730000000000ULL && st.start_brk == 94000000020000ULL);
	CHECK(st.start_data == 94000000010000ULL && st.end_data == 94000000011000ULL);
	CHECK(st.arg_start == 140730000001000ULL && st.env_end == 140730000001100ULL);

	static const char *const bad[] = {
	    "",
	    "4242 a S 1",
	    "4242 (a) S 1 4242 4242\n", /* too short */
	    "0 (a) S 1 4242 4242 34816 4242 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1 2 3 4 5 6 7 "
	    "0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 8 9 10 11 12 13 14 0\n", /* pid 0 */
	    "42 (a) S 1 4242 4242 34816 4242 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1 2 3 4 5 6 7 "
	    "0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 8 9 10 11 12 13 14 0 extra\n",
	    "42 (a) S 1 4242 4242 34816 4242 4194560 120 0 0 0 0 0 0 0 20 0 1 0 1 2 3 4 5 6 7 "
	    "0 0 0 0 0 0 0 0 0 99 1 0 0 0 0 0 8 9 10 11 12 13 14 0\n", /* exit signal */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (proc_parse_stat(bad[i], strlen(bad[i]), &st) == 0) {
			fprintf(stderr, "bad stat %zu accepted\n", i);
			fails++;
		}
}

static void test_fdinfo(void)
{
	static const char ok[] = "pos:\t1234\nflags:\t02102002\nmnt_id:\t23\nino:\t99\n";
	struct proc_fdinfo fi;

	CHECK(proc_parse_fdinfo(ok, strlen(ok), &fi) == 0);
	CHECK(fi.pos == 1234 && fi.flags == 02102002 && fi.mnt_id == 23 && fi.ino == 99);
	CHECK(proc_parse_fdinfo("pos:\t0\nflags:\t0100000\n", 22, &fi) == 0 && fi.mnt_id == -1);
	CHECK(proc_parse_fdinfo("flags:\t0100000\n", 15, &fi) == -EPROTO);
	CHECK(proc_parse_fdinfo("pos:\t0\nflags:\t0100009\n", 22, &fi) == -EINVAL);
	CHECK(proc_parse_fdinfo("pos:\t-1\nflags:\t0\n", 17, &fi) == -EINVAL);
}

static void test_auxv(void)
{
	uint64_t good[] = {AT_PAGESZ, 4096, AT_ENTRY, 0x1234, AT_NULL, 0, 77, 88};
	uint64_t *out = NULL;
	size_t nr = 0;

	CHECK(proc_parse_auxv(good, sizeof(good), &out, &nr) == 0);
	CHECK(nr == 6 && out[1] == 4096 && out[4] == AT_NULL);
	free(out);
	CHECK(proc_parse_auxv(good, 4 * 8, &out, &nr) == -EINVAL); /* no AT_NULL */
	CHECK(proc_parse_auxv(good, 5 * 8, &out, &nr) == -EINVAL); /* odd */
	CHECK(proc_parse_auxv(good, 0, &out, &nr) == -EINVAL);
}

static void test_pid_list(void)
{
	pid_t *l = NULL;
	size_t nr = 0;

	CHECK(proc_parse_pid_list("12 34 ", 6, &l, &nr, 10) == 0 && nr == 2 && l[1] == 34);
	CHECK(proc_parse_pid_list("", 0, &l, &nr, 10) == 0 && nr == 2);
	CHECK(proc_parse_pid_list("5", 1, &l, &nr, 3) == 0 && nr == 3);
	CHECK(proc_parse_pid_list("6", 1, &l, &nr, 3) == -E2BIG);
	free(l);
	l = NULL;
	nr = 0;
	CHECK(proc_parse_pid_list("1x 2", 4, &l, &nr, 10) == -EINVAL);
	CHECK(proc_parse_pid_list("0", 1, &l, &nr, 10) == -EINVAL);
	free(l);
}

/* VMA kinds from real maps lines, and the ones we refuse. */
static void test_vma_kind(void)
{
	static const struct {
		const char *line;
		int kind;
	} cases[] = {
	    {"7f00-7f01000 rw-p 00000000 00:00 0", -EINVAL}, /* not parsed: unaligned */
	    {"55d000001000-55d000003000 rw-p 00000000 00:00 0    [heap]", VMA_KIND__VMA_ANON},
	    {"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0    [stack]", VMA_KIND__VMA_ANON},
	    {"7f0000000000-7f0000010000 rw-p 00000000 00:00 0    [anon:x y]", VMA_KIND__VMA_ANON},
	    {"7f0000000000-7f0000010000 ---p 00000000 00:00 0", VMA_KIND__VMA_ANON},
	    {"7f0000000000-7f0000010000 r-xp 00001000 fe:00 42   /usr/lib/libc.so.6",
	     VMA_KIND__VMA_FILE_PRIVATE},
	    {"7f0000000000-7f0000010000 rw-s 00000000 fe:00 42   /data/file",
	     VMA_KIND__VMA_FILE_SHARED},
	    {"7f0000000000-7f0000002000 r-xp 00000000 00:00 0    [vdso]", VMA_KIND__VMA_VDSO},
	    {"7f0000000000-7f0000004000 r--p 00000000 00:00 0    [vvar]", VMA_KIND__VMA_VVAR},
	    {"7f0000000000-7f0000002000 r--p 00000000 00:00 0    [vvar_vclock]",
	     VMA_KIND__VMA_VVAR_VCLOCK},
	    {"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]",
	     VMA_KIND__VMA_VSYSCALL},
	    {"7f0000000000-7f0000010000 rw-s 00000000 00:01 1025 /dev/zero (deleted)",
	     VMA_KIND__VMA_SHARED_ANON},
	    {"7f0000000000-7f0000010000 rw-s 00000000 00:01 7    /memfd:buf (deleted)",
	     VMA_KIND__VMA_MEMFD},
	    {"7f0000000000-7f0000010000 rw-s 00000000 00:01 9    /SYSV00000000 (deleted)",
	     -EOPNOTSUPP},
	    {"7f0000000000-7f0000010000 rw-p 00000000 00:01 7    /memfd:buf (deleted)",
	     -EOPNOTSUPP},
	    {"7f0000000000-7f0000010000 r--p 00000000 fe:00 42   /tmp/gone (deleted)", -EOPNOTSUPP},
	    {"7f0000000000-7f0000010000 rw-s 00000000 00:0e 13   anon_inode:dmabuf", -EOPNOTSUPP},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proc_vma v;
		char why[256] = "";
		int k = proc_parse_maps_line(cases[i].line, strlen(cases[i].line), &v);

		if (k == 0) {
			k = dump_vma_kind(&v, why, sizeof(why));
			free(v.path);
		}
		if (k != cases[i].kind) {
			fprintf(stderr, "vma kind case %zu: got %d want %d (%s)\n", i, k,
				cases[i].kind, why);
			fails++;
		}
		if (k == -EOPNOTSUPP)
			CHECK(why[0] != '\0');
	}
	/* io/pf mappings have no pages we could read */
	{
		struct proc_vma v = {.start = 0x1000,
				     .end = 0x2000,
				     .vm_io = true,
				     .ino = 5,
				     .path = (char *)"/dev/mem"};
		char why[256];

		CHECK(dump_vma_kind(&v, why, sizeof(why)) == -EOPNOTSUPP);
	}
}

static void test_page_wanted(void)
{
	const uint64_t P = 1ull << 63, S = 1ull << 62, F = 1ull << 61;

	CHECK(dump_page_wanted(P, VMA_KIND__VMA_ANON));
	CHECK(dump_page_wanted(S, VMA_KIND__VMA_ANON));
	CHECK(!dump_page_wanted(0, VMA_KIND__VMA_ANON));
	CHECK(dump_page_wanted(P | 0x1234, VMA_KIND__VMA_ANON));
	/* private file: only the process's own copies */
	CHECK(!dump_page_wanted(P | F, VMA_KIND__VMA_FILE_PRIVATE));
	CHECK(dump_page_wanted(P, VMA_KIND__VMA_FILE_PRIVATE));
	CHECK(dump_page_wanted(S, VMA_KIND__VMA_FILE_PRIVATE));
	CHECK(!dump_page_wanted(0, VMA_KIND__VMA_FILE_PRIVATE));
	/* the file or the kernel holds these */
	CHECK(!dump_page_wanted(P, VMA_KIND__VMA_FILE_SHARED));
	CHECK(!dump_page_wanted(P | F, VMA_KIND__VMA_FILE_SHARED));
	CHECK(!dump_page_wanted(P, VMA_KIND__VMA_VDSO));
	CHECK(!dump_page_wanted(P, VMA_KIND__VMA_VVAR));
}

static void test_chr(void)
{
	CHECK(dump_chr_is_plain(1, 3) && dump_chr_is_plain(1, 5) && dump_chr_is_plain(1, 9));
	CHECK(!dump_chr_is_plain(1, 1) && !dump_chr_is_plain(1, 2)); /* /dev/mem, kmem */
	CHECK(dump_chr_is_tty(136, 0) && dump_chr_is_tty(4, 1) && dump_chr_is_tty(5, 0));
	CHECK(!dump_chr_is_tty(5, 2) && !dump_chr_is_tty(1, 3)); /* ptmx, null */
}

int main(void)
{
	log_init(LOG_WARN, NULL);
	test_maps_lines();
	test_vmflags();
	test_smaps();
	test_status();
	test_stat();
	test_fdinfo();
	test_auxv();
	test_pid_list();
	test_vma_kind();
	test_page_wanted();
	test_chr();
	if (fails)
		fprintf(stderr, "%d checks failed\n", fails);
	return fails ? 1 : 0;
}
