// The process-start yardstick: posix_spawn + waitpid in a tight loop.
//
//   spawnloop [-n MAX_RUNS] [-t MAX_SECONDS] [-p PARALLEL] PROG [ARG...]
//
// Keeps PARALLEL children alive (1: strictly one after another), starting a new one as each
// ends, until MAX_RUNS have ended or MAX_SECONDS have passed. Children inherit this
// environment (so KH_REPORTING_URL reaches a checker). Prints one line of key=value:
// runs, failed (exit != 0), seconds, runs_per_s, and CPU ms per run of this parent
// (parent_cpu_ms) and of the children (child_cpu_ms).
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_ms(int who) {
  struct rusage u;
  getrusage(who, &u);
  return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char** argv) {
  long max_runs = 100000, parallel = 1;
  double max_s = 10;
  int opt;
  while ((opt = getopt(argc, argv, "+n:t:p:")) != -1) {
    if (opt == 'n') max_runs = atol(optarg);
    else if (opt == 't') max_s = atof(optarg);
    else if (opt == 'p') parallel = atol(optarg);
    else return 2;
  }
  if (optind >= argc || parallel < 1 || max_runs < 1) {
    fprintf(stderr, "usage: spawnloop [-n MAX_RUNS] [-t MAX_SECONDS] [-p PARALLEL] PROG [ARG...]\n");
    return 2;
  }
  char** child_argv = argv + optind;
  const double t0 = now_s();
  long started = 0, ended = 0, failed = 0, live = 0;
  for (;;) {
    const int stop = started >= max_runs || now_s() - t0 >= max_s;
    while (!stop && live < parallel && started < max_runs) {
      pid_t pid;
      if (posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ) != 0) {
        perror("spawnloop: posix_spawn");
        return 1;
      }
      ++started;
      ++live;
    }
    if (live == 0) break;
    int status;
    if (waitpid(-1, &status, 0) < 0) continue;
    --live;
    ++ended;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  const double secs = now_s() - t0;
  printf("runs=%ld failed=%ld seconds=%.3f runs_per_s=%.1f parent_cpu_ms=%.4f child_cpu_ms=%.4f\n",
         ended, failed, secs, (double)ended / secs, cpu_ms(RUSAGE_SELF) / (double)ended,
         cpu_ms(RUSAGE_CHILDREN) / (double)ended);
  return 0;
}
