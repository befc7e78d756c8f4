#include "core/voice/stereo_recording.hpp"

#include "core/voice/mulaw.hpp"
#include "little_endian.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace callgate::voice;

namespace {

using callgate::testing::u32_at;

std::vector<std::int16_t> constant(std::size_t samples, std::int16_t value) {
  return std::vector<std::int16_t>(samples, value);
}

// The (left, right) samples of PCM16 interleaved output.
std::vector<std::pair<int, int>> frames_of(const std::string& pcm) {
  std::vector<std::pair<int, int>> frames;
  for (std::size_t at = 0; at + 4 <= pcm.size(); at += 4) {
    auto sample = [&](std::size_t offset) {
      return static_cast<int>(static_cast<std::int16_t>(static_cast<std::uint16_t>(
          static_cast<std::uint8_t>(pcm[offset]) | (static_cast<std::uint8_t>(pcm[offset + 1]) << 8))));
    };
    frames.emplace_back(sample(at), sample(at + 2));
  }
  return frames;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stereo_recording)

BOOST_AUTO_TEST_CASE(caller_frames_land_where_their_timestamps_say_and_gaps_are_silence) {
  StereoRecording recording(RecordingEncoding::pcm16);
  recording.caller(0, constant(160, 100));
  recording.caller(40, constant(160, 200));  // the frame at 20 ms never came
  std::string out;
  BOOST_TEST(recording.take(out) == 480u);
  const auto frames = frames_of(out);
  BOOST_TEST(frames[0].first == 100);
  BOOST_TEST(frames[159].first == 100);
  BOOST_TEST(frames[160].first == 0);
  BOOST_TEST(frames[319].first == 0);
  BOOST_TEST(frames[320].first == 200);
  BOOST_TEST(recording.duration_ms() == 60u);
}

BOOST_AUTO_TEST_CASE(a_late_or_repeated_frame_does_not_shift_what_follows) {
  StereoRecording recording(RecordingEncoding::pcm16);
  recording.caller(0, constant(160, 1));
  recording.caller(20, constant(160, 2));
  recording.caller(10, constant(160, 9));  // overlaps the tail of what is placed: only its new part (none) counts
  recording.caller(20, constant(240, 3));  // repeats 20 ms, then 10 ms more
  std::string out;
  recording.take(out);
  const auto frames = frames_of(out);
  BOOST_TEST(frames.size() == 400u);
  BOOST_TEST(frames[200].first == 2);
  BOOST_TEST(frames[320].first == 3);
}

BOOST_AUTO_TEST_CASE(agent_audio_starts_at_the_callers_position_and_queues_behind_itself) {
  StereoRecording recording(RecordingEncoding::pcm16);
  recording.caller(0, constant(160, 1));
  recording.agent(constant(240, 7));  // 30 ms, from 20 ms on
  recording.agent(constant(80, 8));   // after it: 50 .. 60 ms
  std::string out;
  recording.take(out);
  recording.caller(20, constant(160, 1));
  recording.caller(40, constant(160, 1));
  recording.take(out);
  const auto frames = frames_of(out);
  BOOST_TEST(frames.size() == 480u);
  BOOST_TEST(frames[159].second == 0);
  BOOST_TEST(frames[160].second == 7);
  BOOST_TEST(frames[399].second == 7);
  BOOST_TEST(frames[400].second == 8);
  BOOST_TEST(frames[479].second == 8);
  BOOST_TEST(frames[479].first == 1);
}

BOOST_AUTO_TEST_CASE(only_what_both_channels_know_is_handed_out) {
  StereoRecording recording(RecordingEncoding::pcm16);
  recording.agent(constant(800, 5));  // ahead of the caller: not yet played
  std::string out;
  BOOST_TEST(recording.take(out) == 0u);
  BOOST_TEST(out.empty());
  recording.caller(0, constant(160, 1));
  BOOST_TEST(recording.take(out) == 160u);
  BOOST_TEST(recording.frames() == 160u);
}

BOOST_AUTO_TEST_CASE(a_clear_drops_the_agent_audio_not_yet_played) {
  StereoRecording recording(RecordingEncoding::pcm16);
  recording.caller(0, constant(160, 1));
  recording.agent(constant(1600, 7));  // 200 ms queued from 20 ms
  recording.caller(20, constant(160, 1));
  recording.agent_cleared();  // at 40 ms: 20 ms of it played
  recording.caller(40, constant(160, 1));
  recording.agent(constant(160, 9));  // new audio from the caller's position (60 ms)
  recording.caller(60, constant(160, 1));
  std::string out;
  recording.take(out);
  const auto frames = frames_of(out);
  BOOST_TEST(frames.size() == 640u);
  BOOST_TEST(frames[160].second == 7);
  BOOST_TEST(frames[319].second == 7);
  BOOST_TEST(frames[320].second == 0);  // dropped by the clear
  BOOST_TEST(frames[479].second == 0);
  BOOST_TEST(frames[480].second == 9);
}

BOOST_AUTO_TEST_CASE(the_agent_backlog_and_clock_jumps_are_bounded) {
  StereoRecording recording(RecordingEncoding::pcm16, StereoRecording::Limits{800, 100});
  recording.agent(constant(1000, 7));
  BOOST_TEST(recording.agent_samples_dropped() == 200u);
  recording.caller(0, constant(160, 1));
  recording.caller(3'600'000, constant(160, 2));  // an hour later: recorded as 100 ms of silence
  std::string out;
  BOOST_TEST(recording.take(out) == 160u + 800u + 160u);
  recording.caller(3'600'020, constant(160, 3));  // and the clock carries on from there
  BOOST_TEST(recording.take(out) == 160u);
}

BOOST_AUTO_TEST_CASE(mulaw_output_is_two_bytes_a_frame) {
  StereoRecording recording(RecordingEncoding::mulaw);
  recording.caller(0, constant(160, 0));
  std::string out;
  recording.take(out);
  BOOST_TEST(out.size() == 320u);
  BOOST_TEST(static_cast<std::uint8_t>(out[0]) == kMulawSilence);
}

BOOST_AUTO_TEST_CASE(headers_describe_the_data_that_follows) {
  const auto pcm = StereoRecording::header(RecordingEncoding::pcm16, 8000);
  BOOST_TEST(pcm.size() == 44u);
  BOOST_TEST(pcm.substr(0, 4) == "RIFF");
  BOOST_TEST(u32_at(pcm, 4) == 36u + 32000u);
  BOOST_TEST(pcm.substr(8, 8) == "WAVEfmt ");
  BOOST_TEST(u32_at(pcm, 16) == 16u);
  BOOST_TEST(u32_at(pcm, 20) == (1u | (2u << 16)));  // PCM, 2 channels
  BOOST_TEST(u32_at(pcm, 24) == 8000u);
  BOOST_TEST(u32_at(pcm, 28) == 32000u);
  BOOST_TEST(u32_at(pcm, 32) == (4u | (16u << 16)));
  BOOST_TEST(pcm.substr(36, 4) == "data");
  BOOST_TEST(u32_at(pcm, 40) == 32000u);

  const auto mulaw = StereoRecording::header(RecordingEncoding::mulaw, 8000);
  BOOST_TEST(mulaw.size() == 58u);
  BOOST_TEST(u32_at(mulaw, 20) == (7u | (2u << 16)));
  BOOST_TEST(mulaw.substr(38, 4) == "fact");
  BOOST_TEST(u32_at(mulaw, 46) == 8000u);
  BOOST_TEST(mulaw.substr(50, 4) == "data");
  BOOST_TEST(u32_at(mulaw, 54) == 16000u);
  BOOST_TEST(u32_at(mulaw, 4) == mulaw.size() - 8 + 16000u);
}

BOOST_AUTO_TEST_SUITE_END()
