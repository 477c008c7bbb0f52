#!/bin/sh
# Incremental chain with the uffd-wp tracker: pre-dump, pre-dump --prev,
# dump --prev, restore through the chain; between rounds the target writes,
# maps, unmaps, grows, moves and re-protects regions, drops pages (THP
# too) and forks a child; restored, every byte is what it wrote last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/incr-lib.sh"

need_tracker uffd-wp
incr_chain uffd-wp
