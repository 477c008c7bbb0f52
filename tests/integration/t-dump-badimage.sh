#!/bin/sh
# Damaged image sets given to `ckptctl show`: a flipped byte in a record, a
# truncated file, bytes after the end marker, a flipped byte in page data,
# a missing file, a foreign file. Each is refused with exit status 5 and a
# message naming the file and the offset (or the missing file); stdout
# carries no half document.
. "$(dirname "$0")/lib.sh"

start_target sample
GOOD=$TMP/good
dump_target "$GOOD"
pid=$TPID
expect_status pass

fresh()
{
	rm -rf "$TMP/bad"
	cp -a "$GOOD" "$TMP/bad"
}

bad_show()	# PATTERN: show must refuse with exit 5
{
	expect_fail 5 "$1" ckptctl show "$TMP/bad"
	[ ! -s "$LAST_OUT" ] || fail "show printed output for a bad set: $(head -c 200 "$LAST_OUT")"
}

size()
{
	stat -c %s "$1"
}

# a byte in the middle of a record of core-PID.img
fresh
flip "$TMP/bad/core-$pid.img" $(( $(size "$GOOD/core-$pid.img") / 2 ))
bad_show "core-$pid\.img.*offset [0-9]+"

# mm-PID.img cut short, in a record and just before the end marker
fresh
truncate -s $(( $(size "$GOOD/mm-$pid.img") / 2 )) "$TMP/bad/mm-$pid.img"
bad_show "mm-$pid\.img.*offset [0-9]+"
fresh
truncate -s $(( $(size "$GOOD/mm-$pid.img") - 4 )) "$TMP/bad/mm-$pid.img"
bad_show "mm-$pid\.img.*offset [0-9]+"

# bytes after the end marker of pstree.img
fresh
printf 'junk' >>"$TMP/bad/pstree.img"
bad_show "pstree\.img.*offset [0-9]+"

# the header of inventory.img
fresh
flip "$TMP/bad/inventory.img" 0
bad_show "inventory\.img.*offset [0-9]+"

# a byte of page data
fresh
pages=$(cd "$GOOD" && ls pages-*.img | head -n 1)
flip "$TMP/bad/$pages" $((4096 + 5000))
bad_show "$pages.*offset [0-9]+"

# an entry of the pagemap
fresh
flip "$TMP/bad/pagemap-$pid.img" $(( $(size "$GOOD/pagemap-$pid.img") / 2 ))
bad_show "pagemap-$pid\.img.*offset [0-9]+"

# a missing file
fresh
rm "$TMP/bad/mm-$pid.img"
bad_show "mm-$pid\.img"

# a file of another kind under a set's name
fresh
cp "$GOOD/pstree.img" "$TMP/bad/fs-$pid.img"
bad_show "fs-$pid\.img"

# one file given alone
flip "$TMP/bad/core-$pid.img" 100
expect_fail 5 "core-$pid\.img.*offset [0-9]+" ckptctl show "$TMP/bad/core-$pid.img"

# and the good set still decodes
show_json "$GOOD"
