build-dev/obj/server/workq.o: server/workq.c server/workq.h common/err.h \
 client/include/sbx/status.h
server/workq.h:
common/err.h:
client/include/sbx/status.h:
