build-dev/obj/providers/registry.o: providers/registry.c \
 providers/provider.h common/err.h client/include/sbx/status.h
providers/provider.h:
common/err.h:
client/include/sbx/status.h:
