// Test support: a loopback TCP port nothing listens on now, for a server a
// test must name the port of before it starts (redis-server, or a daemon
// whose public_base_url carries its port).
#pragma once

namespace callgate::testing {

unsigned short free_loopback_port();

// A TCP connection to 127.0.0.1:port: its descriptor (the caller closes
// it), or -1 when nothing accepts there.
int connect_to_loopback(unsigned short port);

}  // namespace callgate::testing
