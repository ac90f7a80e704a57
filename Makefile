# vtbench - build, test, benchmark, demo.
#
#   make            build bin/refvmm, bin/vtbench, workloads/build/*.elf, the Linux guest
#   make check      unit + integration tests (SAN=1: ASan + UBSan build)
#   make bench      longer measurements (docs/PERFORMANCE.md)
#   make demo       quick matrix on every backend this host supports + report
#   make check-kvm-amd  the KVM backend on a stock kvm_amd under QEMU TCG (docs/KVM_MODES.md)
#   make campaign-demo  a campaign at two sites: a Slurm job array and GNU parallel over ssh (docs/MATRIX.md)
#   make deps       install missing Debian packages (idempotent, quiet)
#   make install    PREFIX=/usr/local
#   make gen-tests  regenerate the model's instruction-test tables (tests/gen/)
#
# Sources are discovered by directory; each subsystem owns its folder.

# `make` alone builds `all` (the stamp rule below would otherwise come first).
.DEFAULT_GOAL := all

PREFIX ?= /usr/local
CC ?= gcc
GUEST_CC ?= gcc
SAN ?= 0

BUILD := build$(if $(filter 1,$(SAN)),-san,)
BIN := bin$(if $(filter 1,$(SAN)),-san,)

PKGS := jansson check
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs jansson 2>/dev/null) -lpfm -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

