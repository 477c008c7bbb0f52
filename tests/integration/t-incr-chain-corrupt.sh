#!/bin/sh
# A corrupted link: a flipped byte in a parent's pages file, then in its
# pagemap. Restore refuses naming the link and the offset and leaves no
# process behind; merge refuses the same way and leaves no set.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/chain-lib.sh"
need_predump

start_target memory
mkdir -p "$TMP/img"
ckpt_ok pre-dump -t "$TPID" -D "$TMP/img/1"
dump_kill "$TMP/img/2" --prev ../1
cp -a "$TMP/img" "$TMP/good"

set -- $(parent_block "$TMP/img/2" "$TMP/img/1" "$TPID")
flip "$TMP/img/1/$1" "$2"
log "flipped $1 at $2 in link 1"
expect_fail 5 "(link 1|\.\./1).*$1 at offset [0-9]+" ckptctl restore -D "$TMP/img/2"
no_tree_left
expect_fail 5 "link 1 \(\.\./1\): $1 at offset [0-9]+: block checksum mismatch" \
	ckptctl merge "$TMP/img/2" -D "$TMP/flat"
[ ! -e "$TMP/flat/inventory.img" ] || fail "merge of a corrupt chain left a set"

rm -rf "$TMP/img"
cp -a "$TMP/good" "$TMP/img"
# the first entry's record in the parent's pagemap
flip "$TMP/img/1/pagemap-$TPID.img" 40
expect_fail 5 "(link 1|\.\./1).*pagemap-$TPID.img at offset [0-9]+" ckptctl restore -D "$TMP/img/2"
no_tree_left
expect_fail 5 "link 1 \(\.\./1\): pagemap-$TPID.img at offset [0-9]+" \
	ckptctl merge "$TMP/img/2" -D "$TMP/flat"

# undamaged, it restores
rm -rf "$TMP/img"
cp -a "$TMP/good" "$TMP/img"
restore_ok "$TMP/img/2"
expect_status pass
