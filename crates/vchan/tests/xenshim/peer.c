/*
 * A libxenvchan peer for the interop tests: Debian's unmodified libxenvchan, over the
 * replacement libraries in shim.c.
 *
 *   peer server PEERDOM PATH LEFT_MIN RIGHT_MIN SEND RECV
 *   peer client PEERDOM PATH SEND RECV
 *   peer client-close PEERDOM PATH SEND      (write SEND bytes, close at once)
 *
 * Sends SEND bytes of the pattern ((i * 2654435761) >> 13) & 0xff while reading RECV bytes,
 * non-blocking both ways, then prints "recv <n> <fnv1a-64 hex>" and closes. The
 * environment (UNISTACK_VCHAN_ROOT, UNISTACK_VCHAN_DOMID) is the shims'. A 120 s alarm
 * bounds every run.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxenvchan.h>

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761ULL) >> 13);
}

static int usage(void)
{
	fprintf(stderr, "usage: peer server|client|client-close PEERDOM PATH ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	alarm(120);
	if (argc < 4)
		return usage();
	const char *mode = argv[1];
	int peer = atoi(argv[2]);
	const char *path = argv[3];
	struct libxenvchan *v;
	uint64_t send, recv_total;
	if (strcmp(mode, "server") == 0 && argc == 8) {
		v = libxenvchan_server_init(NULL, peer, path, strtoull(argv[4], 0, 0),
					    strtoull(argv[5], 0, 0));
		send = strtoull(argv[6], 0, 0);
		recv_total = strtoull(argv[7], 0, 0);
	} else if (strcmp(mode, "client") == 0 && argc == 6) {
		v = libxenvchan_client_init(NULL, peer, path);
		send = strtoull(argv[4], 0, 0);
		recv_total = strtoull(argv[5], 0, 0);
	} else if (strcmp(mode, "client-close") == 0 && argc == 5) {
		v = libxenvchan_client_init(NULL, peer, path);
		send = strtoull(argv[4], 0, 0);
		recv_total = 0;
	} else {
		return usage();
	}
	if (!v) {
		perror("libxenvchan init");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	v->blocking = 0;
	uint8_t buf[65536];
	uint64_t sent = 0, got = 0, hash = 0xcbf29ce484222325ULL;
	if (strcmp(mode, "client-close") == 0) {
		v->blocking = 1;
		while (sent < send) {
			size_t n = send - sent < sizeof buf ? send - sent : sizeof buf;
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(sent + i);
			int w = libxenvchan_write(v, buf, n);
			if (w <= 0) {
				fprintf(stderr, "write failed\n");
				return 1;
			}
			sent += (uint64_t)w;
		}
		libxenvchan_close(v);
		printf("closed %" PRIu64 "\n", sent);
		return 0;
	}
	while (sent < send || got < recv_total) {
		int progress = 0;
		if (sent < send) {
			size_t n = send - sent < sizeof buf ? send - sent : sizeof buf;
			int space = libxenvchan_buffer_space(v);
			if (space > 0 && (size_t)space < n)
				n = space;
			if (space > 0) {
				for (size_t i = 0; i < n; i++)
					buf[i] = pattern(sent + i);
				int w = libxenvchan_write(v, buf, n);
				if (w < 0) {
					fprintf(stderr, "write error after %" PRIu64 "\n", sent);
					return 1;
				}
				sent += (uint64_t)w;
				progress |= w > 0;
			}
		}
		if (got < recv_total) {
			int r = libxenvchan_read(v, buf, sizeof buf);
			if (r < 0) {
				fprintf(stderr, "read error after %" PRIu64 "\n", got);
				return 1;
			}
			for (int i = 0; i < r; i++)
				hash = (hash ^ buf[i]) * 0x100000001b3ULL;
			got += (uint64_t)r;
			progress |= r > 0;
		}
		if (!progress) {
			if (!libxenvchan_is_open(v)) {
				fprintf(stderr, "peer closed: sent %" PRIu64 " got %" PRIu64 "\n", sent, got);
				break;
			}
			if (libxenvchan_wait(v) < 0) {
				fprintf(stderr, "wait failed\n");
				return 1;
			}
		}
	}
	printf("recv %" PRIu64 " %016" PRIx64 "\n", got, hash);
	fflush(stdout);
	/* A server does not close before a client has come (closing removes the store keys) and
	 * taken everything: a client drains what is left after the server has gone, but cannot
	 * connect to one that has gone. A client closes at once. */
	if (strcmp(mode, "server") == 0) {
		while (libxenvchan_is_open(v) == 2 ||
		       (libxenvchan_is_open(v) && libxenvchan_buffer_space(v) < (1 << v->write.order)))
			usleep(100);
	}
	libxenvchan_close(v);
	return 0;
}
