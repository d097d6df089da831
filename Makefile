# aimark / libmark - one plain, non-recursive GNU Makefile.
#
#   make deps          install the Debian packages needed to build, test, run
#   make               static + shared library and the aimark CLI
#   make check         the test suite (fast, deterministic)
#   make corrupt-matrix, make crash-test   the long robustness runs
#   make demo          mark the bundled samples and verify them
#   make install       PREFIX=/usr/local DESTDIR= honoured
#   make SANITIZE=address,undefined check    the suite under ASan/UBSan
#   make fuzz          every libFuzzer target for FUZZ_TIME seconds (clang)
#
# User CFLAGS / LDFLAGS / CPPFLAGS are respected; project flags live in
# MARK_CFLAGS.  Objects go to $(O) (build/, or build-san/ with SANITIZE).

VERSION_MAJOR := 0
VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
AR ?= ar
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
SANITIZE ?=

ifeq ($(SANITIZE),)
O ?= build
else
O ?= build-san
endif

# Libraries libmark links against (pkg-config names).
MARK_PKGS := libpng libjpeg zlib jansson libxml-2.0 freetype2 harfbuzz \
             fontconfig libsodium flac sndfile espeak-ng soxr ogg \
             libavformat libavcodec libavutil libswresample libswscale
# documents: Office Open XML (ZIP) and PDF, read only
MARK_PKGS += libzip libqpdf
# Deferred (=, not :=): `make deps demo` parses this file before deps has
# installed the libraries, so pkg-config must run when a recipe needs it.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(MARK_PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(MARK_PKGS)) -lm

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla \
        -Wformat=2 -Winit-self -Wold-style-definition
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
# -fno-math-errno: nothing here reads errno after a maths function, and
# without it GCC calls libm for lrintf and sqrtf instead of one
# instruction.
# GCC vectorises at -O2 only loops whose trip count is known; the pixel
# loops need its normal cost model (a no-op where the vectoriser is off).
VECT := $(shell $(CC) -fvect-cost-model=dynamic -E -x c /dev/null \
          >/dev/null 2>&1 && echo -fvect-cost-model=dynamic)
MARK_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -fno-math-errno $(VECT) $(WARN) \
               -Ilibmark/include
SAN_FLAGS :=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
             -fno-sanitize-recover=all
endif
# make fuzz: the number crunching of signal/ (FFTs, detectors) keeps its
# edge coverage but not libFuzzer's tracing of every comparison, which
# made one detection there cost half a second.
FUZZ_SIGNAL_FLAGS ?=
$(O)/libmark/signal/%.o: SAN_FLAGS += $(FUZZ_SIGNAL_FLAGS)
ALL_CFLAGS = $(MARK_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

LIB_SRC := $(wildcard libmark/core/*.c libmark/label/*.c \
                      libmark/container/*.c libmark/visible/*.c \
                      libmark/payload/*.c libmark/signal/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(O)/pic/%.o)
TOOL_SRC := $(wildcard tools/*.c)
TOOL_OBJ := $(TOOL_SRC:%.c=$(O)/%.o)

STATIC := $(O)/libmark.a
SONAME := libmark.so.$(VERSION_MAJOR)
SHARED := $(O)/libmark.so.$(VERSION)
AIMARK := $(O)/aimark

TEST_UNIT_SRC := $(wildcard tests/unit/*.c)
TEST_API_SRC := $(wildcard tests/api/*.c)
TEST_BIN := $(TEST_UNIT_SRC:tests/%.c=$(O)/tests/%) \
            $(TEST_API_SRC:tests/%.c=$(O)/tests/%)
GENIMG := $(O)/tests/genimg
GENWAV := $(O)/tests/genwav
GENAUDIO := $(O)/tests/genaudio
GENDOC := $(O)/tests/gendoc

# Fuzz targets (fuzz/*.c but the replay driver), one per parser.
FUZZ_SRC := $(filter-out fuzz/replay.c,$(wildcard fuzz/*.c))
FUZZ_NAMES := $(FUZZ_SRC:fuzz/%.c=%)
FUZZ_INC = $(PKG_CFLAGS) -Ilibmark/include -Ilibmark -Ilibmark/signal \
           -Ilibmark/payload
REPLAY := $(O)/fuzz/replay

# Debian packages: build, test and run.
DEPS_BUILD := gcc g++ make pkg-config libpng-dev libjpeg62-turbo-dev \
              zlib1g-dev libjansson-dev libxml2-dev libfreetype-dev \
              libharfbuzz-dev libfontconfig-dev fonts-noto-cjk libsodium-dev \
              libflac-dev libsndfile1-dev libespeak-ng-dev espeak-ng-data \
              libsoxr-dev libogg-dev libavformat-dev libavcodec-dev \
              libavutil-dev libswresample-dev libswscale-dev
# documents: libzip and qpdf read them; the qpdf tool makes object-stream
# and encrypted PDFs for the tests, Archive::Zip lets exiftool read DOCX
DEPS_BUILD += libzip-dev libqpdf-dev
DEPS_TEST_DOC := qpdf libarchive-zip-perl
DEPS_TEST := libimage-exiftool-perl imagemagick mandoc pngcheck fonts-dejavu-core \
             libjpeg-turbo-progs ffmpeg mediainfo sox espeak-ng cmark time
# make fuzz: clang and its libFuzzer / sanitizer runtimes
DEPS_TEST += clang libclang-rt-14-dev
DEPS := $(DEPS_BUILD) $(DEPS_TEST)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEPS_TEST += $(DEPS_TEST_DOC)
DEPS += $(DEPS_TEST_DOC)

.PHONY: FORCE bench all lib tools check test demo deps install uninstall clean \
        corrupt-matrix crash-test \
        manlint check-deps check-symbols check-header tests-bin

all: lib tools

lib: $(STATIC) $(O)/libmark.so

tools: $(AIMARK)

# Every library object depends on every header of the library: a header
# left out (signal.h, video.h were) leaves stale objects that crash.
LIB_HDR := $(wildcard libmark/*.h libmark/*/*.h)

$(O)/%.o: %.c $(LIB_HDR) | $(O)/dirs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -fvisibility=hidden -Ilibmark \
	    -c $< -o $@

$(O)/pic/%.o: %.c $(LIB_HDR) | $(O)/dirs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -fPIC -fvisibility=hidden \
	    -Ilibmark -c $< -o $@

$(O)/dirs:
	@mkdir -p $(O)
	@touch $@

$(STATIC): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED): $(LIB_PIC)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined \
	    $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(O)/libmark.so: $(SHARED)
	ln -sf libmark.so.$(VERSION) $(O)/$(SONAME)
	ln -sf $(SONAME) $@

