#!/bin/sh
# Bad --prev inputs: missing, not an image set, another process's set, a
# set of an earlier process with the same pid, one made before a reboot, a
# tracker other than the parent's, a tracker this kernel lacks. Each exits
# non-zero naming what is wrong, writes no set, and leaves every target
# running, untraced, and tracked as before; a first round that fails half
# way (a full disk) leaves no tracking behind. The chain still goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"
need_file "$TOOLS/imgedit"

A_DIR=$TMP/a
mkdir -p "$A_DIR" "$TMP/b"
start_target incr
A=$TPID A_STATUS=$TSTATUS
ckpt_ok pre-dump -t "$A" -D "$A_DIR/1" --track hash

expect_fail 1 "--prev \.\./nope: cannot open it \(relative to $A_DIR/2\)" \
	ckptctl pre-dump -t "$A" -D "$A_DIR/2" --prev ../nope
mkdir "$A_DIR/empty"
expect_fail 1 "--prev \.\./empty: .*not an image set" \
	ckptctl pre-dump -t "$A" -D "$A_DIR/2" --prev ../empty
no_partial_set "$A_DIR/2"

# another process's set
start_target incr
B=$TPID B_STATUS=$TSTATUS
expect_fail 1 "--prev \.\./\.\./a/1 is a set of pid $A, not of pid $B" \
	ckptctl pre-dump -t "$B" -D "$TMP/b/1" --prev ../../a/1
no_partial_set "$TMP/b/1"

# the same pid, an earlier process (start time), an earlier boot
cp -r "$A_DIR/1" "$A_DIR/old"
"$TOOLS/imgedit" "$A_DIR/old" start_time 1 || fail "imgedit start_time"
expect_fail 1 "--prev \.\./old saved another process with pid $A \(start time 1," \
	ckptctl dump -t "$A" -D "$A_DIR/2" --prev ../old --leave-running
cp -r "$A_DIR/1" "$A_DIR/boot"
"$TOOLS/imgedit" "$A_DIR/boot" boot_id 00000000-0000-0000-0000-000000000000 || fail "imgedit boot_id"
expect_fail 1 "--prev \.\./boot was made before a reboot \(boot id 0{8}-" \
	ckptctl pre-dump -t "$A" -D "$A_DIR/2" --prev ../boot
no_partial_set "$A_DIR/2"

# a tracker other than the parent's; one this kernel lacks
expect_fail 1 "--prev \.\./1 was tracked with hash, not soft-dirty: leave --track out" \
	ckptctl pre-dump -t "$A" -D "$A_DIR/2" --prev ../1 --track soft-dirty
ckpt_ok check --json
cp "$LAST_OUT" "$TMP/check.json"
if grep -q '"tracker_soft_dirty": *false' "$TMP/check.json"; then
	expect_fail 1 "--track soft-dirty: this kernel does not offer it: CONFIG_MEM_SOFT_DIRTY is off" \
		ckptctl pre-dump -t "$B" -D "$TMP/b/1" --track soft-dirty
fi
expect_fail 2 "--track nonsense: no such tracker" \
	ckptctl pre-dump -t "$B" -D "$TMP/b/1" --track nonsense
no_partial_set "$TMP/b/1"

# a first round that fails once its tracking is armed leaves none
if grep -q '"tracker_uffd_wp": *true' "$TMP/check.json"; then
	mkdir -p "$TMP/full"
	mount_tmpfs "$TMP/full" 256k
	expect_fail 1 "pages|No space" ckptctl pre-dump -t "$B" -D "$TMP/full/1" --track uffd-wp
	no_partial_set "$TMP/full/1"
fi
no_keeper "$B"

for p in "$A" "$B"; do
	check_alive "$p"
	[ "$(proc_stat "$p" | cut -d' ' -f1)" != t ] || fail "$p is left traced"
done

# the chain from a/1 goes on, and restores
incr_step
ckpt_ok pre-dump -t "$A" -D "$A_DIR/2" --prev ../1
TPID=$A TSTATUS=$A_STATUS
ckpt_ok dump -t "$A" -D "$A_DIR/3" --prev ../2
wait_gone "$A"
TREE_PIDS=$A
restore_ok "$A_DIR/3"
expect_status pass
expect_status pass "$B_STATUS" "$B"
