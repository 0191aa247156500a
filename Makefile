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
PKGS    := libfastjson zlib libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Icore $(PKG_CFLAGS) -fPIC
LDLIBS  := $(PKG_LIBS) -lpthread

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
# symbols resolve at load time, so no -z defs.
OMTLSRPT_SRC := $(sort $(wildcard modules/omtlsrpt/*.c))
OMTLSRPT_OBJ := $(OMTLSRPT_SRC:%.c=$(BUILD)/%.o)
OMTLSRPT_SO  := $(BUILD)/omtlsrpt.so
ESTR_CFLAGS  := $(shell pkg-config --cflags libestr 2>/dev/null)
ESTR_LIBS    := $(shell pkg-config --libs libestr 2>/dev/null)
BENCH_SRC  := $(sort $(wildcard bench/*.c))
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps demo check test bench fuzz format format-check clean

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
	$(CC) $(LDFLAGS) -shared -pthread -Wl,--version-script=modules/omtlsrpt/exports.map \
		-o $@ $(OMTLSRPT_OBJ) $(CORE_LIB) $(ESTR_LIBS) $(LDLIBS)

$(CORE_LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(TLSRPT_BIN): $(TLSRPT_OBJ) $(CORE_LIB)
	$(CC) $(LDFLAGS) -o $@ $(TLSRPT_OBJ) $(CORE_LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/harness.h $(CORE_LIB)
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

clean:
	rm -rf build build-san build-fuzz
