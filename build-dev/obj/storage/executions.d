build-dev/obj/storage/executions.o: storage/executions.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/executions.h \
 common/arena.h build-dev/gen/sbx/v1/executions.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h storage/rowmap.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/executions.h:
common/arena.h:
build-dev/gen/sbx/v1/executions.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
storage/rowmap.h:
