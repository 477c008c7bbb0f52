# Sourced first by the scripts that start programs to dump (the integration
# runner, the example): they re-run themselves with only stdin, stdout and
# stderr open, so the programs they start hold no fd leaked by whoever ran
# them (a CI runner's pipe, a terminal emulator's socket). A dump would
# save such fds with the program, and one end of a pipe whose other end is
# outside the tree is what a killing dump refuses. dash can't close fds
# above 9, so python3 does, and puts back the signals python3 itself
# ignores (exec would keep them ignored).
if [ -z "${CKPT_ONLY_STDIO:-}" ]; then
	CKPT_ONLY_STDIO=1 exec python3 -c 'import os, signal, sys
os.closerange(3, os.sysconf("SC_OPEN_MAX"))
for s in (signal.SIGPIPE, signal.SIGXFSZ):
	signal.signal(s, signal.SIG_DFL)
os.execvp("sh", ["sh"] + sys.argv[1:])' "$0" "$@"
fi
