build-dev/obj/client/cli/pbjson.o: client/cli/pbjson.c \
 client/cli/pbjson.h
client/cli/pbjson.h:
