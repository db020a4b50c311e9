build-dev/obj/providers/local/local.o: providers/local/local.c \
 providers/local/cgroup.h common/err.h client/include/sbx/status.h \
 providers/provider.h
providers/local/cgroup.h:
common/err.h:
client/include/sbx/status.h:
providers/provider.h:
