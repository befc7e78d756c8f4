// A bridged call as a two-channel 8 kHz WAV: the caller on the left, the
// agent on the right. Pure: audio comes in, the bytes to append to the file
// come out, and the header is rendered for the length reached.
//
// The two sides are placed on the stream's own clock. The caller's frames
// carry the provider's timestamps (milliseconds since the stream began):
// a frame lands where its timestamp says, a gap becomes silence and an
// overlap is dropped, so a lost or late frame never shifts what follows.
// The agent's audio carries no time: the provider plays it as it arrives,
// after whatever it still holds, so it is placed at the caller's current
// position or after the agent audio not yet played, whichever is later. A
// `clear` (barge-in) drops the agent audio the provider had not played.
//
// Only what both channels know is handed out: everything before the
// caller's latest frame. Memory is the agent audio queued ahead of the
// caller (bounded by max_agent_backlog) and one take's worth of output.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace callgate::voice {

enum class RecordingEncoding { pcm16, mulaw };

inline constexpr unsigned kRecordingSampleRate = 8000;

class StereoRecording {
 public:
  struct Limits {
    // Agent audio queued ahead of the caller, in samples; beyond it the
    // agent's audio is not recorded (and counted).
    std::size_t max_agent_backlog = 20 * kRecordingSampleRate;
    // A jump forward in the caller's timestamps longer than this is
    // recorded as this much silence: a provider's clock that leaps cannot
    // make a file of hours of nothing.
    std::uint64_t max_gap_ms = 10'000;
  };

  explicit StereoRecording(RecordingEncoding encoding) : StereoRecording(encoding, Limits{}) {}
  StereoRecording(RecordingEncoding encoding, Limits limits);

  // The caller's audio, timestamped by the provider (ms since the stream began).
  void caller(std::uint64_t timestamp_ms, std::span<const std::int16_t> samples);
  // The agent's audio, in the order the provider will play it.
  void agent(std::span<const std::int16_t> samples);
  // Barge-in: the agent audio not yet played is dropped.
  void agent_cleared();

  // Appends the frames both channels now know to out, interleaved and
  // encoded; returns how many frames it appended.
  std::size_t take(std::string& out);

  std::uint64_t frames() const { return written_; }  // handed out so far
  std::uint64_t duration_ms() const { return written_ * 1000 / kRecordingSampleRate; }
  std::uint64_t agent_samples_dropped() const { return agent_dropped_; }
  RecordingEncoding encoding() const { return encoding_; }

  // The WAV header for a file of `frames` frames; its size never changes
  // with frames, so it is written first and rewritten at the end.
  static std::string header(RecordingEncoding encoding, std::uint64_t frames);
  static std::size_t bytes_per_frame(RecordingEncoding encoding) {
    return encoding == RecordingEncoding::pcm16 ? 4 : 2;
  }

 private:
  RecordingEncoding encoding_;
  Limits limits_;
  std::uint64_t written_ = 0;        // frames handed out
  std::uint64_t caller_end_ = 0;     // position after the caller's latest sample
  std::uint64_t agent_end_ = 0;      // position after the agent's latest sample
  std::int64_t clock_offset_ = 0;    // samples taken off timestamps after a clamped gap
  std::vector<std::int16_t> left_;   // positions [written_, caller_end_)
  std::vector<std::int16_t> right_;  // positions [written_, written_ + right_.size())
  std::uint64_t agent_dropped_ = 0;
};

}  // namespace callgate::voice
