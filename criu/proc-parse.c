// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsers of /proc text and auxv: pure, bounds-checked, unit-tested. */
#define LOG_PREFIX "proc: "
#include <ctype.h>
#include <elf.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "proc-parse.h"
#include "util.h"

#include "mm.pb-c.h"

/* A cursor over a bounded buffer that need not be NUL-terminated. */
struct cur {
	const char *p, *end;
};

static bool cur_eof(const struct cur *c)
{
	return c->p >= c->end;
}

static void skip_blanks(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static int digit_value(char ch, unsigned base)
{
	int v;

	if (ch >= '0' && ch <= '9')
		v = ch - '0';
	else if (ch >= 'a' && ch <= 'f')
		v = ch - 'a' + 10;
	else if (ch >= 'A' && ch <= 'F')
		v = ch - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

/* At least one digit; overflow is an error. */
static int parse_unsigned(struct cur *c, unsigned base, uint64_t *ret)
{
	uint64_t v = 0;
	const char *start = c->p;
	int d;

	while (c->p < c->end && (d = digit_value(*c->p, base)) >= 0) {
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v))
			return -EINVAL;
		c->p++;
	}
	if (c->p == start)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_signed(struct cur *c, int64_t *ret)
{
	bool neg = false;
	uint64_t v;
	int r;

	if (c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	r = parse_unsigned(c, 10, &v);
	if (r < 0)
		return r;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > INT64_MAX)
		return -EINVAL;
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int expect_char(struct cur *c, char ch)
{
	if (cur_eof(c) || *c->p != ch)
		return -EINVAL;
	c->p++;
	return 0;
}

/* Length of the line at p (without its newline). */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', end - p);

	return nl ? (size_t)(nl - p) : (size_t)(end - p);
}

/* "[anon:...]" names may hold anything but a newline; kept verbatim. */
int proc_parse_maps_line(const char *line, size_t len, struct proc_vma *ret)
{
	struct cur c = {line, line + len};
	uint64_t major, minor;
	struct proc_vma v;
	const char *pend;

	memset(&v, 0, sizeof(v));
	if (len && line[len - 1] == '\n')
		c.end--;
	if (parse_unsigned(&c, 16, &v.start) || expect_char(&c, '-') ||
	    parse_unsigned(&c, 16, &v.end) || expect_char(&c, ' '))
		return -EINVAL;
	if (v.end <= v.start || v.start % 4096 || v.end % 4096)
		return -EINVAL;
	if (c.end - c.p < 5)
		return -EINVAL;
	if (c.p[0] == 'r')
		v.prot |= PROT_READ;
	else if (c.p[0] != '-')
		return -EINVAL;
	if (c.p[1] == 'w')
		v.prot |= PROT_WRITE;
	else if (c.p[1] != '-')
		return -EINVAL;
	if (c.p[2] == 'x')
		v.prot |= PROT_EXEC;
	else if (c.p[2] != '-')
		return -EINVAL;
	if (c.p[3] == 's')
		v.shared = true;
	else if (c.p[3] != 'p')
		return -EINVAL;
	c.p += 4;
	if (expect_char(&c, ' ') || parse_unsigned(&c, 16, &v.pgoff) || expect_char(&c, ' ') ||
	    parse_unsigned(&c, 16, &major) || expect_char(&c, ':') ||
	    parse_unsigned(&c, 16, &minor) || expect_char(&c, ' ') ||
	    parse_unsigned(&c, 10, &v.ino))
		return -EINVAL;
	if (major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	v.dev = makedev(major, minor);
	if (!cur_eof(&c) && *c.p != ' ')
		return -EINVAL;
	/* The name column is padded with spaces; names never start with one
	 * (absolute paths, "[heap]", "anon_inode:..."). */
	skip_blanks(&c);
	pend = c.end;
	if (pend > c.p) {
		static const char deleted[] = " (deleted)";
		size_t dl = sizeof(deleted) - 1;

		if ((size_t)(pend - c.p) > dl && !memcmp(pend - dl, deleted, dl)) {
			v.deleted = true;
			pend -= dl;
		}
		/* The kernel escapes newlines in paths and refuses them in
		 * anon names: one here means more than one line was passed. */
		if (memchr(c.p, '\0', pend - c.p) || memchr(c.p, '\n', pend - c.p))
			return -EINVAL;
		v.path = strndup(c.p, pend - c.p);
		if (!v.path)
			return -ENOMEM;
	}
	*ret = v;
	return 0;
}

static const struct {
	char name[3];
	uint64_t bit;
} vmflag_table[] = {
    {"ac", VMA_FLAG__VMF_ACCOUNT},    {"gd", VMA_FLAG__VMF_GROWSDOWN},
    {"dc", VMA_FLAG__VMF_DONTCOPY},   {"dd", VMA_FLAG__VMF_DONTDUMP},
    {"hg", VMA_FLAG__VMF_HUGEPAGE},   {"nh", VMA_FLAG__VMF_NOHUGEPAGE},
    {"wf", VMA_FLAG__VMF_WIPEONFORK}, {"lo", VMA_FLAG__VMF_LOCKED},
    {"nr", VMA_FLAG__VMF_NORESERVE},  {"sr", VMA_FLAG__VMF_SEQ_READ},
    {"rr", VMA_FLAG__VMF_RAND_READ},  {"mg", VMA_FLAG__VMF_MERGEABLE},
    {"sd", VMA_FLAG__VMF_SOFTDIRTY},
};

int proc_parse_vmflags(const char *s, size_t len, uint64_t *ret, bool *ret_io)
{
	struct cur c = {s, s + len};
	uint64_t flags = 0;
	bool io = false;

	for (;;) {
		const char *tok;

		skip_blanks(&c);
		if (cur_eof(&c) || *c.p == '\n')
			break;
		tok = c.p;
		while (c.p < c.end && *c.p != ' ' && *c.p != '\t' && *c.p != '\n')
			c.p++;
		/* Every flag the kernel prints is two lowercase letters or digits. */
		if (c.p - tok != 2 ||
		    !(islower((unsigned char)tok[0]) || isdigit((unsigned char)tok[0])) ||
		    !(islower((unsigned char)tok[1]) || isdigit((unsigned char)tok[1])))
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(vmflag_table); i++)
			if (!memcmp(tok, vmflag_table[i].name, 2))
				flags |= vmflag_table[i].bit;
		if (!memcmp(tok, "io", 2) || !memcmp(tok, "pf", 2))
			io = true;
	}
	*ret = flags;
	*ret_io = io;
	return 0;
}

static int vmas_push(struct proc_vmas *vmas, const struct proc_vma *v)
{
	if (vmas->nr == vmas->cap) {
		size_t cap = vmas->cap ? vmas->cap * 2 : 64;
		struct proc_vma *n;

		/* A process has at most vm.max_map_count (65530 by default)
		 * mappings; refuse absurd counts instead of growing forever. */
		if (cap > (1u << 22))
			return -E2BIG;
		n = reallocarray(vmas->v, cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		vmas->v = n;
		vmas->cap = cap;
	}
	vmas->v[vmas->nr++] = *v;
	return 0;
}

void proc_vmas_free(struct proc_vmas *vmas)
{
	for (size_t i = 0; i < vmas->nr; i++)
		free(vmas->v[i].path);
	free(vmas->v);
	vmas->v = NULL;
	vmas->nr = vmas->cap = 0;
}

/*
 * smaps interleaves maps lines with "Key: value" lines. A maps line starts
 * with a hex digit and holds a '-' before the first space; a key line has a
 * ':' right after its first word.
 */
static bool is_maps_line(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '-')
			return i > 0;
		if (digit_value(p[i], 16) < 0)
			return false;
	}
	return false;
}

