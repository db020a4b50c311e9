build-dev/obj/server/svc_providers.o: server/svc_providers.c \
 providers/provider.h common/err.h client/include/sbx/status.h \
 storage/providers.h common/arena.h storage/fields.h \
 build-dev/gen/sbx/v1/providers.pb-c.h server/services.h server/rpc.h \
 common/methods.h client/include/sbx/methods.def storage/tokens.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h build-dev/gen/sbx/v1/settings.pb-c.h
providers/provider.h:
common/err.h:
client/include/sbx/status.h:
storage/providers.h:
common/arena.h:
storage/fields.h:
build-dev/gen/sbx/v1/providers.pb-c.h:
server/services.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
storage/tokens.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
build-dev/gen/sbx/v1/settings.pb-c.h:
