#!/bin/sh
# Open files of a two-task tree: the dump records every kind (regular,
# deleted, memfd, pipe, FIFO, unix and TCP sockets, anon inode, char device), gives fds
# that share a description (dup, fork) one desc_id, keeps pipe and FIFO data
# once per pipe, saves ghost contents without the holes of a sparse 1 GiB
# memfd, and changes nothing in the target: after the dump it finds every
# offset and every buffered byte where it was.
. "$(dirname "$0")/lib.sh"

start_target files
kid=$(cat "/proc/$TPID/task/$TPID/children" | tr -d " ")
[ -n "$kid" ] || fail "target $TPID has no child"
track_pid "$kid"

dir=$TMP/img
dump_target "$dir"
check_alive
for f in files.img "fs-$TPID.img" "fs-$kid.img"; do
	[ -f "$dir/$f" ] || fail "no $f in the image set"
done
n=$(ls "$dir" | grep -c '^ghost-.*\.img$')
[ "$n" -eq 3 ] || fail "want 3 ghost images (deleted file, two memfds), found $n"

show_json "$dir"
json_check "$TMP/show.json" "
codes = {'FD_REG': 1, 'FD_PIPE': 3, 'FD_FIFO': 4, 'FD_CHR': 5, 'FD_SOCKET': 6,
	 'FD_MEMFD': 8, 'FD_ANON': 9}
def ty(d, name):
    return str(d.get('type')) in (name, str(codes[name]))
def path(d):
    return (d.get('file') or {}).get('path', '')
files = j['files']
ids = [d['id'] for d in files]
assert len(ids) == len(set(ids)), 'desc ids repeat'

reg = [d for d in files if ty(d, 'FD_REG') and path(d).startswith('$TMP/ckpt-target-files-')]
assert len(reg) == 1, 'fd, its dup and the child share one description: %r' % reg
assert int(reg[0]['pos']) == 7, reg[0]
dele = [d for d in files if ty(d, 'FD_REG') and d.get('deleted')]
assert len(dele) == 1 and 'ghost_id' in dele[0], dele
memfds = sorted(d['memfd_name'] for d in files if ty(d, 'FD_MEMFD'))
assert memfds == ['ckpt-files', 'ckpt-sparse'], memfds

pipes = [d for d in files if ty(d, 'FD_PIPE') and d.get('pipe_data')]
assert len(pipes) == 1, 'one pipe holds data, saved once: %r' % pipes
fifo = [d for d in files if ty(d, 'FD_FIFO')]
assert len(fifo) == 1 and fifo[0].get('pipe_data'), fifo
socks = [d['socket'] for d in files if ty(d, 'FD_SOCKET')]
unix = [s for s in socks if int(s['family']) == 1]
assert len(unix) == 2 and unix[0]['peer_ino'] != unix[1]['peer_ino'], unix
tcp = [s for s in socks if int(s['family']) == 2]
assert len(tcp) == 1 and int(tcp[0]['state']) == 10, 'one listening TCP socket: %r' % tcp
assert tcp[0]['local'].startswith('127.0.0.1:'), tcp
assert any(ty(d, 'FD_ANON') and 'eventfd' in d['anon_name'] for d in files)
assert any(ty(d, 'FD_CHR') and path(d) == '/dev/null' for d in files)

g = j['ghosts']
sizes = sorted(int(x['bytes']) for x in (g.values() if isinstance(g, dict) else g))
assert len(sizes) == 3, g
assert max(sizes) <= 8192, 'a sparse GiB costs a page, not %d bytes' % max(sizes)
"
expect_status pass
exit 0
