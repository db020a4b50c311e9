build-dev/obj/server/svc_sandboxes.o: server/svc_sandboxes.c \
 server/daemon.h storage/db.h common/err.h client/include/sbx/status.h \
 server/events.h build-dev/gen/sbx/v1/events.pb-c.h storage/providers.h \
 common/arena.h storage/fields.h build-dev/gen/sbx/v1/providers.pb-c.h \
 providers/provider.h storage/sandboxes.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h build-dev/gen/sbx/v1/common.pb-c.h \
 server/services.h server/rpc.h common/methods.h \
 client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h
server/daemon.h:
storage/db.h:
common/err.h:
client/include/sbx/status.h:
server/events.h:
build-dev/gen/sbx/v1/events.pb-c.h:
storage/providers.h:
common/arena.h:
storage/fields.h:
build-dev/gen/sbx/v1/providers.pb-c.h:
providers/provider.h:
storage/sandboxes.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
server/services.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
