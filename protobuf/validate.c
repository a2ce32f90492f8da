// SPDX-License-Identifier: GPL-2.0-or-later
/* Semantic validation of image messages: every field of every message type. */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "img.h"
#include "util.h"
#include "validate.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

#define PAGE_MASK_4K 4095ull

/* Bits the kernel keeps in sa_flags on x86_64 (it clears unknown ones). */
#define KNOWN_SA_FLAGS                                                                             \
	((uint64_t)(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART |           \
		    SA_NODEFER | SA_RESETHAND | 0x04000000 /* SA_RESTORER */))
#define KNOWN_MAP_FLAGS                                                                            \
	((uint32_t)(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_NORESERVE |     \
		    MAP_LOCKED))
#define KNOWN_VMFLAGS  0x1fffull /* every vma_flag value in mm.proto */
#define KNOWN_PE_FLAGS 0xfu	 /* every pagemap_flag value in pagemap.proto */
#define PE_WHERE       (PAGEMAP_FLAG__PE_PAGES | PAGEMAP_FLAG__PE_PARENT | PAGEMAP_FLAG__PE_REMOTE)
/* SECBIT_* up to SECBIT_EXEC_DENY_INTERACTIVE_LOCKED (Linux 6.14). */
#define KNOWN_SECUREBITS 0xfffu
#define KNOWN_SS_FLAGS	 (SS_ONSTACK | SS_DISABLE | (1u << 31) /* SS_AUTODISARM */)
#define KNOWN_OPEN_FLAGS                                                                           \
	((uint32_t)(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |    \
		    O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW |         \
		    O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE | FASYNC))
#define ROBUST_LIST_HEAD_SIZE 24u /* sizeof(struct robust_list_head) */
/* F_SEAL_SEAL, SHRINK, GROW, WRITE, FUTURE_WRITE, EXEC. */
#define KNOWN_SEALS	      0x3fu
/* memfd_create's limit on a name: 255 bytes minus the "memfd:" prefix. */
#define MEMFD_NAME_MAX	      249u
#define PIPE_SIZE_MAX	      (1u << 31)

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Put "thread 2: " in front of a reason a nested check wrote. */
__attribute__((format(printf, 4, 5))) static int prefix(int r, char *why, size_t n, const char *fmt,
							...)
{
	char head[96], tail[256];
	va_list ap;

	if (r != -EINVAL)
		return r;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	snprintf(tail, sizeof(tail), "%s", why);
	snprintf(why, n, "%s%s", head, tail);
	return r;
}

/* ---- a small set of u32 keys ---- */

static size_t set_hash(uint64_t v, size_t cap)
{
	return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static int set_grow(struct val_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64;
	uint64_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t v = s->slots[i];

		if (!v)
			continue;
		size_t h = set_hash(v, cap);
		while (slots[h])
			h = (h + 1) & (cap - 1);
		slots[h] = v;
	}
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

static bool set_has(const struct val_set *s, uint32_t key)
{
	uint64_t v = (uint64_t)key + 1;

	if (!s->cap)
		return false;
	for (size_t h = set_hash(v, s->cap); s->slots[h]; h = (h + 1) & (s->cap - 1))
		if (s->slots[h] == v)
			return true;
	return false;
}

/* Returns 1 if added, 0 if it was there already, -ENOMEM. */
static int set_add(struct val_set *s, uint32_t key)
{
	uint64_t v = (uint64_t)key + 1;
	size_t h;

	if (set_has(s, key))
		return 0;
	if ((s->nr + 1) * 2 > s->cap && set_grow(s) < 0)
		return -ENOMEM;
	for (h = set_hash(v, s->cap); s->slots[h]; h = (h + 1) & (s->cap - 1))
		;
	s->slots[h] = v;
	s->nr++;
	return 1;
}

static void set_free(struct val_set *s)
{
	free(s->slots);
	*s = (struct val_set){0};
}

void img_vstate_init(struct img_vstate *s, enum img_type type)
{
	*s = (struct img_vstate){.type = type};
}

void img_vstate_fini(struct img_vstate *s)
{
	set_free(&s->ids);
	set_free(&s->tids);
}

/* ---- field helpers ---- */

static bool pid_ok(uint64_t pid)
{
	return pid >= 1 && pid <= VAL_PID_MAX;
}

/* A user-space pointer (0 allowed: "none"). */
static bool uaddr_ok(uint64_t a)
{
	return a < VAL_TASK_SIZE;
}

static bool sig_ok(uint64_t sig)
{
	return sig >= 1 && sig <= 64;
}

static int check_path(const char *what, const char *p, bool absolute, char *why, size_t n)
{
	size_t len = strlen(p);

	if (len == 0)
		return fail(why, n, "%s is empty", what);
	if (len > VAL_PATH_MAX)
		return fail(why, n, "%s is %zu bytes long, more than PATH_MAX", what, len);
	if (absolute && p[0] != '/')
		return fail(why, n, "%s \"%.64s\" is not an absolute path", what, p);
	return 0;
}

/* Each pending signal is a raw siginfo_t; si_signo is its first int. */
static int check_siginfos(const char *what, size_t nr, const ProtobufCBinaryData *si, char *why,
			  size_t n)
{
	if (nr > VAL_MAX_PENDING)
		return fail(why, n, "%zu %s signals, more than %u", nr, what, VAL_MAX_PENDING);
	for (size_t i = 0; i < nr; i++) {
		int32_t signo;

		if (si[i].len != VAL_SIGINFO_SIZE)
			return fail(why, n, "%s signal %zu: siginfo is %zu bytes, not %u", what, i,
				    si[i].len, VAL_SIGINFO_SIZE);
		memcpy(&signo, si[i].data, sizeof(signo));
		if (!sig_ok((uint32_t)signo))
			return fail(why, n, "%s signal %zu: signal number %d out of range 1..64",
				    what, i, signo);
	}
	return 0;
}

/* ---- NUL bytes inside strings ----
 * protobuf-c hands strings out NUL-terminated, so a NUL inside one silently
 * cuts it ("/etc/passwd\0junk" reads as "/etc/passwd"). Only the wire data
 * shows it: walk it with the descriptors and look into every string. */

static int wire_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*off >= len)
			return -EINVAL;
		uint8_t b = p[(*off)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int scan_strings(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
			unsigned depth, char *why, size_t n)
{
	size_t off = 0;

	if (depth > 16)
		return fail(why, n, "messages nested too deeply");
	while (off < len) {
		const ProtobufCFieldDescriptor *f;
		uint64_t tag, v;

		if (wire_varint(p, len, &off, &tag) < 0)
			return fail(why, n, "%s: malformed field tag", d->name);
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
		switch (tag & 7) {
		case 0:
			if (wire_varint(p, len, &off, &v) < 0)
				return fail(why, n, "%s: malformed varint", d->name);
			break;
		case 1:
		case 5: {
			size_t w = (tag & 7) == 1 ? 8 : 4;

			if (len - off < w)
				return fail(why, n, "%s: truncated field", d->name);
			off += w;
			break;
		}
		case 2:
			if (wire_varint(p, len, &off, &v) < 0 || v > len - off)
				return fail(why, n, "%s: malformed length", d->name);
			if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p + off, 0, v))
				return fail(why, n, "%s.%s contains a NUL byte", d->name, f->name);
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int r = scan_strings(f->descriptor, p + off, v, depth + 1, why, n);

				if (r < 0)
					return r;
			}
			off += v;
			break;
		default:
			return fail(why, n, "%s: unsupported wire type %u", d->name,
				    (unsigned)(tag & 7));
		}
	}
	return 0;
}

/* ---- inventory.img ---- */

static int check_inventory(const InventoryEntry *e, char *why, size_t n)
{
	size_t idlen = strlen(e->image_set_id);

	if (e->format_version != IMG_FORMAT_VERSION)
		return fail(why, n, "image set format version %u, this relive reads version %u",
			    e->format_version, IMG_FORMAT_VERSION);
	if (!pid_ok(e->root_pid))
		return fail(why, n, "root pid %u out of range 1..%u", e->root_pid, VAL_PID_MAX);
	if (idlen != 32 || strspn(e->image_set_id, "0123456789abcdef") != 32)
		return fail(why, n, "image set id \"%.40s\" is not 32 lowercase hex digits",
			    e->image_set_id);
	if (e->page_size != 4096)
		return fail(why, n, "page size %u, only 4096 is supported", e->page_size);
	if (e->kernel_release && strlen(e->kernel_release) > 64)
		return fail(why, n, "kernel release longer than 64 characters");
	if (e->parent_dir)
		return check_path("parent dir", e->parent_dir, false, why, n);
	return 0;
}

/* ---- pstree.img ---- */

static int check_pstree(struct img_vstate *s, unsigned idx, const PstreeEntry *e, char *why,
			size_t n)
{
	int r;

	if (idx >= VAL_MAX_PROCESSES)
		return fail(why, n, "more than %u processes", VAL_MAX_PROCESSES);
	if (!pid_ok(e->pid))
		return fail(why, n, "pid %u out of range 1..%u", e->pid, VAL_PID_MAX);
	if (!pid_ok(e->pgid) || !pid_ok(e->sid))
		return fail(why, n, "pid %u: pgid %u or sid %u out of range 1..%u", e->pid, e->pgid,
			    e->sid, VAL_PID_MAX);
	if (idx == 0 && e->ppid != 0)
		return fail(why, n, "root pid %u: ppid is %u, the root's must be 0", e->pid,
			    e->ppid);
	if (idx > 0 && !set_has(&s->ids, e->ppid))
		return fail(why, n, "pid %u: parent %u is not listed before it", e->pid, e->ppid);
	r = set_add(&s->ids, e->pid);
	if (r <= 0)
		return r < 0 ? r : fail(why, n, "pid %u listed twice", e->pid);
	if (e->n_threads == 0 || e->n_threads > VAL_MAX_THREADS)
		return fail(why, n, "pid %u: %zu threads, expected 1..%u", e->pid, e->n_threads,
			    VAL_MAX_THREADS);
	if (e->threads[0] != e->pid)
		return fail(why, n, "pid %u: first thread is %u, must be the main thread", e->pid,
			    e->threads[0]);
	for (size_t i = 0; i < e->n_threads; i++) {
		if (!pid_ok(e->threads[i]))
			return fail(why, n, "pid %u: thread %zu: tid %u out of range 1..%u", e->pid,
				    i, e->threads[i], VAL_PID_MAX);
		r = set_add(&s->tids, e->threads[i]);
		if (r <= 0)
			return r < 0 ? r
				     : fail(why, n, "pid %u: tid %u listed twice", e->pid,
					    e->threads[i]);
	}
	return 0;
}

/* ---- core-PID.img ---- */

static int check_regs(const UserRegsEntry *g, char *why, size_t n)
{
	/* __USER_CS (64-bit) or __USER32_CS; the kernel refuses others. */
	if (g->cs != 0x33 && g->cs != 0x23)
		return fail(why, n, "regs: cs 0x%llx is not a user code segment",
			    (unsigned long long)g->cs);
	if (g->ss > 0xffff || g->ds > 0xffff || g->es > 0xffff || g->fs > 0xffff || g->gs > 0xffff)
		return fail(why, n, "regs: a segment selector is wider than 16 bits");
	if (g->fs_base >= (1ull << 47) || g->gs_base >= (1ull << 47))
		return fail(why, n, "regs: fs_base 0x%llx or gs_base 0x%llx outside user space",
			    (unsigned long long)g->fs_base, (unsigned long long)g->gs_base);
	return 0;
}

static int check_xstate(const ProtobufCBinaryData *x, char *why, size_t n)
{
	static const uint8_t zero[56];

	if (x->len < VAL_XSTATE_MIN || x->len > VAL_XSTATE_MAX || x->len % 64)
		return fail(why, n,
			    "xstate is %zu bytes, expected a multiple of 64 in %u..%u (legacy area "
			    "and XSAVE header at least)",
			    x->len, VAL_XSTATE_MIN, VAL_XSTATE_MAX);
	/* ptrace gives the standard (uncompacted) format: xcomp_bv and the
	 * reserved header bytes are zero, and SETREGSET refuses anything else. */
	if (memcmp(x->data + 520, zero, sizeof(zero)) != 0)
		return fail(why, n, "xstate: XSAVE header has xcomp_bv or reserved bytes set");
	return 0;
}

static int check_thread(const ThreadCoreEntry *t, char *why, size_t n)
{
	int r;

	if (!pid_ok(t->tid))
		return fail(why, n, "tid %u out of range 1..%u", t->tid, VAL_PID_MAX);
	r = check_regs(t->regs, why, n);
	if (r < 0)
		return r;
	r = check_xstate(&t->xstate, why, n);
	if (r < 0)
		return r;
	r = check_siginfos("pending", t->n_pending, t->pending, why, n);
	if (r < 0)
		return r;
	if (t->rseq) {
		const RseqEntry *q = t->rseq;

		if (!q->rseq_abi_pointer || !uaddr_ok(q->rseq_abi_pointer) ||
		    q->rseq_abi_pointer % 32)
			return fail(why, n,
				    "rseq area 0x%llx is not a 32-byte aligned user address",
				    (unsigned long long)q->rseq_abi_pointer);
		if (q->rseq_abi_size < 32 || q->rseq_abi_size > 4096)
			return fail(why, n, "rseq size %u out of range 32..4096", q->rseq_abi_size);
		if (q->flags)
			return fail(why, n, "rseq flags 0x%x, must be 0", q->flags);
	}
	if (t->has_robust_list && !uaddr_ok(t->robust_list))
		return fail(why, n, "robust list 0x%llx outside user space",
			    (unsigned long long)t->robust_list);
	if (t->has_robust_list_len && t->robust_list_len != ROBUST_LIST_HEAD_SIZE &&
	    !(t->robust_list_len == 0 && (!t->has_robust_list || !t->robust_list)))
		return fail(why, n, "robust list length %llu, the kernel takes only %u",
			    (unsigned long long)t->robust_list_len, ROBUST_LIST_HEAD_SIZE);
	if (t->has_clear_child_tid && !uaddr_ok(t->clear_child_tid))
		return fail(why, n, "clear_child_tid 0x%llx outside user space",
			    (unsigned long long)t->clear_child_tid);
	if (t->comm && strlen(t->comm) > VAL_COMM_MAX)
		return fail(why, n, "comm is %zu characters, more than %u", strlen(t->comm),
			    VAL_COMM_MAX);
	if (t->sigaltstack) {
		const SigaltstackEntry *a = t->sigaltstack;

		if (a->flags & ~(uint32_t)KNOWN_SS_FLAGS)
			return fail(why, n, "sigaltstack flags 0x%x has unknown bits", a->flags);
		if (!(a->flags & SS_DISABLE) &&
		    (a->sp >= VAL_TASK_SIZE || a->size > VAL_TASK_SIZE - a->sp))
			return fail(why, n, "sigaltstack 0x%llx + 0x%llx outside user space",
				    (unsigned long long)a->sp, (unsigned long long)a->size);
	}
	return 0;
}

