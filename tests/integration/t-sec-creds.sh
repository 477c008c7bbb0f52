#!/bin/sh
# Issue 7, hole 2: a non-root restore may give a task no credential the
# requester could not set itself. A fresh user dumps a process of its own,
# forges the creds of its core-PID.img (checksums recomputed) and restores
# it through a root ckptd. Each must be refused and leave nothing running:
#  - CAP_DAC_READ_SEARCH inheritable (with a +ei file capability of its
#    own it would read /etc/shadow);
#  - a bounding set larger than the requester's (ckptctl run without
#    CAP_SYS_MODULE in its bounding set);
#  - no_new_privs cleared while the requester has it set (one-way);
#  - SECBIT_NO_SETUID_FIXUP (a setuid-root program that drops to the
#    user would keep its capabilities);
#  - permitted capabilities, a group the user is not in, an fsuid of 0.
# What the user could set itself is restored: no_new_privs set, a smaller
# bounding set, SECBIT_KEEP_CAPS.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sec-lib.sh"

sec_dump img

sec_copy img inh
sec_forge "$U/inh" core "$SPID" cap_inh 0x4
sec_refused "$U/inh" "pid $SPID: inheritable capabilities 0x4 are more than uid $SEC_UID could set"

# the bounding set as dumped (full), but the requester lacks CAP_SYS_MODULE
sec_copy img bnd
expect_fail 1 "pid $SPID: bounding set 0x[0-9a-f]+ is larger than uid $SEC_UID.s" \
	$AS_USER --bounding-set=-sys_module "$CKPTCTL" restore -D "$U/bnd"
sec_gone

# no_new_privs as dumped (clear), the requester has it
sec_copy img nnp
expect_fail 1 "pid $SPID ran without no_new_privs, which the requesting process has" \
	$AS_USER --no-new-privs "$CKPTCTL" restore -D "$U/nnp"
sec_gone

sec_copy img secbits
sec_forge "$U/secbits" core "$SPID" securebits 4
sec_refused "$U/secbits" "pid $SPID: securebits 0x4 need CAP_SETPCAP"

sec_copy img prm
sec_forge "$U/prm" core "$SPID" cap_prm 0x200000
sec_refused "$U/prm" "pid $SPID held capabilities; only root may restore it"

sec_copy img groups
sec_forge "$U/groups" core "$SPID" groups 0
sec_refused "$U/groups" "pid $SPID belonged to group 0; uid $SEC_UID may not restore that"

sec_copy img fsuid
sec_forge "$U/fsuid" core "$SPID" fsuid 0
sec_refused "$U/fsuid" "uid $SEC_UID may restore only its own processes"

# what the user could do itself: no_new_privs set, a bounding set without
# CAP_SYS_MODULE, SECBIT_KEEP_CAPS
sec_copy img own
sec_forge "$U/own" core "$SPID" no_new_privs 1
sec_forge "$U/own" core "$SPID" cap_bnd "$(printf '0x%x' $(( $(sed -n 's/^CapBnd:\t//p' /proc/self/status | sed 's/^/0x/') & ~(1 << 16) )))"
sec_forge "$U/own" core "$SPID" securebits 16
$AS_USER --no-new-privs --bounding-set=-sys_module "$CKPTCTL" restore -D "$U/own" \
	>"$TMP/own.out" 2>&1 || fail "the user's restore of what it may set: $(cat "$TMP/own.out")"
track_pid "$SPID"
grep -q '^NoNewPrivs:	1$' "/proc/$SPID/status" || fail "no_new_privs not restored"
[ $(( 0x$(sed -n 's/^CapBnd:\t//p' "/proc/$SPID/status") & (1 << 16) )) = 0 ] ||
	fail "CAP_SYS_MODULE still in the bounding set: $(grep CapBnd "/proc/$SPID/status")"
check_alive "$SPID"
kill -KILL "$SPID"
wait_gone "$SPID"

# and the image as dumped
sec_restored "$U/img"
kill -0 $DPID || fail "ckptd died"
exit 0