# The CLI sees the public header only (-Ilibmark/include, no -Ilibmark).
$(O)/tools/%.o: tools/%.c tools/common.h libmark/include/mark.h | $(O)/dirs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(AIMARK): $(TOOL_OBJ) $(STATIC)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(STATIC) $(PKG_LIBS) -lpthread

# Tests: unit tests may see internals, API tests only mark.h.
$(O)/tests/unit/%: tests/unit/%.c tests/harness.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Ilibmark -Ilibmark/visible \
	    -Ilibmark/payload -Ilibmark/signal -Itests \
	    $< -o $@ \
	    $(STATIC) $(PKG_LIBS) $(ALL_LDFLAGS)

$(O)/tests/api/%: tests/api/%.c tests/harness.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Itests $< -o $@ \
	    $(STATIC) $(PKG_LIBS) $(ALL_LDFLAGS)

$(GENIMG): tests/gen/genimg.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-cast-qual $(PKG_CFLAGS) $< -o $@ $(PKG_LIBS) \
	    $(ALL_LDFLAGS)

$(GENWAV): tests/gen/genwav.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ -lm $(ALL_LDFLAGS)

$(GENAUDIO): tests/gen/genaudio.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags sndfile ogg) $< \
	    -o $@ $(shell $(PKG_CONFIG) --libs sndfile ogg) $(ALL_LDFLAGS)

# Office documents and PDFs: built byte by byte (zlib for deflate).
$(GENDOC): tests/gen/gendoc.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags zlib) $< -o $@ \
	    $(shell $(PKG_CONFIG) --libs zlib) $(ALL_LDFLAGS)

tests-bin: all $(TEST_BIN) $(GENIMG) $(GENWAV) $(GENAUDIO) $(GENDOC) \
           $(REPLAY)

# The replay driver: every fuzz target under its own name (fuzz_png...)
# in one plain program, for make check (tests/cli/fuzz.sh).
$(O)/fuzz/%.o: fuzz/%.c fuzz/fuzz.h libmark/include/mark.h \
               libmark/internal.h libmark/signal/signal.h | $(O)/dirs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_INC) -DLLVMFuzzerTestOneInput=fuzz_$* \
	    -c $< -o $@

