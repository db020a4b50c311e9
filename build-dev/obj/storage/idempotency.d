build-dev/obj/storage/idempotency.o: storage/idempotency.c storage/db.h \
 common/err.h client/include/sbx/status.h storage/idempotency.h
storage/db.h:
common/err.h:
client/include/sbx/status.h:
storage/idempotency.h:
