#include "http/server/connections_by_address.hpp"

namespace callgate::http {

bool ConnectionsByAddress::try_add(const boost::asio::ip::address& address, unsigned limit) {
  std::lock_guard lock(mutex_);
  auto& open = open_[address];
  if (limit != 0 && open >= limit) {
    if (open == 0) open_.erase(address);
    return false;
  }
  ++open;
  return true;
}

void ConnectionsByAddress::remove(const boost::asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  const auto found = open_.find(address);
  if (found == open_.end()) return;
  if (--found->second == 0) open_.erase(found);
}

unsigned ConnectionsByAddress::count(const boost::asio::ip::address& address) const {
  std::lock_guard lock(mutex_);
  const auto found = open_.find(address);
  return found == open_.end() ? 0 : found->second;
}

}  // namespace callgate::http
