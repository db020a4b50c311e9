# sbx: build, test, bench, install. `make help` lists the targets.
#
# A variant is a build directory: `build` (default) or `build-asan`
# (AddressSanitizer + UBSan), chosen with B=.

PREFIX   ?= /usr/local
DESTDIR  ?=
B        ?= build
SAN      ?=

APT_PACKAGES := build-essential pkg-config libnng-dev libprotobuf-c-dev protobuf-c-compiler \
                protobuf-compiler libsqlite3-dev libcurl4-openssl-dev libsodium-dev \
                libjansson-dev libseccomp-dev libcmocka-dev sqlite3 busybox-static tar e2fsprogs \
                docker.io curl

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CPPFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC -I$(B)/gen -Iclient/include -Icommon -Istorage -Itests \
            -Iserver -Iproviders -Iproviders/docker $(SAN)
LDLIBS_BASE := -lnng -lprotobuf-c -lpthread
LDLIBS_SRV  := $(LDLIBS_BASE) -lsqlite3 -lsodium -ljansson -lcurl -lseccomp -lm
LDLIBS_CLI  := $(LDLIBS_BASE) -ljansson -lsodium -lm

PROTOS    := $(sort $(wildcard proto/sbx/v1/*.proto))
PB_C      := $(patsubst proto/%.proto,$(B)/gen/%.pb-c.c,$(PROTOS))
PB_H      := $(PB_C:.c=.h)
MIGRATIONS := $(sort $(wildcard migrations/*.sql))

COMMON_SRC  := $(wildcard common/*.c)
STORAGE_SRC := $(wildcard storage/*.c)
SERVER_SRC  := $(wildcard server/*.c)
PROVIDER_SRC:= $(wildcard providers/*.c) $(filter-out %/sbx_init.c,$(wildcard providers/*/*.c))
LIB_SRC     := client/libsbx.c
CLI_SRC     := $(wildcard client/cli/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

PB_OBJ      := $(patsubst $(B)/gen/%.c,$(B)/obj/gen/%.o,$(PB_C))
COMMON_OBJ  := $(call obj,$(COMMON_SRC)) $(PB_OBJ)
STORAGE_OBJ := $(call obj,$(STORAGE_SRC)) $(B)/obj/gen/migrations_data.o
SERVER_OBJ  := $(call obj,$(SERVER_SRC) $(PROVIDER_SRC)) $(B)/obj/gen/fds_blob.o
LIB_OBJ     := $(call obj,$(LIB_SRC)) $(COMMON_OBJ)
CLI_OBJ     := $(call obj,$(CLI_SRC))

SBXD   := $(B)/sbxd
SBXINIT:= $(B)/sbx-init
SBX    := $(B)/sbx
LIBA   := $(B)/libsbx.a
LIBSO  := $(B)/libsbx.so.0
PCFILE := $(B)/libsbx.pc

TEST_SRC  := $(wildcard tests/test_*.c)
TEST_BIN  := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))
TEST_LIB  := $(call obj,tests/harness.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps run test test-asan bench install uninstall clean help
.DEFAULT_GOAL := all
# Keep generated headers and objects that only pattern rules name: make
# would otherwise delete them as intermediates and rebuild everything on
# the next run.
.SECONDARY:

all: $(SBXD) $(SBXINIT) $(SBX) $(LIBA) $(LIBSO) $(PCFILE)

help:
	@echo "make            build sbxd, sbx, libsbx (static, shared, pkg-config)"
	@echo "make run        install missing packages, build, start sbxd in the foreground"
	@echo "make test       install missing packages, build, run the whole suite"
	@echo "make test-asan  the suite under AddressSanitizer + UBSan"
	@echo "make bench      benchmarks, each figure beside its baseline"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=..."

# Installs the Debian packages the build and the tests need, only when one
# is missing (dpkg -s), so repeated runs cost nothing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
		|| { echo "apt-get install failed for:$$missing" >&2; exit 1; }; \
	fi

run: deps all
	exec $(SBXD)

test: deps
	@$(MAKE) --no-print-directory all tests
	@B=$(B) tests/run.sh

test-asan: deps
	@$(MAKE) --no-print-directory B=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all tests
	@B=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all benches
	@B=$(B) bench/run.sh

.PHONY: tests benches
tests: $(TEST_BIN) $(B)/tests/attack
benches: $(BENCH_BIN)

# ---- generated sources --------------------------------------------------
$(B)/gen/%.pb-c.c $(B)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(B)/gen
	protoc-c -Iproto --c_out=$(B)/gen $<

$(B)/gen/sbx.fds: $(PROTOS)
	@mkdir -p $(B)/gen
	protoc -Iproto --include_imports --include_source_info --descriptor_set_out=$@ $(PROTOS)

$(B)/gen/fds_blob.c: $(B)/gen/sbx.fds tools/embed.sh
	tools/embed.sh blob sbx_fds $< > $@

$(B)/gen/migrations_data.c: $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(B)/gen
	tools/embed.sh migrations migrations > $@

# ---- objects ------------------------------------------------------------
$(B)/obj/gen/%.o: $(B)/gen/%.c $(PB_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c $(PB_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- binaries and libraries --------------------------------------------
$(SBXD): $(SERVER_OBJ) $(STORAGE_OBJ) $(COMMON_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS_SRV)

# PID 1 of native sandboxes: static, so it runs in any root filesystem, and
# never sanitized (the sanitizers' runtimes do not link statically).
$(SBXINIT): providers/local/sbx_init.c $(B)/gen/seccomp_filter.c
	$(CC) -std=gnu11 -O2 -g $(WARN) -static -o $@ $^

# The sandbox seccomp filter, compiled to BPF once with libseccomp.
$(B)/sbx-seccomp-gen: providers/local/sbx_init.c
	@mkdir -p $(B)
	$(CC) -std=gnu11 -O2 $(WARN) -Wno-unused-function -DSBX_SECCOMP_GEN -o $@ $< -lseccomp

$(B)/gen/seccomp_filter.c: $(B)/sbx-seccomp-gen tools/embed.sh
	@mkdir -p $(B)/gen
	$(B)/sbx-seccomp-gen > $(B)/gen/seccomp.bpf
	tools/embed.sh blob sbx_seccomp_bpf $(B)/gen/seccomp.bpf > $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBSO): $(LIB_OBJ)
	$(CC) $(SAN) -shared -Wl,-soname,libsbx.so.0 -o $@ $^ $(LDLIBS_BASE)
	ln -sf libsbx.so.0 $(B)/libsbx.so

$(SBX): $(CLI_OBJ) $(LIBA)
	$(CC) $(SAN) -o $@ $(CLI_OBJ) $(LIBA) $(LDLIBS_CLI)

$(PCFILE): client/libsbx.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' $< > $@

# Tests link the daemon's modules too, to test storage and RPC pieces
# directly beside the black-box tests against a running sbxd.
$(B)/tests/%: $(B)/obj/tests/%.o $(TEST_LIB) $(LIBA) $(STORAGE_OBJ) $(filter-out %/sbxd.o,$(SERVER_OBJ))
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LIBA) $(LDLIBS_SRV) -lcmocka

# Run inside sandboxes by test_isolation: static, never sanitized.
$(B)/tests/attack: tests/attack.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -static -o $@ $<

$(B)/bench/%: $(B)/obj/bench/%.o $(B)/obj/bench/bench.o $(TEST_LIB) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LIBA) $(LDLIBS_CLI) -lsodium -lcurl -lcmocka

# ---- install ------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/sbx/v1 $(DESTDIR)$(PREFIX)/share/sbx/proto/sbx/v1
	install -m 0755 $(SBXD) $(SBX) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/sbx
	install -m 0755 $(SBXINIT) $(DESTDIR)$(PREFIX)/lib/sbx/
	install -m 0644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libsbx.so.0 $(DESTDIR)$(PREFIX)/lib/libsbx.so
	install -m 0644 client/include/sbx/*.h client/include/sbx/*.def $(DESTDIR)$(PREFIX)/include/sbx/
	install -m 0644 $(PB_H) $(DESTDIR)$(PREFIX)/include/sbx/v1/
	install -m 0644 $(PROTOS) $(DESTDIR)$(PREFIX)/share/sbx/proto/sbx/v1/
	install -m 0644 $(PCFILE) $(DESTDIR)$(PREFIX)/lib/pkgconfig/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/sbxd $(DESTDIR)$(PREFIX)/bin/sbx $(DESTDIR)$(PREFIX)/lib/sbx/sbx-init \
		$(DESTDIR)$(PREFIX)/lib/libsbx.* $(DESTDIR)$(PREFIX)/lib/pkgconfig/libsbx.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/sbx $(DESTDIR)$(PREFIX)/share/sbx

clean:
	rm -rf build build-asan
