// SPDX-License-Identifier: Apache-2.0
#include "warn/text.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace vigil::warn {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes one UTF-8 sequence at s[i]; advances i. Overlong forms, surrogates and values above
// U+10FFFF decode to U+FFFD (one byte consumed).
char32_t decode(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return kReplacement;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

void encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char32_t lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;  // Latin-1: À..Þ
  if (c >= 0x100 && c <= 0x17F) {                            // Latin Extended-A
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if (c != 0x138 && c != 0x149 && c != 0x17F) return (c % 2 == 0) ? c + 1 : c;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  // Greek capitals
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic А..Я
  if (c >= 0x400 && c <= 0x40F) return c + 80;                // Ѐ..Џ (Ё, Є, І, Ї, Ў, ...)
  if (c >= 0x460 && c <= 0x4FF && c != 0x482 && !(c >= 0x483 && c <= 0x489) && c != 0x4C0) {
    // Cyrillic supplement pairs (Ѡ/ѡ ... Ҁ/ҁ, Ҋ/ҋ ... ӿ): upper case at even code points, except
    // the Ӂ..ӎ block where the upper case is odd.
    if (c >= 0x4C1 && c <= 0x4CE) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  return c;
}

// Russian "ё" is written "е" in most texts: fold it so both spellings match.
char32_t fold(char32_t c) {
  c = lower(c);
  return c == 0x451 ? 0x435 : c;
}

bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c == 0xD7 || c == 0xF7 || c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, symbols, arrows, dashes, quotes
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFF00 && c <= 0xFF0F) return false;  // full-width punctuation
  if (c == kReplacement || c == 0xFEFF) return false;
  return true;
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

// Drops a final vowel, soft sign or й (Latin or Cyrillic) so that declined forms match.
void drop_final_vowel(std::string& w) {
  std::size_t start = w.size();
  while (start > 0 && (static_cast<unsigned char>(w[start - 1]) & 0xC0) == 0x80) --start;
  if (start > 0) --start;
  std::size_t i = start;
  const char32_t c = decode(w, i);
  static constexpr std::u32string_view kVowels = U"aeiouyаеиоуыэюяйь";
  if (kVowels.find(c) != std::u32string_view::npos) w.erase(start);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::vector<std::string> keyword_words(std::string_view keyword) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < keyword.size()) {
    while (i < keyword.size() && keyword[i] == ' ') ++i;
    const std::size_t b = i;
    while (i < keyword.size() && keyword[i] != ' ') ++i;
    if (i > b) out.emplace_back(fold_case(keyword.substr(b, i - b)));
  }
  return out;
}

bool word_matches(std::string_view text_word, std::string_view pattern) {
  if (!pattern.empty() && pattern.back() == '*')
    return starts_with(text_word, pattern.substr(0, pattern.size() - 1));
  return text_word == pattern;
}

bool contains_sequence(const std::vector<std::string>& words,
                       const std::vector<std::string>& pattern) {
  if (pattern.empty() || words.size() < pattern.size()) return false;
  for (std::size_t i = 0; i + pattern.size() <= words.size(); ++i) {
    bool ok = true;
    for (std::size_t k = 0; k < pattern.size() && ok; ++k)
      ok = word_matches(words[i + k], pattern[k]);
    if (ok) return true;
  }
  return false;
}

using List = std::vector<std::string_view>;

// English words are matched whole (with the plural via '*' where needed); Russian ones as stems
// so that every case ending matches ("стадион*": стадион, стадиона, стадионе, стадионах).
const std::vector<std::pair<std::string_view, List>>& use_lists() {
  static const std::vector<std::pair<std::string_view, List>> k = {
      {"concert_hall",
       {"concert hall*", "concert venue*", "music hall*", "philharmoni*", "концертн* зал*",
        "концертн* площадк*", "филармони*"}},
      {"theatre", {"theatre*", "theater*", "opera house*", "театр*", "оперн*"}},
      {"stadium", {"stadium*", "stadia", "ballpark*", "стадион*"}},
      {"arena",
       {"arena*", "sports hall*", "ice palace*", "арен*", "ледов* дворц*", "ледов* дворец",
        "дворец спорта", "дворц* спорта"}},
      {"exhibition",
       {"exhibition centre*", "exhibition center*", "convention centre*", "convention center*",
        "expo centre*", "expo center*", "fairground*", "выставочн*", "экспоцентр*", "конгресс*"}},
      {"shopping_centre",
       {"shopping centre*", "shopping center*", "shopping mall*", "mall*", "торгов* центр*",
        "торгово* развлекательн*", "тц", "трц", "молл*"}},
      {"transport_hub",
       {"station*", "airport*", "terminal*", "metro", "subway", "railway", "bus station*",
        "вокзал*", "аэропорт*", "станци*", "метро", "метрополитен*", "терминал*"}},
      {"school", {"school*", "pupil*", "schoolchild*", "школ*", "учащ*", "гимнази*", "лице*"}},
      {"university",
       {"universit*", "college*", "campus*", "университет*", "вуз*", "институт*", "академи*",
        "студент*"}},
      {"hospital",
       {"hospital*", "clinic*", "medical centre*", "medical center*", "больниц*", "госпитал*",
        "поликлиник*", "клиник*"}},
      {"place_of_worship",
       {"church*", "cathedral*", "mosque*", "synagogue*", "temple*", "chapel*", "place* of worship",
        "церк*", "церков*", "храм*", "собор*", "мечет*", "синагог*", "молельн*"}},
      {"outdoor_event",
       {"open air", "open-air", "outdoor event*", "park*", "square*", "festival ground*",
        "fan zone*", "парк*", "площад*", "фан зон*", "фан-зон*", "набережн*"}},
  };
  return k;
}

const std::vector<std::pair<std::string_view, List>>& kind_lists() {
  static const std::vector<std::pair<std::string_view, List>> k = {
      {"concert",
       {"concert*", "gig*", "live music", "music festival*", "festival*", "концерт*", "фестивал*",
        "выступлени*"}},
      {"sport",
       {"match*", "football", "soccer", "hockey", "sport*", "sporting event*", "tournament*",
        "marathon*", "championship*", "матч*", "футбол*", "хоккей*", "хоккейн*", "спортивн*",
        "соревновани*", "турнир*", "марафон*", "чемпионат*"}},
      {"theatre",
       {"performance*", "play", "show*", "opera", "ballet", "спектакл*", "представлени*", "опер*",
        "балет*", "постановк*"}},
      {"conference",
       {"conference*", "convention*", "summit*", "congress*", "forum*", "exhibition*", "expo",
        "конференци*", "форум*", "съезд*", "саммит*", "выставк*", "конгресс*"}},
      {"religious",
       {"service*", "mass", "prayer*", "worship*", "pilgrimage*", "religious", "богослужени*",
        "служб*", "молитв*", "молебен*", "крестн* ход*", "паломничеств*", "религиозн*",
        "праздничн* служб*"}},
      {"market", {"market*", "fair*", "bazaar*", "рын*", "ярмарк*", "базар*"}},
      {"school_day",
       {"school*", "pupil*", "classes", "lessons", "школ*", "урок*", "учебн* день", "занят*",
        "учащ*"}},
      {"other", {}},
  };
  return k;
}

const List& find_list(const std::vector<std::pair<std::string_view, List>>& lists,
                      std::string_view key) {
  static const List kEmpty;
  for (const auto& [k, v] : lists)
    if (k == key) return v;
  return kEmpty;
}

}  // namespace

std::string fold_case(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) encode(fold(decode(utf8, i)), out);
  return out;
}

std::vector<std::string> words_of(std::string_view utf8) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const char32_t c = fold(decode(utf8, i));
    if (is_word_char(c)) {
      encode(c, cur);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool contains_keyword(const std::vector<std::string>& words, std::string_view keyword) {
  return contains_sequence(words, keyword_words(keyword));
}

bool contains_name(const std::vector<std::string>& words, std::string_view name) {
  std::vector<std::string> pattern = words_of(name);
  if (pattern.empty()) return false;
  std::size_t letters = 0;
  for (auto& w : pattern) {
    const std::size_t n = code_points(w);
    letters += n;
    if (n >= 5) drop_final_vowel(w);  // Лужники -> лужник*, matching Лужниках, Лужников
    if (n >= 4) w += '*';
  }
  if (letters < 3) return false;
  return contains_sequence(words, pattern);
}

const std::vector<std::string_view>& venue_use_keywords(std::string_view venue_use) {
  return find_list(use_lists(), venue_use);
}

const std::vector<std::string_view>& gathering_kind_keywords(std::string_view kind) {
  return find_list(kind_lists(), kind);
}

const std::vector<std::string_view>& generic_gathering_keywords() {
  static const List k = {"gathering*",
                         "mass gathering*",
                         "crowd*",
                         "crowded place*",
                         "public event*",
                         "mass event*",
                         "large event*",
                         "public assembl*",
                         "spectator*",
                         "audience*",
                         "массов* мероприяти*",
                         "мероприяти*",
                         "скоплени*",
                         "толп*",
                         "мест* массов*",
                         "людн* мест*",
                         "зрител*",
                         "посетител*"};
  return k;
}

std::vector<std::string_view> known_venue_uses() {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : use_lists()) out.push_back(k);
  return out;
}

std::vector<std::string_view> known_gathering_kinds() {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : kind_lists()) out.push_back(k);
  return out;
}

}  // namespace vigil::warn
