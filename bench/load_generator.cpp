// bench_load: keep-alive HTTP/1.1 load on one URL path, closed-loop (as fast
// as the server answers) or open-loop at a fixed rate, with latency
// percentiles. In rate mode latency counts from when each request was due,
// not when it was sent, so a stalled server cannot hide its queueing delay.
//
// Usage: bench_load HOST PORT PATH CONNECTIONS SECONDS [RATE]
//        [--twilio-webhook AUTH_TOKEN PUBLIC_BASE_URL ACKNOWLEDGED_FILE [--placed SIDS_FILE FIRST]]
//        [--enquiries ACKNOWLEDGED_FILE] [--slow-timeline MICROSECONDS] [--warmup SECONDS]
// Prints one line: requests=N errors=N rps=R p50_us=.. p99_us=.. p999_us=.. max_us=.. cpu_us=..
// (and warmup_requests=N warmup_p99_us=.. warmup_max_us=.. with --warmup).
// (cpu_us: the generator's own CPU time, user and system, over its run: it
// shares the machine with the server, so its cost per request counts too).
//
// With --twilio-webhook every request is a Twilio status callback POSTed to
// PATH, each with its own call sid, signed with AUTH_TOKEN for
// PUBLIC_BASE_URL + PATH exactly as Twilio signs; the call sids answered
// 2xx are written to ACKNOWLEDGED_FILE, one a line, so the store can be
// checked for every one afterwards. With --placed the callbacks are for
// the calls in SIDS_FILE (one sid a line), each taken through its statuses
// in turn from request FIRST on (placed_callbacks below), "sid step" is
// what is written, and placed_next=K at the end of the line is where the
// next run goes on.
//
// With --enquiries every request is a JSON enquiry POSTed to PATH, each for
// its own phone number; for each one answered 202 the lead id and the
// moment the request was due (wall clock, ns since 1970) are written to
// ACKNOWLEDGED_FILE, so the lag to the provider can be measured.
//
// With --slow-timeline US the answers slower than US are also counted by
// when they were due, in 100 ms steps, and the steps that had any are
// printed to stderr ("slow +2.3s 412 of 5400"): a tail from one stall
// looks different from one spread over the whole run.
//
// With --warmup S the connections send for S seconds first, the same way,
// and only then for SECONDS: requests, rate and percentiles are those of
// the SECONDS after the warm-up, and the warm-up's own count, p99 and
// maximum are printed beside them. Opening every connection at once and
// going from nothing to the full rate within a millisecond leaves a tail of
// its own (tens of milliseconds of slow answers, for nginx too), which is
// not the steady rate the percentiles are meant to describe; it stays in
// view in the warm-up's figures. Call sids answered during the warm-up are
// acknowledged like any other.
#include <boost/asio.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
// Rate mode's wake-up grid (LoadConnection::paced).
constexpr Clock::duration kPacingTick = std::chrono::microseconds(200);

namespace {

struct Totals {
  std::vector<std::uint32_t> latencies_us;
  std::vector<std::uint32_t> warmup_latencies_us;  // answers to requests due before measured_from
  Clock::time_point measured_from{};
  std::uint64_t errors = 0;
  std::vector<std::string> acknowledged;  // a line per request answered 2xx (webhook and enquiry modes)
  bool enquiries = false;
  // The wall clock at a steady-clock moment, for reporting when requests were due.
  Clock::time_point steady_origin = Clock::now();
  std::chrono::system_clock::time_point wall_origin = std::chrono::system_clock::now();
  // --slow-timeline: by 100 ms step of due time from measured_from, answers
  // and slow answers (the warm-up's are not counted).
  std::uint32_t slow_threshold_us = 0;
  std::map<std::int64_t, std::pair<unsigned, unsigned>> timeline;
};

// Builds the next request; the string is the call sid it carries, if any.
using RequestMaker = std::function<std::pair<std::string, std::string>()>;

std::string base64(const unsigned char* data, unsigned size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  out.resize(static_cast<std::size_t>(
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size))));
  return out;
}

