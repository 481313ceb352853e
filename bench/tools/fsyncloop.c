// The disk's commit limit: append a small record and fdatasync, in a loop, one at a time.
//
//   fsyncloop [-t SECONDS] FILE
//
// Prints commits=, seconds=, commits_per_s=, p50_us=, p99_us= (per write+fdatasync). FILE is
// created, written and removed. One writer and one record per sync: the ceiling of a store
// that commits every report on its own; group commit (many reports per sync) can go above it.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  double max_s = 3;
  int opt;
  while ((opt = getopt(argc, argv, "t:")) != -1) {
    if (opt == 't') max_s = atof(optarg);
    else return 2;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: fsyncloop [-t SECONDS] FILE\n");
    return 2;
  }
  const char* path = argv[optind];
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror("fsyncloop: open");
    return 1;
  }
  size_t cap = 1 << 16, n = 0;
  double* lat = malloc(cap * sizeof *lat);
  static const char rec[100] = "record";
  const double t0 = now_s();
  while (now_s() - t0 < max_s && n < cap) {
    const double a = now_s();
    if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0) {
      perror("fsyncloop: write/fdatasync");
      return 1;
    }
    lat[n++] = (now_s() - a) * 1e6;
  }
  const double secs = now_s() - t0;
  close(fd);
  unlink(path);
  qsort(lat, n, sizeof *lat, cmp);
  printf("commits=%zu seconds=%.3f commits_per_s=%.1f p50_us=%.0f p99_us=%.0f\n", n, secs,
         (double)n / secs, n ? lat[n / 2] : 0.0, n ? lat[(size_t)((double)(n - 1) * 0.99)] : 0.0);
  return 0;
}
