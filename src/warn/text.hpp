// SPDX-License-Identifier: Apache-2.0
// Text matching for warning targets: Unicode-aware case folding of UTF-8 (Latin, Latin-1,
// Latin Extended-A, Greek, Cyrillic; Russian "ё" folds to "е"), word splitting, and the keyword
// lists (English and Russian) that say what a warning is about: a kind of venue, a kind of
// gathering, or gatherings in general. The lists are in text.cpp and docs/warnings.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vigil::warn {

// Lower-cases UTF-8 text; invalid bytes become U+FFFD. "КОНЦЕРТ Ёлки" -> "концерт елки".
std::string fold_case(std::string_view utf8);

// Folded words: runs of letters and digits (any script), split at spaces and punctuation.
std::vector<std::string> words_of(std::string_view utf8);

// A keyword is one or more words; a word ending in '*' matches any word it begins
// ("концерт*" matches "концерта", "концертном"), otherwise the whole word must be equal.
// Consecutive keyword words must match consecutive text words.
struct Keyword {
  std::string text;  // as written in the list, e.g. "mass gathering*" or "массов* мероприят*"
};

// Whether `words` (from words_of) contain `keyword`.
bool contains_keyword(const std::vector<std::string>& words, std::string_view keyword);

// Whether `words` contain `name` (a venue or gathering name): name words of 4 or more letters
// match as prefixes, and those of 5 or more lose a final vowel first, so that declined forms
// match ("Лужники" ~ "в Лужниках", "Большой театр" ~ "у Большого театра").
bool contains_name(const std::vector<std::string>& words, std::string_view name);

// The keyword lists. Unknown uses/kinds have an empty list.
const std::vector<std::string_view>& venue_use_keywords(std::string_view venue_use);
const std::vector<std::string_view>& gathering_kind_keywords(std::string_view kind);
const std::vector<std::string_view>& generic_gathering_keywords();
// Every venue use / gathering kind with a list (for documentation and tests).
std::vector<std::string_view> known_venue_uses();
std::vector<std::string_view> known_gathering_kinds();

}  // namespace vigil::warn