$(REPLAY): fuzz/replay.c fuzz/targets.h $(FUZZ_NAMES:%=$(O)/fuzz/%.o) \
           $(STATIC)
	$(CC) $(ALL_CFLAGS) -Ifuzz $< $(FUZZ_NAMES:%=$(O)/fuzz/%.o) -o $@ \
	    $(STATIC) $(PKG_LIBS) $(ALL_LDFLAGS)

# make fuzz: libmark and the targets built by clang with libFuzzer,
# ASan and UBSan in $(FUZZ_O); seeds made by the project's generators
# and aimark (built in $(O)); then each of FUZZ_TARGETS (default: all)
# fuzzed for FUZZ_TIME seconds (fuzz/run.sh), the corpus kept in
# $(O)/fuzz/corpus/<target>, crashes in $(O)/fuzz/crashes/<target>.
# FUZZ_ARGS: more libFuzzer options.
FUZZ_O ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_ARGS ?=
.PHONY: fuzz fuzz-build fuzz-seeds fuzz-bins
fuzz: fuzz-build fuzz-seeds
	@FUZZ_TIME=$(FUZZ_TIME) FUZZ_ARGS="$(FUZZ_ARGS)" sh fuzz/run.sh \
	    $(FUZZ_O)/fuzz/bin $(O)/fuzz "$(FUZZ_TARGETS)"

fuzz-build:
	$(MAKE) O=$(FUZZ_O) CC=$(FUZZ_CC) \
	    SANITIZE=fuzzer-no-link,address,undefined \
	    FUZZ_SIGNAL_FLAGS=-fno-sanitize-coverage=trace-cmp fuzz-bins

fuzz-seeds: tests-bin
	sh fuzz/seeds.sh $(O) $(O)/fuzz/seeds

fuzz-bins: $(FUZZ_NAMES:%=$(O)/fuzz/bin/%)

$(O)/fuzz/bin/%: fuzz/%.c fuzz/fuzz.h libmark/include/mark.h \
                 libmark/internal.h libmark/signal/signal.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_INC) $< -o $@ $(STATIC) $(PKG_LIBS) \
	    $(ALL_LDFLAGS) -fsanitize=fuzzer

check: tests-bin check-deps check-symbols check-header
	@O=$(O) SANITIZE=$(SANITIZE) sh tests/run.sh

test: check

# The long robustness runs, outside make check: the whole corrupt-input
# matrix (tests/corrupt.pl --full) and 30 SIGKILLs per way of writing.
corrupt-matrix: tests-bin
	@ONLY=corrupt CORRUPT_FULL=1 O=$(O) sh tests/run.sh

crash-test: tests-bin
	@ONLY=crash CRASH_KILLS=30 O=$(O) sh tests/run.sh

# The public header compiles alone as strict C99 and as C++.
check-header: $(STATIC)
	@$(CC) -std=c99 -pedantic -Wall -Wextra -Werror -Ilibmark/include \
	    tests/header/pedantic.c -o $(O)/pedantic-c $(STATIC) $(PKG_LIBS) \
	    $(ALL_LDFLAGS)
	@$(CXX) -std=c++11 -pedantic -Wall -Wextra -Werror -Ilibmark/include \
	    -x c++ tests/header/pedantic.c -x none -o $(O)/pedantic-cxx \
	    $(STATIC) $(PKG_LIBS) $(ALL_LDFLAGS)
	@$(O)/pedantic-c && $(O)/pedantic-cxx

