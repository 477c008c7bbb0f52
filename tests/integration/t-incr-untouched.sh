#!/bin/sh
# A target with 1 GiB present (written once, before round 1) that writes
# nothing afterwards: its incremental rounds hold almost no pages, with the
# auto tracker (uffd-wp here) and with the hash tracker (whose rounds read
# and hash every page but write none), dump or pre-dump alike. The first
# pre-dump copies the 1 GiB with the tree running: frozen only to scan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

GIB_PAGES=262144
start_target incr -b 1024
for t in auto hash; do
	mkdir -p "$TMP/$t"
	ckpt_ok pre-dump -t "$TPID" -D "$TMP/$t/1" --track "$t" --json
	n=$(json_pages)
	[ "$n" -ge "$GIB_PAGES" ] || fail "round 1 ($t) wrote $n pages, not the 1 GiB present"
	# freeze only to scan: the tree ran while the 1 GiB was copied
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["freeze_us"] * 4 < d["total_us"], "frozen %d us of %d" % (d["freeze_us"], d["total_us"])' \
		"$LAST_OUT" || fail "round 1 ($t) kept the tree frozen while copying: $(cat "$LAST_OUT")"
	ckpt_ok pre-dump -t "$TPID" -D "$TMP/$t/2" --prev ../1 --json
	n=$(json_pages)
	log "$t: round 2 wrote $n pages of $GIB_PAGES present"
	[ "$n" -le 64 ] || fail "$t: round 2 of an untouched target wrote $n pages"
done
ckpt_ok dump -t "$TPID" -D "$TMP/hash/3" --prev ../2 --leave-running --json
n=$(json_pages)
[ "$n" -le 64 ] || fail "hash: the last round (a dump) of an untouched target wrote $n pages"
# restoring 1 GiB takes seconds here: the chain tests restore through
# IN_PARENT; this one checks the target's memory is intact after tracking
expect_status pass
