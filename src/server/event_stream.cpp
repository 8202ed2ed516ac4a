// SPDX-License-Identifier: Apache-2.0
#include <utility>

#include "server/event_stream_access.hpp"
#include "server/http.hpp"

namespace vigil::server {

std::shared_ptr<EventStream> EventStream::create(Limits limits) {
  return std::shared_ptr<EventStream>(new EventStream(limits));
}

EventStream::EventStream(Limits limits) : limits_(limits) {}

EventStream::~EventStream() = default;

bool EventStream::send(std::string_view event, std::string_view data) {
  std::string frame;
  frame.reserve(event.size() + data.size() + 16);
  if (!event.empty()) {
    frame += "event: ";
    for (const char c : event) {
      if (c != '\r' && c != '\n') frame += c;
    }
    frame += '\n';
  }
  // One `data:` line per line of data; CRLF, LF and CR all end a line (as in the SSE spec).
  std::size_t start = 0;
  for (;;) {
    const auto pos = data.find_first_of("\r\n", start);
    frame += "data: ";
    frame.append(data.substr(start, pos == std::string_view::npos ? data.npos : pos - start));
    frame += '\n';
    if (pos == std::string_view::npos) break;
    start = pos + 1;
    if (data[pos] == '\r' && start < data.size() && data[start] == '\n') ++start;
    if (start == data.size()) break;
  }
  frame += '\n';

  std::lock_guard lock(mu_);
  if (closed_) return false;
  if (pending_events_ + 1 > limits_.max_queued_events ||
      pending_.size() + frame.size() > limits_.max_queued_bytes) {
    closed_ = true;
    overflowed_ = true;
    pending_.clear();
    pending_events_ = 0;
    if (waker_) waker_();  // always: the connection may be stuck in a write and must be cut
    return false;
  }
  pending_ += frame;
  ++pending_events_;
  if (waker_ && !wake_pending_) {
    wake_pending_ = true;
    waker_();
  }
  return true;
}

void EventStream::close() {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (waker_) {
    wake_pending_ = true;
    waker_();
  }
}

bool EventStream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool EventStream::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_;
}

void EventStreamAccess::attach(EventStream& s, std::function<void()> waker) {
  std::lock_guard lock(s.mu_);
  s.waker_ = std::move(waker);
  if (!s.pending_.empty() || s.closed_) {
    s.wake_pending_ = true;
    s.waker_();
  }
}

void EventStreamAccess::detach(EventStream& s) {
  std::lock_guard lock(s.mu_);
  s.waker_ = nullptr;
  s.closed_ = true;
  s.pending_.clear();
  s.pending_events_ = 0;
}

EventStreamAccess::Batch EventStreamAccess::take(EventStream& s) {
  Batch b;
  std::lock_guard lock(s.mu_);
  b.frames = std::exchange(s.pending_, std::string{});
  s.pending_events_ = 0;
  s.wake_pending_ = false;
  b.closed = s.closed_;
  b.overflowed = s.overflowed_;
  return b;
}

}  // namespace vigil::server