static int check_creds(const CredsEntry *c, char *why, size_t n)
{
	const uint32_t ids[] = {c->uid, c->euid, c->suid, c->fsuid,
				c->gid, c->egid, c->sgid, c->fsgid};
	const uint64_t caps[] = {c->cap_inh, c->cap_prm, c->cap_eff, c->cap_bnd, c->cap_amb};
	const uint64_t cap_mask = (2ull << CAP_LAST_CAP) - 1;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (ids[i] == (uint32_t)-1)
			return fail(why, n, "creds: id %zu is -1, which no task can have", i);
	if (c->n_groups > VAL_MAX_GROUPS)
		return fail(why, n, "creds: %zu groups, more than %u", c->n_groups, VAL_MAX_GROUPS);
	for (size_t i = 0; i < c->n_groups; i++)
		if (c->groups[i] == (uint32_t)-1)
			return fail(why, n, "creds: group %zu is -1", i);
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		if (caps[i] & ~cap_mask)
			return fail(why, n,
				    "creds: capability set %zu has bits beyond CAP_LAST_CAP (%d)",
				    i, CAP_LAST_CAP);
	if (c->securebits & ~KNOWN_SECUREBITS)
		return fail(why, n, "creds: securebits 0x%x has unknown bits", c->securebits);
	if (c->has_dumpable && c->dumpable > 2)
		return fail(why, n, "creds: dumpable %u out of range 0..2", c->dumpable);
	return 0;
}

static int check_core(const TaskCoreEntry *e, char *why, size_t n)
{
	uint64_t seen = 0;
	struct val_set tids = {0};
	int r = 0;

	if (!pid_ok(e->pid))
		return fail(why, n, "pid %u out of range 1..%u", e->pid, VAL_PID_MAX);
	if (e->state < TASK_STATE__TASK_ALIVE || e->state > TASK_STATE__TASK_STOPPED)
		return fail(why, n, "task state %d unknown", (int)e->state);
	if (strlen(e->comm) > VAL_COMM_MAX)
		return fail(why, n, "comm is %zu characters, more than %u", strlen(e->comm),
			    VAL_COMM_MAX);
	if (e->personality == 0xffffffffu)
		return fail(why, n, "personality 0xffffffff (that value only queries)");
	if (e->umask & ~0777u)
		return fail(why, n, "umask 0%o has bits beyond 0777", e->umask);
	if (e->n_sigactions > 64)
		return fail(why, n, "%zu sigactions, more than 64", e->n_sigactions);
	for (size_t i = 0; i < e->n_sigactions; i++) {
		const SigactionEntry *a = e->sigactions[i];

		if (!sig_ok(a->signo))
			return fail(why, n, "sigaction %zu: signal %u out of range 1..64", i,
				    a->signo);
		if (a->signo == SIGKILL || a->signo == SIGSTOP)
			return fail(why, n, "sigaction %zu: signal %u cannot have a handler", i,
				    a->signo);
		if (seen & (1ull << (a->signo - 1)))
			return fail(why, n, "sigaction %zu: signal %u listed twice", i, a->signo);
		seen |= 1ull << (a->signo - 1);
		if (a->flags & ~KNOWN_SA_FLAGS)
			return fail(why, n, "sigaction %zu: flags 0x%llx has unknown bits", i,
				    (unsigned long long)a->flags);
		if (!uaddr_ok(a->handler) || !uaddr_ok(a->restorer))
			return fail(why, n, "sigaction %zu: handler or restorer outside user space",
				    i);
	}
	seen = 0;
	if (e->n_itimers > 3)
		return fail(why, n, "%zu itimers, there are only 3", e->n_itimers);
	for (size_t i = 0; i < e->n_itimers; i++) {
		uint32_t w = e->itimers[i]->which;

		if (w > 2)
			return fail(why, n, "itimer %zu: which %u out of range 0..2", i, w);
		if (seen & (1u << w))
			return fail(why, n, "itimer %zu: timer %u listed twice", i, w);
		seen |= 1u << w;
	}
	seen = 0;
	if (e->n_rlimits > RLIM_NLIMITS)
		return fail(why, n, "%zu rlimits, there are only %d", e->n_rlimits, RLIM_NLIMITS);
	for (size_t i = 0; i < e->n_rlimits; i++) {
		const RlimitEntry *l = e->rlimits[i];

		if (l->resource >= RLIM_NLIMITS)
			return fail(why, n, "rlimit %zu: resource %u out of range 0..%d", i,
				    l->resource, RLIM_NLIMITS - 1);
		if (seen & (1u << l->resource))
			return fail(why, n, "rlimit %zu: resource %u listed twice", i, l->resource);
		seen |= 1u << l->resource;
		/* RLIM_INFINITY is the largest value, so this also allows a finite
		 * soft limit under an infinite hard one. */
		if (l->cur > l->max)
			return fail(
			    why, n,
			    "rlimit %zu: resource %u: soft limit %llu above hard limit %llu", i,
			    l->resource, (unsigned long long)l->cur, (unsigned long long)l->max);
	}
	if (e->creds) {
		r = check_creds(e->creds, why, n);
		if (r < 0)
			return r;
	}
	if (e->cwd && (r = check_path("cwd", e->cwd, true, why, n)) < 0)
		return r;
	if (e->root && (r = check_path("root", e->root, true, why, n)) < 0)
		return r;
	r = check_siginfos("shared pending", e->n_shared_pending, e->shared_pending, why, n);
	if (r < 0)
		return r;
	if (e->n_threads > VAL_MAX_THREADS)
		return fail(why, n, "%zu threads, more than %u", e->n_threads, VAL_MAX_THREADS);
	if (e->n_threads == 0 && e->state != TASK_STATE__TASK_ZOMBIE)
		return fail(why, n, "no threads in a live task");
	for (size_t i = 0; i < e->n_threads && r == 0; i++) {
		r = check_thread(e->threads[i], why, n);
		if (r < 0) {
			prefix(r, why, n, "thread %zu: ", i);
			break;
		}
		r = set_add(&tids, e->threads[i]->tid);
		if (r == 0)
			r = fail(why, n, "thread %zu: tid %u listed twice", i, e->threads[i]->tid);
		r = r > 0 ? 0 : r;
	}
	set_free(&tids);
	if (r < 0)
		return r;
	if (e->has_exit_signal && e->exit_signal > 64)
		return fail(why, n, "exit signal %u out of range 0..64", e->exit_signal);
	if (e->has_pdeath_signal && e->pdeath_signal > 64)
		return fail(why, n, "parent death signal %u out of range 0..64", e->pdeath_signal);
	if (e->has_nice && (e->nice < -20 || e->nice > 19))
		return fail(why, n, "nice %d out of range -20..19", e->nice);
	return 0;
}

