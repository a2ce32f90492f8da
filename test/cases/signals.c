// SPDX-License-Identifier: GPL-2.0-or-later
/* Signal handlers (SA_SIGINFO/SA_RESTART/SA_ONSTACK), blocked mask, pending signals, altstack. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "case.h"

#define ALTSTACK_SIZE (64 * 1024)
#define FLAG_MASK     ((int)(SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_RESETHAND | SA_NODEFER))

struct delivery {
	int signo, code, value;
	pid_t pid;
	bool on_altstack;
};

static struct {
	char *altstack;
	struct delivery got[8];
	volatile sig_atomic_t nr_got;
	volatile sig_atomic_t unexpected;
} st;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	char here;
	struct delivery *d;

	if (st.nr_got >= (int)(sizeof(st.got) / sizeof(st.got[0])))
		return;
	d = &st.got[st.nr_got];
	d->signo = sig;
	d->code = si->si_code;
	d->value = si->si_value.sival_int;
	d->pid = si->si_pid;
	d->on_altstack = &here >= st.altstack && &here < st.altstack + ALTSTACK_SIZE;
	st.nr_got++;
}

static void on_unexpected(int sig)
{
	st.unexpected = sig;
}

struct disposition {
	int sig;
	bool info;
	int flags;
	int mask_sig; /* one signal in sa_mask, or 0 */
	bool ignore;
};

static struct disposition table[] = {
    {SIGUSR1, true, SA_SIGINFO | SA_ONSTACK | SA_RESTART, SIGUSR2, false},
    {0 /* SIGRTMIN + 2 */, true, SA_SIGINFO | SA_RESTART, SIGHUP, false},
    {SIGUSR2, false, SA_RESTART, 0, false},
    {SIGINT, false, SA_RESETHAND | SA_NODEFER, SIGQUIT, false},
    {SIGPIPE, false, 0, 0, true},
    {SIGTSTP, false, 0, 0, true},
};
#define NR_DISP (sizeof(table) / sizeof(table[0]))

static void set_blocked(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGUSR1);
	sigaddset(s, SIGRTMIN + 2);
	sigaddset(s, SIGQUIT);
	sigaddset(s, SIGWINCH);
}

static void check_dispositions(void)
{
	for (size_t i = 0; i < NR_DISP; i++) {
		const struct disposition *d = &table[i];
		struct sigaction cur;

		if (sigaction(d->sig, NULL, &cur) < 0)
			fail("sigaction(%d): %m", d->sig);
		if (d->ignore) {
			if (cur.sa_handler != SIG_IGN)
				fail("signal %d is no longer ignored", d->sig);
			continue;
		}
		if (d->info ? cur.sa_sigaction != on_info : cur.sa_handler != on_unexpected)
			fail("signal %d: handler %p is not ours", d->sig, (void *)cur.sa_sigaction);
		if ((cur.sa_flags & FLAG_MASK) != d->flags)
			fail("signal %d: flags %#x, expected %#x", d->sig, cur.sa_flags & FLAG_MASK,
			     d->flags);
		for (int s = 1; s < SIGRTMAX; s++) {
			if (s == 32 || s == 33) /* glibc's own */
				continue;
			if (sigismember(&cur.sa_mask, s) != (s == d->mask_sig))
				fail("signal %d: sa_mask %s signal %d", d->sig,
				     s == d->mask_sig ? "lost" : "gained", s);
		}
	}
}

static void check_set(const char *what, const sigset_t *got, const sigset_t *want)
{
	for (int s = 1; s < SIGRTMAX; s++) {
		if (s == 32 || s == 33)
			continue;
		if (sigismember(got, s) != sigismember(want, s))
			fail("%s: signal %d is %s", what, s,
			     sigismember(got, s) ? "set but should not be" : "missing");
	}
}

