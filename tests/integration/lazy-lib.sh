# Helpers of the lazy restore tests (sourced after lib.sh and restore-lib.sh),
# for tests/targets/lazymem.c and `ckptctl restore --lazy`.
#
#	lazy_status			ckptctl status --json into $LAZY_JSON
#	lazy_entry ROOT			"STATE SERVER PAGES LEFT FAULTS" of its entry
#	lazy_error ROOT			the error of its entry
#	restore_lazy DIR		restore --lazy; sets RST_MS, LAZY_* of the
#					status taken right after it returned
#	lazy_ping [SECONDS]		SIGUSR1, wait for lazymem's "alive" answer
#	wait_verdict pass|fail		the verdict, without another SIGUSR1
#	wait_lazy_gone ROOT [SECONDS]	its entry is gone (done), never "failed"
#	tracer_of PID			its TracerPid
#	all_gone SECONDS PIDS...	every PID gone within SECONDS, or fail

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# lazy_status: `ckptctl status --json` (exit 0, or 6 when no ckptd listens:
# the lazy restores are listed all the same) into $LAZY_JSON.
lazy_status()
{
	ckpt status --json
	[ "$LAST_RC" -eq 0 ] || [ "$LAST_RC" -eq 6 ] ||
		fail "status --json exited $LAST_RC: $(head -c 1000 "$LAST_ERR")"
	LAZY_JSON=$LAST_OUT
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))["lazy"]' "$LAZY_JSON" 2>/dev/null ||
		fail "status --json has no \"lazy\" list: $(head -c 1000 "$LAZY_JSON")"
}

# lazy_entry ROOT: "STATE SERVER PAGES LEFT FAULTS" of ROOT's entry in
# $LAZY_JSON; returns 1 (printing nothing) when there is none.
lazy_entry()
{
	python3 - "$LAZY_JSON" "$1" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["lazy"]:
    if e["root"] == int(sys.argv[2]):
        for k in ("root", "server", "uid", "state", "pages", "left", "faults", "ms", "dir"):
            assert k in e, "entry of %s has no %s: %s" % (sys.argv[2], k, e)
        print(e["state"], e["server"], e["pages"], e["left"], e["faults"])
        sys.exit(0)
sys.exit(1)
PY
}

lazy_error()
{
	python3 - "$LAZY_JSON" "$1" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1]))["lazy"]:
    if e["root"] == int(sys.argv[2]):
        print(e.get("error", ""))
PY
}

tracer_of()
{
	sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null
}

# restore_lazy DIR: `ckptctl restore --lazy` of the tree dumped by dump_kill
# (its root must come back as $TPID), timed (RST_MS); the status right after
# it returned: LAZY_STATE, LAZY_SERVER, LAZY_PAGES, LAZY_LEFT (empty when
# the restore had nothing left to serve), its server tracked for cleanup.
restore_lazy()
{
	local dir=$1 t0 p entry
	rm -f "$TSTATUS.alive"
	t0=$(now_ms)
	ckpt_ok restore -D "$dir" --lazy --pidfile "$TMP/restored.pid"
	RST_MS=$(($(now_ms) - t0))
	lazy_status
	entry=$(lazy_entry "$TPID") || entry=
	for p in $TREE_PIDS $(cat "$TMP/restored.pid"); do
		track_pid "$p"
	done
	[ "$(cat "$TMP/restored.pid")" = "$TPID" ] ||
		fail "restored root is $(cat "$TMP/restored.pid"), not $TPID"
	set -- $entry "" "" "" ""
	LAZY_STATE=$1 LAZY_SERVER=$2 LAZY_PAGES=$3 LAZY_LEFT=$4
	[ -n "$LAZY_SERVER" ] && track_pid "$LAZY_SERVER"
	log "restore --lazy of $TPID returned in $RST_MS ms; status: ${entry:-no lazy entry}"
}

# lazy_ping [SECONDS]: SIGUSR1 to $TPID, which answers in $TSTATUS.alive
# (bounded, default 10 s). Sets PING_MS (from the signal to the answer).
lazy_ping()
{
	local n=${1:-10} i=0 t0 rt
	rm -f "$TSTATUS.alive"
	t0=$(date +%s%N)
	kill -USR1 "$TPID" 2>/dev/null || fail "cannot signal pid $TPID (gone?)"
	while ! [ -s "$TSTATUS.alive" ]; do
		i=$((i + 1))
		if [ $i -gt $((n * 100)) ]; then
			diag_pid "$TPID"
			fail "pid $TPID did not answer its ping within ${n}s"
		fi
		sleep 0.01
	done
	read -r _ rt _ <"$TSTATUS.alive"
	PING_MS=$(((rt - t0) / 1000000))
	log "pid $TPID answered its ping in $PING_MS ms"
}

