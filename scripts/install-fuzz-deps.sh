#!/bin/sh
# Install what `make fuzz` needs beyond scripts/install-deps.sh: clang and
# its compiler-rt (libclang_rt.fuzzer, the ASan and UBSan runtimes), from
# Debian's default LLVM. Run by `make fuzz` only (through a stamp file):
# `make check` builds the fuzz targets with gcc, whose ASan and UBSan
# runtimes (libasan8, libubsan1) come with gcc itself.
exec sh "$(dirname "$0")/install-deps.sh" clang libclang-rt-dev