int proc_parse_smaps(const char *text, size_t len, struct proc_vmas *ret)
{
	const char *p = text, *end = text + len;
	struct proc_vmas vmas = {0};
	int r;

	while (p < end) {
		size_t ll = line_len(p, end);

		if (is_maps_line(p, ll)) {
			struct proc_vma v;

			r = proc_parse_maps_line(p, ll, &v);
			if (r < 0)
				goto fail;
			if (vmas.nr && v.start < vmas.v[vmas.nr - 1].end) {
				free(v.path);
				r = -EINVAL;
				goto fail;
			}
			r = vmas_push(&vmas, &v);
			if (r < 0) {
				free(v.path);
				goto fail;
			}
		} else if (ll >= 8 && !memcmp(p, "VmFlags:", 8)) {
			struct proc_vma *last;

			if (!vmas.nr || vmas.v[vmas.nr - 1].has_vmflags) {
				r = -EINVAL;
				goto fail;
			}
			last = &vmas.v[vmas.nr - 1];
			r = proc_parse_vmflags(p + 8, ll - 8, &last->vmflags, &last->vm_io);
			if (r < 0)
				goto fail;
			last->has_vmflags = true;
		} else {
			/* Any other smaps key: "Rss:   4 kB". Require the shape. */
			const char *colon = memchr(p, ':', ll);

			if (!colon || colon == p || !vmas.nr) {
				r = -EINVAL;
				goto fail;
			}
		}
		p += ll;
		if (p < end)
			p++; /* the newline */
	}
	*ret = vmas;
	return 0;
fail:
	proc_vmas_free(&vmas);
	return r;
}