# Only io-level files may include third-party media headers.
check-deps:
	@bad=$$(grep -l -E '#include <(png|jpeglib|sndfile|zip|qpdf/|libav[a-z]+/)' \
	    $(LIB_SRC) tools/*.c | grep -v '^libmark/container/' || true); \
	if [ -n "$$bad" ]; then \
	    echo "check-deps: codec headers outside libmark/container/: $$bad"; \
	    exit 1; fi

# Every exported symbol starts with mark_ and is listed in
# tests/symbols.txt (the ABI guard).
check-symbols: $(O)/libmark.so
	@nm -D --defined-only $(SHARED) | awk '$$2 == "T" {print $$3}' \
	    | sort > $(O)/symbols.txt
	@if ! diff -u tests/symbols.txt $(O)/symbols.txt; then \
	    echo "check-symbols: exported symbols changed (update" \
	         "tests/symbols.txt if intended)"; exit 1; fi

# Benchmarks: not part of check (they take minutes and measure time).
$(O)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $< -o $@ $(STATIC) $(PKG_LIBS) \
	    $(ALL_LDFLAGS)

bench: $(O)/bench/bench_image $(O)/bench/bench_audio $(O)/bench/bench_text \
       $(AIMARK) $(GENWAV)
	$(O)/bench/bench_image $(BENCH_REPS)
	$(O)/bench/bench_audio $(BENCH_REPS)
	$(O)/bench/bench_text $(BENCH_REPS)
	sh bench/video.sh $(AIMARK) $(O)/bench-video $(BENCH_VIDEO_REPS)

$(O)/bench/bench_audio: bench/bench_audio.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $< -o $@ $(STATIC) $(PKG_LIBS) \
	    $(ALL_LDFLAGS)

# Robustness of the img-v1 watermark against issue 4's attacks: a
# generated corpus (cached), attacks by ImageMagick, a Markdown table
# (also in $(O)/robustness/report.md).  Minutes, so not part of check.
# ROBUSTNESS_ARGS: e.g. "-j 1", or "-k photo" for the images so named.
.PHONY: robustness
robustness: $(O)/bench/robustness $(O)/bench/robustness-audio \
            $(O)/bench/robustness-text
	sh bench/robustness/make-corpus.sh $(O)/robustness/corpus
	$(O)/bench/robustness $(ROBUSTNESS_ARGS) $(O)/robustness
	@$(MAKE) --no-print-directory robustness-audio robustness-text \
	    robustness-video

robustness-video: $(AIMARK)
	sh bench/robustness/video.sh $(AIMARK) $(O)/robustness

robustness-text: $(O)/bench/robustness-text
	$(O)/bench/robustness-text $(O)/robustness

$(O)/bench/robustness-text: bench/robustness/text.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Ilibmark -Ilibmark/payload \
	    -Ilibmark/signal $< -o $@ $(STATIC) $(PKG_LIBS) -lm $(ALL_LDFLAGS)

$(O)/bench/robustness: bench/robustness/robustness.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Ilibmark -Ilibmark/payload \
	    -Ilibmark/signal $< -o $@ $(STATIC) $(PKG_LIBS) -lm $(ALL_LDFLAGS)

# The audio half (issue 5): aud-v1 over a generated corpus of speech,
# music and mixes (cached), attacks by ffmpeg and SoX, Markdown tables
# (also in $(O)/robustness/audio-report.md).
# ROBUSTNESS_AUDIO_ARGS: e.g. "-j 1", or "-k speech" for the clips so
# named.
.PHONY: robustness-audio robustness-text robustness-video
robustness-audio: $(O)/bench/robustness-audio
	sh bench/robustness/make-audio-corpus.sh $(O)/robustness/audio-corpus
	$(O)/bench/robustness-audio $(ROBUSTNESS_AUDIO_ARGS) $(O)/robustness

$(O)/bench/robustness-audio: bench/robustness/audio.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -Ilibmark -Ilibmark/payload \
	    -Ilibmark/signal $< -o $@ $(STATIC) $(PKG_LIBS) -lm $(ALL_LDFLAGS)

demo: all $(GENWAV)
	@sh samples/demo.sh $(AIMARK)

manlint:
	mandoc -Tlint -W warning man/aimark.1 man/libmark.3

deps:
	@missing=""; for p in $(DEPS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	        --no-install-recommends $$missing; \
	else echo "deps: all packages present"; fi

# Regenerated on every install: PREFIX may differ from the last one.
$(O)/libmark.pc: libmark.pc.in FORCE | $(O)/dirs
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@REQUIRES@|$(MARK_PKGS)|' $< > $@

FORCE:

install: all $(O)/libmark.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 755 $(AIMARK) $(DESTDIR)$(BINDIR)/aimark
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libmark.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libmark.so.$(VERSION)
	ln -sf libmark.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmark.so
	install -m 644 libmark/include/mark.h $(DESTDIR)$(INCLUDEDIR)/mark.h
	install -m 644 $(O)/libmark.pc $(DESTDIR)$(PKGCONFIGDIR)/libmark.pc
	install -m 644 man/aimark.1 $(DESTDIR)$(MANDIR)/man1/aimark.1
	install -m 644 man/libmark.3 $(DESTDIR)$(MANDIR)/man3/libmark.3

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aimark $(DESTDIR)$(LIBDIR)/libmark.a \
	    $(DESTDIR)$(LIBDIR)/libmark.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libmark.so \
	    $(DESTDIR)$(INCLUDEDIR)/mark.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libmark.pc \
	    $(DESTDIR)$(MANDIR)/man1/aimark.1 \
	    $(DESTDIR)$(MANDIR)/man3/libmark.3

clean:
	rm -rf build build-san build-fuzz samples/out
