# The two commands a newcomer needs: `make run` and `make check`.
# Both install what is missing (Debian 12, apt-get; sudo when not root), configure and build.

BUILDDIR ?= _build
MESON_OPTIONS ?=

.PHONY: all deps test-deps configure build run check bench clean

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
run: build
	@sh build-aux/run-app.sh $(BUILDDIR)

# The whole suite inside a private session: D-Bus, gnome-keyring, Xvfb, SMTP listeners.
check: test-deps configure
	ninja -C $(BUILDDIR)
	tests/session.sh tests/run-suite.sh $(BUILDDIR)

bench: test-deps configure
	ninja -C $(BUILDDIR)
	tests/session.sh tests/bench.sh $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR)
