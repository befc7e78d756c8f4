#include "core/any_completion.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>
#include <vector>

using namespace callgate;

namespace {

struct Waiter {
  int ticket;
  AnyCompletion<void(int)> resume;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(any_completion)

BOOST_AUTO_TEST_CASE(waiters_moved_about_by_a_partition_are_each_resumed_once_with_their_own_value) {
  // std::partition swaps by move assignment: Boost 1.81's own
  // any_completion_handler overflows the stack there.
  std::vector<int> resumed;
  std::vector<Waiter> waiters;
  for (int ticket = 0; ticket < 40; ++ticket)
    waiters.push_back({ticket, AnyCompletion<void(int)>([&resumed](int value) { resumed.push_back(value); })});
  const auto middle =
      std::partition(waiters.begin(), waiters.end(), [](const Waiter& waiter) { return waiter.ticket % 3 == 0; });
  BOOST_TEST(std::all_of(waiters.begin(), middle, [](const Waiter& waiter) { return waiter.ticket % 3 == 0; }));
  for (auto& waiter : waiters) std::move(waiter.resume)(waiter.ticket * 10);
  std::sort(resumed.begin(), resumed.end());
  BOOST_REQUIRE_EQUAL(resumed.size(), 40u);
  for (int ticket = 0; ticket < 40; ++ticket) BOOST_TEST(resumed[static_cast<std::size_t>(ticket)] == ticket * 10);
}

BOOST_AUTO_TEST_CASE(a_coroutine_waiting_through_one_is_resumed_with_the_value) {
  boost::asio::io_context io;
  std::vector<AnyCompletion<void(int)>> queue;
  int got = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        got = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(int)>(
            [&](auto handler) { queue.emplace_back(std::move(handler)); }, boost::asio::use_awaitable);
      },
      [](std::exception_ptr failure) {
        if (failure) std::rethrow_exception(failure);
      });
  io.poll();  // now parked in the queue (run() would wait: the parked coroutine is work)
  BOOST_REQUIRE_EQUAL(queue.size(), 1u);
  auto taken = std::move(queue.front());
  queue.front() = std::move(taken);  // moved about by assignment as well
  boost::asio::post(io, [&] { std::move(queue.front())(42); });
  io.restart();
  io.run();  // returns once the coroutine is over
  BOOST_TEST(got == 42);
}

BOOST_AUTO_TEST_SUITE_END()
