build-dev/obj/server/svc_images.o: server/svc_images.c server/daemon.h \
 storage/db.h common/err.h client/include/sbx/status.h server/services.h \
 server/rpc.h common/arena.h common/methods.h \
 client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h \
 build-dev/gen/sbx/v1/sandboxes.pb-c.h build-dev/gen/sbx/v1/common.pb-c.h
server/daemon.h:
storage/db.h:
common/err.h:
client/include/sbx/status.h:
server/services.h:
server/rpc.h:
common/arena.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
build-dev/gen/sbx/v1/sandboxes.pb-c.h:
build-dev/gen/sbx/v1/common.pb-c.h:
