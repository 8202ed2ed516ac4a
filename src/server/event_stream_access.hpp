// SPDX-License-Identifier: Apache-2.0
// Internal: the connection side of an EventStream (not part of the public API).
#pragma once

#include <functional>
#include <string>

#include "server/http.hpp"

namespace vigil::server {

struct EventStreamAccess {
  struct Batch {
    std::string frames;  // formatted events, ready to write
    bool closed = false;
    bool overflowed = false;
  };
  // `waker` is called with the stream's lock held whenever events arrive or the stream closes; it
  // must only post work elsewhere. Events queued before attach() wake at once.
  static void attach(EventStream& s, std::function<void()> waker);
  // Forgets the waker and closes the stream (the client is gone or the server stops).
  static void detach(EventStream& s);
  // Takes every queued frame (and re-arms the waker).
  static Batch take(EventStream& s);
  static bool overflowed(const EventStream& s) { return s.overflowed(); }
};

}  // namespace vigil::server
