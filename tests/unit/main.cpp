#define BOOST_TEST_MODULE callgate unit tests
#include <boost/test/unit_test.hpp>
