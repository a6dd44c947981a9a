/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for /dev/log for test-shim-fds.sh:
 *   syslog-sink SOCKET SECONDS
 * binds a datagram socket at SOCKET, prints "ready", then prints each
 * datagram received (one per line) until SECONDS pass without one.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[2048];
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: syslog-sink SOCKET SECONDS\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		perror("syslog-sink");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");

	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, atoi(argv[2]) * 1000) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			break;
		buf[n] = '\0';
		printf("%s\n", buf);
	}
	return 0;
}
