build-dev/obj/common/wire.o: common/wire.c common/wire.h \
 client/include/sbx/status.h
common/wire.h:
client/include/sbx/status.h:
