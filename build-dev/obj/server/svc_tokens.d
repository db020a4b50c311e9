build-dev/obj/server/svc_tokens.o: server/svc_tokens.c server/auth.h \
 common/err.h client/include/sbx/status.h storage/tokens.h common/arena.h \
 build-dev/gen/sbx/v1/tokens.pb-c.h server/services.h server/rpc.h \
 common/methods.h client/include/sbx/methods.def \
 build-dev/gen/sbx/v1/settings.pb-c.h
server/auth.h:
common/err.h:
client/include/sbx/status.h:
storage/tokens.h:
common/arena.h:
build-dev/gen/sbx/v1/tokens.pb-c.h:
server/services.h:
server/rpc.h:
common/methods.h:
client/include/sbx/methods.def:
build-dev/gen/sbx/v1/settings.pb-c.h:
