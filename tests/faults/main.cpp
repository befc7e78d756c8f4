#define BOOST_TEST_MODULE callgate fault tests
#include <boost/test/unit_test.hpp>

#include <csignal>

// A test writing to a socket the daemon closed must see EPIPE, not die.
struct IgnoreSigpipe {
  IgnoreSigpipe() { std::signal(SIGPIPE, SIG_IGN); }
};
BOOST_TEST_GLOBAL_FIXTURE(IgnoreSigpipe);
