#!/bin/sh
# Restore refuses what it can't rebuild faithfully, before anything runs:
# a pid in use, a mapped file that changed or is gone, a corrupt or
# truncated image, an image from a newer format, a CPU lacking the image's
# xsave features, a different vdso layout. Each refusal exits non-zero,
# names the pid, file or offset, and leaves no process of the tree behind.
. "$(dirname "$0")/lib.sh"

need_file "$TOOLS/imgedit"
start_target memory
pid=$TPID
dir=$TMP/img
mkdir -p "$dir"

# The target still runs: its pid is taken.
dump_target "$dir"
expect_fail 1 "pid $pid is in use" ckptctl restore -D "$dir"
check_alive "$pid"

# Now dump for real (the tree is killed) and wait until the pid is free.
rm -rf "$dir"
mkdir -p "$dir"
ckpt_ok dump -t "$pid" -D "$dir"
wait_gone "$pid"

# copy DIR: a fresh copy of the image set in $TMP/DIR
copy()
{
	rm -rf "$TMP/$1"
	cp -a "$dir" "$TMP/$1"
}

# no_tree: the failed restore left no process with the tree's pid
no_tree()
{
	sleep 0.2
	[ ! -e "/proc/$pid" ] || fail "pid $pid exists after a failed restore: $(proc_stat $pid)"
}

copy corrupt
# flip a byte inside the first record of core-PID.img
printf '\377' | dd of="$TMP/corrupt/core-$pid.img" bs=1 seek=30 conv=notrunc 2>/dev/null
expect_fail 5 "core-$pid.img at offset [0-9]+" ckptctl restore -D "$TMP/corrupt"
no_tree

copy trunc
sz=$(stat -c %s "$TMP/trunc/mm-$pid.img")
truncate -s $((sz - 20)) "$TMP/trunc/mm-$pid.img"
expect_fail 5 "mm-$pid.img at offset [0-9]+: truncated" ckptctl restore -D "$TMP/trunc"
no_tree

copy newer
"$TOOLS/imgedit" "$TMP/newer" format 99 || fail "imgedit format"
expect_fail 5 "format version 99 is newer" ckptctl restore -D "$TMP/newer"
no_tree

copy xsave
# bit 9 (PKRU) on top of what the image had: this CPU lacks it
"$TOOLS/imgedit" "$TMP/xsave" xfeatures 0x2e7 || fail "imgedit xfeatures"
expect_fail 1 "xsave features 0x2e7 .*missing" ckptctl restore -D "$TMP/xsave"
no_tree

copy vdso
"$TOOLS/imgedit" "$TMP/vdso" vdso "$pid" -4096 || fail "imgedit vdso"
expect_fail 1 "\\[vdso\\] is [0-9]+ bytes, this kernel's is [0-9]+" ckptctl restore -D "$TMP/vdso"
no_tree

# A file the process maps changed since the dump, then is gone.
f=$(ls "$TMP"/memory-private.dat 2>/dev/null || find "$TMP" -name memory-private.dat | head -n 1)
[ -n "$f" ] || fail "no memory-private.dat under $TMP"
touch -d '2001-01-01' "$f"
expect_fail 1 "mapping at 0x[0-9a-f]+: file .*memory-private.dat was modified" \
	ckptctl restore -D "$dir"
no_tree
rm -f "$f"
expect_fail 1 "mapping at 0x[0-9a-f]+: file .*memory-private.dat is gone" \
	ckptctl restore -D "$dir"
no_tree
log "every bad image refused"
