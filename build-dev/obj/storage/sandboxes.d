build-dev/obj/storage/sandboxes.o: storage/sandboxes.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/rowmap.h common/arena.h \
 storage/sandboxes.h providers/provider.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h build-dev/gen/sbx/v1/common.pb-c.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/rowmap.h:
common/arena.h:
storage/sandboxes.h:
providers/provider.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
