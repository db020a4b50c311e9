build-dev/obj/common/arena.o: common/arena.c common/arena.h
common/arena.h:
