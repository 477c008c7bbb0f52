#!/bin/sh
# A full dump and restore on 6.1 (the old two-area vdso, no PAGEMAP_SCAN):
# the memory target (every kind of mapping, checked byte for byte by the
# target itself, as tests/integration/t-restore-memory.sh) and the threads
# target (TIDs through clone3 set_tid). The restored memory target must
# have its [vdso] and [vvar] where the dumped one had them.
. "$(dirname "$0")/lib.sh"

# vdso_areas PID: the [vvar]/[vdso]/[vvar_vclock] lines of its maps
vdso_areas()
{
	maps_of "$1" | grep -E '\[(vdso|vvar|vvar_vclock)\]' | while read -r range perms rest; do
		echo "$range ${rest##* }"
	done
}

start_target memory
before=$(vdso_areas "$TPID")
log "vdso before: $(echo $before)"
dump_kill "$T/img-memory"
restore_ok "$T/img-memory"
after=$(vdso_areas "$TPID")
[ "$before" = "$after" ] ||
	fail "vdso areas moved: dumped with '$(echo $before)', restored with '$(echo $after)'"
expect_pass
vm_ok restore-memory

start_target threads
dump_kill "$T/img-threads"
restore_ok "$T/img-threads"
expect_pass
vm_ok restore-threads
