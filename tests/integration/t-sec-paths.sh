#!/bin/sh
# Issue 7, hole 5: every path of an image must be absolute; a relative one
# would be resolved from ckptd's cwd (/). A fresh user dumps a process of
# its own and makes each path relative, naming the very same file, so that
# only the rule refuses it (checksums recomputed). Each restore must be
# refused naming the image, record and field, and leave nothing running:
#  - files.img: the file of an open fd (../../etc/shadow style);
#  - mm-PID.img: the executable, and a mapped file;
#  - fs-PID.img: the cwd and the root.
# Root's restore refuses them too. (A bad image: exit 5.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

sec_dump img
# ckptd's cwd (it runs since the dump), from which a relative path would
# be taken
DCWD=$(readlink "/proc/$DPID/cwd") || fail "cannot read ckptd's cwd"
rel() { python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$1" "$DCWD"; }
SEC_RC=5	# a bad image
EXE=$(readlink -f "$(command -v sleep)")
log "the executable: $EXE"

sec_copy img file
sec_forge "$U/file" file 0 "$SPID" "$(rel "$U/data")"
sec_refused "$U/file" "files.img: file description [0-9]+: file.path is not an absolute path"

sec_copy img exe
sec_forge "$U/exe" exe "$SPID" "$(rel "$EXE")"
sec_refused "$U/exe" "mm-$SPID.img: mm_entry: exe.path is not an absolute path"

sec_copy img vma
sec_forge "$U/vma" vmafile "$SPID" "$EXE" "$(rel "$EXE")"
sec_refused "$U/vma" "mm-$SPID.img: VMA [0-9]+ at 0x[0-9a-f]+: file.path is not an absolute path"

sec_copy img cwd
sec_forge "$U/cwd" fs "$SPID" cwd "$(rel "$U")"
sec_refused "$U/cwd" "fs-$SPID.img: fs_entry: cwd is not an absolute path"

sec_copy img root
sec_forge "$U/root" fs "$SPID" root .
sec_refused "$U/root" "fs-$SPID.img: fs_entry: root is not an absolute path"

# root is refused the same
expect_fail 5 "files.img: file description [0-9]+: file.path is not an absolute path" \
	ckptctl restore -D "$U/file"
[ -e "/proc/$SPID" ] && { track_pid $SPID; fail "pid $SPID runs after root's refused restore"; }

sec_restored "$U/img"
kill -0 $DPID || fail "ckptd died"
exit 0
