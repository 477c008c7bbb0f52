#!/bin/sh
# Restore of the churn target: caught while threads are created and exit
# all the time, it comes back with the threads the dump saw and carries on.
# (Its thread set changes all the time, so /proc is not compared.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/restore-lib.sh"

restore_cycle churn
