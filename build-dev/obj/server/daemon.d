build-dev/obj/server/daemon.o: server/daemon.c server/daemon.h
server/daemon.h:
