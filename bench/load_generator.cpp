// bench_load: keep-alive HTTP/1.1 load on one URL path, closed-loop (as fast
// as the server answers) or open-loop at a fixed rate, with latency
// percentiles. In rate mode latency counts from when each request was due,
// not when it was sent, so a stalled server cannot hide its queueing delay.
//
// Usage: bench_load HOST PORT PATH CONNECTIONS SECONDS [RATE]
// Prints one line: requests=N errors=N rps=R p50_us=.. p99_us=.. p999_us=.. max_us=..
#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Totals {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t errors = 0;
};

class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(asio::io_context& io, tcp::endpoint endpoint, std::string request, Clock::time_point end,
                 Clock::duration interval, Clock::time_point first_due, Totals& totals)
      : socket_(io), timer_(io), endpoint_(endpoint), request_(std::move(request)), end_(end),
        interval_(interval), due_(first_due), totals_(totals) {}

  void start() {
    socket_.async_connect(endpoint_, [self = shared_from_this()](boost::system::error_code error) {
      if (error) {
        ++self->totals_.errors;
        return;
      }
      self->socket_.set_option(tcp::no_delay(true));
      self->schedule();
    });
  }

 private:
  void schedule() {
    const auto now = Clock::now();
    if (interval_ == Clock::duration::zero()) due_ = now;  // closed loop: send at once
    if (due_ >= end_) return;
    if (due_ > now) {
      timer_.expires_at(due_);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->send(); });
    } else {
      send();
    }
  }

  void send() {
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                        if (error) return self->fail();
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code error,
                                                                              std::size_t bytes) {
      if (error) return self->fail();
      self->buffer_.append(self->chunk_, bytes);
      if (!self->take_response()) return self->read();
      const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - self->due_);
      self->totals_.latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
      self->due_ += self->interval_;
      self->schedule();
    });
  }

  // Consumes one complete response from the buffer; false if more bytes are needed.
  bool take_response() {
    const auto header_end = buffer_.find("\r\n\r\n");
    if (header_end == std::string::npos) return false;
    std::size_t length = 0;
    for (std::size_t at = 0; at < header_end;) {
      const auto line_end = buffer_.find("\r\n", at);
      if (line_end - at > 15 && strncasecmp(buffer_.data() + at, "content-length:", 15) == 0)
        length = std::stoul(buffer_.substr(at + 15, line_end - at - 15));
      at = line_end + 2;
    }
    if (buffer_.size() < header_end + 4 + length) return false;
    if (buffer_.compare(0, 10, "HTTP/1.1 2") != 0) ++totals_.errors;
    buffer_.erase(0, header_end + 4 + length);
    return true;
  }

  void fail() {
    if (Clock::now() < end_) ++totals_.errors;
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  tcp::endpoint endpoint_;
  std::string request_;
  Clock::time_point end_;
  Clock::duration interval_;
  Clock::time_point due_;
  Totals& totals_;
  std::string buffer_;
  char chunk_[16384];
};

std::uint32_t percentile(const std::vector<std::uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: bench_load HOST PORT PATH CONNECTIONS SECONDS [RATE]\n";
    return 2;
  }
  const tcp::endpoint endpoint(asio::ip::make_address(argv[1]), static_cast<unsigned short>(std::stoi(argv[2])));
  const std::string request = std::string("GET ") + argv[3] + " HTTP/1.1\r\nHost: bench\r\n\r\n";
  const int connections = std::stoi(argv[4]);
  const double seconds = std::stod(argv[5]);
  const double rate = argc > 6 ? std::stod(argv[6]) : 0.0;

  asio::io_context io(1);
  Totals totals;
  totals.latencies_us.reserve(static_cast<std::size_t>(seconds * 200'000));
  const auto start = Clock::now() + std::chrono::milliseconds(100);  // time to connect
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // In rate mode each connection sends every connections/rate seconds,
  // staggered so the requests are spread evenly over time.
  const auto interval = rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(connections / rate))
                                 : Clock::duration::zero();
  for (int i = 0; i < connections; ++i) {
    const auto first_due = start + (rate > 0 ? interval * i / connections : Clock::duration::zero());
    std::make_shared<LoadConnection>(io, endpoint, request, end, interval, first_due, totals)->start();
  }
  asio::steady_timer stop(io, end + std::chrono::seconds(2));  // let the last answers land, then give up
  stop.async_wait([&](boost::system::error_code) { io.stop(); });
  io.run();

  auto& samples = totals.latencies_us;
  std::sort(samples.begin(), samples.end());
  std::printf("requests=%zu errors=%llu rps=%.0f p50_us=%u p99_us=%u p999_us=%u max_us=%u\n", samples.size(),
              static_cast<unsigned long long>(totals.errors), static_cast<double>(samples.size()) / seconds,
              percentile(samples, 0.50), percentile(samples, 0.99), percentile(samples, 0.999),
              samples.empty() ? 0 : samples.back());
  return 0;
}
