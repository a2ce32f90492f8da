# SPDX-License-Identifier: GPL-2.0-or-later
# Shell helpers shared by quickstart and the benchmarks (sourced, not run).

# spawn_session OUT CMD...: run CMD in a new session (its own process
# group), stdout to OUT, stdin and stderr /dev/null, and no other fd: what
# a caller leaked to the script (pipes, sockets) is not handed on. Sets
# spawned_pid.
spawn_session() {
	local out=$1
	shift
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec setsid "$@" >"$out" 2>/dev/null </dev/null
	) &
	spawned_pid=$!
	disown "$spawned_pid"
}

# spawn_ready DIR CMD...: spawn_session with stdout a FIFO in DIR, and wait
# for the program's first line (it says "ready" once set up).
spawn_ready() {
	local fifo=$1/ready
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	spawn_session "$fifo" "$@"
	read -r _ <"$fifo"
	rm -f "$fifo"
}

# wait_gone PID [SECONDS]: until /proc/PID is gone (PID 1 reaps slowly);
# 1 with a message after SECONDS (default 20).
wait_gone() {
	local tries=$((${2:-20} * 40))
	for _ in $(seq "$tries"); do
		[ -d "/proc/$1" ] || return 0
		sleep 0.025
	done
	echo "pid $1 did not go away" >&2
	return 1
}
