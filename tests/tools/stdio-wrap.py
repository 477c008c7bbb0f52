#!/usr/bin/env python3
"""Run a program with its stdio on a terminal or a pipe this wrapper holds.

    stdio-wrap.py pty  PROG [ARGS...]   stdin/out/err on a new pty (its own
                                        session, the pty its controlling tty)
    stdio-wrap.py pipe PROG [ARGS...]   stdout on a pipe whose read end only
                                        this wrapper holds

Either way the wrapper copies what the program writes to its own stdout and
exits with the program's status: the program's stdio end lies outside the
program's process tree, as with a program run in tmux or piped into a
logger. The integration tests use it to dump such programs.
"""
import os
import pty
import signal
import subprocess
import sys


def drain(fd):
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:		# EIO: the pty's last slave fd closed
            return
        if not data:
            return
        os.write(1, data)


def main():
    mode, argv = sys.argv[1], sys.argv[2:]
    if mode == "pty":
        pid, master = pty.fork()
        if pid == 0:
            # python ignores SIGPIPE and SIGXFSZ; exec would keep that
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            os.execvp(argv[0], argv)
        drain(master)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    if mode == "pipe":
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
        drain(p.stdout.fileno())
        return p.wait()
    sys.exit("stdio-wrap.py: mode is pty or pipe, not " + mode)


if __name__ == "__main__":
    sys.exit(main())