/* ---- mm-PID.img ---- */

static bool is_vsyscall(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_VSYSCALL && v->start == VAL_VSYSCALL_START &&
	       v->end == VAL_VSYSCALL_START + 4096;
}

static int check_vma(const VmaEntry *v, char *why, size_t n)
{
	uint32_t share = v->flags & (MAP_SHARED | MAP_PRIVATE);

	if (v->kind < VMA_KIND__VMA_ANON || v->kind > VMA_KIND__VMA_VSYSCALL)
		return fail(why, n, "kind %d unknown", (int)v->kind);
	if ((v->start | v->end) & PAGE_MASK_4K)
		return fail(why, n, "start 0x%llx or end 0x%llx not page-aligned",
			    (unsigned long long)v->start, (unsigned long long)v->end);
	if (v->end <= v->start)
		return fail(why, n, "end 0x%llx not above start 0x%llx", (unsigned long long)v->end,
			    (unsigned long long)v->start);
	if (v->kind == VMA_KIND__VMA_VSYSCALL ? !is_vsyscall(v) : v->end > VAL_TASK_SIZE)
		return fail(why, n, "0x%llx-0x%llx outside user space",
			    (unsigned long long)v->start, (unsigned long long)v->end);
	if (v->prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
		return fail(why, n, "prot 0x%x has bits other than read, write, exec", v->prot);
	if (v->flags & ~KNOWN_MAP_FLAGS)
		return fail(why, n, "flags 0x%x has unknown bits", v->flags);
	if (share != MAP_SHARED && share != MAP_PRIVATE)
		return fail(why, n, "flags 0x%x: need exactly one of MAP_PRIVATE and MAP_SHARED",
			    v->flags);
	switch (v->kind) {
	case VMA_KIND__VMA_ANON:
	case VMA_KIND__VMA_FILE_PRIVATE:
		if (share != MAP_PRIVATE)
			return fail(why, n, "a private kind mapped MAP_SHARED");
		break;
	case VMA_KIND__VMA_FILE_SHARED:
	case VMA_KIND__VMA_SHARED_ANON:
		if (share != MAP_SHARED)
			return fail(why, n, "a shared kind mapped MAP_PRIVATE");
		break;
	default:
		break;
	}
	if (v->kind == VMA_KIND__VMA_FILE_PRIVATE || v->kind == VMA_KIND__VMA_FILE_SHARED) {
		if (!v->path)
			return fail(why, n, "file mapping without a path");
		if (v->flags & MAP_ANONYMOUS)
			return fail(why, n, "file mapping with MAP_ANONYMOUS");
	}
	if ((v->kind == VMA_KIND__VMA_SHARED_ANON || v->kind == VMA_KIND__VMA_MEMFD) &&
	    !v->has_shmid)
		return fail(why, n, "shared memory without a shared object id");
	if (v->has_pgoff &&
	    ((v->pgoff & PAGE_MASK_4K) || v->pgoff > UINT64_MAX - (v->end - v->start)))
		return fail(why, n, "file offset 0x%llx not page-aligned or overflows",
			    (unsigned long long)v->pgoff);
	if (v->path) {
		int r = check_path("path", v->path, false, why, n);

		if (r < 0)
			return r;
	}
	if (v->has_vmflags && (v->vmflags & ~KNOWN_VMFLAGS))
		return fail(why, n, "vmflags 0x%llx has unknown bits",
			    (unsigned long long)v->vmflags);
	if (v->name) {
		/* What PR_SET_VMA_ANON_NAME accepts: 79 printable characters
		 * except \ ` $ [ ]. */
		if (strlen(v->name) > 79)
			return fail(why, n, "anonymous name longer than 79 characters");
		for (const char *c = v->name; *c; c++)
			if (*c < 0x20 || *c > 0x7e || strchr("\\`$[]", *c))
				return fail(why, n,
					    "anonymous name has a forbidden character 0x%02x",
					    (unsigned char)*c);
	}
	return 0;
}

static int check_mm(const MmEntry *m, char *why, size_t n)
{
	const struct {
		const char *name;
		uint64_t lo, hi;
	} ranges[] = {
	    {"code", m->start_code, m->end_code}, {"data", m->start_data, m->end_data},
	    {"brk", m->start_brk, m->brk},	  {"arg", m->arg_start, m->arg_end},
	    {"env", m->env_start, m->env_end},
	};
	uint64_t prev_end = 0;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		if (ranges[i].hi > VAL_TASK_SIZE || ranges[i].lo > ranges[i].hi)
			return fail(why, n, "%s area 0x%llx-0x%llx is not an ordered user range",
				    ranges[i].name, (unsigned long long)ranges[i].lo,
				    (unsigned long long)ranges[i].hi);
	}
	if (m->start_stack >= VAL_TASK_SIZE)
		return fail(why, n, "start_stack 0x%llx outside user space",
			    (unsigned long long)m->start_stack);
	if (m->n_auxv > VAL_MAX_AUXV || m->n_auxv < 2 || m->n_auxv % 2)
		return fail(why, n, "auxv has %zu words, expected pairs, at most %u", m->n_auxv,
			    VAL_MAX_AUXV);
	for (size_t i = 0; i + 2 < m->n_auxv; i += 2)
		if (m->auxv[i] == 0)
			return fail(why, n, "auxv: AT_NULL at pair %zu before the end", i / 2);
	if (m->auxv[m->n_auxv - 2] != 0)
		return fail(why, n, "auxv does not end with AT_NULL");
	r = check_path("exe path", m->exe_path, true, why, n);
	if (r < 0)
		return r;
	if (m->n_vmas > VAL_MAX_VMAS)
		return fail(why, n, "%zu VMAs, more than %u", m->n_vmas, VAL_MAX_VMAS);
	for (size_t i = 0; i < m->n_vmas; i++) {
		const VmaEntry *v = m->vmas[i];

		r = check_vma(v, why, n);
		if (r < 0)
			return prefix(r, why, n, "vma %zu: ", i);
		if (i > 0 && v->start < prev_end)
			return fail(why, n, "vma %zu: start 0x%llx below the end 0x%llx of vma %zu",
				    i, (unsigned long long)v->start, (unsigned long long)prev_end,
				    i - 1);
		prev_end = v->end;
	}
	return 0;
}