# wait_verdict pass|fail [SECONDS]: the target's verdict, without signalling
# it (lazymem checks itself straight after its ping).
wait_verdict()
{
	local want=$1 n=${2:-$STATUS_TIMEOUT} i=0 line
	while :; do
		line=$(cat "$TSTATUS" 2>/dev/null)
		case $line in
		pass|fail*) break ;;
		esac
		i=$((i + 1))
		if [ $i -gt $((n * 10)) ]; then
			diag_pid "$TPID"
			fail "pid $TPID: no verdict after ${n}s (status: '$line')"
		fi
		sleep 0.1
	done
	case $want in
	pass) [ "$line" = pass ] || fail "pid $TPID: $line" ;;
	fail) case $line in fail*) ;; *) fail "pid $TPID passed, expected a failure" ;; esac ;;
	esac
	log "pid $TPID: $line"
}

# wait_lazy_gone ROOT [SECONDS]: ROOT's entry leaves the status (bounded,
# default 60 s); a "failed" entry fails the test with its error.
wait_lazy_gone()
{
	local root=$1 n=${2:-60} t0 entry
	t0=$(now_ms)
	while :; do
		lazy_status
		entry=$(lazy_entry "$root") || break
		case $entry in
		failed*) fail "the lazy restore of $root failed: $(lazy_error "$root")" ;;
		esac
		[ $(($(now_ms) - t0)) -le $((n * 1000)) ] ||
			fail "the lazy restore of $root still listed after ${n}s: $entry"
		sleep 0.1
	done
	log "the lazy restore of $root is done (gone from the status $(($(now_ms) - t0)) ms later)"
}

# all_gone SECONDS PIDS...: every PID exists no more within SECONDS
# (not even as a zombie: /proc is polled).
all_gone()
{
	local n=$1 t0 p left
	shift
	t0=$(now_ms)
	while :; do
		left=
		for p in "$@"; do
			[ -e "/proc/$p" ] && left="$left $p"
		done
		[ -z "$left" ] && return 0
		if [ $(($(now_ms) - t0)) -gt $((n * 1000)) ]; then
			for p in $left; do
				echo "left: pid $p: $(proc_stat "$p"), TracerPid $(tracer_of "$p")" >&2
				diag_pid "$p"
			done
			fail "pids$left still exist after ${n}s"
		fi
		sleep 0.05
	done
}

# lazy_cycle [-w] MIB [DIR]: the course of t-lazy.sh and t-lazy-big.sh:
# lazymem of MIB MiB is dumped (killed) into DIR (default $TMP/img; when
# DIR holds a set already, the tree of the last lazy_cycle, $TPID, is
# restored from it again), then restored with --lazy: the restore returns
# with pages left, the status (JSON and text) lists it, the server traces
# the target, the target answers a ping. Then without -w it checks every
# byte at once, while pages are missing (threads, fork, mremap,
# MADV_DONTNEED, munmap, writes), and passes only once untraced; with -w
# (lazymem's $TSTATUS.hold) it waits until the server is done, is seen
# from outside untraced and running, every thread, and then checks.
# Either way the entry leaves the status and the server exits.
lazy_cycle()
{
	local hold= mib dir tracer
	[ "$1" = -w ] && { hold=1; shift; }
	mib=$1 dir=${2:-$TMP/img}
	if [ ! -f "$dir/inventory.img" ]; then
		start_target lazymem "$mib"
		dump_kill "$dir"
	fi
	rm -f "$TSTATUS" "$TSTATUS.hold"
	[ -n "$hold" ] && : >"$TSTATUS.hold"
	restore_lazy "$dir"
	[ "$LAZY_STATE" = serving ] ||
		fail "no lazy restore of $TPID serving right after the restore returned: $(cat "$LAZY_JSON")"
	[ "$LAZY_PAGES" -ge $((mib * 256)) ] ||
		fail "the lazy restore serves $LAZY_PAGES pages; the big map alone has $((mib * 256))"
	# MIB MiB take the server a second or more (about 1 GB/s here), the
	# status was taken some 50 ms after the restore returned
	[ "$LAZY_LEFT" -gt 0 ] ||
		fail "the status says the lazy restore of $TPID is serving with $LAZY_LEFT of $LAZY_PAGES pages left right after the restore returned: $(cat "$LAZY_JSON")"
	log "the restore returned with $LAZY_LEFT of $LAZY_PAGES pages left"
	# the text status names it too, while it serves
	ckpt status
	if ! grep -i lazy "$LAST_OUT" | grep -q "$TPID"; then
		lazy_status
		! lazy_entry "$TPID" >/dev/null ||
			fail "ckptctl status does not name the lazy restore of $TPID: $(cat "$LAST_OUT")"
	fi
	# the server traces the target while pages are missing
	tracer=$(tracer_of "$TPID")
	if [ "$tracer" != "$LAZY_SERVER" ]; then
		lazy_status
		! lazy_entry "$TPID" >/dev/null ||
			fail "pid $TPID is traced by '$tracer', not by its lazy server $LAZY_SERVER"
	fi
	lazy_ping
	if [ -z "$hold" ]; then
		wait_verdict pass
		wait_lazy_gone "$TPID" 60
	else
		wait_lazy_gone "$TPID" 60
		check_alive "$TPID"
		expect_status pass
	fi
	all_gone 10 "$LAZY_SERVER"
}
