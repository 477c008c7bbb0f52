#!/bin/sh
# Incremental chain with the hash tracker (no live state: each page hashed and compared with the parent's hashes-PID.img): pre-dump, pre-dump --prev,
# dump --prev, restore through the chain; between rounds the target writes,
# maps, unmaps, grows, moves and re-protects regions, drops pages (THP
# too) and forks a child; restored, every byte is what it wrote last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

need_tracker hash
incr_chain hash
