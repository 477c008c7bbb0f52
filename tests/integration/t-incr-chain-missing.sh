#!/bin/sh
# A chain with a missing, replaced or cyclic link: restore, show and merge
# refuse it naming the link, before anything starts; the target runs on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/chain-lib.sh"
need_predump

start_target memory
predump_chain "$TMP/img"
ckpt_ok dump -t "$TPID" -D "$TMP/img/3" --prev ../2 --leave-running
ckpt_ok show --chain "$TMP/img/3"
[ "$(wc -l <"$LAST_OUT")" -eq 3 ] || fail "show --chain: $(cat "$LAST_OUT")"

# missing
mv "$TMP/img/1" "$TMP/img/away"
for cmd in "restore -D" "show" "show --chain" "merge -D $TMP/out"; do
	set -- $cmd
	if [ "$1" = merge ]; then
		expect_fail 5 "$TMP/img/3: link 2 \(\.\./1\): cannot open the parent set" ckptctl merge "$TMP/img/3" "$2" "$3"
	else
		expect_fail 5 "$TMP/img/3: link 2 \(\.\./1\): cannot open the parent set" ckptctl "$@" "$TMP/img/3"
	fi
done
[ ! -e "$TMP/out/inventory.img" ] || fail "merge of a broken chain left a set"

# replaced by another set (of another process)
FIRST=$TPID FIRST_STATUS=$TSTATUS
mkdir "$TMP/other"
TARGET_DIR=$TMP/other start_target memory
ckpt_ok pre-dump -t "$TPID" -D "$TMP/img/1"
expect_fail 5 "link 2 \(\.\./1\): is set [0-9a-f]+, not the parent set [0-9a-f]+ that link 1 \(\.\./2\) names" \
	ckptctl restore -D "$TMP/img/3"
rm -rf "$TMP/img/1"

# a cycle: link 2 is link 1 again
ln -s 2 "$TMP/img/1"
expect_fail 5 "link 2 \(\.\./1\).*(same directory as link 1|cyclic|not the parent set)" \
	ckptctl restore -D "$TMP/img/3"
rm "$TMP/img/1"
mv "$TMP/img/away" "$TMP/img/1"
ckpt_ok show --chain "$TMP/img/3"
check_alive "$FIRST"
expect_status pass "$FIRST_STATUS" "$FIRST"
