# The two commands a newcomer needs: `make run` and `make check`.
# Both install what is missing (Debian 12, apt-get; sudo when not root), configure and build.

BUILDDIR ?= _build
MESON_OPTIONS ?=

# make check also builds the project with ASan/UBSan and the libFuzzer targets (clang).
ASAN_BUILDDIR ?= _build-asan
FUZZ_BUILDDIR ?= _build-fuzz
# Seconds per fuzz target: FUZZ_SECONDS for `make fuzz`, CHECK_FUZZ_SECONDS inside `make check`.
FUZZ_SECONDS ?= 600
CHECK_FUZZ_SECONDS ?= 30

.PHONY: all deps test-deps configure build run check fuzz bench clean

all: build

deps:
	@sh build-aux/install-deps.sh build

test-deps:
	@sh build-aux/install-deps.sh test

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) $(MESON_OPTIONS)

configure: $(BUILDDIR)/build.ninja

build: deps configure
	ninja -C $(BUILDDIR)

# Starts envoi from the build tree: schemas, translations and the sender of this build.
# Arguments for envoi: make run ARGS="..."
ARGS ?=
run: build
	@sh build-aux/run-app.sh $(BUILDDIR) -- $(ARGS)

$(ASAN_BUILDDIR)/build.ninja:
	meson setup $(ASAN_BUILDDIR) $(MESON_OPTIONS) -Db_sanitize=address,undefined

$(FUZZ_BUILDDIR)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILDDIR) -Dfuzzing=true -Db_sanitize=address,undefined \
	  -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

# The whole suite inside a private session: D-Bus, gnome-keyring, Xvfb, SMTP listeners; then
# again under ASan/UBSan, then each fuzzer for a bounded time, then the secret canary scan.
check: test-deps configure $(ASAN_BUILDDIR)/build.ninja $(FUZZ_BUILDDIR)/build.ninja
	ninja -C $(BUILDDIR)
	ninja -C $(ASAN_BUILDDIR)
	ninja -C $(FUZZ_BUILDDIR) fuzzers
	ENVOI_FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS) \
	  tests/run-suite.sh $(BUILDDIR) $(ASAN_BUILDDIR) $(FUZZ_BUILDDIR)

# Every fuzzer for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=3600); the corpus grows in
# $(FUZZ_BUILDDIR)/fuzz-work from one run to the next. See tests/fuzz/run-fuzzers.sh.
fuzz: test-deps $(FUZZ_BUILDDIR)/build.ninja
	ninja -C $(FUZZ_BUILDDIR) fuzzers
	tests/fuzz/run-fuzzers.sh $(FUZZ_BUILDDIR) $(FUZZ_SECONDS)

bench: test-deps configure
	ninja -C $(BUILDDIR)
	tests/session.sh tests/bench.sh $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR) $(ASAN_BUILDDIR) $(FUZZ_BUILDDIR)