/* ---- pagemap-ID.img ---- */

static int check_pagemap_head(struct img_vstate *s, const PagemapHead *h, char *why, size_t n)
{
	if (h->nr_entries > VAL_MAX_PAGEMAP)
		return fail(why, n, "head: %llu entries, more than %u",
			    (unsigned long long)h->nr_entries, VAL_MAX_PAGEMAP);
	if (h->nr_file_pages > VAL_TASK_SIZE / 4096)
		return fail(why, n, "head: %llu file pages, more than user space holds",
			    (unsigned long long)h->nr_file_pages);
	s->expected = h->nr_entries;
	s->head_file_pages = h->nr_file_pages;
	return 0;
}

static int check_pagemap_entry(struct img_vstate *s, unsigned idx, const PagemapEntry *e, char *why,
			       size_t n)
{
	unsigned i = idx - 1;
	uint64_t end;

	if (i >= s->expected)
		return fail(why, n, "entry %u: the head announced only %llu entries", i,
			    (unsigned long long)s->expected);
	if (e->vaddr & PAGE_MASK_4K)
		return fail(why, n, "entry %u: vaddr 0x%llx not page-aligned", i,
			    (unsigned long long)e->vaddr);
	if (e->nr_pages == 0)
		return fail(why, n, "entry %u: no pages", i);
	if (e->vaddr >= VAL_TASK_SIZE || e->nr_pages > (VAL_TASK_SIZE - e->vaddr) / 4096)
		return fail(why, n, "entry %u: 0x%llx + %llu pages outside user space", i,
			    (unsigned long long)e->vaddr, (unsigned long long)e->nr_pages);
	end = e->vaddr + e->nr_pages * 4096;
	if (e->flags & ~KNOWN_PE_FLAGS)
		return fail(why, n, "entry %u: flags 0x%x has unknown bits", i, e->flags);
	if (__builtin_popcount(e->flags & PE_WHERE) > 1)
		return fail(why, n, "entry %u: flags 0x%x: more than one of PAGES, PARENT, REMOTE",
			    i, e->flags);
	if (i > 0 && e->vaddr < s->prev_end)
		return fail(why, n, "entry %u: vaddr 0x%llx below the end 0x%llx of entry %u", i,
			    (unsigned long long)e->vaddr, (unsigned long long)s->prev_end, i - 1);
	s->prev_end = end;
	if (e->flags & PAGEMAP_FLAG__PE_PAGES)
		s->file_pages += e->nr_pages;
	return 0;
}

