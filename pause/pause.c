//go:build ignore

/*
 * pause is the first process of every minilet pod sandbox.
 *
 * It holds the pod's namespaces open, and as PID 1 of the pod's PID
 * namespace it reaps the orphans that get re-parented to it. It does
 * nothing else: it sleeps in pause(2) until a signal arrives.
 *
 *   SIGINT, SIGTERM  exit with status 0
 *   SIGCHLD          reap every exited child (waitpid(-1, WNOHANG) loop)
 *
 * Build (static, small; the "go:build ignore" line above keeps the Go tool
 * from treating this directory as a cgo package):
 *
 *   gcc -Os -static -o bin/pause pause/pause.c && strip bin/pause
 *
 * Pass -DPAUSE_VERSION='"x.y"' to stamp a version for "pause -v".
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PAUSE_VERSION
#define PAUSE_VERSION "0.1.0"
#endif

static void on_stop(int sig) {
	(void)sig;
	_exit(0);
}

static void on_child(int sig) {
	int saved = errno;
	(void)sig;
	/* One SIGCHLD may stand for many exits: reap until none is left. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

/* say writes s to fd; plain write(2) keeps stdio, and its memory, out. */
static void say(int fd, const char *s) {
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static int handle(int sig, void (*fn)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
	int i;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			say(1, "minilet pause " PAUSE_VERSION "\n");
			return 0;
		}
	}

	if (getpid() != 1)
		say(2, "pause: warning: not running as PID 1; orphans will not be reaped here\n");

	if (handle(SIGINT, on_stop, 0) < 0 || handle(SIGTERM, on_stop, 0) < 0) {
		say(2, "pause: sigaction SIGINT/SIGTERM failed\n");
		return 1;
	}
	if (handle(SIGCHLD, on_child, SA_NOCLDSTOP | SA_RESTART) < 0) {
		say(2, "pause: sigaction SIGCHLD failed\n");
		return 2;
	}

	for (;;)
		pause();
	/* not reached */
	return 42;
}
