# ckpt: one non-recursive Makefile. Source lists are wildcards, so a new
# file in a component's folder needs no edit here.
#
#   make             build/bin/ckptctl, build/bin/ckptd (installs packages first)
#   make check       unit tests, then integration tests, then check-vm if
#                    qemu-system-x86_64 is installed
#   make check-vm    tests/vm/ inside Debian 12's 6.1 kernel under qemu
#                    (Documentation/testing.md)
#   make bench       the benchmark table
#   make example     dump (and show) the bundled sample process
#   make install     install what make built (PREFIX, DESTDIR); make uninstall
#   make fuzz        libFuzzer on the image readers and RPC decoders (clang)

CC       ?= gcc
O        := build
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	    -D_GNU_SOURCE -fno-strict-aliasing -I. -I$(O)/gen -MMD -MP
LDLIBS_IMG := -lprotobuf-c -lxxhash
LDLIBS_D    = $(LDLIBS_IMG) -lcap -lsystemd $(shell pkg-config --libs libnl-3.0 2>/dev/null)
CFLAGS_NL   = $(shell pkg-config --cflags libnl-3.0 2>/dev/null)
# GnuTLS: migration's TLS (client/xport.c), in ckptctl only
LDLIBS_TLS  = $(shell pkg-config --libs gnutls 2>/dev/null)
CFLAGS_TLS  = $(shell pkg-config --cflags gnutls 2>/dev/null)

DEPS_STAMP := $(O)/.deps-ok

PROTOS    := $(wildcard proto/*.proto)
PROTO_C   := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
PROTO_H   := $(PROTO_C:.c=.h)

IMG_SRC   := $(wildcard images/*.c common/*.c)
IMG_OBJ   := $(patsubst %.c,$(O)/obj/%.o,$(IMG_SRC)) $(patsubst $(O)/gen/%.c,$(O)/obj/gen/%.o,$(PROTO_C))
LIBIMG    := $(O)/lib/libckptimg.a

D_SRC     := $(wildcard daemon/*.c daemon/files/*.c daemon/track/*.c)
D_OBJ     := $(patsubst %.c,$(O)/obj/%.o,$(D_SRC))
C_SRC     := $(wildcard client/*.c)
C_OBJ     := $(patsubst %.c,$(O)/obj/%.o,$(C_SRC))

# restorer/: freestanding PIE blob, embedded into ckptd as an object. It
# sees the compiler's own headers and the kernel's uapi headers (linux/,
# asm/, asm-generic/, linked into $(R_UAPI)), never glibc's.
R_UAPI    := $(O)/restorer/uapi
R_SRC     := $(wildcard restorer/*.c restorer/*.S)
R_CFLAGS  := -std=gnu11 -O2 -g0 -Wall -Wextra -Wno-unused-parameter -ffreestanding -nostdlib \
	     -fpie -fno-stack-protector -fno-builtin -fno-asynchronous-unwind-tables \
	     -fno-exceptions -fno-jump-tables -mno-red-zone -fvisibility=hidden \
	     -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -fcf-protection=none -nostdinc \
	     -isystem $(shell $(CC) -print-file-name=include) -isystem $(R_UAPI) -Irestorer -MMD -MP
R_OBJ     := $(patsubst restorer/%,$(O)/restorer/%.o,$(R_SRC))

TARGET_SRC := $(wildcard tests/targets/*.c)
TARGETS    := $(patsubst tests/targets/%.c,$(O)/targets/%,$(TARGET_SRC))
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNITS      := $(patsubst tests/unit/%.c,$(O)/unit/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOLS      := $(patsubst tests/tools/%.c,$(O)/tools/%,$(TOOL_SRC))
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCHES    := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRC))
VM_SRC     := $(wildcard tests/vm/*.c)
VM_PROGS   := $(patsubst tests/vm/%.c,$(O)/vm/bin/%,$(VM_SRC))

all: $(O)/bin/ckptctl $(O)/bin/ckptd $(TARGETS) $(TOOLS)

$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@sh scripts/install-deps.sh
	@touch $@

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto | $(DEPS_STAMP)
	@mkdir -p $(O)/gen
	protoc-c --proto_path=proto --c_out=$(O)/gen $<

$(O)/obj/gen/%.o: $(O)/gen/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wno-unused -c -o $@ $<

$(O)/obj/%.o: %.c $(PROTO_H) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_NL) $(CFLAGS_TLS) -c -o $@ $<

$(LIBIMG): $(IMG_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# --- restorer blob ---------------------------------------------------------
$(R_UAPI)/.ok: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	ln -sfn $$(if [ -d /usr/include/x86_64-linux-gnu/asm ]; then echo /usr/include/x86_64-linux-gnu/asm; else echo /usr/include/asm; fi) $(@D)/asm
	@touch $@

$(O)/restorer/%.c.o: restorer/%.c $(wildcard restorer/*.h) | $(DEPS_STAMP) $(R_UAPI)/.ok
	@mkdir -p $(@D)
	$(CC) $(R_CFLAGS) -c -o $@ $<

$(O)/restorer/%.S.o: restorer/%.S $(wildcard restorer/*.h) | $(DEPS_STAMP) $(R_UAPI)/.ok
	@mkdir -p $(@D)
	$(CC) $(R_CFLAGS) -c -o $@ $<

ifneq ($(R_SRC),)
# Link as a self-contained PIE with no dynamic section, then refuse any
# undefined symbol (a compiler-inserted memcpy, a stack protector call).
$(O)/restorer/restorer.elf: $(R_OBJ) restorer/restorer.lds
	$(CC) -nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,-T,restorer/restorer.lds \
		-Wl,-z,noexecstack -Wl,--build-id=none -o $@ $(R_OBJ)
	@if nm -u $@ | grep -q .; then echo "restorer: undefined symbols:"; nm -u $@; rm -f $@; exit 1; fi

$(O)/restorer/restorer.bin: $(O)/restorer/restorer.elf
	objcopy -O binary $< $@

$(O)/restorer/blob.o: $(O)/restorer/restorer.bin
	cd $(O)/restorer && ld -r -b binary -z noexecstack -o blob.o restorer.bin
RESTORER_BLOB := $(O)/restorer/blob.o
endif

# --- programs ----------------------------------------------------------------
$(O)/bin/ckptd: $(D_OBJ) $(RESTORER_BLOB) $(LIBIMG)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(D_OBJ) $(RESTORER_BLOB) $(LIBIMG) $(LDLIBS_D) -pthread

$(O)/bin/ckptctl: $(C_OBJ) $(LIBIMG)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(C_OBJ) $(LIBIMG) $(LDLIBS_IMG) -lsystemd $(LDLIBS_TLS)

$(O)/targets/%: tests/targets/%.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -D_GNU_SOURCE -mavx -MMD -MP -o $@ $< -pthread -lrt

# Unit tests link libckptimg and every daemon object except its main.
D_OBJ_NOMAIN := $(filter-out $(O)/obj/daemon/main.o,$(D_OBJ))
$(O)/unit/%: tests/unit/%.c $(LIBIMG) $(D_OBJ_NOMAIN) $(RESTORER_BLOB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_NL) -o $@ $< $(D_OBJ_NOMAIN) $(RESTORER_BLOB) $(LIBIMG) $(LDLIBS_D) -lcriterion -pthread

# test_xport tests ckptctl's transport (client/xport.o), not the daemon.
$(O)/unit/test_xport: tests/unit/test_xport.c $(O)/obj/client/xport.o $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DXPORT_CERTS=\"$(CURDIR)/tests/certs\" -o $@ $< $(O)/obj/client/xport.o \
		$(LIBIMG) $(LDLIBS_IMG) $(LDLIBS_TLS) -lcriterion -pthread

# test_migrate_proto tests migration's frames (client/migrate-proto.o) over
# the transport, and post-copy's held ranges (client/postcopy.o).
$(O)/unit/test_migrate_proto: tests/unit/test_migrate_proto.c $(O)/obj/client/migrate-proto.o \
		$(O)/obj/client/xport.o $(O)/obj/client/postcopy.o $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(O)/obj/client/migrate-proto.o $(O)/obj/client/xport.o \
		$(O)/obj/client/postcopy.o $(LIBIMG) $(LDLIBS_IMG) $(LDLIBS_TLS) -lcriterion -pthread

# Test tools read images through libckptimg.
$(O)/tools/%: tests/tools/%.c $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBIMG) $(LDLIBS_IMG)

# hold-client drives ckptctl's own RPC code (a held dump, t-hold.sh).
$(O)/tools/hold-client: tests/tools/hold-client.c $(O)/obj/client/rpc-client.o $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(O)/obj/client/rpc-client.o $(LIBIMG) $(LDLIBS_IMG)

$(O)/bench/%: tests/bench/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -D_GNU_SOURCE -I. -MMD -MP -o $@ $< -pthread

unit: $(UNITS) fuzz-corpus
	@fail=0; for t in $(UNITS); do echo "== $$t"; $$t --jobs 1 || fail=1; done; exit $$fail

integration: all
	@CKPT_BUILD=$(O) sh tests/integration/run.sh

check: all $(UNITS) fuzz-corpus $(VM_PROGS)
	@CKPT_BUILD=$(O) sh tests/run-all.sh
	@if command -v qemu-system-x86_64 >/dev/null; then sh scripts/vm/check-vm.sh $(O); \
	else echo "check-vm: skipped: qemu-system-x86_64 not installed"; fi

# make check-vm: boot Debian 12's own kernel (6.1, soft-dirty) under qemu and
# run tests/vm/t-*.sh inside (scripts/vm/check-vm.sh; it fetches the kernel
# and busybox-static with apt-get download into $(O)/vm/debs). Installs
# qemu first (scripts/vm/install-deps.sh); make check runs it only when
# qemu-system-x86_64 is there.
$(O)/vm/bin/%: tests/vm/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I. -MMD -MP -o $@ $<

$(O)/.vm-deps-ok: scripts/vm/install-deps.sh
	@mkdir -p $(@D)
	@sh scripts/vm/install-deps.sh
	@touch $@

check-vm: all $(VM_PROGS) | $(O)/.vm-deps-ok
	@sh scripts/vm/check-vm.sh $(O)

bench: all $(BENCHES)
	@CKPT_BUILD=$(O) sh tests/bench/run.sh
	@CKPT_BUILD=$(O) sh tests/bench/incr.sh
	@CKPT_BUILD=$(O) sh tests/bench/migrate.sh
	@CKPT_BUILD=$(O) sh tests/bench/lazy.sh
	@CKPT_BUILD=$(O) sh tests/bench/criu.sh
	@CKPT_BUILD=$(O) sh tests/bench/redis.sh

example: all
	@CKPT_BUILD=$(O) sh tests/example.sh

# --- fuzzing -----------------------------------------------------------------
# tests/fuzz/fuzz_NAME.c is one fuzz target (an image reader, the RPC
# decoders) and tests/fuzz/corpus/NAME/ its corpus (tests/fuzz/README.md).
# Every source a target reaches is compiled again with the sanitizers into
# objects of its own: with gcc and tests/fuzz/driver.c for make check and
# make unit, which run each corpus once (fuzz-corpus); with clang's libFuzzer
# for make fuzz, which needs clang (scripts/install-fuzz-deps.sh, run by it).
#
#   make fuzz [FUZZ_TIME=60] [FUZZ=img]	libFuzzer, FUZZ_TIME s per target;
#					new inputs go to $(O)/fuzz-clang/new/ (its
#					scratch directories to $(O)/fuzz-clang/tmp/)
#   make fuzz-merge [FUZZ=img]		merge them, those that add coverage and are
#					at most FUZZ_MERGE_MAX bytes, into
#					tests/fuzz/corpus/ (then commit)
#   make fuzz-corpus			the gcc build of each target on its corpus
FUZZ_TIME    ?= 60
# bytes: bigger finds are not merged, so that the corpus stays small
FUZZ_MERGE_MAX ?= 8192
FUZZ_CC      ?= clang
FUZZ         ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC     := $(IMG_SRC) $(filter-out daemon/main.c,$(D_SRC)) \
		$(filter-out client/ckptctl.c,$(C_SRC)) tests/fuzz/fuzz-util.c
FZG          := $(O)/fuzz-gcc
FZC          := $(O)/fuzz-clang
FZG_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all
FZC_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=all
FZ_OBJ        = $(patsubst %.c,$(1)/obj/%.o,$(FUZZ_SRC)) \
		$(patsubst $(O)/gen/%.c,$(1)/obj/gen/%.o,$(PROTO_C))
FZ_LDLIBS    := $(RESTORER_BLOB) $(LDLIBS_D) -pthread
FUZZ_ENV     := UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(FZG)/obj/gen/%.o: $(O)/gen/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FZG_FLAGS) -Wno-unused -c -o $@ $<
$(FZG)/obj/%.o: %.c $(PROTO_H) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_NL) $(FZG_FLAGS) -c -o $@ $<
$(FZG)/libfuzz.a: $(call FZ_OBJ,$(FZG))
	rm -f $@ && ar rcs $@ $^
$(FZG)/fuzz_%: $(FZG)/obj/tests/fuzz/fuzz_%.o $(FZG)/obj/tests/fuzz/driver.o $(FZG)/libfuzz.a \
		$(RESTORER_BLOB)
	$(CC) $(FZG_FLAGS) -o $@ $(filter $(FZG)/obj/%.o,$^) $(FZG)/libfuzz.a $(FZ_LDLIBS)

fuzz-corpus: $(FUZZ_ALL:%=$(FZG)/fuzz_%)
	@fail=0; for n in $(FUZZ_ALL); do \
		$(FUZZ_ENV) $(FZG)/fuzz_$$n tests/fuzz/corpus/$$n || \
			{ echo "fuzz_$$n: FAILED on tests/fuzz/corpus/$$n"; fail=1; }; \
	done; exit $$fail

# Seeds: a real image set packed for fuzz_imgset and fuzz_img (mkseed.c).
$(O)/fuzz-tools/mkseed: tests/fuzz/mkseed.c $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBIMG) $(LDLIBS_IMG)

$(O)/.fuzz-deps-ok: scripts/install-fuzz-deps.sh
	@mkdir -p $(@D)
	@sh scripts/install-fuzz-deps.sh
	@touch $@
$(FZC)/obj/gen/%.o: $(O)/gen/%.c | $(DEPS_STAMP) $(O)/.fuzz-deps-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) $(FZC_FLAGS) -fsanitize=fuzzer-no-link -Wno-unused -c -o $@ $<
$(FZC)/obj/%.o: %.c $(PROTO_H) | $(DEPS_STAMP) $(O)/.fuzz-deps-ok
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CFLAGS) $(CFLAGS_NL) $(FZC_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FZC)/libfuzz.a: $(call FZ_OBJ,$(FZC))
	rm -f $@ && ar rcs $@ $^
$(FZC)/fuzz_%: $(FZC)/obj/tests/fuzz/fuzz_%.o $(FZC)/libfuzz.a $(RESTORER_BLOB)
	$(FUZZ_CC) $(FZC_FLAGS) -fsanitize=fuzzer -o $@ $< $(FZC)/libfuzz.a $(FZ_LDLIBS)

fuzz: $(FUZZ:%=$(FZC)/fuzz_%)
	@for n in $(FUZZ); do mkdir -p $(FZC)/new/$$n $(FZC)/tmp && \
		echo "== fuzz_$$n: $(FUZZ_TIME) s" && \
		TMPDIR=$(abspath $(FZC))/tmp $(FUZZ_ENV) $(FZC)/fuzz_$$n -max_total_time=$(FUZZ_TIME) -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FZC)/crash-$$n- \
			$(FZC)/new/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

fuzz-merge: $(FUZZ:%=$(FZC)/fuzz_%)
	@for n in $(FUZZ); do mkdir -p $(FZC)/new/$$n $(FZC)/tmp tests/fuzz/corpus/$$n && \
		find $(FZC)/new/$$n -type f -size +$(FUZZ_MERGE_MAX)c -delete && \
		TMPDIR=$(abspath $(FZC))/tmp $(FUZZ_ENV) $(FZC)/fuzz_$$n -merge=1 tests/fuzz/corpus/$$n $(FZC)/new/$$n || exit 1; \
		rm -f $(FZC)/new/$$n/*; \
	done

.PHONY: fuzz fuzz-merge fuzz-corpus

# --- install -----------------------------------------------------------------
#   make install [PREFIX=/usr/local] [DESTDIR=]	  make uninstall [same]
# installs what `make` built in $(O) and builds nothing (run `make` first,
# as any user: `sudo make install` then leaves no root-owned build files).
# The units go where systemd looks for them (pkg-config's
# systemdsystemunitdir, whatever PREFIX), ckptd.service with ExecStart
# naming $(SBINDIR)/ckptd. Installed for real (no DESTDIR) by root, the
# group "ckpt" of ckptd.socket is created at once by systemd-sysusers; a
# package does that in its postinst. uninstall leaves the group.
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSUSERSDIR    ?= $(PREFIX)/lib/sysusers.d
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),\
		  /lib/systemd/system)
INSTALL        ?= install
INST_MAN1      := $(wildcard Documentation/*.1)
INST_MAN8      := $(wildcard Documentation/*.8)
INST_FILES      = $(BINDIR)/ckptctl $(SBINDIR)/ckptd \
		  $(INST_MAN1:Documentation/%=$(MANDIR)/man1/%) \
		  $(INST_MAN8:Documentation/%=$(MANDIR)/man8/%) \
		  $(BASHCOMPDIR)/ckptctl $(SYSUSERSDIR)/ckpt.conf \
		  $(SYSTEMDUNITDIR)/ckptd.socket $(SYSTEMDUNITDIR)/ckptd.service

install:
	@for f in $(O)/bin/ckptctl $(O)/bin/ckptd; do [ -x "$$f" ] || \
		{ echo "make install: $$f is missing: run 'make O=$(O)' first" >&2; exit 1; }; done
	$(INSTALL) -d $(addprefix $(DESTDIR),$(BINDIR) $(SBINDIR) $(MANDIR)/man1 $(MANDIR)/man8 \
		$(BASHCOMPDIR) $(SYSUSERSDIR) $(SYSTEMDUNITDIR))
	$(INSTALL) -m 0755 $(O)/bin/ckptctl $(DESTDIR)$(BINDIR)/ckptctl
	$(INSTALL) -m 0755 $(O)/bin/ckptd $(DESTDIR)$(SBINDIR)/ckptd
	$(INSTALL) -m 0644 $(INST_MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(INST_MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 contrib/ckptctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/ckptctl
	$(INSTALL) -m 0644 contrib/ckpt.sysusers $(DESTDIR)$(SYSUSERSDIR)/ckpt.conf
	$(INSTALL) -m 0644 contrib/ckptd.socket $(DESTDIR)$(SYSTEMDUNITDIR)/ckptd.socket
	sed 's|^ExecStart=/usr/sbin/ckptd |ExecStart=$(SBINDIR)/ckptd |' contrib/ckptd.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/ckptd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/ckptd.service
	@grep -q '^ExecStart=$(SBINDIR)/ckptd ' $(DESTDIR)$(SYSTEMDUNITDIR)/ckptd.service || \
		{ echo "make install: contrib/ckptd.service has no 'ExecStart=/usr/sbin/ckptd ' to rewrite" >&2; \
		  exit 1; }
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		echo "systemd-sysusers $(SYSUSERSDIR)/ckpt.conf"; systemd-sysusers $(SYSUSERSDIR)/ckpt.conf; fi

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INST_FILES))

.PHONY: install uninstall

# --- Debian package ------------------------------------------------------------
#   make deb         $(O)/deb/ckpt_VERSION_amd64.deb (debian/, built by
#                    dpkg-buildpackage from a copy of the tree), then lintian
#   make check-deb   install it into a fresh Debian 12 root (debootstrap),
#                    run it there, purge it, check nothing is left (minutes;
#                    not part of make check)
# Both install what they need first (debhelper, dpkg-dev, lintian;
# debootstrap). See debian/README.source and Documentation/testing.md.
deb:
	@sh debian/make-deb.sh $(O)

check-deb: deb
	@sh tests/deb/check.sh $(O)

.PHONY: deb check-deb

clean:
	rm -rf $(O)

.PHONY: all unit integration check check-vm bench example clean
.DELETE_ON_ERROR:
.SECONDARY: $(PROTO_C) $(PROTO_H)
# Every compiler run writes, with -MMD -MP, the headers and the .c files it
# included (tests/unit/test_restorer.c includes restorer/*.c) into a .d file
# beside what it built: objects, the blob's objects, and the programs compiled
# and linked in one step (unit tests, tools, targets, bench, fuzz).
-include $(shell find $(O) -name '*.d' 2>/dev/null)
