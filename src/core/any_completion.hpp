// A waiting coroutine's completion handler, whatever its type: what a queue
// of waiters (journal syncs, Redis replies, batched scripts) holds. It is
// Asio's any_completion_handler (one allocation; the handler's cancellation
// slot, allocator and executor kept), in a holder for one reason: Boost
// 1.81's move assignment passes its source as an lvalue to the converting
// constructor, which wraps the handler in itself without end (a stack
// overflow the first time std::partition swapped two waiters). Moves here
// go through the move constructor and swap only.
#pragma once

#include <boost/asio/any_completion_handler.hpp>

#include <type_traits>
#include <utility>

namespace callgate {

template <class Signature>
class AnyCompletion {
 public:
  AnyCompletion() = default;
  template <class Handler, class = std::enable_if_t<!std::is_same_v<std::decay_t<Handler>, AnyCompletion>>>
  explicit AnyCompletion(Handler&& handler) : handler_(std::forward<Handler>(handler)) {}
  AnyCompletion(AnyCompletion&& other) noexcept : handler_(std::move(other.handler_)) {}
  AnyCompletion& operator=(AnyCompletion&& other) noexcept {
    AnyCompletion taken(std::move(other));
    handler_.swap(taken.handler_);
    return *this;
  }
  AnyCompletion(const AnyCompletion&) = delete;
  AnyCompletion& operator=(const AnyCompletion&) = delete;

  // Resumes the waiter, once.
  template <class... Args>
  void operator()(Args&&... args) && {
    std::move(handler_)(std::forward<Args>(args)...);
  }

 private:
  boost::asio::any_completion_handler<Signature> handler_;
};

}  // namespace callgate
