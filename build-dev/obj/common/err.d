build-dev/obj/common/err.o: common/err.c common/err.h \
 client/include/sbx/status.h
common/err.h:
client/include/sbx/status.h:
