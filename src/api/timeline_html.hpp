// SPDX-License-Identifier: Apache-2.0
// The printable form of a gathering's timeline (GET /gatherings/{id}/timeline?format=html): one
// self-contained HTML page for the review afterwards.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vigil::api {

std::string html_escape(std::string_view text);
// `timeline` is Service::timeline()'s answer.
std::string timeline_html(const nlohmann::json& timeline);

}  // namespace vigil::api
