build-dev/obj/storage/secrets.o: storage/secrets.c storage/secrets.h \
 common/err.h client/include/sbx/status.h
storage/secrets.h:
common/err.h:
client/include/sbx/status.h:
