# Parley: one non-recursive Makefile, every flag from pkg-config, out-of-tree builds.
#   make            build/parley
#   make check      unit + end-to-end tests (tests/run.sh prints "N passed, N failed")
#   make asan       the same suite against an AddressSanitizer + UBSan build
#   make fuzz       libFuzzer targets (clang) into build-fuzz/
#   make check-hard   everything at full strength: 10,000 idle connections, 50 kill -9 rounds, 60 s per fuzz target
#   make format     clang-format every hand-written C file (make format-check: CI's check)
#   make STORE_PG=0 without libpq (the PostgreSQL store refuses to open)
#   make gen        regenerate the operation table from the spec (Python 3; SPEC=path to override)
BUILD   ?= build
PKGS    := libmicrohttpd jansson sqlite3 libpq libcurl openssl
# make STORE_PG=0: no libpq; a --data postgres://... target is then refused with a message
ifeq ($(STORE_PG),0)
PKGS    := $(filter-out libpq,$(PKGS))
CPPFLAGS += -DNO_STORE_PG
endif
MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,$(p))))
$(if $(MISSING),$(error missing pkg-config modules: $(MISSING) (run scripts/deps.sh)))

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
           -Wformat=2 -Wno-unused-parameter -Wno-format-nonliteral -fno-common -pthread
CPPFLAGS += -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags $(PKGS)) -MMD -MP
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -pthread

SRC   := $(wildcard src/*.c src/*/*.c)
OBJ   := $(SRC:src/%.c=$(BUILD)/%.o)
LIB   := $(filter-out $(BUILD)/main.o,$(OBJ))
TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/*.c))
FUZZ  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/*.c))

all: $(BUILD)/parley
$(BUILD)/parley: $(OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)
$(BUILD)/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<
$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDFLAGS) $(LDLIBS)

unit: $(TESTS)
check: all $(TESTS)
	BUILD=$(BUILD) tests/run.sh
# The reliability run (issue 7): the whole suite with 10,000 idle connections in the hostile-client test,
# 50 kill -9 rounds in the crash test and a minute per fuzz target.
check-hard:
	HOSTILE_SCALE=full CRASH_ROUNDS=50 FUZZ_SECONDS=60 SKIP_BENCH=1 bash scripts/test.sh
asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" check
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" fuzz-bins
fuzz-bins: $(FUZZ)
# The operation table's generated files are checked in: a normal build needs neither Python nor the spec.
gen:
	python3 scripts/gen_operations.py
# clang-format with the checked-in .clang-format; generated files are written by the generator instead.
FORMAT_SRC := $(filter-out %.gen.c %.gen.h,$(wildcard src/*.[ch] src/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c))
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)
clean:
	rm -rf build build-asan build-fuzz
.PHONY: all unit check check-hard asan fuzz fuzz-bins gen format format-check clean
-include $(OBJ:.o=.d)
