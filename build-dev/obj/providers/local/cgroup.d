build-dev/obj/providers/local/cgroup.o: providers/local/cgroup.c \
 providers/local/cgroup.h common/err.h client/include/sbx/status.h \
 providers/provider.h
providers/local/cgroup.h:
common/err.h:
client/include/sbx/status.h:
providers/provider.h:
