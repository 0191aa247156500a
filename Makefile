# opentlsrpt - top-level build.
#   make            build core library and the tlsrpt binary
#   make demo       install deps, build, run the pipeline on bundled sample logs
#   make check      install deps, build, run every test (also under ASan+UBSan)
#   make bench      throughput benchmarks (ratios against wc -l)
#   make fuzz       run every libFuzzer target for FUZZ_SECONDS each
#   make format     apply clang-format

BUILD   ?= build
SAN     ?=
CC      ?= gcc
PKGS    := libfastjson zlib libsystemd libcrypto libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Icore $(PKG_CFLAGS) -fPIC
LDLIBS  := $(PKG_LIBS) -lunbound -lpthread

ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

CORE_SRC   := $(sort $(wildcard core/*.c))
CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
CORE_LIB   := $(BUILD)/libtrptcore.a
TLSRPT_SRC := $(sort $(wildcard modules/tlsrpt/*.c))
TLSRPT_OBJ := $(TLSRPT_SRC:%.c=$(BUILD)/%.o)
TLSRPT_BIN := $(BUILD)/tlsrpt
TEST_SRC   := $(sort $(wildcard tests/core/test_*.c))
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# omtlsrpt.so, the rsyslog output module: core is linked in statically and
# only modInit is exported (modules/omtlsrpt/exports.map); rsyslogd's own
# symbols resolve at load time, so no -z defs. --as-needed: the sanitizer
# flags turn Debian's default off, and a module linked against libcurl's
# TLS stack hangs rsyslogd at load.
# abi_probe.c is a program of make abi-check, not part of the module.
OMTLSRPT_SRC := $(sort $(filter-out modules/omtlsrpt/abi_probe.c,$(wildcard modules/omtlsrpt/*.c)))
OMTLSRPT_OBJ := $(OMTLSRPT_SRC:%.c=$(BUILD)/%.o)
OMTLSRPT_SO  := $(BUILD)/omtlsrpt.so
ESTR_CFLAGS  := $(shell pkg-config --cflags libestr 2>/dev/null)
ESTR_LIBS    := $(shell pkg-config --libs libestr 2>/dev/null)
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps demo check test bench fuzz format format-check clean \
        install uninstall abi-check

# Installation directories (GNU names; DESTDIR for staging).
PREFIX     ?= /usr/local
prefix     ?= $(PREFIX)
bindir     ?= $(prefix)/bin
sysconfdir ?= $(if $(filter /usr,$(prefix)),/etc,$(prefix)/etc)
datadir    ?= $(prefix)/share
mandir     ?= $(datadir)/man
libdir     ?= $(prefix)/lib
# rsyslog's module directory: where the stock rsyslogd looks (-M default).
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
RSYSLOG_MODDIR ?= $(if $(MULTIARCH),/usr/lib/$(MULTIARCH)/rsyslog,$(libdir)/rsyslog)
SYSTEMD_UNITDIR ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
# INSTALL_RSYSLOG_CONF=1 also puts rsyslog-conf/single-host.conf into
# /etc/rsyslog.d (off by default: enabling a log path is the operator's call).
INSTALL_RSYSLOG_CONF ?= 0

all: $(TLSRPT_BIN) $(TEST_BIN) $(BENCH_BIN) $(if $(OMTLSRPT_SRC),$(OMTLSRPT_SO))

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c $(wildcard core/*.h) $(wildcard modules/tlsrpt/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/modules/omtlsrpt/%.o: modules/omtlsrpt/%.c $(wildcard core/*.h) $(wildcard modules/omtlsrpt/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ESTR_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(OMTLSRPT_SO): $(OMTLSRPT_OBJ) $(CORE_LIB) modules/omtlsrpt/exports.map
	$(CC) $(LDFLAGS) -shared -pthread -Wl,--as-needed -Wl,--version-script=modules/omtlsrpt/exports.map \
		-o $@ $(OMTLSRPT_OBJ) $(CORE_LIB) $(ESTR_LIBS) $(LDLIBS)

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TLSRPT_BIN): $(TLSRPT_OBJ) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $(TLSRPT_OBJ) $(CORE_LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/harness.h tests/servers.h $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(CORE_LIB) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(CORE_LIB) $(LDLIBS)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(BUILD)

# The test suite: a normal build, then the same suite under ASan+UBSan.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 all
	@sh tests/run.sh build build-san

test: all
	@sh tests/run.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh $(BUILD)

FUZZ_SECONDS ?= 60
fuzz: deps
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

format:
	clang-format -i core/*.[ch] modules/*/*.[ch] tests/*.h tests/*/*.c bench/*.c

format-check:
	@clang-format --dry-run --Werror core/*.[ch] modules/*/*.[ch] tests/*.h tests/*/*.c bench/*.c

# rsyslog ABI cross-check against the real headers (docs/omtlsrpt.8).
abi-check:
	@sh modules/omtlsrpt/abi-check.sh

MAN_PAGES := $(wildcard docs/*.[1-8])
UNITS     := $(wildcard modules/systemd/*.service modules/systemd/*.socket)

install: all
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(RSYSLOG_MODDIR) \
		$(DESTDIR)$(sysconfdir)/opentlsrpt $(DESTDIR)$(datadir)/opentlsrpt/rsyslog-conf
	install -m 0755 $(TLSRPT_BIN) $(DESTDIR)$(bindir)/tlsrpt
	$(if $(OMTLSRPT_SRC),install -m 0644 $(OMTLSRPT_SO) $(DESTDIR)$(RSYSLOG_MODDIR)/omtlsrpt.so)
	install -m 0644 docs/tlsrpt.conf.example $(DESTDIR)$(sysconfdir)/opentlsrpt/tlsrpt.conf.example
	for m in $(MAN_PAGES); do \
		sec=$${m##*.}; install -d $(DESTDIR)$(mandir)/man$$sec; \
		install -m 0644 $$m $(DESTDIR)$(mandir)/man$$sec/; done
	for c in rsyslog-conf/*.conf; do [ -f "$$c" ] || continue; \
		install -m 0644 $$c $(DESTDIR)$(datadir)/opentlsrpt/rsyslog-conf/; done
	if [ -n "$(UNITS)" ]; then install -d $(DESTDIR)$(SYSTEMD_UNITDIR); fi
	for u in $(UNITS); do \
		sed -e 's|@BINDIR@|$(bindir)|g' -e 's|/usr/bin/tlsrpt|$(bindir)/tlsrpt|g' \
		    -e 's|@SYSCONFDIR@|$(sysconfdir)|g' $$u > $(DESTDIR)$(SYSTEMD_UNITDIR)/$$(basename $$u); \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/$$(basename $$u); done
	if [ "$(INSTALL_RSYSLOG_CONF)" = 1 ]; then install -d $(DESTDIR)/etc/rsyslog.d && \
		install -m 0644 rsyslog-conf/single-host.conf $(DESTDIR)/etc/rsyslog.d/30-omtlsrpt.conf; fi

uninstall:
	rm -f $(DESTDIR)$(bindir)/tlsrpt $(DESTDIR)$(RSYSLOG_MODDIR)/omtlsrpt.so \
		$(DESTDIR)$(sysconfdir)/opentlsrpt/tlsrpt.conf.example \
		$(DESTDIR)/etc/rsyslog.d/30-omtlsrpt.conf
	for m in $(MAN_PAGES); do sec=$${m##*.}; \
		rm -f $(DESTDIR)$(mandir)/man$$sec/$$(basename $$m); done
	for u in $(UNITS); do rm -f $(DESTDIR)$(SYSTEMD_UNITDIR)/$$(basename $$u); done
	rm -rf $(DESTDIR)$(datadir)/opentlsrpt
	-rmdir $(DESTDIR)$(sysconfdir)/opentlsrpt 2>/dev/null

clean:
	rm -rf build build-san build-fuzz
