build-dev/obj/storage/agents.o: storage/agents.c storage/agents.h \
 common/arena.h common/err.h client/include/sbx/status.h storage/fields.h \
 build-dev/gen/sbx/v1/agents.pb-c.h storage/db.h storage/rowmap.h \
 storage/secrets.h
storage/agents.h:
common/arena.h:
common/err.h:
client/include/sbx/status.h:
storage/fields.h:
build-dev/gen/sbx/v1/agents.pb-c.h:
storage/db.h:
storage/rowmap.h:
storage/secrets.h:
