// A closed-loop HTTP/1.1 load generator that sends each request of a list exactly once, for
// requests that cannot be repeated (a checker report is accepted once per run).
//
//   httpload --requests FILE [--connect 127.0.0.1:PORT] [--connections 64] [--method POST]
//            [--body '{"OK":true}'] [--content-type application/json] [--expect 200]
//            [--latencies-out FILE] [--failed-out FILE] [--timeout-s 60]
//
// FILE: one request per line; the last space-separated field is an http:// URL or a target
// ("/path?query"). All requests go to one host:port (--connect, else the first URL's). Opens
// the connections first, then starts the clock: each connection sends its next request as soon
// as the previous answer is complete (keep-alive, no pipelining), until the list is done.
// Prints one key=value line: requests, expected (answered with --expect), other (any other
// status or an error), seconds, req_per_s, p50_us, p99_us, max_us, and statuses=CODE:COUNT,...
// --latencies-out appends each request's latency in microseconds (one per line);
// --failed-out writes the lines whose answer was not --expect (to retry them).
// Single-threaded (epoll); bounded by --timeout-s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string requests_file, connect, method = "POST", body = "{\"OK\":true}",
                                      content_type = "application/json";
  std::string latencies_out, failed_out;
  int connections = 64, expect = 200;
  double timeout_s = 60;
};

struct Conn {
  int fd = -1;
  long req = -1;  // index in progress, -1 idle
  Clock::time_point sent;
  std::string in;
};

[[noreturn]] void Fail(const std::string& what) {
  std::cerr << "httpload: " << what << (errno ? std::string(": ") + std::strerror(errno) : "")
            << "\n";
  std::exit(1);
}

std::string Target(const std::string& line) {
  std::string url = line.substr(line.find_last_of(' ') == std::string::npos ? 0
                                                                            : line.find_last_of(' ') + 1);
  if (url.rfind("http://", 0) == 0) {
    const size_t slash = url.find('/', 7);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }
  return url;
}

std::string HostPort(const std::string& line) {
  std::string url = line.substr(line.find_last_of(' ') == std::string::npos ? 0
                                                                            : line.find_last_of(' ') + 1);
  if (url.rfind("http://", 0) != 0) return "";
  const size_t slash = url.find('/', 7);
  return url.substr(7, slash == std::string::npos ? std::string::npos : slash - 7);
}

int Dial(const sockaddr_in& sa) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) Fail("connect");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      ::usleep(50);  // a request is far smaller than a socket buffer: practically never
    } else {
      Fail("write");
    }
  }
}

