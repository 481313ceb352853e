// A minimal checker, so that process-check figures measure the runner and not curl or a shell.
//
//   tinycheck report [LOG]  POST {"OK":true} to $KH_REPORTING_URL over a raw socket, read the
//                           answer, exit 0 on 200 (1 otherwise). With LOG, first appends
//                           "$BENCH_ID SECONDS.NANOSECONDS\n" (CLOCK_REALTIME at start) to
//                           LOG: one write(2) with O_APPEND, so lines from concurrent
//                           checkers do not interleave.
//   tinycheck hold DIR      Write "<pid> $KH_REPORTING_URL\n" to DIR/$KH_RUN_UUID (via a
//                           rename, so a reader never sees half a file), then sleep until a
//                           signal ends the process. Keeps a run in flight for the ingestion
//                           benchmark, which reports for it.
//
// Only http://HOST:PORT/... URLs with a numeric IPv4 host (the bench uses 127.0.0.1).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int die(const char* what) {
  fprintf(stderr, "tinycheck: %s: %s\n", what, errno ? strerror(errno) : "invalid");
  return 1;
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int report(const char* log) {
  struct timespec t0;
  clock_gettime(CLOCK_REALTIME, &t0);
  if (log) {
    const char* id = getenv("BENCH_ID");
    char line[128];
    int n = snprintf(line, sizeof line, "%s %lld.%09ld\n", id ? id : "-", (long long)t0.tv_sec,
                     t0.tv_nsec);
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, line, (size_t)n) != 0) return die("log");
    close(fd);
  }
  const char* url = getenv("KH_REPORTING_URL");
  if (!url || strncmp(url, "http://", 7) != 0) return die("KH_REPORTING_URL");
  const char* host = url + 7;
  const char* colon = strchr(host, ':');
  const char* slash = strchr(host, '/');
  if (!colon || !slash || colon > slash) return die("KH_REPORTING_URL host:port");
  char ip[64];
  size_t hl = (size_t)(colon - host);
  if (hl >= sizeof ip) return die("host");
  memcpy(ip, host, hl);
  ip[hl] = 0;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) return die("host must be an IPv4 address");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr*)&sa, sizeof sa) != 0) return die("connect");
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  static const char body[] = "{\"OK\":true}";
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "POST %s HTTP/1.1\r\nHost: %.*s\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                   slash, (int)(slash - host), host, sizeof body - 1, body);
  if (n <= 0 || (size_t)n >= sizeof req) return die("URL too long");
  if (write_all(s, req, (size_t)n) != 0) return die("send");
  char resp[512];
  size_t got = 0;
  while (got < 12) {  // "HTTP/1.1 200"
    ssize_t r = read(s, resp + got, sizeof resp - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  resp[got] = 0;
  close(s);
  if (got < 12 || strncmp(resp + 9, "200", 3) != 0) {
    fprintf(stderr, "tinycheck: report not accepted: %.80s\n", resp);
    return 1;
  }
  return 0;
}

static int hold(const char* dir) {
  const char* url = getenv("KH_REPORTING_URL");
  const char* uuid = getenv("KH_RUN_UUID");
  if (!url || !uuid) return die("KH_REPORTING_URL/KH_RUN_UUID");
  char tmp[4096], final_path[4096], line[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, uuid);
  snprintf(final_path, sizeof final_path, "%s/%s", dir, uuid);
  int n = snprintf(line, sizeof line, "%d %s\n", (int)getpid(), url);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, line, (size_t)n) != 0 || close(fd) != 0) return die("write");
  if (rename(tmp, final_path) != 0) return die("rename");
  for (;;) pause();
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "report") == 0) return report(argc >= 3 ? argv[2] : NULL);
  if (argc == 3 && strcmp(argv[1], "hold") == 0) return hold(argv[2]);
  fprintf(stderr, "usage: tinycheck report [LOG] | tinycheck hold DIR\n");
  return 2;
}