/* ---- files.img and fds-PID.img ---- */

static int check_reg(const FileEntry *f, const RegFileEntry *g, char *why, size_t n)
{
	static const uint32_t fmt_of[] = {
	    [FILE_TYPE__FT_REG] = S_IFREG,
	    [FILE_TYPE__FT_DIR] = S_IFDIR,
	    [FILE_TYPE__FT_CHR] = S_IFCHR,
	    [FILE_TYPE__FT_FIFO] = S_IFIFO,
	};
	int r = check_path("path", g->path, true, why, n);

	if (r < 0)
		return r;
	if (g->flags & ~KNOWN_OPEN_FLAGS)
		return fail(why, n, "open flags 0%o have unknown bits", g->flags);
	if ((g->flags & O_ACCMODE) == O_ACCMODE)
		return fail(why, n, "open flags 0%o: invalid access mode", g->flags);
	if (g->pos > INT64_MAX)
		return fail(why, n, "position %llu beyond the largest file offset",
			    (unsigned long long)g->pos);
	if (g->has_size && g->size > INT64_MAX)
		return fail(why, n, "size %llu beyond the largest file size",
			    (unsigned long long)g->size);
	if (g->has_mode) {
		uint32_t want = (size_t)f->type < ARRAY_SIZE(fmt_of) ? fmt_of[f->type] : 0;

		if (g->mode & ~(uint32_t)(S_IFMT | 07777))
			return fail(why, n, "mode 0%o has unknown bits", g->mode);
		if (want && (g->mode & S_IFMT) != want)
			return fail(why, n, "mode 0%o does not match the file type", g->mode);
	}
	return 0;
}

static int check_open_flags(uint32_t flags, char *why, size_t n)
{
	if (flags & ~KNOWN_OPEN_FLAGS)
		return fail(why, n, "open flags 0%o have unknown bits", flags);
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return fail(why, n, "open flags 0%o: invalid access mode", flags);
	return 0;
}

static int check_pipe(const FileEntry *f, const PipeFileEntry *p, char *why, size_t n)
{
	int r = check_open_flags(p->flags, why, n);

	if (r < 0)
		return r;
	/* Only a FIFO can be opened read-write. */
	if (f->type == FILE_TYPE__FT_PIPE && (p->flags & O_ACCMODE) == O_RDWR)
		return fail(why, n, "a pipe end opened read-write");
	if (f->type == FILE_TYPE__FT_FIFO && f->reg && f->reg->flags != p->flags)
		return fail(why, n, "FIFO open flags 0%o and 0%o disagree", f->reg->flags,
			    p->flags);
	/* The kernel rounds a pipe's capacity to a power of two pages. */
	if (p->has_pipe_size && (p->pipe_size < 4096 || p->pipe_size > PIPE_SIZE_MAX ||
				 (p->pipe_size & (p->pipe_size - 1))))
		return fail(why, n, "pipe size %u is not a power of two from 4096 to 2^31",
			    p->pipe_size);
	return 0;
}

static int check_memfd(const MemfdFileEntry *m, char *why, size_t n)
{
	int r = check_open_flags(m->flags, why, n);

	if (r < 0)
		return r;
	if (m->shmid == 0)
		return fail(why, n, "memfd without a shared object id");
	if (m->pos > INT64_MAX)
		return fail(why, n, "position %llu beyond the largest file offset",
			    (unsigned long long)m->pos);
	return 0;
}

static int check_file(struct img_vstate *s, unsigned idx, const FileEntry *f, char *why, size_t n)
{
	unsigned i = idx - 1;
	int r;

	if (i >= s->expected)
		return fail(why, n, "file %u: the head announced only %llu files", i,
			    (unsigned long long)s->expected);
	if (f->type < FILE_TYPE__FT_REG || f->type > FILE_TYPE__FT_INET)
		return fail(why, n, "file %u: type %d unknown", i, (int)f->type);
	r = set_add(&s->ids, f->id);
	if (r <= 0)
		return r < 0 ? r : fail(why, n, "file %u: id %u listed twice", i, f->id);
	switch (f->type) {
	case FILE_TYPE__FT_REG:
	case FILE_TYPE__FT_DIR:
	case FILE_TYPE__FT_CHR:
	case FILE_TYPE__FT_FIFO:
		if (!f->reg)
			return fail(why, n, "file %u (id %u): needs a path and flags (reg)", i,
				    f->id);
		break;
	default:
		break;
	}
	if (f->reg) {
		r = check_reg(f, f->reg, why, n);
		if (r < 0)
			return prefix(r, why, n, "file %u (id %u): ", i, f->id);
	}
	if (f->pipe) {
		r = check_pipe(f, f->pipe, why, n);
		if (r < 0)
			return prefix(r, why, n, "file %u (id %u): ", i, f->id);
	}
	if (f->memfd) {
		r = check_memfd(f->memfd, why, n);
		if (r < 0)
			return prefix(r, why, n, "file %u (id %u): ", i, f->id);
	}
	return 0;
}

/* ---- shmem.img and pipes-data.img ---- */

