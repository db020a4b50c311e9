build-dev/obj/common/status.o: common/status.c \
 client/include/sbx/status.h
client/include/sbx/status.h:
