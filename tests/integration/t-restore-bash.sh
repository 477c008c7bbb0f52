#!/bin/sh
# A real shell: bash runs a pipeline whose left side, a subshell, writes
# the numbers 1, 2, 3... into a pipe (in bursts, an external sleep between)
# and whose right side, a `while read` loop in another subshell, keeps
# count, sum and last number in variables. Asked (a request file) before
# the dump and after the restore, the reader answers "COUNT SUM LAST": no
# line may be lost or doubled across the restore (COUNT = LAST, SUM =
# LAST*(LAST+1)/2), and the numbers go on from where they were. The tree:
# bash, two subshells, sleeps, a pipe between them with lines waiting in
# it (the reader sleeps a second after its first answer: the dump comes
# then).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

command -v bash >/dev/null || skip "no bash"
cat >"$TMP/prog.sh" <<'SH'
dir=$1
{
	i=0
	while :; do
		# bursts: bash reads a pipe a byte at a time, so lines wait in it
		for j in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			i=$((i + 1))
			echo "$i"
		done
		sleep 0.02
	done
} | {
	count=0 sum=0 last=0 answers=0
	while read -r x; do
		count=$((count + 1))
		sum=$((sum + x))
		last=$x
		if [ $count -eq 100 ]; then
			echo "ready $$" >"$CKPT_STATUS.tmp"
			mv "$CKPT_STATUS.tmp" "$CKPT_STATUS"
		fi
		if [ -e "$dir/req" ]; then
			rm -f "$dir/req"
			answers=$((answers + 1))
			echo "$answers $count $sum $last" >"$dir/answer.tmp"
			mv "$dir/answer.tmp" "$dir/answer"
			# the first time, the dump comes while lines pile up
			[ $answers -eq 1 ] && sleep 1
		fi
		[ -e "$dir/stop" ] && exit 0
	done
}
SH

ask()
{
	rm -f "$TMP/answer"
	: >"$TMP/req"
	wait_file "$TMP/answer" 30
	mv "$TMP/answer" "$TMP/answer.$1"
	log "$1: $(cat "$TMP/answer.$1")"
}

# check_answer TAG N: the N-th answer, consistent
check_answer()
{
	local a count sum last
	read -r a count sum last <"$TMP/answer.$1"
	[ "$a" = "$2" ] || fail "$1: answer number $a, want $2 (state lost?)"
	[ "$count" = "$last" ] || fail "$1: $count lines read but the last was $last: lines lost or doubled"
	[ "$sum" = $((last * (last + 1) / 2)) ] || fail "$1: sum $sum of 1..$last is wrong"
	LAST=$last
}

start_prog bash bash "$TMP/prog.sh" "$TMP"
ask before
check_answer before 1
last1=$LAST
# bash and its two subshells (a sleep comes and goes below the writer)
SHELLS="$TPID $(cat /proc/"$TPID"/task/*/children)"
[ "$(echo $SHELLS | wc -w)" = 3 ] || fail "expected bash and two subshells, have: $SHELLS"
dump_kill "$TMP/img"
for p in $SHELLS; do
	echo " $TREE_PIDS " | tr '\n' ' ' | grep -q " $p " || fail "pid $p is not in the image: $TREE_PIDS"
done
show_json "$TMP/img"
buffered=$(python3 -c '
import base64, json, sys
j = json.load(open(sys.argv[1]))
print(sum(len(base64.b64decode(d.get("pipe_data", ""))) for d in j["files"]))' "$TMP/show.json") ||
	fail "cannot read the pipes of $TMP/img"
log "bytes buffered in the pipe at the dump: $buffered"
[ "$buffered" -gt 0 ] || fail "no line waited in the pipe at the dump (the reader sleeps 1 s then)"
restore_ok "$TMP/img"
for p in $SHELLS; do
	case $(proc_state "$p") in
	S|R) ;;
	*) fail "pid $p: state '$(proc_state "$p")' after restore" ;;
	esac
done
ask after
check_answer after 2
[ "$LAST" -gt "$last1" ] || fail "the count went from $last1 to $LAST"
ask again
check_answer again 3
# a clean end: the reader exits, the writer dies of SIGPIPE, bash exits
: >"$TMP/stop"
for p in $TREE_PIDS; do
	wait_gone "$p" 10
done
log "bash tree $(echo $TREE_PIDS) restored and finished"
