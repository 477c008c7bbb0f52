#!/bin/sh
# make install / make uninstall, as a distribution's package build runs
# them (DESTDIR, PREFIX): every file where it belongs with its mode, the
# units' ExecStart naming the installed ckptd, systemd-analyze accepting
# the units in the installed tree, the sysusers.d file making the socket's
# group, and nothing built by install, nothing left by uninstall.
. "$(dirname "$0")/lib.sh"

[ -x "$CKPTD" ] && [ -x "$CKPTCTL" ] || fail "no ckptd or ckptctl in $BUILD: build first"

# Only what this test says: no make flags, O or PREFIX from a calling make.
mk()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PREFIX -u DESTDIR \
		make --no-print-directory -C "$TOP" O="$BUILD" "$@"
}

# mode_is MODE FILE
mode_is()
{
	local m
	[ -f "$2" ] || fail "not installed: $2"
	m=$(stat -c %a "$2")
	[ "$m" = "$1" ] || fail "$2 has mode $m, not $1"
}

UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
UNITDIR=${UNITDIR:-/lib/systemd/system}

# --- PREFIX=/usr, as a package ---------------------------------------------
D=$TMP/root
before=$(stat -c %Y "$CKPTD" "$CKPTCTL")
mk install DESTDIR="$D" PREFIX=/usr >"$TMP/install.log" 2>&1 ||
	fail "make install exited $?: $(tail -5 "$TMP/install.log")"
[ "$(stat -c %Y "$CKPTD" "$CKPTCTL")" = "$before" ] || fail "make install rebuilt the binaries"

mode_is 755 "$D/usr/bin/ckptctl"
mode_is 755 "$D/usr/sbin/ckptd"
mode_is 644 "$D/usr/share/man/man1/ckptctl.1"
mode_is 644 "$D/usr/share/man/man8/ckptd.8"
mode_is 644 "$D/usr/share/bash-completion/completions/ckptctl"
mode_is 644 "$D/usr/lib/sysusers.d/ckpt.conf"
mode_is 644 "$D$UNITDIR/ckptd.socket"
mode_is 644 "$D$UNITDIR/ckptd.service"
cmp -s "$CKPTD" "$D/usr/sbin/ckptd" || fail "installed ckptd differs from $CKPTD"
"$D/usr/sbin/ckptd" --version | grep -q '^ckptd ' || fail "installed ckptd --version"
"$D/usr/bin/ckptctl" --version | grep -q '^ckptctl ' || fail "installed ckptctl --version"
# the installed ckptctl starts the installed ckptd (../sbin) when no
# daemon answers
CKPTD= CKPT_SOCKET=$TMP/no-such.sock "$D/usr/bin/ckptctl" check >"$TMP/check.out" 2>&1 ||
	fail "the installed ckptctl's one-shot check: $(cat "$TMP/check.out")"
grep -q '^kernel' "$TMP/check.out" || fail "installed ckptctl check said: $(cat "$TMP/check.out")"

svc=$D$UNITDIR/ckptd.service
sock=$D$UNITDIR/ckptd.socket
grep -qx 'ExecStart=/usr/sbin/ckptd --idle-timeout 60' "$svc" ||
	fail "ckptd.service: $(grep ExecStart "$svc") does not name /usr/sbin/ckptd"
grep -qx 'ListenSequentialPacket=/run/ckpt/ckptd.sock' "$sock" || fail "ckptd.socket: no socket path"
grep -qx 'SocketMode=0660' "$sock" || fail "ckptd.socket: not SocketMode=0660"
grep -qx 'SocketGroup=ckpt' "$sock" || fail "ckptd.socket: not SocketGroup=ckpt"
grep -qx 'KillMode=process' "$svc" || fail "ckptd.service: not KillMode=process"
! grep -Eq '^(NoNewPrivileges=yes|CapabilityBoundingSet|SystemCall|Protect|Private|Restrict|LockPersonality)' \
	"$svc" || fail "ckptd.service sandboxes what restored processes inherit: $svc"
