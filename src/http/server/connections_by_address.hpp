// Open connections counted per client address across all reactors, so one
// address cannot hold the whole of server.max_connections (10,000 idle
// sockets from one host used to turn /healthz into 503 for everyone).
// Touched once when a connection is accepted and once when it ends, never
// per request: a mutex is cheap enough there.
#pragma once

#include <boost/asio/ip/address.hpp>

#include <map>
#include <mutex>

namespace callgate::http {

class ConnectionsByAddress {
 public:
  // Counts a new connection from address unless that would make more than
  // limit (0: no limit); false when refused (and nothing is counted).
  bool try_add(const boost::asio::ip::address& address, unsigned limit);
  void remove(const boost::asio::ip::address& address);
  unsigned count(const boost::asio::ip::address& address) const;

 private:
  mutable std::mutex mutex_;
  std::map<boost::asio::ip::address, unsigned> open_;
};

}  // namespace callgate::http