static int check_shmem(unsigned idx, const ShmemEntry *e, char *why, size_t n)
{
	if (e->id == 0)
		return fail(why, n, "object %u: id 0", idx);
	if (e->kind != VMA_KIND__VMA_SHARED_ANON && e->kind != VMA_KIND__VMA_MEMFD)
		return fail(why, n, "object %u: kind %d is not shared memory", idx, (int)e->kind);
	if (e->size > INT64_MAX)
		return fail(why, n, "object %u: size %llu beyond the largest file size", idx,
			    (unsigned long long)e->size);
	if (e->kind == VMA_KIND__VMA_SHARED_ANON && (e->name || e->has_seals))
		return fail(why, n, "object %u: shared anonymous memory with a name or seals",
			    idx);
	if (e->name && strlen(e->name) > MEMFD_NAME_MAX)
		return fail(why, n, "object %u: memfd name longer than %u bytes", idx,
			    MEMFD_NAME_MAX);
	if (e->has_seals && (e->seals & ~KNOWN_SEALS))
		return fail(why, n, "object %u: seals 0x%x have unknown bits", idx, e->seals);
	return 0;
}

static int check_pipe_data(unsigned idx, const PipeDataEntry *e, char *why, size_t n)
{
	if (e->data.len == 0 || e->data.len > PIPE_SIZE_MAX)
		return fail(why, n, "pipe %u: %zu bytes of data, expected 1 to 2^31", idx,
			    e->data.len);
	return 0;
}

static int check_fd(struct img_vstate *s, unsigned idx, const FdEntry *f, char *why, size_t n)
{
	int r;

	if (idx >= VAL_MAX_FD)
		return fail(why, n, "more than %u descriptors", VAL_MAX_FD);
	if (f->fd >= VAL_MAX_FD)
		return fail(why, n, "fd %u not below %u", f->fd, VAL_MAX_FD);
	r = set_add(&s->ids, f->fd);
	if (r <= 0)
		return r < 0 ? r : fail(why, n, "fd %u listed twice", f->fd);
	return 0;
}

/* ---- dispatch ---- */

static bool single_message(enum img_type t)
{
	return t == IMG_INVENTORY || t == IMG_CORE || t == IMG_MM;
}

int img_validate(struct img_vstate *s, unsigned idx, const ProtobufCMessage *msg,
		 const uint8_t *raw, size_t len, char *why, size_t n)
{
	int r;

	if (single_message(s->type) && idx > 0)
		return fail(why, n, "a %s image holds one message, found more",
			    img_type_name(s->type));
	r = scan_strings(msg->descriptor, raw, len, 0, why, n);
	if (r < 0)
		return r;
	switch (s->type) {
	case IMG_INVENTORY:
		return check_inventory((const InventoryEntry *)msg, why, n);
	case IMG_PSTREE:
		return check_pstree(s, idx, (const PstreeEntry *)msg, why, n);
	case IMG_CORE:
		return check_core((const TaskCoreEntry *)msg, why, n);
	case IMG_MM:
		return check_mm((const MmEntry *)msg, why, n);
	case IMG_PAGEMAP:
		if (idx == 0)
			return check_pagemap_head(s, (const PagemapHead *)msg, why, n);
		return check_pagemap_entry(s, idx, (const PagemapEntry *)msg, why, n);
	case IMG_FILES:
		if (idx == 0) {
			const FilesHead *h = (const FilesHead *)msg;

			if (h->nr_files > VAL_MAX_FILES)
				return fail(why, n, "head: %u files, more than %u", h->nr_files,
					    VAL_MAX_FILES);
			s->expected = h->nr_files;
			return 0;
		}
		return check_file(s, idx, (const FileEntry *)msg, why, n);
	case IMG_FDS:
		return check_fd(s, idx, (const FdEntry *)msg, why, n);
	case IMG_SHMEM:
		return check_shmem(idx, (const ShmemEntry *)msg, why, n);
	case IMG_PIPES_DATA:
		return check_pipe_data(idx, (const PipeDataEntry *)msg, why, n);
	default:
		return fail(why, n, "a %s image holds no messages", img_type_name(s->type));
	}
}

int img_validate_end(struct img_vstate *s, unsigned nr, char *why, size_t n)
{
	if (single_message(s->type) && nr != 1)
		return fail(why, n, "empty, expected one %s", img_msg_desc(s->type, 0)->name);
	switch (s->type) {
	case IMG_PSTREE:
		if (nr == 0)
			return fail(why, n, "no processes");
		break;
	case IMG_PAGEMAP:
	case IMG_FILES:
		if (nr == 0)
			return fail(why, n, "missing the head message");
		if (nr - 1 != s->expected)
			return fail(why, n, "the head announced %llu entries, found %u",
				    (unsigned long long)s->expected, nr - 1);
		if (s->type == IMG_PAGEMAP && s->file_pages != s->head_file_pages)
			return fail(
			    why, n,
			    "the head announced %llu file pages, the entries add up to %llu",
			    (unsigned long long)s->head_file_pages,
			    (unsigned long long)s->file_pages);
		break;
	default:
		break;
	}
	return 0;
}
