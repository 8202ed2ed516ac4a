// SPDX-License-Identifier: Apache-2.0
// Atom 1.0 and RSS 2.0 feeds that announce CAP documents (docs/warnings.md, "CAP feed watch"):
// each entry either links its CAP document or carries the CAP <alert> inline. Parsed with the
// same hardening as parse_cap(): nothing is fetched, a DOCTYPE is refused before its internal
// subset is read, entities are never substituted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace vigil::warn {

struct FeedEntry {
  std::string id;         // Atom <id>, RSS <guid>; empty when the feed gives none
  std::string updated;    // Atom <updated> (else <published>), RSS <pubDate>; as written
  std::string title;
  std::string cap_url;    // the CAP document's link (absolute http(s) URL), empty when inline
  std::string inline_cap; // the embedded <alert> as a standalone XML document, else empty
  long line = 0;          // where the entry starts in the feed

  // What makes an entry new for the watcher: its id (else its link, else its inline document's
  // text), with its updated time, so an entry revised in place is looked at again.
  std::string key() const;
};

struct Feed {
  std::string format;  // "atom" or "rss"
  std::string title;
  std::vector<FeedEntry> entries;  // in document order
  // Entries that neither link nor embed a CAP document, each "line N: why" (not an error:
  // feeds mix in other items).
  std::vector<std::string> skipped;
};

struct FeedParseOptions {
  std::size_t max_bytes = 8u << 20;  // larger feeds are refused unread
};

// Reads an Atom or RSS 2.0 feed. `base_url` (the feed's own URL) resolves relative links.
// Errors: not XML (with the line), a DOCTYPE, neither <feed> in the Atom namespace nor <rss>.
Result<Feed> parse_feed(std::string_view xml, std::string_view base_url = {},
                        const FeedParseOptions& options = {});

// `link` resolved against `base` (an absolute http(s) URL); links that are already absolute
// stay as they are. Empty when the result is not http(s).
std::string resolve_url(std::string_view base, std::string_view link);

}  // namespace vigil::warn
