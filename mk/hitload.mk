# mk/hitload.mk: hitload, the verifying load client of make chaos, from
# hitload/*.c, included by the top-level Makefile.
#   make build/hitload   build it (make alone builds it too)

HITLOAD_SRC = $(wildcard hitload/*.c)
HITLOAD_OBJ = $(HITLOAD_SRC:hitload/%.c=$(B)/obj/hitload/%.o)

all: $(B)/hitload

$(B)/obj/hitload/%.o: hitload/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/hitload: $(HITLOAD_OBJ) $(SHARED)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(HITLOAD_OBJ:.o=.d)