/* Find "Key:" at the start of a line; returns the value (after blanks) or
 * NULL, with *vlen its length to the end of line. */
static const char *find_key(const char *text, size_t len, const char *key, size_t *vlen)
{
	const char *p = text, *end = text + len;
	size_t kl = strlen(key);

	while (p < end) {
		size_t ll = line_len(p, end);

		if (ll > kl && !memcmp(p, key, kl) && p[kl] == ':') {
			struct cur c = {p + kl + 1, p + ll};

			skip_blanks(&c);
			*vlen = c.end - c.p;
			return c.p;
		}
		p += ll + 1;
	}
	return NULL;
}

/* Exactly one number in the value, trailing blanks allowed. */
static int key_number(const char *text, size_t len, const char *key, unsigned base, uint64_t max,
		      uint64_t *ret)
{
	size_t vl;
	const char *v = find_key(text, len, key, &vl);
	struct cur c;

	if (!v)
		return -EPROTO;
	c = (struct cur){v, v + vl};
	if (parse_unsigned(&c, base, ret) < 0)
		return -EINVAL;
	skip_blanks(&c);
	if (!cur_eof(&c) || *ret > max)
		return -EINVAL;
	return 0;
}

/* "Uid:\t0\t0\t0\t0" */
static int key_ids(const char *text, size_t len, const char *key, uint32_t ids[4])
{
	size_t vl;
	const char *v = find_key(text, len, key, &vl);
	struct cur c;

	if (!v)
		return -EPROTO;
	c = (struct cur){v, v + vl};
	for (int i = 0; i < 4; i++) {
		uint64_t id;

		skip_blanks(&c);
		if (parse_unsigned(&c, 10, &id) < 0 || id > UINT32_MAX)
			return -EINVAL;
		ids[i] = (uint32_t)id;
	}
	skip_blanks(&c);
	return cur_eof(&c) ? 0 : -EINVAL;
}

static int key_groups(const char *text, size_t len, uint32_t **ret, size_t *ret_nr)
{
	size_t vl, nr = 0, cap = 0;
	const char *v = find_key(text, len, "Groups", &vl);
	_cleanup_free_ uint32_t *groups = NULL;
	struct cur c;

	if (!v)
		return -EPROTO;
	c = (struct cur){v, v + vl};
	for (;;) {
		uint64_t g;

		skip_blanks(&c);
		if (cur_eof(&c))
			break;
		if (parse_unsigned(&c, 10, &g) < 0 || g > UINT32_MAX)
			return -EINVAL;
		if (nr == cap) {
			uint32_t *n;

			/* NGROUPS_MAX is 65536. */
			if (cap >= 65536)
				return -E2BIG;
			cap = cap ? cap * 2 : 16;
			n = reallocarray(groups, cap, sizeof(*n));
			if (!n)
				return -ENOMEM;
			groups = n;
		}
		groups[nr++] = (uint32_t)g;
	}
	*ret = TAKE_PTR(groups);
	*ret_nr = nr;
	return 0;
}

