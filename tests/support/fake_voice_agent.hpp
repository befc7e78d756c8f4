// A voice agent on a loopback port (ws://): keeps every message each of its
// connections receives, in order, and answers by a script, as an agent
// built for Twilio's stream format would. Runs on its own thread; stops
// when destroyed.
#pragma once

#include "test_certificates.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace callgate::testing {

// Standard base64 with padding.
std::string base64(std::string_view data);

class FakeVoiceAgent {
 public:
  struct Script {
    // After this many media frames: the reply (µ-law, sent as 20 ms media
    // frames at once, as a text-to-speech engine does), then mark "reply-end".
    std::size_t reply_after_frames = 0;
    std::string reply_mulaw;
    // When "reply-end" comes back (the provider played it): a clear.
    bool clear_after_mark = true;
    // Sent right after the start arrives (transcript lines, control messages).
    std::vector<std::string> after_start;
    // Mid-call: the connection is closed after this many media frames (0: never).
    std::size_t close_after_frames = 0;
    // Sent after this many media frames (0: never), e.g. {"event":"hangup"}.
    std::size_t send_at_frame = 0;
    std::string send_at_frame_text;
  };

  // tls: serve wss:// with these certificates (the daemon must trust their CA).
  explicit FakeVoiceAgent(Script script, const TestCertificates* tls = nullptr);
  ~FakeVoiceAgent();
  FakeVoiceAgent(const FakeVoiceAgent&) = delete;
  FakeVoiceAgent& operator=(const FakeVoiceAgent&) = delete;

  unsigned short port() const;
  std::size_t connections() const;
  // The messages connection `index` received, in order (text frames as sent).
  std::vector<std::string> received(std::size_t index = 0) const;
  // Whether connection `index` has ended (closed by either side) within timeout.
  bool wait_until_closed(std::size_t index, std::chrono::milliseconds timeout) const;

  struct State;  // shared with the server's thread

 private:
  std::shared_ptr<State> state_;
};

}  // namespace callgate::testing
