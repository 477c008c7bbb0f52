#!/bin/sh
# Lazy restore at size: lazymem with 4 GiB of distinct pages, restored with
# --lazy (t-lazy.sh's course, tests/integration/lazy-lib.sh): the restore
# returns with pages left, the target answers its ping, checks every byte
# from 4 threads in random order (and its fork, mremap, MADV_DONTNEED,
# munmap and writes) while pages fault in; then the lazy server is done
# and gone. The image set (4 GiB and more) is in $TMP, removed on exit.
#
#	LAZY_BIG_MIB=4096	the size of the big map
#
# Writing 4 GiB of fresh memory takes this VM from 3 s to over 30 s (its
# first touches are slow when the host is loaded): the target gets 120 s.
READY_TIMEOUT=${READY_TIMEOUT:-120}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/lazy-lib.sh"

lazy_cycle "${LAZY_BIG_MIB:-4096}"