int main(int argc, char **argv)
{
	union sigval v;
	sigset_t blocked, want, cur;
	stack_t ss;

	test_init(argc, argv);
	table[1].sig = SIGRTMIN + 2;

	st.altstack =
	    mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st.altstack == MAP_FAILED)
		test_setup_failed("mmap: %m");
	ss = (stack_t){.ss_sp = st.altstack, .ss_size = ALTSTACK_SIZE};
	if (sigaltstack(&ss, NULL) < 0)
		test_setup_failed("sigaltstack: %m");
	for (size_t i = 0; i < NR_DISP; i++) {
		const struct disposition *d = &table[i];
		struct sigaction sa = {.sa_flags = d->flags};

		if (d->ignore)
			sa.sa_handler = SIG_IGN;
		else if (d->info)
			sa.sa_sigaction = on_info;
		else
			sa.sa_handler = on_unexpected;
		sigemptyset(&sa.sa_mask);
		if (d->mask_sig)
			sigaddset(&sa.sa_mask, d->mask_sig);
		if (sigaction(d->sig, &sa, NULL) < 0)
			test_setup_failed("sigaction(%d): %m", d->sig);
	}
	set_blocked(&blocked);
	if (sigprocmask(SIG_BLOCK, &blocked, NULL) < 0)
		test_setup_failed("sigprocmask: %m");
	v.sival_int = 0x1234;
	if (sigqueue(getpid(), SIGUSR1, v) < 0)
		test_setup_failed("sigqueue: %m");
	/* A real-time signal queues every instance, in order. */
	v.sival_int = 7;
	if (sigqueue(getpid(), SIGRTMIN + 2, v) < 0)
		test_setup_failed("sigqueue: %m");
	v.sival_int = 8;
	if (sigqueue(getpid(), SIGRTMIN + 2, v) < 0)
		test_setup_failed("sigqueue: %m");
	test_ready();

	test_wait_stop();

	if (st.unexpected)
		fail("signal %d was delivered, but nothing sends it", st.unexpected);
	if (st.nr_got)
		fail("signal %d was delivered while blocked", st.got[0].signo);
	check_dispositions();
	if (sigprocmask(SIG_SETMASK, NULL, &cur) < 0)
		fail("sigprocmask: %m");
	check_set("blocked mask", &cur, &blocked);
	sigemptyset(&want);
	sigaddset(&want, SIGUSR1);
	sigaddset(&want, SIGRTMIN + 2);
	if (sigpending(&cur) < 0)
		fail("sigpending: %m");
	check_set("pending signals", &cur, &want);
	if (sigaltstack(NULL, &ss) < 0)
		fail("sigaltstack: %m");
	if (ss.ss_sp != st.altstack || ss.ss_size != ALTSTACK_SIZE || ss.ss_flags != 0)
		fail("altstack is %p+%zu flags %#x, expected %p+%d flags 0", ss.ss_sp, ss.ss_size,
		     ss.ss_flags, (void *)st.altstack, ALTSTACK_SIZE);

	/* Now let the pending signals in; the RT instances arrive in the
	 * order they were queued. */
	{
		sigset_t one;

		/* One at a time: signals unblocked together nest their frames,
		 * and the RT handler would then run on the alternate stack. */
		sigemptyset(&one);
		sigaddset(&one, SIGUSR1);
		if (sigprocmask(SIG_UNBLOCK, &one, NULL) < 0)
			fail("sigprocmask: %m");
		sigemptyset(&one);
		sigaddset(&one, SIGRTMIN + 2);
		if (sigprocmask(SIG_UNBLOCK, &one, NULL) < 0)
			fail("sigprocmask: %m");
	}
	if (st.nr_got != 3)
		fail("%d signals delivered after unblocking, expected 3", (int)st.nr_got);
	{
		const struct {
			int signo, value;
			bool alt;
		} exp[3] = {
		    {SIGUSR1, 0x1234, true},
		    {SIGRTMIN + 2, 7, false},
		    {SIGRTMIN + 2, 8, false},
		};
		for (int i = 0; i < 3; i++) {
			const struct delivery *d = &st.got[i];

			if (d->signo != exp[i].signo || d->value != exp[i].value)
				fail("delivery %d: signal %d value %#x, expected signal %d value "
				     "%#x",
				     i, d->signo, d->value, exp[i].signo, exp[i].value);
			if (d->code != SI_QUEUE || d->pid != getpid())
				fail("delivery %d: si_code %d si_pid %d, expected SI_QUEUE from %d",
				     i, d->code, d->pid, getpid());
			if (d->on_altstack != exp[i].alt)
				fail("signal %d ran %s the alternate stack", d->signo,
				     d->on_altstack ? "on" : "off");
		}
	}
	pass();
}