GIT_REV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
VERSION := 0.1.0

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
          -I. -I$(BUILD)/gen $(PKG_CFLAGS) -DVTB_VERSION='"$(VERSION)"' -DVTB_GIT_REV='"$(GIT_REV)"' -MMD -MP
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# Objects that embed the git revision rebuild when it changes (a stamp that is
# rewritten only when the revision differs).
GIT_REV_STAMP := $(BUILD)/git_rev.stamp
$(GIT_REV_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' > $@
FORCE:
GIT_REV_USERS = $(shell grep -l VTB_GIT_REV $(LIB_SRC) $(VTB_SRC) vtbench/main.c refvmm/main.c $(UNIT_SRC) $(INTEG_SRC) 2>/dev/null)

# ---- host library: everything but the mains --------------------------------
LIB_SRC := $(filter-out refvmm/main.c,$(wildcard refvmm/*.c refvmm/kvm/*.c refvmm/model/*.c refvmm/model/*/*.c \
             probes/*.c results/*.c))
VTB_SRC := $(filter-out vtbench/main.c,$(wildcard vtbench/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
VTB_OBJ := $(VTB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libvtb.a

UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c)
TESTLIB_SRC := $(wildcard tests/lib/*.c)

# ---- guest images --------------------------------------------------------------
GUEST_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
                -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
                -mno-red-zone -mgeneral-regs-only -mcmodel=small -Wall -Wextra -Werror \
                -Iworkloads/rt -Iworkloads
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 \
                 -Wl,-z,noexecstack -T workloads/rt/link.ld
RT_SRC := $(wildcard workloads/rt/*.c workloads/rt/*.S)
RT_OBJ := $(patsubst %,workloads/build/obj/%.o,$(RT_SRC))
WORKLOADS := $(patsubst workloads/%.c,%,$(wildcard workloads/*.c))
HOSTILE := $(patsubst tests/hostile/%.c,%,$(wildcard tests/hostile/*.c))
IMAGES := $(WORKLOADS:%=workloads/build/%.elf) $(HOSTILE:%=workloads/build/hostile/%.elf)

.PHONY: FORCE all check unit integration bench bench-linux demo deps install clean format fuzz images gen-tests \
        check-kvm-amd campaign-demo
all: $(BIN)/refvmm $(BIN)/vtbench images

images: $(IMAGES)
include workloads/linux/linux.mk
# Keep guest objects (they are intermediate files of pattern rules).
.PRECIOUS: workloads/build/obj/%.c.o workloads/build/obj/%.S.o

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(GIT_REV_USERS:%.c=$(BUILD)/%.o): $(GIT_REV_STAMP)

# The backend table (refvmm/backend.c): one BACKEND(NAME) line per
# `const struct backend_ops NAME = {` in a backend's folder, so a new
# backend is found without editing the core.
BACKEND_SRC := $(wildcard refvmm/*/*.c)
$(BUILD)/gen/backends.h: $(BACKEND_SRC)
	@mkdir -p $(dir $@)
	@grep -ho '^const struct backend_ops [a-z0-9_]* = {' $^ /dev/null | \
	  sed 's/^const struct backend_ops \([a-z0-9_]*\) = {/BACKEND(\1)/' > $@.tmp && mv $@.tmp $@
$(BUILD)/refvmm/backend.o: $(BUILD)/gen/backends.h

# The default cost profile is embedded into this object (.incbin, not seen by -MMD).
$(BUILD)/refvmm/model/cost/cost_profile_data.o $(BUILD)/pgo-gen/refvmm/model/cost/cost_profile_data.o: \
  refvmm/model/profiles/intel-skylake.json

# ---- profile-guided build of the model ---------------------------------------------
# Why: the model backend (an x86 interpreter + TLB model) runs ~10% more guest
# instructions/s when gcc optimises it with a profile.
# Only the compiler's choices change, never the results (bench/model_counts_diff.sh).
# What: refvmm/model/*.c are compiled instrumented (-fprofile-generate) into
# $(BUILD)/pgo-gen/ and linked with the rest of the library into
# $(BUILD)/pgo-gen/refvmm-gen; scripts/pgo_train.sh runs it for a few seconds on the
# model backend; its profiles (.gcda) are copied next to the model objects, which
# are then compiled with -fprofile-use. Editing a model source, a header one
# includes or the script retrains; edits elsewhere do not (the rest of the
# library is linked in as it is, order-only).
# Off: make PGO=0 (the default with SAN=1 and with compilers other than gcc).
ifndef PGO
PGO := $(if $(filter 1,$(SAN)),0,$(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo 1 || echo 0))
endif
MODEL_SRC := $(wildcard refvmm/model/*.c refvmm/model/*/*.c)
MODEL_OBJ := $(MODEL_SRC:%.c=$(BUILD)/%.o)
# switching PGO rebuilds the model objects (a stamp rewritten only when it differs)
$(MODEL_OBJ): $(BUILD)/pgo.mode
$(BUILD)/pgo.mode: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PGO)' | cmp -s - $@ || echo '$(PGO)' > $@

ifeq ($(PGO),1)
PGO_DIR := $(BUILD)/pgo-gen
PGO_GEN_OBJ := $(MODEL_SRC:%.c=$(PGO_DIR)/%.o)
PGO_REST_OBJ := $(filter-out $(MODEL_OBJ),$(LIB_OBJ))
# -Wno-error: a warning only the profile brings out (e.g. after more inlining) is
# not fatal; the instrumented compile of the same file, which runs first, keeps -Werror.
PGO_USE_FLAGS := -fprofile-use -fprofile-partial-training -Wno-missing-profile -Wno-error

# -dumpdir/-dumpbase: gcc names a static function's profile after the object's
# path; these give the instrumented object the final object's name (else no
# static function would find its counts).
$(PGO_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fprofile-generate -fprofile-update=single \
	  -dumpdir $(BUILD)/$(dir $*) -dumpbase $(notdir $<) -dumpbase-ext .c -c -o $@ $<

$(PGO_DIR)/refvmm-gen: $(PGO_GEN_OBJ) | $(BUILD)/refvmm/main.o $(PGO_REST_OBJ)
	rm -f $(PGO_DIR)/libvtb.a && ar rcs $(PGO_DIR)/libvtb.a $(PGO_GEN_OBJ) $(PGO_REST_OBJ)
	$(CC) $(LDFLAGS) -fprofile-generate -o $@ $(BUILD)/refvmm/main.o $(PGO_DIR)/libvtb.a $(PKG_LIBS)

# Training needs guest images: all of them (a partial set would confuse tests
# that look for images); order-only, a guest change does not retrain. The
# profiles go to a private directory (GCOV_PREFIX_STRIP drops the compile-time
# path: NAME.gcda, wherever the tree has moved since), then each replaces
# $(BUILD)/refvmm/model/[DIR/]NAME.gcda atomically (a concurrent make may be reading it).
$(BUILD)/pgo.stamp: $(PGO_DIR)/refvmm-gen scripts/pgo_train.sh | $(IMAGES)
	@mkdir -p $(BUILD)/refvmm/model
	@set -e; d=$$(mktemp -d $(abspath $(PGO_DIR))/data.XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	  echo "GCOV_PREFIX=$$d GCOV_PREFIX_STRIP=999 bash scripts/pgo_train.sh $(PGO_DIR)/refvmm-gen"; \
	  GCOV_PREFIX=$$d GCOV_PREFIX_STRIP=999 bash scripts/pgo_train.sh $(PGO_DIR)/refvmm-gen; \
	  ls $$d/*.gcda >/dev/null 2>&1 || { echo "pgo: training wrote no profile (make PGO=0 builds without)" >&2; exit 1; }; \
	  for f in $(MODEL_SRC:%.c=%); do b=$$(basename $$f).gcda; g=$(BUILD)/$$f.gcda; mkdir -p $$(dirname $$g); \
	    if [ -f $$d/$$b ]; then cp $$d/$$b $$g.tmp && mv $$g.tmp $$g; else rm -f $$g; fi; done
	touch $@

$(MODEL_OBJ): $(BUILD)/pgo.stamp
$(BUILD)/refvmm/model/%.o: refvmm/model/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PGO_USE_FLAGS) -c -o $@ $<
endif

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/refvmm: $(BUILD)/refvmm/main.o $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/vtbench: $(BUILD)/vtbench/main.o $(VTB_OBJ) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Check runners: suites are discovered from `Suite *suite_NAME(void)` lines.
SUITE_GEN = @mkdir -p $(dir $@); grep -ho '^Suite \*suite_[a-z0-9_]*(void)' $^ /dev/null | \
  sed 's/^Suite \*\(suite_[a-z0-9_]*\)(void)/SUITE(\1)/' > $@.tmp && mv $@.tmp $@
$(BUILD)/tests/unit_suites.h: $(UNIT_SRC)
	$(SUITE_GEN)
$(BUILD)/tests/integration_suites.h: $(INTEG_SRC)
	$(SUITE_GEN)

$(BUILD)/tests/unit_runner.o: tests/runner.c $(BUILD)/tests/unit_suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSUITES_H='"$(BUILD)/tests/unit_suites.h"' -DRUNNER_NAME='"unit"' -c -o $@ $<
$(BUILD)/tests/integration_runner.o: tests/runner.c $(BUILD)/tests/integration_suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSUITES_H='"$(BUILD)/tests/integration_suites.h"' -DRUNNER_NAME='"integration"' -c -o $@ $<

$(BIN)/test_unit: $(BUILD)/tests/unit_runner.o $(UNIT_SRC:%.c=$(BUILD)/%.o) $(TESTLIB_SRC:%.c=$(BUILD)/%.o) $(VTB_OBJ) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

$(BIN)/test_integration: $(BUILD)/tests/integration_runner.o $(INTEG_SRC:%.c=$(BUILD)/%.o) $(TESTLIB_SRC:%.c=$(BUILD)/%.o) $(VTB_OBJ) $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

# ---- guest build -----------------------------------------------------------------
workloads/build/obj/%.c.o: %.c workloads/rt/vtb_abi.h $(wildcard workloads/rt/*.h)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<
workloads/build/obj/%.S.o: %.S $(wildcard workloads/rt/*.h)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

workloads/build/%.elf: workloads/build/obj/workloads/%.c.o $(RT_OBJ) workloads/rt/link.ld
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(RT_OBJ) $<
workloads/build/hostile/%.elf: workloads/build/obj/tests/hostile/%.c.o $(RT_OBJ) workloads/rt/link.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(RT_OBJ) $<

# ---- tests --------------------------------------------------------------------------
# Tests and scripts use the binaries of this build (bin/ or, with SAN=1, bin-san/).
TEST_ENV := REFVMM=$(BIN)/refvmm VTBENCH=$(BIN)/vtbench
check: all $(BIN)/test_unit $(BIN)/test_integration
	$(TEST_ENV) CK_FORK=yes $(BIN)/test_unit
	$(TEST_ENV) CK_FORK=yes $(BIN)/test_integration
	@start=$$(date +%s); for t in tests/scripts/*.sh; do [ -f "$$t" ] || continue; echo "== $$t"; \
	  t0=$$(date +%s); $(TEST_ENV) bash "$$t" || exit 1; echo "== $$t: $$(($$(date +%s) - t0)) s"; done; \
	  echo "make check: the scripts took $$(($$(date +%s) - start)) s"
	@echo "make check: all tests passed"

# The full kvm_amd rig (make check runs its smoke plan): a Debian 6.1 kernel
# with kvm_amd booted under QEMU TCG, npt=1 and npt=0, validate, the quick
# matrix, perf kvm stat; results in build/kvm-amd/full/ (docs/KVM_MODES.md).
check-kvm-amd: all
	bash scripts/kvm_amd/rig.sh full build/kvm-amd/full $(BIN)

# A campaign end to end at two sites on this machine: a one-node Slurm
# cluster and GNU parallel over ssh to 127.0.0.1, both started and stopped
# by the script (about 3 minutes; docs/MATRIX.md, "Campaigns").
campaign-demo: all
	$(TEST_ENV) bash scripts/campaign/demo.sh build/campaign-demo

# The model's instruction-test tables, from tests/gen/*.cases (expected values
# from running each snippet on this CPU; tests/gen/README.md).
gen-tests:
	python3 tests/gen/gen_model_tests.py

unit: images $(BIN)/test_unit
	$(TEST_ENV) CK_FORK=yes $(BIN)/test_unit
integration: all $(BIN)/test_integration
	$(TEST_ENV) CK_FORK=yes $(BIN)/test_integration

# ---- fuzzing: libFuzzer harnesses (clang), docs/RELIABILITY.md ----------------------
#   make fuzz        build every harness into bin/fuzz_NAME
#   make fuzz-run    run each for FUZZ_SECONDS (default 30)
#   make fuzz-long   run each for FUZZ_LONG_SECONDS (default 600)
# `make check` runs each for ~4 s (tests/scripts/fuzz_smoke.sh; skipped without
# libFuzzer). Seeds: tests/fuzz/corpus/NAME/ (in git); new inputs: build/fuzz/NAME/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 600
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -I$(BUILD)/gen -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers -Wno-gnu-variable-sized-type-not-at-end \
               -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_LIBS := $(or $(shell pkg-config --libs jansson 2>/dev/null),-ljansson) -lpfm -lpthread -lm
# Every tests/fuzz/fuzz_NAME.c is a harness; FUZZ_SRC_NAME lists what it links
# (default: the whole host library).
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC_elf_loader := tests/fuzz/fuzz_elf_loader.c refvmm/elf_loader.c refvmm/guest_mem.c
# hypercall.c reaches events.c and through it the KVM backend: the whole host library.
FUZZ_SRC_hypercall := tests/fuzz/fuzz_hypercall.c $(LIB_SRC)
# vtbench harnesses link the host library and vtbench's sources (minus main):
# explicit lists went stale whenever a vtbench file gained a dependency.
FUZZ_VTB_SRC := $(LIB_SRC) $(filter-out vtbench/main.c,$(wildcard vtbench/*.c))
FUZZ_SRC_matrix := tests/fuzz/fuzz_matrix.c $(FUZZ_VTB_SRC)
FUZZ_SRC_result_reader := tests/fuzz/fuzz_result_reader.c $(FUZZ_VTB_SRC)
FUZZ_BINS := $(FUZZ_NAMES:%=bin/fuzz_%)
# Each source is compiled once for all harnesses (instrumented objects under
# $(BUILD)/fuzz-obj, header dependencies through -MMD), then each harness links
# what it lists: five whole-library compiles per harness were most of make
# check's fuzz time on a fresh checkout.
FUZZ_OBJ := $(BUILD)/fuzz-obj
$(FUZZ_OBJ)/%.o: %.c $(BUILD)/gen/backends.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<
# clang at -O1 with ASan/UBSan spends over a minute on model_dispatch.c's one
# direct-threaded function (some 250 handlers inlined into it), the fuzz
# build's critical path; at -O0 it takes about 7 s (FUZZ_DISPATCH_OPT= keeps -O1)
FUZZ_DISPATCH_OPT ?= -O0
$(FUZZ_OBJ)/refvmm/model/cpu/model_dispatch.o: FUZZ_CFLAGS += $(FUZZ_DISPATCH_OPT)
define FUZZ_RULE
FUZZ_SRC_$(1) ?= tests/fuzz/fuzz_$(1).c $$(LIB_SRC)
bin/fuzz_$(1): $$(patsubst %.c,$(FUZZ_OBJ)/%.o,$$(FUZZ_SRC_$(1)))
	@mkdir -p bin
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$^ $$(FUZZ_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULE,$(n))))
.PHONY: fuzz-run fuzz-long
fuzz: $(FUZZ_BINS)
fuzz-run: fuzz
	FUZZ_NAMES="$(FUZZ_NAMES)" bash tests/scripts/fuzz_smoke.sh --run $(FUZZ_SECONDS)
fuzz-long: fuzz
	FUZZ_NAMES="$(FUZZ_NAMES)" bash tests/scripts/fuzz_smoke.sh --run $(FUZZ_LONG_SECONDS)

bench: all $(BIN)/pio_floor
	bash bench/run.sh

# The Linux guest's workloads on the model in every mode, reported (docs/LINUX.md).
bench-linux: all
	VTBENCH=$(BIN)/vtbench bash bench/linux.sh

# the floor refvmm's exit path is measured against (bench/pio_floor.c)
$(BIN)/pio_floor: $(BUILD)/bench/pio_floor.o $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

demo: deps
	$(MAKE) all
	bash scripts/demo.sh

deps:
	@bash scripts/deps.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vtbench/workloads $(DESTDIR)$(PREFIX)/share/vtbench/plots
	install -m 755 $(BIN)/refvmm $(BIN)/vtbench $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(WORKLOADS:%=workloads/build/%.elf) $(DESTDIR)$(PREFIX)/share/vtbench/workloads/
	install -d $(DESTDIR)$(PREFIX)/share/vtbench/profiles
	install -m 644 refvmm/model/profiles/*.json $(DESTDIR)$(PREFIX)/share/vtbench/profiles/
	if ls plots/*.gp >/dev/null 2>&1; then install -m 644 plots/*.gp $(DESTDIR)$(PREFIX)/share/vtbench/plots/; fi

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san bin bin-san workloads/build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
