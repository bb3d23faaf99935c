# mk/hitload.mk: hitload, the verifying load client of make chaos (issue
# #4), from chaos/*.c, included by the top-level Makefile.
#   make build/hitload   build it (make alone builds it too)

HITLOAD_SRC = $(wildcard chaos/*.c)
HITLOAD_OBJ = $(HITLOAD_SRC:chaos/%.c=$(B)/obj/chaos/%.o)

all: $(B)/hitload

$(B)/obj/chaos/%.o: chaos/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/hitload: $(HITLOAD_OBJ) $(B)/obj/util.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(HITLOAD_OBJ:.o=.d)
