build-dev/obj/server/svc_health.o: server/svc_health.c server/daemon.h \
 server/services.h server/rpc.h common/arena.h common/err.h \
 client/include/sbx/status.h common/methods.h \
 client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h \
 build-dev/gen/sbx/v1/health.pb-c.h build-dev/gen/sbx/v1/server.pb-c.h \
 build-dev/gen/sbx/v1/common.pb-c.h
server/daemon.h:
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
build-dev/gen/sbx/v1/health.pb-c.h:
build-dev/gen/sbx/v1/server.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
