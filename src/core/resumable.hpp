// A waiting coroutine's completion handler behind one interface, whatever
// the handler's type: one allocation, and move-only handlers welcome (a
// std::function would need a shared copy of the handler as well). What a
// queue of waiters (journal syncs, Redis replies, batched scripts) holds.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace callgate {

template <class... Results>
struct Resumable {
  virtual ~Resumable() = default;
  // Resumes the waiter, once.
  virtual void resume(Results... results) = 0;
};

template <class... Results, class Handler>
std::unique_ptr<Resumable<Results...>> make_resumable(Handler&& handler) {
  struct Holder final : Resumable<Results...> {
    explicit Holder(Handler&& given) : handler(std::forward<Handler>(given)) {}
    void resume(Results... results) override { std::move(handler)(std::forward<Results>(results)...); }
    std::decay_t<Handler> handler;
  };
  return std::make_unique<Holder>(std::forward<Handler>(handler));
}

}  // namespace callgate
