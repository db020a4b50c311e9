build-dev/obj/server/svc_settings.o: server/svc_settings.c \
 server/services.h server/rpc.h common/arena.h common/err.h \
 client/include/sbx/status.h common/methods.h \
 client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h \
 storage/settings.h storage/fields.h common/wire.h
server/services.h:
server/rpc.h:
common/arena.h:
common/err.h:
client/include/sbx/status.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
storage/settings.h:
storage/fields.h:
common/wire.h:
