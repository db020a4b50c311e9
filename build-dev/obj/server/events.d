build-dev/obj/server/events.o: server/events.c common/clock.h \
 server/events.h common/err.h client/include/sbx/status.h \
 build-dev/gen/sbx/v1/events.pb-c.h
common/clock.h:
server/events.h:
common/err.h:
client/include/sbx/status.h:
build-dev/gen/sbx/v1/events.pb-c.h:
