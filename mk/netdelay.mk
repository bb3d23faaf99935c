# mk/netdelay.mk: netdelay, the packet delayer of the compose chaos's slow
# kind, from netdelay/*.c, included by the top-level Makefile.
#   make build/netdelay   build it (make alone builds it too)

NETDELAY_SRC = $(wildcard netdelay/*.c)
NETDELAY_OBJ = $(NETDELAY_SRC:netdelay/%.c=$(B)/obj/netdelay/%.o)

all: $(B)/netdelay

$(B)/obj/netdelay/%.o: netdelay/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/netdelay: $(NETDELAY_OBJ) $(SHARED)
	$(CC) $(LDFLAGS) -o $@ $^

-include $(NETDELAY_OBJ:.o=.d)
