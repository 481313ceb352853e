// The scheduling yardstick: the smallest scheduler with Sonde's rules, for the same checks.
//
//   minisched [-c CAP] [-t SECONDS] INTERVALS_FILE PROG [ARG...]
//
// INTERVALS_FILE: "ID INTERVAL_SECONDS" per line. Every check is due at start; each runs again
// INTERVAL after its previous run was due (after that run's start when it started over half an
// interval late, as Sonde's scheduler does), never overlapping itself; at most CAP run at a
// time and waiting ones start earliest-due first. A run is PROG ARG... started with
// posix_spawn, with BENCH_ID=ID added to this environment (so the same minimal checker logs
// its start in the same way). One thread: a binary heap of due times, clock_nanosleep-free
// waiting in sigtimedwait(SIGCHLD) until the next due time. Stops starting runs after SECONDS,
// waits for the runs in flight, and prints runs=, seconds=, cpu_ms= (this process),
// maxrss_kib=.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

typedef struct {
  int64_t due;
  int id;
} Item;

static Item* heap;
static size_t heap_n;

static int less(const Item* a, const Item* b) {
  return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void push(Item it) {
  size_t i = heap_n++;
  heap[i] = it;
  while (i > 0 && less(&heap[i], &heap[(i - 1) / 2])) {
    Item t = heap[i];
    heap[i] = heap[(i - 1) / 2];
    heap[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
}

static Item pop(void) {
  Item top = heap[0];
  heap[0] = heap[--heap_n];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < heap_n && less(&heap[l], &heap[m])) m = l;
    if (r < heap_n && less(&heap[r], &heap[m])) m = r;
    if (m == i) break;
    Item t = heap[i];
    heap[i] = heap[m];
    heap[m] = t;
    i = m;
  }
  return top;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char** argv) {
  long cap = 32;
  double seconds = 60;
  int opt;
  while ((opt = getopt(argc, argv, "+c:t:")) != -1) {
    if (opt == 'c') cap = atol(optarg);
    else if (opt == 't') seconds = atof(optarg);
    else return 2;
  }
  if (argc - optind < 2 || cap < 1) {
    fprintf(stderr, "usage: minisched [-c CAP] [-t SECONDS] INTERVALS_FILE PROG [ARG...]\n");
    return 2;
  }
  FILE* f = fopen(argv[optind], "r");
  if (!f) {
    perror("minisched: intervals file");
    return 1;
  }
  size_t n = 0, room = 1024;
  int64_t* interval = malloc(room * sizeof *interval);
  int id;
  double iv;
  while (fscanf(f, "%d %lf", &id, &iv) == 2) {
    if (id < 0) continue;
    while ((size_t)id >= room) interval = realloc(interval, (room *= 2) * sizeof *interval);
    interval[id] = (int64_t)(iv * 1e9);
    if ((size_t)id + 1 > n) n = (size_t)id + 1;
  }
  fclose(f);
  heap = malloc((n + 1) * sizeof *heap);
  const int64_t t0 = now_ns(), stop = t0 + (int64_t)(seconds * 1e9);
  for (size_t i = 0; i < n; ++i) push((Item){t0, (int)i});

  size_t env_n = 0;
  while (environ[env_n]) ++env_n;
  char** envp = calloc(env_n + 2, sizeof *envp);
  memcpy(envp, environ, env_n * sizeof *envp);
  char id_var[32];
  envp[env_n] = id_var;
  char** child_argv = argv + optind + 1;

  struct { pid_t pid; int id; int64_t due, start; } * slots = calloc((size_t)cap, sizeof *slots);
  long running = 0, runs = 0;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  for (;;) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      for (long s = 0; s < cap; ++s) {
        if (slots[s].pid != pid) continue;
        const int64_t iv = interval[slots[s].id];
        const int64_t from = slots[s].start - slots[s].due > iv / 2 ? slots[s].start : slots[s].due;
        push((Item){from + iv, slots[s].id});
        slots[s].pid = 0;
        --running;
        ++runs;
        break;
      }
    }
    const int64_t now = now_ns();
    if (now >= stop && running == 0) break;
    while (now < stop && running < cap && heap_n > 0 && heap[0].due <= now) {
      Item it = pop();
      snprintf(id_var, sizeof id_var, "BENCH_ID=%d", it.id);
      long s = 0;
      while (slots[s].pid != 0) ++s;
      if (posix_spawn(&slots[s].pid, child_argv[0], NULL, NULL, child_argv, envp) != 0) {
        perror("minisched: posix_spawn");
        return 1;
      }
      slots[s].id = it.id;
      slots[s].due = it.due;
      slots[s].start = now_ns();
      ++running;
    }
    int64_t wake = stop;
    if (running < cap && heap_n > 0 && heap[0].due < wake) wake = heap[0].due;
    int64_t wait = wake - now_ns();
    if (now >= stop || wait < 0) wait = now >= stop ? 100000000 : 0;
    struct timespec ts = {wait / 1000000000, wait % 1000000000};
    if (wait > 0 || running > 0) sigtimedwait(&chld, NULL, &ts);
  }
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  printf("runs=%ld seconds=%.3f cpu_ms=%.1f maxrss_kib=%ld\n", runs, (double)(now_ns() - t0) / 1e9,
         (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
             (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3,
         u.ru_maxrss);
  return 0;
}
