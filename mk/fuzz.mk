# mk/fuzz.mk: make fuzz, libFuzzer over the request path (tests/fuzz/),
# included by the top-level Makefile.
#   make fuzz                   fuzz for FUZZ_SECONDS (default 60), then
#                               merge into tests/fuzz/corpus the inputs that
#                               add coverage: commit what it says it added
#   make fuzz FUZZ_MERGE=0      leave tests/fuzz/corpus as it is (make test)
#   make fuzz FUZZ_CFLAGS=...   instead of -g -O1
# The run's own corpus is build/fuzz/corpus, seeded from tests/fuzz/corpus.
# A crash, leak, sanitizer report or failed check stops the run with exit 1;
# the input is kept under build/fuzz/crashes/, and the command that replays
# it is printed.

FUZZ_SECONDS ?= 60
FUZZ_MERGE ?= 1
FUZZ_CC ?= clang
FUZZ_CFLAGS ?= -g -O1
FUZZ = $(B)/fuzz
FUZZ_SAN = address,undefined
FUZZ_ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) -Icrashonly -Ilib \
	-fsanitize=fuzzer-no-link,$(FUZZ_SAN) -fno-sanitize-recover=all \
	-MMD -MP $(FUZZ_CFLAGS)
FUZZ_SEEDS = tests/fuzz/corpus

# The worker's objects but main.o, and lib/'s, as an archive: the target
# links only the members it needs, wherever a function moves to.
FUZZ_LIB_OBJ = $(patsubst crashonly/%.c,$(FUZZ)/obj/%.o,\
	$(filter-out crashonly/main.c,$(wildcard crashonly/*.c))) \
	$(patsubst lib/%.c,$(FUZZ)/obj/lib/%.o,$(wildcard lib/*.c))
FUZZ_OBJ = $(FUZZ)/target/http.o

.PHONY: fuzz-build
fuzz-build: $(FUZZ)/http

# Objects are rebuilt when the flags change, as the top-level ones are.
$(FUZZ)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FUZZ_CC) $(FUZZ_ALL_CFLAGS)' | cmp -s - $@ || \
		echo '$(FUZZ_CC) $(FUZZ_ALL_CFLAGS)' >$@

$(FUZZ)/obj/%.o: crashonly/%.c $(FUZZ)/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -c -o $@ $<

$(FUZZ)/obj/lib/%.o: lib/%.c $(FUZZ)/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -c -o $@ $<

$(FUZZ)/target/%.o: tests/fuzz/%.c $(FUZZ)/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -c -o $@ $<

$(FUZZ)/libcrashonly.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ)/http: $(FUZZ_OBJ) $(FUZZ)/libcrashonly.a
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)

# The fuzzer writes what it finds into its first folder, the run's own
# corpus; the seeds are only read. Merged afterwards (-merge=1): an input
# goes into tests/fuzz/corpus only if it adds coverage the corpus lacks,
# the smallest of those that add the same, named by its SHA-1.
fuzz:
	@mk/deps build fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@mkdir -p $(FUZZ)/corpus $(FUZZ)/crashes
	@echo "fuzz: $(FUZZ_SECONDS) s over $(FUZZ_SEEDS) and $(FUZZ)/corpus"
	@$(FUZZ)/http -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$(CURDIR)/$(FUZZ)/crashes/ \
		$(FUZZ)/corpus $(FUZZ_SEEDS) || { \
		found=$(CURDIR)/$(FUZZ)/crashes/$$(ls -t $(FUZZ)/crashes | head -n 1); \
		echo "fuzz: FOUND a failing input, kept as $$found;" \
			"replay it with $(CURDIR)/$(FUZZ)/http $$found" >&2; \
		exit 1; }
ifeq ($(FUZZ_MERGE),1)
	@before=$$(ls $(FUZZ_SEEDS) | wc -l); \
	$(FUZZ)/http -merge=1 $(FUZZ_SEEDS) $(FUZZ)/corpus \
		>$(FUZZ)/merge.log 2>&1 || { \
		tail -n 20 $(FUZZ)/merge.log >&2; exit 1; }; \
	added=$$(($$(ls $(FUZZ_SEEDS) | wc -l) - before)); \
	if [ "$$added" -gt 0 ]; then \
		echo "fuzz: $$added new input(s) that add coverage (the smallest" \
			"of each kind) in $(FUZZ_SEEDS)/: commit them"; \
	else \
		echo "fuzz: no input adds coverage; $(FUZZ_SEEDS)/ unchanged"; \
	fi
endif

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
