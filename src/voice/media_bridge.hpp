// One bridged call: the provider's WebSocket (already upgraded) on one
// side, the voice agent's on the other, the recording between. Internal to
// the media gateway (media_gateway.cpp), which admits the stream.
#pragma once

#include "core/config.hpp"
#include "core/voice/stream_messages.hpp"
#include "voice/media_gateway.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>

namespace callgate::voice {

struct MediaGateway::Shared {
  Shared(store::LeadStore& lead_store, MediaMetricIds metric_ids) : store(lead_store), ids(metric_ids) {}
  store::LeadStore& store;
  MediaMetricIds ids;
  std::atomic<unsigned> open{0};
  std::string fallback_key;  // random to this process
  std::vector<Lane> lanes;
  boost::asio::thread_pool disk{1};  // syncs and renames of finished recordings, the retention sweep
  std::string recordings_path;       // fixed at start (a reload does not move recordings)
  const Lane* lane_for(const boost::asio::io_context& io) const {
    for (const auto& lane : lanes)
      if (lane.io == &io) return &lane;
    return nullptr;
  }
};

// Runs work on pool and resumes the coroutine on its own executor with the
// result: blocking file work (fsync, rename) kept off the reactor.
template <class Work>
auto run_on(boost::asio::thread_pool& pool, Work work) {
  using Result = decltype(work());
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(Result)>(
      [&pool](auto handler, Work job) {
        auto home = boost::asio::get_associated_executor(handler);
        boost::asio::post(pool, [handler = std::move(handler), job = std::move(job), home]() mutable {
          auto result = job();
          boost::asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      boost::asio::use_awaitable, std::move(work));
}

// Serves an accepted upgrade to its end. reservation: the stream's place
// under voice.max_streams, given back when it ends.
boost::asio::awaitable<void> serve_media_stream(std::shared_ptr<MediaGateway::Shared> shared, StreamFormat format,
                                                std::shared_ptr<const Config> config, std::shared_ptr<void> reservation,
                                                boost::asio::ip::tcp::socket& socket, http::Request request);

}  // namespace callgate::voice