// A complete response in `in`? Sets status, consumed bytes and whether the peer closes.
bool Complete(const std::string& in, int& status, size_t& used, bool& closes) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  if (in.size() < 12) return false;
  status = std::atoi(in.c_str() + 9);
  std::string head = in.substr(0, end);
  std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
  size_t length = 0;
  if (const size_t p = head.find("\r\ncontent-length:"); p != std::string::npos) {
    length = std::strtoul(head.c_str() + p + 17, nullptr, 10);
  }
  closes = head.find("\r\nconnection: close") != std::string::npos;
  if (in.size() < end + 4 + length) return false;
  used = end + 4 + length;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail("missing value for " + a);
      return argv[++i];
    };
    if (a == "--requests") o.requests_file = next();
    else if (a == "--connect") o.connect = next();
    else if (a == "--connections") o.connections = std::atoi(next().c_str());
    else if (a == "--method") o.method = next();
    else if (a == "--body") o.body = next();
    else if (a == "--content-type") o.content_type = next();
    else if (a == "--expect") o.expect = std::atoi(next().c_str());
    else if (a == "--latencies-out") o.latencies_out = next();
    else if (a == "--failed-out") o.failed_out = next();
    else if (a == "--timeout-s") o.timeout_s = std::atof(next().c_str());
    else Fail("unknown option " + a);
  }
  std::vector<std::string> lines;
  {
    std::ifstream f(o.requests_file);
    if (!f) Fail("cannot read " + o.requests_file);
    for (std::string l; std::getline(f, l);) {
      while (!l.empty() && (l.back() == ' ' || l.back() == '\r')) l.pop_back();
      if (!l.empty()) lines.push_back(l);
    }
  }
  if (lines.empty()) {
    std::printf("requests=0 expected=0 other=0 seconds=0 req_per_s=0 p50_us=0 p99_us=0 max_us=0 statuses=\n");
    return 0;
  }
  if (o.connect.empty()) o.connect = HostPort(lines.front());
  const size_t colon = o.connect.rfind(':');
  if (colon == std::string::npos) Fail("--connect HOST:PORT needed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(o.connect.c_str() + colon + 1)));
  if (::inet_pton(AF_INET, o.connect.substr(0, colon).c_str(), &sa.sin_addr) != 1) Fail("IPv4 host");

  std::vector<std::string> reqs;
  reqs.reserve(lines.size());
  for (const std::string& l : lines) {
    std::string r = o.method + " " + Target(l) + " HTTP/1.1\r\nHost: " + o.connect + "\r\n";
    if (!o.body.empty()) {
      r += "Content-Type: " + o.content_type + "\r\nContent-Length: " + std::to_string(o.body.size()) + "\r\n";
    } else if (o.method == "POST") {
      r += "Content-Length: 0\r\n";
    }
    r += "\r\n" + o.body;
    reqs.push_back(std::move(r));
  }

  const int n_conns = std::max(1, std::min<int>(o.connections, static_cast<int>(reqs.size())));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<size_t>(n_conns));
  for (int i = 0; i < n_conns; ++i) {
    conns[i].fd = Dial(sa);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) Fail("epoll_ctl");
  }

  std::vector<int> status(reqs.size(), 0);
  std::vector<double> lat_us(reqs.size(), 0);
  size_t next_req = 0, done = 0;
  auto send_next = [&](Conn& c) {
    if (next_req >= reqs.size()) {
      c.req = -1;
      return;
    }
    c.req = static_cast<long>(next_req++);
    c.sent = Clock::now();
    WriteAll(c.fd, reqs[static_cast<size_t>(c.req)]);
  };
  const auto t0 = Clock::now();
  const auto give_up = t0 + std::chrono::duration<double>(o.timeout_s);
  for (Conn& c : conns) send_next(c);
  std::vector<epoll_event> events(static_cast<size_t>(n_conns));
  char buf[16384];
  while (done < reqs.size()) {
    if (Clock::now() > give_up) {
      std::cerr << "httpload: timed out with " << reqs.size() - done << " requests unanswered\n";
      break;
    }
    const int n = ::epoll_wait(ep, events.data(), n_conns, 100);
    if (n < 0 && errno != EINTR) Fail("epoll_wait");
    for (int e = 0; e < n; ++e) {
      Conn& c = conns[events[static_cast<size_t>(e)].data.u32];
      for (;;) {
        const ssize_t r = ::read(c.fd, buf, sizeof buf);
        if (r > 0) {
          c.in.append(buf, static_cast<size_t>(r));
          continue;
        }
        if (r < 0 && errno == EINTR) continue;
        const bool eof = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        int st = 0;
        size_t used = 0;
        bool closes = false;
        const bool complete = Complete(c.in, st, used, closes);
        if (c.req >= 0 && (complete || eof)) {
          const auto idx = static_cast<size_t>(c.req);
          status[idx] = complete ? st : -1;
          lat_us[idx] = std::chrono::duration<double, std::micro>(Clock::now() - c.sent).count();
          ++done;
          c.in.erase(0, complete ? used : c.in.size());
          c.req = -1;
        }
        if (eof || closes) {  // reconnect (the peer closed, e.g. after an error answer)
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          ::close(c.fd);
          c.in.clear();
          c.fd = Dial(sa);
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u32 = static_cast<uint32_t>(&c - conns.data());
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        }
        if (c.req < 0) send_next(c);
        break;
      }
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (Conn& c : conns) ::close(c.fd);

  std::map<int, long> hist;
  long expected = 0;
  std::vector<double> answered;
  for (size_t i = 0; i < reqs.size(); ++i) {
    ++hist[status[i]];
    if (status[i] == o.expect) ++expected;
    if (status[i] != 0) answered.push_back(lat_us[i]);
  }
  std::sort(answered.begin(), answered.end());
  auto pct = [&](double p) {
    if (answered.empty()) return 0.0;
    const size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(answered.size() - 1) + 0.5);
    return answered[std::min(k, answered.size() - 1)];
  };
  if (!o.latencies_out.empty()) {
    std::ofstream f(o.latencies_out, std::ios::app);
    for (double v : answered) f << static_cast<long>(v) << "\n";
  }
  if (!o.failed_out.empty()) {
    std::ofstream f(o.failed_out, std::ios::trunc);
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (status[i] != o.expect) f << lines[i] << "\n";
    }
  }
  std::string statuses;
  for (const auto& [code, count] : hist) {
    statuses += (statuses.empty() ? "" : ",") + std::to_string(code) + ":" + std::to_string(count);
  }
  std::printf("requests=%zu expected=%ld other=%ld seconds=%.4f req_per_s=%.1f p50_us=%.0f p99_us=%.0f "
              "max_us=%.0f statuses=%s\n",
              reqs.size(), expected, static_cast<long>(reqs.size()) - expected, secs,
              static_cast<double>(done) / secs, pct(50), pct(99), answered.empty() ? 0.0 : answered.back(),
              statuses.c_str());
  return expected == static_cast<long>(reqs.size()) ? 0 : 3;
}
