// SPDX-License-Identifier: GPL-2.0-or-later
/* An ITIMER_REAL that keeps firing SIGALRM, and a virtual timer that keeps its value. */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "case.h"

#define PERIOD_US 50000
#define VIRT_SEC  100

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

static void sleep_through(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	/* SIGALRM interrupts nanosleep whatever SA_RESTART says. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval real = {{0, PERIOD_US}, {0, PERIOD_US}};
	struct itimerval virt = {{0, 0}, {VIRT_SEC, 0}};
	struct itimerval cur;
	int before, after;

	test_init(argc, argv);
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		test_setup_failed("sigaction: %m");
	if (setitimer(ITIMER_REAL, &real, NULL) < 0 || setitimer(ITIMER_VIRTUAL, &virt, NULL) < 0)
		test_setup_failed("setitimer: %m");
	while (alarms < 2)
		sleep_through(10);
	test_ready();

	test_wait_stop();

	if (getitimer(ITIMER_REAL, &cur) < 0)
		fail("getitimer: %m");
	if (cur.it_interval.tv_sec != 0 || cur.it_interval.tv_usec != PERIOD_US)
		fail("ITIMER_REAL interval is %ld.%06ld s, expected 0.%06d s",
		     (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec, PERIOD_US);
	if (cur.it_value.tv_sec != 0 || cur.it_value.tv_usec > PERIOD_US ||
	    (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0))
		fail("ITIMER_REAL is not armed for the next period (%ld.%06ld s left)",
		     (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
	if (getitimer(ITIMER_VIRTUAL, &cur) < 0)
		fail("getitimer: %m");
	/* The process mostly sleeps: its virtual timer hardly moves. */
	if (cur.it_value.tv_sec < VIRT_SEC - 10 || cur.it_value.tv_sec > VIRT_SEC ||
	    cur.it_interval.tv_sec || cur.it_interval.tv_usec)
		fail("ITIMER_VIRTUAL is %ld.%06ld s (interval %ld.%06ld), expected about %d s",
		     (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec,
		     (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec, VIRT_SEC);
	if (getitimer(ITIMER_PROF, &cur) < 0)
		fail("getitimer: %m");
	if (cur.it_value.tv_sec || cur.it_value.tv_usec)
		fail("ITIMER_PROF was never set but is armed");

	before = alarms;
	sleep_through(500);
	after = alarms;
	/* 10 periods; allow for a slow machine but require it to tick. */
	if (after - before < 4)
		fail("only %d SIGALRMs in 500 ms with a %d ms timer", after - before,
		     PERIOD_US / 1000);
	test_msg("%d alarms in total", after);
	pass();
}
