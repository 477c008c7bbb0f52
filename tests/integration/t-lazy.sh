#!/bin/sh
# Lazy restore (ckptctl restore --lazy) of 1 GiB of distinct pages
# (tests/targets/lazymem.c): the restore returns while most pages are still
# to come, `ckptctl status` lists it (JSON and text), the lazy server
# traces the target, the target answers at once, then checks every byte
# while its pages fault in: from 4 threads in random order, in a forked
# child, across mremap, MADV_DONTNEED, munmap and writes. Once every page
# is in, the entry leaves the status, the server exits and nothing traces
# the target. The same set is then restored again and left alone: the
# server pushes every page in by itself, then the target checks them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"
. "$(dirname "$0")/lazy-lib.sh"

lazy_cycle 1024
lazy_cycle -w 1024
