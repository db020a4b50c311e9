build-dev/obj/providers/docker/docker.o: providers/docker/docker.c \
 storage/db.h common/err.h client/include/sbx/status.h \
 providers/docker/docker.h providers/provider.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
providers/docker/docker.h:
providers/provider.h:
