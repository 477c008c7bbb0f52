#!/bin/sh
# ckptctl check, through a one-shot ckptd: the table, and JSON that says
# what KERNEL-NOTES.md says of this machine (PAGEMAP_SCAN yes, soft-dirty no).
. "$(dirname "$0")/lib.sh"

export CKPT_SOCKET=$TMP/no-daemon.sock

ckpt_ok check
grep -Eq '^FEATURE +AVAILABLE +DETAIL$' "$LAST_OUT" || fail "check: no table header: $(cat "$LAST_OUT")"
for f in kernel page_size soft_dirty pagemap_scan uffd uffd_wp_async clone3_set_tid pidfd_getfd \
	 ptrace_rseq ptrace_xstate process_vm_readv sock_diag xsave vdso tracker_hash; do
	grep -Eq "^$f +(yes|no)" "$LAST_OUT" || fail "check: no line for $f: $(cat "$LAST_OUT")"
done
grep -Eq "^kernel +yes +$(uname -r)$" "$LAST_OUT" || fail "check: kernel release: $(grep ^kernel "$LAST_OUT")"
[ ! -s "$LAST_ERR" ] || fail "check wrote to stderr: $(cat "$LAST_ERR")"

ckpt_ok check --json
json_check "$LAST_OUT" '
assert j["pagemap_scan"] is True, "pagemap_scan"
assert j["soft_dirty"] is False, "soft_dirty"
assert j["tracker_soft_dirty"] is False and j["tracker_hash"] is True, "trackers"
assert all(isinstance(v, bool) for k, v in j.items() if k != "details"), "booleans"
d = j["details"]
import os
assert d["kernel"] == os.uname().release, d["kernel"]
assert d["page_size"] == str(os.sysconf("SC_PAGESIZE")), d["page_size"]
assert "CONFIG_MEM_SOFT_DIRTY" in d["soft_dirty"], d["soft_dirty"]
# --track auto picks the best this kernel offers: uffd-wp here
assert d["tracker_auto"] == "uffd-wp", d["tracker_auto"]
assert "CONFIG_MEM_SOFT_DIRTY" in d["tracker_soft_dirty"], d["tracker_soft_dirty"]
'
# every answer of this machine's kernel that KERNEL-NOTES.md lists
json_check "$LAST_OUT" '
for f in ("uffd", "uffd_wp_async", "clone3_set_tid", "pidfd_getfd", "ptrace_xstate",
          "process_vm_readv", "tracker_uffd_wp", "vdso", "xsave"):
    assert j[f] is True, f
'
exit 0