grep -Eq '^g ckpt ' "$D/usr/lib/sysusers.d/ckpt.conf" || fail "sysusers.d: no group ckpt"

# systemd-analyze loads the units from the installed tree; it wants the
# targets they order against, which a DESTDIR lacks: copy the host's. With
# MANPATH it also finds the man pages the units name.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$D/etc/systemd/system"
	for u in sysinit.target sockets.target basic.target shutdown.target; do
		cp "$UNITDIR/$u" "$D/etc/systemd/system/" || fail "no $UNITDIR/$u on this host"
	done
	manopt=--man=no
	command -v man >/dev/null 2>&1 && manopt=--man=yes
	MANPATH=$D/usr/share/man timeout 60 systemd-analyze verify --root="$D" $manopt \
		ckptd.socket ckptd.service >"$TMP/verify" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$TMP/verify")"
	[ ! -s "$TMP/verify" ] || fail "systemd-analyze verify warns: $(cat "$TMP/verify")"
	# the check can fail: the same units without the installed ckptd
	mv "$D/usr/sbin/ckptd" "$TMP/ckptd.moved"
	! timeout 60 systemd-analyze verify --root="$D" --man=no ckptd.socket ckptd.service \
		>/dev/null 2>&1 || fail "systemd-analyze verify accepts a unit without its ckptd"
	mv "$TMP/ckptd.moved" "$D/usr/sbin/ckptd"
	timeout 60 systemd-analyze security --offline=yes --root="$D" ckptd.service 2>&1 |
		grep 'Overall exposure' >&2
else
	log "systemd-analyze missing (package systemd): unit files not verified"
fi

# the sysusers.d file makes the socket's group
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$D/etc"
	systemd-sysusers --root="$D" >"$TMP/sysusers" 2>&1 ||
		fail "systemd-sysusers: $(cat "$TMP/sysusers")"
	grep -q '^ckpt:' "$D/etc/group" || fail "systemd-sysusers made no group ckpt"
else
	log "systemd-sysusers missing (package systemd): group not checked"
fi

mk uninstall DESTDIR="$D" PREFIX=/usr >"$TMP/uninstall.log" 2>&1 ||
	fail "make uninstall exited $?: $(tail -5 "$TMP/uninstall.log")"
left=$(find "$D" -type f ! -path "$D/etc/*")
[ -z "$left" ] || fail "make uninstall left: $left"

# --- the default PREFIX, /usr/local ------------------------------------------
D=$TMP/local
mk install DESTDIR="$D" >"$TMP/install2.log" 2>&1 ||
	fail "make install (default PREFIX) exited $?: $(tail -5 "$TMP/install2.log")"
mode_is 755 "$D/usr/local/bin/ckptctl"
mode_is 755 "$D/usr/local/sbin/ckptd"
mode_is 644 "$D/usr/local/share/man/man8/ckptd.8"
mode_is 644 "$D/usr/local/lib/sysusers.d/ckpt.conf"
grep -qx 'ExecStart=/usr/local/sbin/ckptd --idle-timeout 60' "$D$UNITDIR/ckptd.service" ||
	fail "PREFIX=/usr/local: $(grep ExecStart "$D$UNITDIR/ckptd.service")"
mk uninstall DESTDIR="$D" >/dev/null 2>&1 || fail "make uninstall (default PREFIX) exited $?"
left=$(find "$D" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"

# --- nothing built: install says so, and installs nothing --------------------
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$TOP" \
	O="$TMP/nobuild" install DESTDIR="$TMP/none" >"$TMP/nobuild.log" 2>&1 &&
	fail "make install succeeded with no build"
grep -q "ckptctl is missing: run 'make O=$TMP/nobuild' first" "$TMP/nobuild.log" ||
	fail "make install with no build: $(cat "$TMP/nobuild.log")"
[ ! -e "$TMP/none" ] || fail "make install with no build installed something"
exit 0