int proc_parse_status(const char *text, size_t len, struct proc_status *ret)
{
	struct proc_status st;
	uint64_t v;
	size_t vl;
	const char *state;
	int r;

	memset(&st, 0, sizeof(st));
	state = find_key(text, len, "State", &vl);
	if (!state || vl < 1)
		return -EPROTO;
	st.state = state[0];
#define NUM(key, base, max, dst)                                                                   \
	do {                                                                                       \
		r = key_number(text, len, key, base, max, &v);                                     \
		if (r < 0)                                                                         \
			return r;                                                                  \
		dst = v;                                                                           \
	} while (0)
	NUM("Umask", 8, 0777, st.umask);
	NUM("Tgid", 10, INT_MAX, st.tgid);
	NUM("PPid", 10, INT_MAX, st.ppid);
	NUM("TracerPid", 10, INT_MAX, st.tracer_pid);
	NUM("Threads", 10, UINT32_MAX, st.threads);
	NUM("CapInh", 16, UINT64_MAX, st.cap_inh);
	NUM("CapPrm", 16, UINT64_MAX, st.cap_prm);
	NUM("CapEff", 16, UINT64_MAX, st.cap_eff);
	NUM("CapBnd", 16, UINT64_MAX, st.cap_bnd);
	NUM("CapAmb", 16, UINT64_MAX, st.cap_amb);
	NUM("NoNewPrivs", 10, 1, st.no_new_privs);
#undef NUM
	r = key_number(text, len, "Seccomp", 10, 2, &v);
	if (r == -EPROTO)
		st.seccomp = -1;
	else if (r < 0)
		return r;
	else
		st.seccomp = (int)v;
	r = key_ids(text, len, "Uid", st.uid);
	if (r < 0)
		return r;
	r = key_ids(text, len, "Gid", st.gid);
	if (r < 0)
		return r;
	r = key_groups(text, len, &st.groups, &st.nr_groups);
	if (r < 0)
		return r;
	*ret = st;
	return 0;
}

void proc_status_free(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
	st->nr_groups = 0;
}

/* Fields of /proc/PID/stat after "(comm)", numbered as in proc(5). */
#define STAT_FIRST_FIELD 3
#define STAT_LAST_FIELD	 52

int proc_parse_stat(const char *text, size_t len, struct proc_stat *ret)
{
	int64_t f[STAT_LAST_FIELD + 1];
	const char *open, *close, *end = text + len;
	struct proc_stat st;
	struct cur c = {text, end};
	uint64_t pid;
	size_t comm_len;

	memset(&st, 0, sizeof(st));
	if (parse_unsigned(&c, 10, &pid) < 0 || pid == 0 || pid > INT_MAX || expect_char(&c, ' '))
		return -EINVAL;
	open = c.p;
	if (cur_eof(&c) || *open != '(')
		return -EINVAL;
	/* comm may itself hold ") ": the last ')' ends it. */
	close = NULL;
	for (const char *p = end; p > open;)
		if (*--p == ')') {
			close = p;
			break;
		}
	if (!close || close == open)
		return -EINVAL;
	comm_len = close - open - 1;
	if (comm_len >= sizeof(st.comm) || memchr(open + 1, '\0', comm_len))
		return -EINVAL;
	memcpy(st.comm, open + 1, comm_len);
	st.comm[comm_len] = '\0';
	c.p = close + 1;
	if (expect_char(&c, ' ') || cur_eof(&c) || !isalpha((unsigned char)*c.p))
		return -EINVAL;
	st.state = *c.p++;
	for (int i = STAT_FIRST_FIELD + 1; i <= STAT_LAST_FIELD; i++) {
		uint64_t u;

		if (expect_char(&c, ' ') < 0)
			return -EINVAL;
		/* Most fields are unsigned longs (rsslim prints as 2^64-1), a
		 * few are signed (nice); keep the bits, check each use. */
		if (!cur_eof(&c) && *c.p == '-') {
			if (parse_signed(&c, &f[i]) < 0)
				return -EINVAL;
		} else {
			if (parse_unsigned(&c, 10, &u) < 0)
				return -EINVAL;
			f[i] = (int64_t)u;
		}
	}
	/* Trailing newline only. */
	if (!cur_eof(&c) && !(*c.p == '\n' && c.p + 1 == end))
		return -EINVAL;
	for (int i = 4; i <= 6; i++)
		if (f[i] < 0 || f[i] > INT_MAX)
			return -EINVAL;
	st.pid = (pid_t)pid;
	st.ppid = (pid_t)f[4];
	st.pgid = (pid_t)f[5];
	st.sid = (pid_t)f[6];
	st.nice = f[19];
	st.num_threads = f[20];
	if (f[38] < 0 || f[38] > 64 || f[52] < INT_MIN || f[52] > INT_MAX)
		return -EINVAL;
	st.exit_signal = (int)f[38];
	st.exit_code = (int)f[52];
	static const int addr_fields[] = {26, 27, 28, 45, 46, 47, 48, 49, 50, 51};
	/* User addresses on x86_64 are below 2^63: anything else is junk. */
	for (size_t i = 0; i < ARRAY_SIZE(addr_fields); i++)
		if (f[addr_fields[i]] < 0)
			return -EINVAL;
	st.start_code = f[26];
	st.end_code = f[27];
	st.start_stack = f[28];
	st.start_data = f[45];
	st.end_data = f[46];
	st.start_brk = f[47];
	st.arg_start = f[48];
	st.arg_end = f[49];
	st.env_start = f[50];
	st.env_end = f[51];
	*ret = st;
	return 0;
}

