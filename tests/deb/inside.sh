#!/bin/sh
# Run by tests/deb/check.sh as root inside a fresh Debian 12 root (chroot,
# /proc /sys /dev mounted): install the package (/tmp/ckpt_*.deb) with apt,
# use it, purge it. One line per check: "DEBTEST ok NAME" or "DEBTEST FAIL
# NAME: why"; "DEBTEST done" at the end. Logs go to /tmp/*.log.
set -u
export DEBIAN_FRONTEND=noninteractive LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin

ok()
{
	echo "DEBTEST ok $1"
}

bad()
{
	echo "DEBTEST FAIL $1: $2"
}

# the whole file system but what apt and dpkg keep for themselves, the
# virtual file systems and /tmp: what installing and purging must leave as
# it found it
snapshot()
{
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp \
		-o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \
		-o -path /var/log \) -prune -o -print | sort
}

deb=$(ls /tmp/ckpt_*.deb)
# no service may start in here (there is no init; this is belt and braces)
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d

apt-get update -q >/tmp/apt-update.log 2>&1 ||
	{ bad apt-update "apt-get update failed: $(tail -n 3 /tmp/apt-update.log)"; exit 1; }
# the package's dependencies first, so that the snapshot holds them
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//; s/[[:space:]]//g')
apt-get install -y -q --no-install-recommends $deps >/tmp/apt-deps.log 2>&1 ||
	{ bad deps "apt-get install $deps failed: $(tail -n 3 /tmp/apt-deps.log)"; exit 1; }
snapshot >/tmp/before

if apt-get install -y -q --no-install-recommends "$deb" >/tmp/apt-install.log 2>&1; then
	ok install
else
	bad install "apt-get install $deb failed: $(tail -n 5 /tmp/apt-install.log)"
	exit 1
fi
dpkg -L ckpt >/tmp/files

for f in /usr/bin/ckptctl /usr/sbin/ckptd /usr/share/man/man1/ckptctl.1.gz \
	/usr/share/man/man8/ckptd.8.gz /usr/share/bash-completion/completions/ckptctl \
	/usr/lib/sysusers.d/ckpt.conf /lib/systemd/system/ckptd.socket \
	/lib/systemd/system/ckptd.service /usr/share/doc/ckpt/copyright; do
	if [ -f "$f" ] && grep -qx "$f" /tmp/files; then
		ok "file $f"
	else
		bad "file $f" "not installed, or not in dpkg -L ckpt"
	fi
done

grep -q '^ExecStart=/usr/sbin/ckptd ' /lib/systemd/system/ckptd.service &&
	ok service-execstart ||
	bad service-execstart "ckptd.service's ExecStart does not name /usr/sbin/ckptd"

# enabled: the symlink deb-systemd-helper makes, as systemctl enable would
w=/etc/systemd/system/sockets.target.wants/ckptd.socket
if [ "$(readlink "$w" 2>/dev/null)" = /lib/systemd/system/ckptd.socket ]; then
	ok socket-enabled
else
	bad socket-enabled "$w is not a symlink to /lib/systemd/system/ckptd.socket"
fi
if find /etc/systemd -name ckptd.service | grep -q .; then
	bad service-not-enabled "ckptd.service is enabled: $(find /etc/systemd -name ckptd.service)"
else
	ok service-not-enabled
fi
# started: under systemd (not here: no init) the postinst starts the socket,
# and never the service
pi=/var/lib/dpkg/info/ckpt.postinst
if grep -q "deb-systemd-invoke \$_dh_action 'ckptd.socket'" $pi &&
	! grep -q "deb-systemd-invoke.*ckptd.service" $pi; then
	ok postinst-starts-socket
else
	bad postinst-starts-socket "$pi does not start ckptd.socket alone"
fi
grep -q 'systemd-sysusers.*ckpt.conf' $pi && ok postinst-sysusers ||
	bad postinst-sysusers "$pi does not run systemd-sysusers for ckpt.conf"

# the socket's group, made by the postinst (systemd-sysusers); purge leaves it
getent group ckpt >/dev/null && ok group-ckpt ||
	bad group-ckpt "no group ckpt after the install"

v=$(ckptctl --version 2>&1)
[ "$v" = "ckptctl $(dpkg-query -W -f='${Version}' ckpt)" ] && ok version ||
	bad version "ckptctl --version says '$v'"
if ckptctl --help >/tmp/help.out 2>&1 && grep -q 'dump' /tmp/help.out; then
	ok help
else
	bad help "ckptctl --help failed or names no dump: $(head -n 3 /tmp/help.out)"
fi
# check starts a one-shot ckptd (no socket here): the installed one,
# /usr/sbin/ckptd, found from /usr/bin/ckptctl
if ckptctl check >/tmp/check.out 2>&1; then
	ok check
else
	bad check "ckptctl check exited $?: $(tail -n 5 /tmp/check.out)"
fi
if command -v man >/dev/null; then
	[ "$(man -w ckptctl)" = /usr/share/man/man1/ckptctl.1.gz ] && ok man ||
		bad man "man -w ckptctl says '$(man -w ckptctl 2>&1)'"
else
	# minbase has no man-db: the page itself
	gzip -dc /usr/share/man/man1/ckptctl.1.gz | head -n 1 | grep -q '^\.TH CKPTCTL 1' &&
		ok man || bad man "/usr/share/man/man1/ckptctl.1.gz is no ckptctl(1) page"
fi
bash -c '. /usr/share/bash-completion/completions/ckptctl && complete -p ckptctl' \
	>/dev/null 2>&1 && ok completion ||
	bad completion "bash cannot load the completion of ckptctl"

if apt-get purge -y -q ckpt >/tmp/apt-purge.log 2>&1; then
	ok purge
else
	bad purge "apt-get purge ckpt failed: $(tail -n 5 /tmp/apt-purge.log)"
fi
st=$(dpkg-query -W -f='${db:Status-Status}' ckpt 2>/dev/null || true)
[ -z "$st" ] || [ "$st" = not-installed ] && ok purged-status ||
	bad purged-status "dpkg says ckpt is '$st'"
left=
while IFS= read -r f; do
	# directories (shared with other packages, or /lib through usrmerge's
	# symlink) are the snapshot's business, below
	[ -d "$f" ] && continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done </tmp/files
[ -z "$left" ] && ok purged-files || bad purged-files "still there:$left"
[ -e /run/ckpt ] && bad purged-run "/run/ckpt is still there" || ok purged-run
snapshot >/tmp/after
if cmp -s /tmp/before /tmp/after; then
	ok purged-nothing-left
else
	bad purged-nothing-left "the file system differs from before the install:$(diff /tmp/before /tmp/after |
		sed -n 's/^[<>] //p' | tr '\n' ' ')"
fi
echo "DEBTEST done"
