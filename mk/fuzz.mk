# mk/fuzz.mk: make fuzz, libFuzzer over the request path (tests/fuzz/),
# included by the top-level Makefile.
#   make fuzz FUZZ_SECONDS=60   fuzz for that long (default 60)

FUZZ_SECONDS ?= 60
$(B)/fuzz-http: tests/fuzz/http.c crashonly/http.c crashonly/util.c
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) \
		-fsanitize=fuzzer,address,undefined -Icrashonly $(PKG_CFLAGS) \
		-o $@ $^ $(shell pkg-config --libs libllhttp 2>/dev/null)

fuzz:
	@mk/deps build fuzz
	$(MAKE) $(B)/fuzz-http
	@mkdir -p $(B)/fuzz-corpus
	$(B)/fuzz-http -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(B)/fuzz-corpus tests/fuzz/corpus

