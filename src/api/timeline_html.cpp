// SPDX-License-Identifier: Apache-2.0
#include "api/timeline_html.hpp"

#include <fmt/format.h>

namespace vigil::api {

using nlohmann::json;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return html_escape(it->is_string() ? it->get<std::string>() : it->dump());
}

std::string seconds(const json& stats) {
  if (stats.value("count", 0) == 0) return "none";
  return fmt::format("{} (median {:.0f} s, longest {:.0f} s)", stats["count"].get<int>(),
                     stats["median_s"].get<double>(), stats["max_s"].get<double>());
}

}  // namespace

std::string timeline_html(const json& t) {
  const json& g = t["gathering"];
  std::string out = fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Timeline: {0}</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#111}}
h1{{font-size:1.4rem;margin:0 0 .2rem}} h2{{font-size:1.1rem;margin:1.6rem 0 .4rem}}
table{{border-collapse:collapse;width:100%}} th,td{{border-bottom:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}}
th{{background:#f2f2f2}} .muted{{color:#555}} code{{font-size:12px}}
@media print{{body{{margin:0}}}}
</style></head><body>
<h1>{0}</h1>
<p class="muted">{1} at venue <b>{2}</b>, {3} to {4}; expected attendance {5}. Times are UTC.</p>
)",
                                text(g, "name"), text(g, "kind"), text(t, "venue"), text(g, "starts_at"),
                                text(g, "ends_at"), text(g, "expected_attendance"));
  const json& tta = t["time_to_acknowledge"];
  out += "<h2>Time to acknowledge</h2><table><tr><th>what</th><th>acknowledged</th></tr>";
  out += "<tr><td>warnings</td><td>" + seconds(tta["warnings"]) + "</td></tr>";
  out += "<tr><td>alerts</td><td>" + seconds(tta["alerts"]) + "</td></tr>";
  for (const auto& [who, stats] : tta["by_person"].items()) {
    out += "<tr><td>" + html_escape(who) + "</td><td>" + seconds(stats) + "</td></tr>";
  }
  out += "</table>";

  // Peaks during the gathering: the venue's occupancy and each zone's density.
  const json& peaks = t.contains("peaks") ? t["peaks"] : json::object();
  out += "<h2>Peaks during the gathering</h2><table><tr><th>where</th><th>peak</th><th>at</th></tr>";
  if (const json* occ = peaks.contains("occupancy") && peaks["occupancy"].is_object() ? &peaks["occupancy"] : nullptr) {
    out += fmt::format("<tr><td>venue occupancy</td><td>{:.0f} persons</td><td>{}</td></tr>",
                       occ->value("persons", 0.0), text(*occ, "at"));
  } else {
    out += "<tr><td>venue occupancy</td><td colspan=2 class=muted>no evaluation during the gathering yet</td></tr>";
  }
  if (peaks.contains("zones")) {
    for (const json& z : peaks["zones"]) {
      out += fmt::format("<tr><td>zone {}</td><td>{:.2f} persons/m² ({:.0f} persons)</td><td>{}</td></tr>",
                         text(z, "zone"), z.value("density_p_m2", 0.0), z.value("persons", 0.0),
                         text(z, "at"));
    }
  }
  out += "</table>";

  out += "<h2>Warnings matched to this gathering</h2><table><tr><th>received</th><th>warning</th>"
         "<th>specificity</th><th>state</th><th>acknowledged by</th><th>action</th></tr>";
  for (const json& m : t["warnings"]) {
    out += fmt::format("<tr><td>{}</td><td>{}<br><span class=muted>{}</span></td><td>{:.2f}</td>"
                       "<td>{}</td><td>{} {}</td><td>{} <span class=muted>{}</span></td></tr>",
                       text(m, "matched_at"), text(m, "event"), text(m, "headline"),
                       m["specificity"].value("score", 0.0), text(m, "state"), text(m, "acknowledged_by"),
                       text(m, "acknowledged_at"), text(m, "action"), text(m, "note"));
  }
  out += "</table>";

  out += "<h2>Alerts</h2><table><tr><th>since</th><th>rule</th><th>zone</th><th>severity</th>"
         "<th>state</th><th>acknowledged by</th><th>note</th></tr>";
  for (const json& a : t["alerts"]) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td></tr>",
                       text(a, "since"), text(a, "rule"), text(a, "zone"), text(a, "severity"),
                       text(a, "state"), text(a, "acknowledged_by"), text(a, "acknowledged_at"), text(a, "note"));
  }
  out += "</table>";

  out += "<h2>Everything, in order</h2><table><tr><th>#</th><th>at</th><th>who</th><th>what</th>"
         "<th>subject</th><th>detail</th></tr>";
  for (const json& e : t["events"]) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                       text(e, "seq"), text(e, "at"), text(e, "actor"), text(e, "action"),
                       text(e, "subject"), html_escape(e["detail"].dump()));
  }
  out += "</table>\n<p class=muted>Entries come from the hash-chained audit log; check it with "
         "<code>vigil audit verify</code>.</p></body></html>\n";
  return out;
}

}  // namespace vigil::api
