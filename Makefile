# ckpt: one non-recursive Makefile. Source lists are wildcards, so a new
# file in a component's folder needs no edit here.
#
#   make             build/bin/ckptctl, build/bin/ckptd (installs packages first)
#   make check       unit tests, then integration tests
#   make bench       the benchmark table
#   make example     dump (and show) the bundled sample process
#   make install     install what make built (PREFIX, DESTDIR); make uninstall

CC       ?= gcc
O        := build
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	    -D_GNU_SOURCE -fno-strict-aliasing -I. -I$(O)/gen -MMD -MP
LDLIBS_IMG := -lprotobuf-c -lxxhash
LDLIBS_D    = $(LDLIBS_IMG) -lcap -lsystemd $(shell pkg-config --libs libnl-3.0 2>/dev/null)
CFLAGS_NL   = $(shell pkg-config --cflags libnl-3.0 2>/dev/null)

DEPS_STAMP := $(O)/.deps-ok

PROTOS    := $(wildcard proto/*.proto)
PROTO_C   := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
PROTO_H   := $(PROTO_C:.c=.h)

IMG_SRC   := $(wildcard images/*.c common/*.c)
IMG_OBJ   := $(patsubst %.c,$(O)/obj/%.o,$(IMG_SRC)) $(patsubst $(O)/gen/%.c,$(O)/obj/gen/%.o,$(PROTO_C))
LIBIMG    := $(O)/lib/libckptimg.a

D_SRC     := $(wildcard daemon/*.c daemon/track/*.c)
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
	     -isystem $(shell $(CC) -print-file-name=include) -isystem $(R_UAPI) -Irestorer
R_OBJ     := $(patsubst restorer/%,$(O)/restorer/%.o,$(R_SRC))

TARGET_SRC := $(wildcard tests/targets/*.c)
TARGETS    := $(patsubst tests/targets/%.c,$(O)/targets/%,$(TARGET_SRC))
UNIT_SRC   := $(wildcard tests/unit/*.c)
UNITS      := $(patsubst tests/unit/%.c,$(O)/unit/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOLS      := $(patsubst tests/tools/%.c,$(O)/tools/%,$(TOOL_SRC))
BENCH_SRC  := $(wildcard tests/bench/*.c)
BENCHES    := $(patsubst tests/bench/%.c,$(O)/bench/%,$(BENCH_SRC))

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
	$(CC) $(CFLAGS) $(CFLAGS_NL) -c -o $@ $<

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
	$(CC) $(LDFLAGS) -o $@ $(C_OBJ) $(LIBIMG) $(LDLIBS_IMG) -lsystemd

$(O)/targets/%: tests/targets/%.c tests/targets/target.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -D_GNU_SOURCE -mavx -o $@ $< -pthread -lrt

# Unit tests link libckptimg and every daemon object except its main.
D_OBJ_NOMAIN := $(filter-out $(O)/obj/daemon/main.o,$(D_OBJ))
$(O)/unit/%: tests/unit/%.c $(LIBIMG) $(D_OBJ_NOMAIN) $(RESTORER_BLOB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_NL) -o $@ $< $(D_OBJ_NOMAIN) $(RESTORER_BLOB) $(LIBIMG) $(LDLIBS_D) -lcriterion -pthread

# Test tools read images through libckptimg.
$(O)/tools/%: tests/tools/%.c $(LIBIMG) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIBIMG) $(LDLIBS_IMG)

$(O)/bench/%: tests/bench/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -O2 -g -Wall -D_GNU_SOURCE -I. -o $@ $< -pthread

unit: $(UNITS)
	@fail=0; for t in $(UNITS); do echo "== $$t"; $$t --jobs 1 || fail=1; done; exit $$fail

integration: all
	@CKPT_BUILD=$(O) sh tests/integration/run.sh

check: all $(UNITS)
	@CKPT_BUILD=$(O) sh tests/run-all.sh

bench: all $(BENCHES)
	@CKPT_BUILD=$(O) sh tests/bench/run.sh

example: all
	@CKPT_BUILD=$(O) sh tests/example.sh

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

clean:
	rm -rf $(O)

.PHONY: all unit integration check bench example clean
.DELETE_ON_ERROR:
.SECONDARY: $(PROTO_C) $(PROTO_H)
-include $(shell find $(O)/obj $(O)/restorer -name '*.d' 2>/dev/null)
