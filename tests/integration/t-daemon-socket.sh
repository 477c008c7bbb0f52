#!/bin/sh
# ckptd socket-activated (systemd-socket-activate --seqpacket): ckptctl goes
# through $CKPT_SOCKET (with CKPTD pointing nowhere, so no one-shot daemon
# can stand in), concurrent clients, a dump through it, and refusals: the
# daemon's own pid, and a root process asked for by an unprivileged user.
. "$(dirname "$0")/lib.sh"

command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
command -v setpriv >/dev/null || skip "setpriv missing"

AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
# nobody reaches the socket (0666: ckptd decides from SO_PEERCRED) and a
# directory of its own under $TMP (0711)
activate_daemon 60

ckpt_ok check
grep -Eq '^pagemap_scan +yes' "$LAST_OUT" || fail "check via the socket: $(cat "$LAST_OUT")"
grep -q "Execing $BUILD/bin/ckptd" "$TMP/daemon.log" || fail "the socket did not start ckptd: $(cat "$TMP/daemon.log")"
# systemd-socket-activate execs ckptd in its own process
[ "$(cat /proc/$DPID/comm)" = ckptd ] || fail "pid $DPID is $(cat /proc/$DPID/comm), not ckptd"
# ckptctl status: what the service says of itself, to anyone who may connect
ckpt_ok status --json
json_check "$LAST_OUT" "assert j['pid'] == $DPID and j['mode'] == 'socket-activated' and \
	j['socket'] == '$SOCK' and j['protocol'] >= 1 and j['version'] and \
	j['idle_timeout_s'] == 60 and j['uptime_ms'] >= 0 and j['max_clients'] > 0, j"
$AS_NOBODY "$CKPTCTL" status >"$TMP/status.out" 2>&1 || fail "status as nobody: $(cat "$TMP/status.out")"
grep -Eq "^ckptd [0-9.]+ \(protocol [0-9]+\) pid $DPID at $SOCK: socket-activated, up [0-9]+\.[0-9]{3} s, exits after 60 s idle\$" \
	"$TMP/status.out" || fail "status: $(cat "$TMP/status.out")"

# concurrent clients, each served by a child of its own
pids=
for n in 1 2 3 4; do
	"$CKPTCTL" check --json >"$TMP/par.$n.json" 2>&1 &
	pids="$pids $!"
done
wait $pids
for n in 1 2 3 4; do
	json_check "$TMP/par.$n.json" 'assert j["pagemap_scan"] is True, j'
done

# the daemon itself is never a target
expect_fail 4 "pid $DPID is ckptd itself" ckptctl dump -t $DPID -D "$TMP/self"
no_partial_set "$TMP/self"
kill -0 $DPID || fail "ckptd died after refusing to dump itself"

# an unprivileged user may not dump a root process
start_target sample
mkdir -m 0777 "$TMP/pub"
expect_fail 4 "uid 0; uid 65534 may only dump its own" \
	$AS_NOBODY "$CKPTCTL" dump -t "$TPID" -D "$TMP/pub/img"
no_partial_set "$TMP/pub/img"
# ... and errors are JSON too with --json
$AS_NOBODY "$CKPTCTL" dump --json -t "$TPID" \
	-D "$TMP/pub/img" >"$TMP/nobody.json" 2>/dev/null
json_check "$TMP/nobody.json" 'assert j["errno"] == 1 and "may only dump" in j["error"], j'
check_alive

# an unprivileged user's own process, but an image directory it cannot write
# (a process of its own: no fd inherited from this root shell, and a cwd
# it may enter itself, which a restore as nobody needs)
(cd "$TMP/pub" && exec $AS_NOBODY \
	perl -e 'use POSIX; POSIX::close($_) for 3..1023; exec @ARGV' sleep 1000 \
	</dev/null >/dev/null 2>&1) &
NPID=$!
track_pid $NPID
mkdir -m 0755 "$TMP/rootdir"
expect_fail 1 "not writable by uid 65534" \
	$AS_NOBODY "$CKPTCTL" dump -t $NPID -D "$TMP/rootdir"

# a dump through the socket, by root
dump_target "$TMP/img"
check_alive
expect_status pass

# and by the owner of a process: the images belong to that user
$AS_NOBODY "$CKPTCTL" dump -t $NPID -D "$TMP/pub/nimg" \
	--leave-running >"$TMP/ndump.out" 2>&1 || fail "nobody's dump of its own pid $NPID: $(cat "$TMP/ndump.out")"
[ "$(stat -c %u "$TMP/pub/nimg/inventory.img")" = 65534 ] ||
	fail "nobody's images are owned by uid $(stat -c %u "$TMP/pub/nimg/inventory.img")"
check_alive $NPID

# ... and restores under its own credentials only: its own process back,
$AS_NOBODY "$CKPTCTL" dump -t $NPID -D "$TMP/pub/nimg2" >"$TMP/ndump2.out" 2>&1 ||
	fail "nobody's dump of pid $NPID: $(cat "$TMP/ndump2.out")"
wait_gone $NPID
$AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/nimg2" >"$TMP/nrestore.out" 2>"$TMP/nrestore.err" ||
	fail "nobody's restore of pid $NPID: $(cat "$TMP/nrestore.out" "$TMP/nrestore.err")"
track_pid $NPID
[ "$(cat "$TMP/nrestore.out")" = "$NPID" ] || fail "nobody's restore: $(cat "$TMP/nrestore.out")"
[ "$(stat -c %u /proc/$NPID)" = 65534 ] || fail "pid $NPID restored as uid $(stat -c %u /proc/$NPID)"
check_alive $NPID
# ... but not a root process, even from images it may read
perl -e 'use POSIX; POSIX::close($_) for 3..1023; exec @ARGV' sleep 1000 </dev/null >/dev/null 2>&1 &
RPID=$!
track_pid $RPID
ckpt_ok dump -t $RPID -D "$TMP/pub/rootimg"
wait_gone $RPID
chmod -R a+rwX "$TMP/pub/rootimg"
expect_fail 1 "uid 65534 may restore only its own" $AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/rootimg"
[ -e "/proc/$RPID" ] && fail "pid $RPID exists after a refused restore"

# ... nor learn anything else about such a set: the refusal comes before
# the check that the files it holds are unchanged
echo data >"$TMP/pub/held"
perl -e 'use POSIX; POSIX::close($_) for 3..1023; exec @ARGV' sleep 1000 \
	<"$TMP/pub/held" >/dev/null 2>&1 &
HPID=$!
track_pid $HPID
ckpt_ok dump -t $HPID -D "$TMP/pub/heldimg"
wait_gone $HPID
chmod -R a+rwX "$TMP/pub/heldimg"
echo more >>"$TMP/pub/held"
# (a grown file held open is fine by default: strict still refuses it)
expect_fail 1 "uid 65534 may restore only its own" $AS_NOBODY "$CKPTCTL" restore -D "$TMP/pub/heldimg"
expect_fail 1 "pid $HPID fd 0: file .*/held changed size" ckptctl restore --file-validation=strict -D "$TMP/pub/heldimg"

# a dump by the owner of a process holding pipes: one whose read end came
# from root (stdin, left full by a root writer), one of its own; and, as
# fd 4, a deleted file of root's it may read only through that fd (read up
# to offset 3). uid 65534 may open none of them through /proc; the dump
# takes the process's own descriptions, keeps every byte in the pipes and
# moves no offset.
printf secretdata >"$TMP/pub/secret"
chmod 0600 "$TMP/pub/secret"
printf rootdata | $AS_NOBODY perl -e '
	use POSIX; POSIX::close($_) for grep { $_ != 4 } 3..1023;
	pipe(my $r, my $w) or die; syswrite($w, "owndata") == 7 or die;
	open(my $s, "<&=", 4) or die; sysread($s, my $x, 3) == 3 or die;
	$SIG{USR1} = sub {
		my ($a, $b, $c);
		sysread(STDIN, $a, 100); sysread($r, $b, 100); sysread($s, $c, 100);
		open(my $o, ">", $ARGV[0]) or die; print $o "$a $b $c\n"; close $o; exit 0;
	};
	open(my $o, ">", "$ARGV[0].ready") or die; close $o;
	sleep 1 while 1;' "$TMP/pub/pipes" >/dev/null 2>&1 4<"$TMP/pub/secret" &
PPID_=$!
track_pid $PPID_
wait_path -e "$TMP/pub/pipes.ready" || fail "the pipe holder did not start"
rm "$TMP/pub/secret"
$AS_NOBODY "$CKPTCTL" dump -t $PPID_ -D "$TMP/pub/pimg" --leave-running \
	>"$TMP/pdump.out" 2>&1 || fail "nobody's dump of its pipes: $(cat "$TMP/pdump.out")"
P=$PPID_ show_check "$TMP/pub/pimg" '
f = fds(int(os.environ["P"]))
data = sorted(bytes.fromhex(d.get("pipe_data", "")) for d in f.values() if d["type"] == "FD_PIPE")
assert data == [b"", b"owndata", b"rootdata"], data
g = f[4]
assert g["deleted"] and g["pos"] == 3, g
assert j["ghosts"][str(g["ghost_id"])]["bytes"] == 10, j["ghosts"]'
check_alive $PPID_
kill -USR1 $PPID_
wait_path -s "$TMP/pub/pipes" || fail "the pipe holder did not answer"
[ "$(cat "$TMP/pub/pipes")" = "rootdata owndata retdata" ] ||
	fail "pipe data and offset after the dump: $(cat "$TMP/pub/pipes")"

kill -0 $DPID || fail "ckptd died"
grep -q "failed: pid $DPID is ckptd itself" "$TMP/daemon.log" ||
	fail "ckptd did not log the refusal: $(cat "$TMP/daemon.log")"
exit 0
