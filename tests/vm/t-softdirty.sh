#!/bin/sh
# Soft-dirty works in the guest for real (so a soft-dirty tracker can be
# tested here): after clear_refs 4, pagemap bit 55 is clear, and a write
# sets it again, in the probe's own pages and, through /proc/PID, in a
# child's (the way ckptd tracks a target).
. "$(dirname "$0")/lib.sh"

"$VMBIN/softdirty-probe" >"$T/probe.out" 2>&1 || fail "softdirty-probe: $(cat "$T/probe.out")"
cat "$T/probe.out"
vm_ok softdirty
