// What the fault suite shares: a flood of signed callbacks that counts
// every acknowledgement and survives the daemon going away and coming back
// on the same port; the tally each fault prints (acknowledged, lost,
// applied twice); a small filesystem to fill up.
#pragma once

#include "lead_flow_support.hpp"
#include "loopback_port.hpp"

#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

namespace callgate::faults {

using namespace callgate::lead_flow;

// lead_config on a port of the test's choosing (a daemon restarted after
// kill -9 must come back where the flood looks for it).
inline std::string on_port(std::string yaml, unsigned short port) {
  const std::string any = "listen: \"127.0.0.1:0\"";
  const auto at = yaml.find(any);
  BOOST_REQUIRE(at != std::string::npos);
  return yaml.replace(at, any.size(), "listen: \"127.0.0.1:" + std::to_string(port) + "\"");
}

constexpr const char* kCallSid = "CA00000000000000000000000000000001";

// Senders posting callbacks for one lead's call, each with a sequence number
// of its own, until stopped. A connection that fails is opened again after a
// short wait (the daemon may be restarting); a 5xx is not acknowledged and
// that number is not sent again (the provider would retry with the same
// number; what matters here is that acknowledged ones are all kept).
class CallbackFlood {
 public:
  CallbackFlood(unsigned short port, std::string lead_id, int senders = 4) : port_(port), lead_id_(std::move(lead_id)) {
    for (int sender = 0; sender < senders; ++sender)
      threads_.emplace_back([this, sender, senders] { send_from(sender, senders); });
  }
  ~CallbackFlood() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }
  std::set<int> acknowledged() const {
    std::lock_guard guard(lock_);
    return acknowledged_;
  }
  std::size_t refused() const { return refused_.load(); }
  // Waits until at least count more acknowledgements than now.
  bool wait_for_more(std::size_t count, std::chrono::milliseconds timeout = 10s) const {
    const auto target = acknowledged().size() + count;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (acknowledged().size() < target && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return acknowledged().size() >= target;
  }

 private:
  void send_from(int sender, int senders) {
    int index = sender;
    while (!stop_) {
      try {
        testing::Connection connection(port_);
        while (!stop_) {
          const int sequence = 10 + index;
          const int status = post_callback(connection, lead_id_, callback(kCallSid, "ringing", sequence));
          index += senders;
          if (status == 204) {
            std::lock_guard guard(lock_);
            acknowledged_.insert(sequence);
          } else if (status >= 500) {
            ++refused_;
          } else {
            break;  // 0: the connection went; anything else: start a new one
          }
        }
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(20ms);
    }
  }
  unsigned short port_;
  std::string lead_id_;
  std::atomic<bool> stop_{false};
  mutable std::mutex lock_;
  std::set<int> acknowledged_;
  std::atomic<std::size_t> refused_{0};
  std::vector<std::thread> threads_;
};

// How many times each sequence number appears in a lead's events.
inline std::map<int, int> sequence_counts(const boost::json::object& lead) {
  std::map<int, int> counts;
  for (const auto& event : lead.at("events").as_array())
    if (const auto* sequence = event.as_object().if_contains("sequenceNumber"))
      ++counts[static_cast<int>(sequence->to_number<std::int64_t>())];
  return counts;
}

// The line each fault prints and the checks behind it: nothing acknowledged
// lost, nothing applied twice.
inline void tally(const std::string& fault, const std::set<int>& acknowledged, const boost::json::object& lead,
                  const std::string& came_back) {
  const auto counts = sequence_counts(lead);
  std::set<int> stored;
  int twice = 0;
  for (const auto& [sequence, count] : counts) {
    stored.insert(sequence);
    if (count > 1) ++twice;
  }
  const auto missing = missing_from(acknowledged, stored);
  std::cout << "FAULT " << fault << ": acknowledged " << acknowledged.size() << ", lost " << missing.size()
            << ", applied twice " << twice << "; " << came_back << std::endl;
  BOOST_TEST(missing.empty(), fault << ": " << missing.size() << " acknowledged callbacks lost");
  BOOST_TEST(twice == 0, fault << ": " << twice << " callbacks applied twice");
}

// A tmpfs of the given size mounted on a fresh directory, when this process
// may mount (root, and a kernel and container that allow it); else
// mounted() is false and the test uses a file-size limit instead.
class SmallFilesystem {
 public:
  explicit SmallFilesystem(const std::string& size) {
    const auto result = testing::run_command(
        {"/bin/mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", directory_.path()});
    mounted_ = result.exit_code == 0;
    if (!mounted_)
      BOOST_TEST_MESSAGE("no tmpfs (" << result.output << "): a file-size limit stands in for a full disk");
  }
  ~SmallFilesystem() {
    if (mounted_) testing::run_command({"/bin/umount", "-l", directory_.path()});
  }
  bool mounted() const { return mounted_; }
  std::string path(const std::string& name) const { return directory_.file(name); }
  bool grow(const std::string& size) const {
    return testing::run_command({"/bin/mount", "-o", "remount,size=" + size, directory_.path()}).exit_code == 0;
  }

 private:
  TemporaryDirectory directory_;
  bool mounted_ = false;
};

}  // namespace callgate::faults
