#!/bin/sh
# The guest is what make check-vm promises: Debian 12's 6.1 kernel, which
# ckptd's kerndat sees with soft-dirty, without PAGEMAP_SCAN and
# UFFD_FEATURE_WP_ASYNC (so no uffd-wp tracker), with clone3 set_tid, and
# with the old vdso layout ([vvar] and [vdso], no [vvar_vclock]).
. "$(dirname "$0")/lib.sh"

rel=$(uname -r)
case $rel in
6.1.*) vm_ok kernel-6.1 ;;
*) check_fail kernel-6.1 "uname -r is $rel, not 6.1.*: the VM booted another kernel" ;;
esac

ckpt_ok check --json
json=$(cat "$LAST_OUT")
log "ckptctl check --json: $json"
ckpt_ok check
cat "$LAST_OUT"

# feature KEY: true or false, as ckptctl check --json says
feature()
{
	echo "$json" | tr ',{}' '\n\n\n' | sed -En "s/^ *\"$1\" *: *(true|false) *\$/\1/p" | head -n 1
}

bad=
for want in soft_dirty=true pagemap_scan=false uffd_wp_async=false clone3_set_tid=true sock_diag=true \
	tracker_soft_dirty=true tracker_uffd_wp=false tracker_hash=true; do
	k=${want%=*}
	got=$(feature "$k")
	[ "$got" = "${want#*=}" ] || bad="$bad $k is ${got:-missing} (want ${want#*=});"
done
if [ -z "$bad" ]; then
	vm_ok kerndat
else
	check_fail kerndat "ckptctl check:$bad"
fi

# the vdso: kerndat's sizes, and what this shell has mapped
vdso=$(echo "$json" | sed -n 's/.*"vdso":"\([^"]*\)".*/\1/p')
maps=$(maps_of $$)
if ! echo "$vdso" | grep -q '\[vvar_vclock\] 0 KiB'; then
	check_fail vdso-layout "kerndat's vdso is '$vdso': want no [vvar_vclock] on 6.1"
elif echo "$maps" | grep -q '\[vvar_vclock\]' || ! echo "$maps" | grep -q '\[vvar\]' ||
	! echo "$maps" | grep -q '\[vdso\]'; then
	check_fail vdso-layout "/proc/$$/maps has not the two-area layout: $(echo "$maps" | grep '\[v')"
else
	vm_ok vdso-layout
fi
