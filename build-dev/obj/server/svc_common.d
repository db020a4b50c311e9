build-dev/obj/server/svc_common.o: server/svc_common.c server/events.h \
 common/err.h client/include/sbx/status.h \
 build-dev/gen/sbx/v1/events.pb-c.h server/services.h server/rpc.h \
 common/arena.h common/methods.h client/include/sbx/methods.def \
 storage/tokens.h build-dev/gen/sbx/v1/tokens.pb-c.h \
 build-dev/gen/sbx/v1/settings.pb-c.h
server/events.h:
common/err.h:
client/include/sbx/status.h:
build-dev/gen/sbx/v1/events.pb-c.h:
server/services.h:
server/rpc.h:
common/arena.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