// A Twilio status callback POSTed to path, signed with token for url as
// Twilio signs: fields in name order (the form's order too).
std::string signed_twilio_callback(const std::string& path, const std::string& token, const std::string& url,
                                   const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  std::string signed_text = url;
  for (const auto& [name, value] : fields) {
    body += (body.empty() ? "" : "&") + name + "=" + value;
    signed_text += name + value;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha1(), token.data(), static_cast<int>(token.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), digest, &length);
  return "POST " + path +
         " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\n"
         "X-Twilio-Signature: " +
         base64(digest, length) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

const std::string kAccountSid = "AC0123456789abcdef0123456789abcdef";

// Signed Twilio status callbacks with call sids no other request uses.
RequestMaker twilio_callbacks(std::string path, std::string token, std::string url, int connection) {
  auto counter = std::make_shared<std::uint64_t>(0);
  return [=]() {
    // The process id keeps sids apart across runs against the same store.
    char sid[40];
    std::snprintf(sid, sizeof sid, "CA%08x%04x%020llx", static_cast<unsigned>(::getpid()),
                  static_cast<unsigned>(connection) & 0xffffu, static_cast<unsigned long long>((*counter)++));
    auto request = signed_twilio_callback(
        path, token, url,
        {{"AccountSid", kAccountSid}, {"CallSid", sid}, {"CallStatus", "completed"}, {"SequenceNumber", "3"}});
    return std::make_pair(std::move(request), std::string(sid));
  };
}

// Signed Twilio status callbacks for calls callgated placed (--placed): the
// k-th request, counted over every connection from FIRST, is for the call
// sids[k % N] and carries that call's (k / N)-th status of initiated,
// ringing, in-progress, completed, with Twilio's sequence numbers 0-3: every
// call goes through its life once, its steps seconds apart when N is large.
// Past 4N the completed status repeats (a duplicate to the store); the
// acknowledged line is "sid step" so those can be told apart.
struct PlacedCalls {
  std::vector<std::string> sids;
  std::uint64_t next = 0;
};

RequestMaker placed_callbacks(std::string path, std::string token, std::string url,
                              std::shared_ptr<PlacedCalls> calls) {
  return [=]() {
    static constexpr const char* kStatuses[] = {"initiated", "ringing", "in-progress", "completed"};
    const auto k = calls->next++;
    const auto& sid = calls->sids[k % calls->sids.size()];
    const auto step = k / calls->sids.size();
    const auto shown = std::min<std::uint64_t>(step, 3);
    std::vector<std::pair<std::string, std::string>> fields{{"AccountSid", kAccountSid}};
    if (shown == 3) fields.emplace_back("CallDuration", "42");
    fields.emplace_back("CallSid", sid);
    fields.emplace_back("CallStatus", kStatuses[shown]);
    fields.emplace_back("SequenceNumber", std::to_string(shown));
    auto request = signed_twilio_callback(path, token, url, fields);
    return std::make_pair(std::move(request), sid + " " + std::to_string(step));
  };
}

// JSON enquiries, each for a number no other request uses.
RequestMaker enquiries(std::string path, int connection) {
  auto counter = std::make_shared<std::uint64_t>(0);
  return [=]() {
    char phone[32];
    std::snprintf(phone, sizeof phone, "+9198%03d%05llu", connection % 1000,
                  static_cast<unsigned long long>((*counter)++ % 100'000));
    const std::string body = std::string(R"({"phone":")") + phone + R"(","consent":true,"source":"bench"})";
    std::string request =
        "POST " + path +
        " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    return std::make_pair(std::move(request), std::string());
  };
}

class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(asio::io_context& io, tcp::endpoint endpoint, RequestMaker make_request, Clock::time_point end,
                 Clock::duration interval, Clock::time_point first_due, Totals& totals)
      : socket_(io),
        timer_(io),
        endpoint_(endpoint),
        make_request_(std::move(make_request)),
        end_(end),
        interval_(interval),
        due_(first_due),
        totals_(totals) {}

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
      timer_.expires_at(paced(due_));
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->send(); });
    } else {
      send();
    }
  }

  // Rate mode wakes on a grid of kPacingTick from the start, not at each
  // request's own moment: the requests due within one tick go out together
  // after one wake-up. Waking for every request (tens of thousands a second)
  // cost the generator ~3x the CPU per request of the closed loop, on the
  // cores it shares with the server, and its own lateness then showed as the
  // server's latency. Latency still counts from each request's due time, so
  // the wait for the tick is counted against the server, never hidden.
  static Clock::time_point paced(Clock::time_point due) {
    const auto ticks = (due.time_since_epoch() + kPacingTick - Clock::duration(1)) / kPacingTick;
    return Clock::time_point(ticks * kPacingTick);
  }

  void send() {
    std::tie(request_, sid_) = make_request_();
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](boost::system::error_code error, std::size_t) {
                        if (error) return self->fail();
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code error, std::size_t bytes) {
          if (error) return self->fail();
          self->buffer_.append(self->chunk_, bytes);
          if (!self->take_response()) return self->read();
          const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - self->due_);
          if (self->due_ < self->totals_.measured_from) {
            self->totals_.warmup_latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
          } else {
            self->totals_.latencies_us.push_back(static_cast<std::uint32_t>(latency.count()));
          }
          if (self->totals_.slow_threshold_us && self->due_ >= self->totals_.measured_from) {
            auto& step =
                self->totals_.timeline[(self->due_ - self->totals_.measured_from) / std::chrono::milliseconds(100)];
            ++step.first;
            if (latency.count() > self->totals_.slow_threshold_us) ++step.second;
          }
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
    if (buffer_.compare(0, 10, "HTTP/1.1 2") != 0)
      ++totals_.errors;
    else if (!sid_.empty())
      totals_.acknowledged.push_back(sid_);
    else if (totals_.enquiries)
      record_enquiry(std::string_view(buffer_).substr(header_end + 4, length));
    buffer_.erase(0, header_end + 4 + length);
    return true;
  }

  // "leadId due_wall_ns" for an acknowledged enquiry.
  void record_enquiry(std::string_view body) {
    static constexpr std::string_view marker = R"("leadId":")";
    const auto at = body.find(marker);
    if (at == std::string_view::npos) return;
    const auto end = body.find('"', at + marker.size());
    const auto due_wall = totals_.wall_origin +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(due_ - totals_.steady_origin);
    totals_.acknowledged.push_back(
        std::string(body.substr(at + marker.size(), end - at - marker.size())) + " " +
        std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(due_wall.time_since_epoch()).count()));
  }

  void fail() {
    if (Clock::now() < end_) ++totals_.errors;
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  tcp::endpoint endpoint_;
  RequestMaker make_request_;
  std::string request_;
  std::string sid_;
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
  const std::string path = argv[3];
  const int connections = std::stoi(argv[4]);
  const double seconds = std::stod(argv[5]);
  double rate = 0.0;
  std::string token, base_url, acknowledged_file;
  bool enquiry_mode = false;
  std::shared_ptr<PlacedCalls> placed;
  std::uint32_t slow_threshold_us = 0;
  double warmup_seconds = 0.0;
  bool warmup_given = false;  // the warm-up's fields are printed whenever asked for, 0 s included
  for (int index = 6; index < argc; ++index) {
    if (std::string(argv[index]) == "--twilio-webhook" && index + 3 < argc) {
      token = argv[index + 1];
      base_url = argv[index + 2];
      acknowledged_file = argv[index + 3];
      index += 3;
    } else if (std::string(argv[index]) == "--placed" && index + 2 < argc) {
      placed = std::make_shared<PlacedCalls>();
      std::ifstream in(argv[index + 1]);
      for (std::string sid; in >> sid;) placed->sids.push_back(sid);
      placed->next = std::stoull(argv[index + 2]);
      if (placed->sids.empty()) {
        std::cerr << "bench_load: no call sids in " << argv[index + 1] << "\n";
        return 2;
      }
      index += 2;
    } else if (std::string(argv[index]) == "--enquiries" && index + 1 < argc) {
      enquiry_mode = true;
      acknowledged_file = argv[index + 1];
      index += 1;
    } else if (std::string(argv[index]) == "--slow-timeline" && index + 1 < argc) {
      slow_threshold_us = static_cast<std::uint32_t>(std::stoul(argv[index + 1]));
      index += 1;
    } else if (std::string(argv[index]) == "--warmup" && index + 1 < argc) {
      warmup_seconds = std::stod(argv[index + 1]);
      warmup_given = true;
      index += 1;
    } else {
      rate = std::stod(argv[index]);
    }
  }
  const std::string get_request = "GET " + path + " HTTP/1.1\r\nHost: bench\r\n\r\n";

  asio::io_context io(1);
  Totals totals;
  totals.enquiries = enquiry_mode;
  totals.slow_threshold_us = slow_threshold_us;
  // Room for every answer up front: growing these lists stops the (one)
  // thread that sends for as long as it takes to move them, ~10 ms once
  // a quarter million sids are acknowledged, and in rate mode that stall
  // was counted against the server (spikes at 2.4 s and 4.9 s of a 54,000/s
  // run, for nginx as much as for callgated).
  const auto expected_answers = static_cast<std::size_t>(seconds * std::max(rate, 200'000.0) * 1.1);
  const auto expected_warmup_answers = static_cast<std::size_t>(warmup_seconds * std::max(rate, 200'000.0) * 1.1);
  totals.latencies_us.reserve(expected_answers);
  totals.warmup_latencies_us.reserve(expected_warmup_answers);
  if (!acknowledged_file.empty()) totals.acknowledged.reserve(expected_answers + expected_warmup_answers);
  const auto start = Clock::now() + std::chrono::milliseconds(100);  // time to connect
  totals.measured_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_seconds));
  const auto end =
      totals.measured_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  // In rate mode each connection sends every connections/rate seconds,
  // staggered so the requests are spread evenly over time.
  const auto interval =
      rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(connections / rate))
               : Clock::duration::zero();
  for (int i = 0; i < connections; ++i) {
    const auto first_due = start + (rate > 0 ? interval * i / connections : Clock::duration::zero());
    RequestMaker maker = enquiry_mode ? enquiries(path, i)
                         : placed     ? placed_callbacks(path, token, base_url + path, placed)
                         : token.empty()
                             ? RequestMaker([&get_request] { return std::make_pair(get_request, std::string()); })
                             : twilio_callbacks(path, token, base_url + path, i);
    std::make_shared<LoadConnection>(io, endpoint, std::move(maker), end, interval, first_due, totals)->start();
  }
  asio::steady_timer stop(io, end + std::chrono::seconds(2));  // let the last answers land, then give up
  stop.async_wait([&](boost::system::error_code) { io.stop(); });
  io.run();

  if (!acknowledged_file.empty()) {
    std::ofstream out(acknowledged_file);
    for (const auto& sid : totals.acknowledged) out << sid << '\n';
  }
  for (const auto& [step, counts] : totals.timeline)
    if (counts.second > 0)
      std::fprintf(stderr, "slow +%.1fs %u of %u\n", static_cast<double>(step) / 10.0, counts.second, counts.first);
  auto& samples = totals.latencies_us;
  std::sort(samples.begin(), samples.end());
  auto& warmup = totals.warmup_latencies_us;
  std::sort(warmup.begin(), warmup.end());
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto micros = [](const timeval& time) {
    return static_cast<long long>(time.tv_sec) * 1'000'000 + time.tv_usec;
  };
  std::printf("requests=%zu errors=%llu rps=%.0f p50_us=%u p99_us=%u p999_us=%u max_us=%u cpu_us=%lld", samples.size(),
              static_cast<unsigned long long>(totals.errors), static_cast<double>(samples.size()) / seconds,
              percentile(samples, 0.50), percentile(samples, 0.99), percentile(samples, 0.999),
              samples.empty() ? 0 : samples.back(), micros(usage.ru_utime) + micros(usage.ru_stime));
  if (warmup_given)
    std::printf(" warmup_requests=%zu warmup_p99_us=%u warmup_max_us=%u", warmup.size(), percentile(warmup, 0.99),
                warmup.empty() ? 0 : warmup.back());
  if (placed) std::printf(" placed_next=%llu", static_cast<unsigned long long>(placed->next));
  std::printf("\n");
  return 0;
}
