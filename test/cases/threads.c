// SPDX-License-Identifier: GPL-2.0-or-later
/* 16 threads computing, in futex waits, sleeping, joining, in sigwait and pause; ids, names, TLS, masks. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "case.h"

enum kind { COMPUTE, CONDWAIT, SLEEP, JOIN, SIGWAIT, PAUSE };

#define NTHREADS 16
#define SIG_PAUSE (SIGRTMIN + 1)

static const enum kind kinds[NTHREADS] = {
    COMPUTE, COMPUTE, COMPUTE, COMPUTE, CONDWAIT, CONDWAIT, CONDWAIT, CONDWAIT,
    SLEEP,   SLEEP,   SLEEP,   JOIN,    JOIN,     SIGWAIT,  SIGWAIT,  PAUSE,
};
static const char *const kind_names[] = {"compute", "cond", "sleep", "join", "sigwait", "pause"};

struct thr {
	int idx;
	pthread_t th;
	pid_t tid;
	char name[16];
	volatile uint64_t count; /* COMPUTE: iterations */
	int join_target;	 /* JOIN: index of the thread it joins */
	int woke_sig;		 /* SIGWAIT: the signal sigwait returned */
};

/* A case is one process with its state in main's frame; threads reach it
 * through this pointer, set once before the first thread starts. */
static struct thr *thrs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static atomic_int started;
/* Set by main once every computing thread was seen making progress. */
static atomic_int computed;
static volatile sig_atomic_t pause_woke;
static __thread uint64_t tls_value;

static uint64_t tls_expected(int idx)
{
	return test_pattern(0x7157, (uint64_t)idx);
}

/* The extra signal only thread @idx blocks, so every mask is distinct. */
static int own_signal(int idx)
{
	return SIGRTMIN + 2 + idx;
}

static void expected_mask(int idx, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	if (kinds[idx] != PAUSE)
		sigaddset(set, SIG_PAUSE);
	sigaddset(set, own_signal(idx));
}

/* Checks run by each thread on itself once it is woken after the restore. */
static void check_self(struct thr *t)
{
	sigset_t want, have;
	char name[16];
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int s;

	if (tid != t->tid)
		test_note_fail("thread %d: gettid() is %d, was %d", t->idx, tid, t->tid);
	if (tls_value != tls_expected(t->idx))
		test_note_fail("thread %d: TLS value %#llx, want %#llx", t->idx,
			       (unsigned long long)tls_value,
			       (unsigned long long)tls_expected(t->idx));
	expected_mask(t->idx, &want);
	pthread_sigmask(SIG_SETMASK, NULL, &have);
	for (s = 1; s < NSIG; s++)
		if (sigismember(&want, s) != sigismember(&have, s))
			test_note_fail("thread %d: signal %d is %sblocked", t->idx, s,
				       sigismember(&have, s) ? "" : "not ");
	if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0 ||
	    strcmp(name, t->name) != 0)
		test_note_fail("thread %d: name '%s', want '%s'", t->idx, name, t->name);
}

static void on_pause_sig(int sig)
{
	(void)sig;
	pause_woke = 1;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	const struct timespec ts = {0, 20 * 1000 * 1000};
	sigset_t mask;
	int sig;

	t->tid = (pid_t)syscall(SYS_gettid);
	tls_value = tls_expected(t->idx);
	expected_mask(t->idx, &mask);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	snprintf(t->name, sizeof(t->name), "t%02d-%s", t->idx, kind_names[kinds[t->idx]]);
	pthread_setname_np(pthread_self(), t->name);
	atomic_fetch_add(&started, 1);

	switch (kinds[t->idx]) {
	case COMPUTE:
		while (!atomic_load_explicit(&computed, memory_order_relaxed)) {
			t->count++;
			if (tls_value != tls_expected(t->idx))
				break;
		}
		break;
	case CONDWAIT:
		pthread_mutex_lock(&lock);
		while (!test_stopped())
			pthread_cond_wait(&cond, &lock);
		pthread_mutex_unlock(&lock);
		break;
	case SLEEP:
		while (!test_stopped())
			nanosleep(&ts, NULL);
		break;
	case JOIN:
		if (pthread_join(thrs[t->join_target].th, NULL) != 0)
			test_note_fail("thread %d: pthread_join failed", t->idx);
		break;
	case SIGWAIT:
		sigemptyset(&mask);
		sigaddset(&mask, t->idx % 2 ? SIGUSR2 : SIGUSR1);
		if (sigwait(&mask, &sig) != 0)
			test_note_fail("thread %d: sigwait failed", t->idx);
		t->woke_sig = sig;
		break;
	case PAUSE:
		while (!pause_woke)
			pause();
		break;
	}
	check_self(t);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct thr all[NTHREADS];
	struct sigaction sa = {.sa_handler = on_pause_sig};
	uint64_t at_ready[NTHREADS];
	int i, joined_by[NTHREADS];
	sigset_t mask;

	test_init(argc, argv);
	if (own_signal(NTHREADS - 1) > SIGRTMAX)
		test_setup_failed("not enough real-time signals");
	if (sigaction(SIG_PAUSE, &sa, NULL) < 0)
		test_setup_failed("sigaction: %m");
	/* Only main takes SIGTERM; the wake-up signals go to one thread each. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIG_PAUSE);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	thrs = all;
	memset(joined_by, -1, sizeof(joined_by));
	for (i = 0; i < NTHREADS; i++) {
		all[i].idx = i;
		if (kinds[i] == JOIN) {
			/* Each joiner takes one sleeper of its own. */
			all[i].join_target = 8 + (i - 11);
			joined_by[all[i].join_target] = i;
		}
	}
	for (i = 0; i < NTHREADS; i++) {
		sigset_t block;

		/* Threads start with SIGTERM blocked, then set their own mask. */
		sigfillset(&block);
		pthread_sigmask(SIG_SETMASK, &block, &mask);
		errno = pthread_create(&all[i].th, NULL, thread_main, &all[i]);
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
		if (errno)
			test_setup_failed("pthread_create %d: %m", i);
	}
	while (atomic_load(&started) < NTHREADS)
		usleep(1000);
	usleep(100 * 1000);
	for (i = 0; i < NTHREADS; i++)
		at_ready[i] = all[i].count;
	test_ready();

	test_wait_stop();

	/* Each computing thread must make progress after the restore; give a
	 * busy machine two seconds to schedule all of them. */
	for (int tries = 0; tries < 200; tries++) {
		bool all_ran = true;

		for (i = 0; i < NTHREADS; i++)
			if (kinds[i] == COMPUTE && all[i].count <= at_ready[i])
				all_ran = false;
		if (all_ran)
			break;
		usleep(10 * 1000);
	}
	atomic_store(&computed, 1);
	/* Wake everybody: the cond waiters by broadcast, the others by a
	 * signal of their own through pthread_kill. */
	pthread_mutex_lock(&lock);
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < NTHREADS; i++) {
		int sig = 0, err;

		if (kinds[i] == SIGWAIT)
			sig = i % 2 ? SIGUSR2 : SIGUSR1;
		else if (kinds[i] == PAUSE)
			sig = SIG_PAUSE;
		if (!sig)
			continue;
		err = pthread_kill(all[i].th, sig);
		if (err)
			fail("pthread_kill(thread %d, %d): %s", i, sig, strerror(err));
	}
	for (i = 0; i < NTHREADS; i++) {
		if (joined_by[i] >= 0)
			continue; /* its joiner has it */
		errno = pthread_join(all[i].th, NULL);
		if (errno)
			fail("pthread_join(thread %d): %m", i);
	}
	for (i = 0; i < NTHREADS; i++) {
		if (kinds[i] == COMPUTE && all[i].count <= at_ready[i])
			fail("thread %d did not compute after ready (%llu, then %llu)", i,
			     (unsigned long long)at_ready[i], (unsigned long long)all[i].count);
		if (kinds[i] == SIGWAIT && all[i].woke_sig != (i % 2 ? SIGUSR2 : SIGUSR1))
			fail("thread %d: sigwait returned signal %d", i, all[i].woke_sig);
	}
	pass();
}
