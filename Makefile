# crashonly: the worker, its tests and the stacks it runs in.
# `make` builds; `make test` is the one test command; `make chaos` is the
# main job. Each installs what is missing first (mk/deps).

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wwrite-strings
ifeq ($(CI),true)
WARN += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif
PKG_CFLAGS = $(shell pkg-config --cflags hiredis libllhttp 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs hiredis libllhttp 2>/dev/null) \
	$(shell pkg-config --libs libev 2>/dev/null || echo -lev)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Ilib $(PKG_CFLAGS) -MMD -MP \
	$(CFLAGS)

B = build
SRC = $(wildcard crashonly/*.c)
OBJ = $(SRC:crashonly/%.c=$(B)/obj/%.o)
# lib/: what the worker, hitload and netdelay share (logging, exit codes,
# allocation, buffers, sending), as an archive each program links: it
# takes the members it needs.
SHARED_OBJ = $(patsubst lib/%.c,$(B)/obj/lib/%.o,$(wildcard lib/*.c))
SHARED = $(B)/libshared.a
# The counting library, crashonly/function.lua, built in as C by mk/embed;
# build/next/crashonly and build/broken/crashonly are test builds of the
# same worker with its variants (mk/embed says what each changes).
LIBRARY = $(B)/obj/library.o
LIB_OBJ = $(filter-out $(B)/obj/main.o,$(OBJ)) $(LIBRARY)

WORKERS ?= 5
export WORKERS

.PHONY: all deps test up down hits chaos wrk bench fuzz clean
all: $(B)/crashonly $(B)/next/crashonly $(B)/broken/crashonly

# Objects are rebuilt when the flags change (SANITIZE=, CI=true).
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' >$@
FORCE:

$(B)/obj/%.o: crashonly/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/lib/%.o: lib/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(SHARED): $(SHARED_OBJ)
	rm -f $@
	ar rcs $@ $^

UNIT_OBJ = $(patsubst tests/unit/%.c,$(B)/obj/unit/%.o,$(wildcard tests/unit/*.c))
$(B)/obj/unit/%.o: tests/unit/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icrashonly -c -o $@ $<

$(B)/gen/library.c: crashonly/function.lua mk/embed
	@mkdir -p $(@D)
	mk/embed $< >$@.tmp && mv $@.tmp $@
$(B)/gen/%/library.c: crashonly/function.lua mk/embed
	@mkdir -p $(@D)
	mk/embed --$* $< >$@.tmp && mv $@.tmp $@
$(B)/obj/library.o: $(B)/gen/library.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icrashonly -c -o $@ $<
$(B)/obj/%/library.o: $(B)/gen/%/library.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Icrashonly -c -o $@ $<

.PRECIOUS: $(B)/gen/%/library.c
$(B)/crashonly: $(OBJ) $(LIBRARY) $(SHARED)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/next/crashonly $(B)/broken/crashonly: $(B)/%/crashonly: $(OBJ) $(B)/obj/%/library.o $(SHARED)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/unit: $(UNIT_OBJ) $(LIB_OBJ) $(SHARED)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

deps:
	@mk/deps build run test chaos fuzz bench

test:
	@mk/deps build run test chaos fuzz bench prometheus
	$(MAKE) all $(B)/unit
	prove tests/

up:
	@mk/deps build run $(if $(filter 1,$(PROMETHEUS)),prometheus)
	$(MAKE) all
	stack/up

down:
	stack/down

hits:
	@stack/hits

chaos:
	@mk/deps build run test chaos
	$(MAKE) all $(B)/hitload
	chaos/run

wrk:
	@mk/deps build run chaos
	$(MAKE) all
	chaos/wrk/run

bench:
	@mk/deps build run chaos bench
	$(MAKE) all
	bench/run

clean:
	rm -rf $(B)

-include $(OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(SHARED_OBJ:.o=.d)
-include mk/*.mk
