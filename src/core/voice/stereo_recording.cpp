#include "core/voice/stereo_recording.hpp"

#include "core/voice/mulaw.hpp"

#include <algorithm>

namespace callgate::voice {
namespace {

constexpr std::uint64_t kSamplesPerMs = kRecordingSampleRate / 1000;

void put_u16(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
}
void put_u32(std::string& out, std::uint32_t value) {
  put_u16(out, value & 0xFFFF);
  put_u16(out, value >> 16);
}

}  // namespace

StereoRecording::StereoRecording(RecordingEncoding encoding, Limits limits) : encoding_(encoding), limits_(limits) {}

void StereoRecording::caller(std::uint64_t timestamp_ms, std::span<const std::int16_t> samples) {
  auto position = static_cast<std::int64_t>(timestamp_ms * kSamplesPerMs) - clock_offset_;
  const auto max_gap = static_cast<std::int64_t>(limits_.max_gap_ms * kSamplesPerMs);
  const auto end = static_cast<std::int64_t>(caller_end_);
  if (position - end > max_gap) {
    clock_offset_ += position - end - max_gap;
    position = end + max_gap;
  }
  std::size_t skip = 0;
  if (position < end) {
    // Late or repeated: the part already placed stays as it was.
    const auto overlap = static_cast<std::uint64_t>(end - position);
    if (overlap >= samples.size()) return;
    skip = static_cast<std::size_t>(overlap);
  } else {
    left_.resize(left_.size() + static_cast<std::size_t>(position - end), 0);  // a gap: silence
  }
  left_.insert(left_.end(), samples.begin() + static_cast<std::ptrdiff_t>(skip), samples.end());
  caller_end_ = written_ + left_.size();
}

void StereoRecording::agent(std::span<const std::int16_t> samples) {
  const std::uint64_t start = std::max(agent_end_, caller_end_);
  const std::uint64_t room_end = caller_end_ + limits_.max_agent_backlog;
  const std::uint64_t fits = start >= room_end ? 0 : std::min<std::uint64_t>(samples.size(), room_end - start);
  agent_dropped_ += samples.size() - fits;
  if (fits == 0) return;
  right_.resize(static_cast<std::size_t>(start - written_), 0);
  right_.insert(right_.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(fits));
  agent_end_ = start + fits;
}

void StereoRecording::agent_cleared() {
  if (agent_end_ <= caller_end_) return;
  agent_end_ = caller_end_;
  right_.resize(std::min<std::size_t>(right_.size(), static_cast<std::size_t>(caller_end_ - written_)));
}

std::size_t StereoRecording::take(std::string& out) {
  const std::size_t frames = left_.size();
  if (frames == 0) return 0;
  const std::size_t agent_known = std::min(frames, right_.size());
  out.reserve(out.size() + frames * bytes_per_frame(encoding_));
  for (std::size_t index = 0; index < frames; ++index) {
    const std::int16_t left = left_[index];
    const std::int16_t right = index < agent_known ? right_[index] : 0;
    if (encoding_ == RecordingEncoding::pcm16) {
      put_u16(out, static_cast<std::uint16_t>(left));
      put_u16(out, static_cast<std::uint16_t>(right));
    } else {
      out.push_back(static_cast<char>(linear_to_mulaw(left)));
      out.push_back(static_cast<char>(linear_to_mulaw(right)));
    }
  }
  left_.clear();
  right_.erase(right_.begin(), right_.begin() + static_cast<std::ptrdiff_t>(agent_known));
  written_ += frames;
  return frames;
}

std::string StereoRecording::header(RecordingEncoding encoding, std::uint64_t frames) {
  const bool pcm = encoding == RecordingEncoding::pcm16;
  const std::uint32_t block_align = static_cast<std::uint32_t>(bytes_per_frame(encoding));
  // A WAV's sizes are 32-bit: a longer file's header says the most it can.
  const std::uint64_t data_bytes = std::min<std::uint64_t>(frames * block_align, 0xFFFF'0000ULL);
  const std::uint32_t fmt_size = pcm ? 16 : 18;  // µ-law's fmt carries cbSize
  const std::uint32_t fact_size = pcm ? 0 : 12;  // non-PCM formats need a fact chunk
  std::string out;
  out += "RIFF";
  put_u32(out, static_cast<std::uint32_t>(4 + (8 + fmt_size) + fact_size + 8 + data_bytes));
  out += "WAVEfmt ";
  put_u32(out, fmt_size);
  put_u16(out, pcm ? 1 : 7);  // WAVE_FORMAT_PCM, WAVE_FORMAT_MULAW
  put_u16(out, 2);
  put_u32(out, kRecordingSampleRate);
  put_u32(out, kRecordingSampleRate * block_align);
  put_u16(out, block_align);
  put_u16(out, pcm ? 16 : 8);
  if (!pcm) {
    put_u16(out, 0);  // cbSize
    out += "fact";
    put_u32(out, 4);
    put_u32(out, static_cast<std::uint32_t>(data_bytes / block_align));
  }
  out += "data";
  put_u32(out, static_cast<std::uint32_t>(data_bytes));
  return out;
}

}  // namespace callgate::voice