int proc_parse_fdinfo(const char *text, size_t len, struct proc_fdinfo *ret)
{
	struct proc_fdinfo fi = {.mnt_id = -1};
	uint64_t v;
	int r;

	r = key_number(text, len, "pos", 10, INT64_MAX, &fi.pos);
	if (r < 0)
		return r;
	r = key_number(text, len, "flags", 8, UINT32_MAX, &v);
	if (r < 0)
		return r;
	fi.flags = (uint32_t)v;
	r = key_number(text, len, "mnt_id", 10, INT_MAX, &v);
	if (r == 0)
		fi.mnt_id = (int)v;
	else if (r != -EPROTO)
		return r;
	r = key_number(text, len, "ino", 10, UINT64_MAX, &v);
	if (r == 0)
		fi.ino = v;
	else if (r != -EPROTO)
		return r;
	*ret = fi;
	return 0;
}

int proc_parse_auxv(const void *buf, size_t len, uint64_t **ret, size_t *ret_nr)
{
	const uint64_t *w = buf;
	size_t nwords = len / sizeof(uint64_t);
	uint64_t *out;

	if (len % (2 * sizeof(uint64_t)))
		return -EINVAL;
	for (size_t i = 0; i < nwords; i += 2) {
		uint64_t type;

		memcpy(&type, &w[i], sizeof(type));
		if (type == AT_NULL) {
			out = malloc((i + 2) * sizeof(uint64_t));
			if (!out)
				return -ENOMEM;
			memcpy(out, w, (i + 2) * sizeof(uint64_t));
			*ret = out;
			*ret_nr = i + 2;
			return 0;
		}
	}
	return -EINVAL;
}

int proc_parse_pid_list(const char *text, size_t len, pid_t **list, size_t *nr, size_t max)
{
	struct cur c = {text, text + len};

	for (;;) {
		uint64_t pid;
		pid_t *n;

		while (c.p < c.end && (*c.p == ' ' || *c.p == '\n'))
			c.p++;
		if (cur_eof(&c))
			return 0;
		if (parse_unsigned(&c, 10, &pid) < 0 || pid == 0 || pid > INT_MAX)
			return -EINVAL;
		if (!cur_eof(&c) && *c.p != ' ' && *c.p != '\n')
			return -EINVAL;
		if (*nr >= max)
			return -E2BIG;
		n = reallocarray(*list, *nr + 1, sizeof(**list));
		if (!n)
			return -ENOMEM;
		*list = n;
		(*list)[(*nr)++] = (pid_t)pid;
	}
}
