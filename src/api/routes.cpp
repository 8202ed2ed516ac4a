// SPDX-License-Identifier: Apache-2.0
#include "api/routes.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/simulations.hpp"
#include "api/timeline_html.hpp"
#include "server/metrics.hpp"
#include "store/store.hpp"

namespace vigil::api {
namespace {

using nlohmann::json;
using server::Handler;
using server::PathParams;
using server::Reply;
using server::Request;
using server::Response;

Response answer(const Answer& a, int ok_status = 200) {
  if (a) return Response::json(ok_status, a->dump());
  return Response::json(a.error().status, a.error().to_json().dump());
}

std::optional<std::string_view> param(const Request& r, std::string_view name) {
  auto v = r.query_param(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

// Which venue a request concerns, for authorization: a path parameter, a query parameter or
// nothing ("" = not about one venue).
using VenueOf = std::function<std::string(const Request&, const PathParams&)>;

VenueOf venue_from_path() {
  return [](const Request&, const PathParams& p) {
    const auto it = p.find("id");
    return it == p.end() ? std::string() : it->second;
  };
}
VenueOf venue_from_query() {
  return [](const Request& r, const PathParams&) {
    auto v = r.query_param("venue");
    return v ? std::string(*v) : std::string();
  };
}
VenueOf no_venue() {
  return [](const Request&, const PathParams&) { return std::string(); };
}

// Authenticates and authorizes, then hands the request to `inner`.
class Guard : public std::enable_shared_from_this<Guard> {
 public:
  Guard(Service& service, RouteOptions options) : service_(service), options_(std::move(options)) {}

  using Inner = std::function<void(const Principal&, Request&&, PathParams&&, Reply)>;

  Handler operator()(Action action, VenueOf venue_of, Inner inner) const {
    return [self = shared_from_this(), action, venue_of = std::move(venue_of),
            inner = std::move(inner)](Request&& req, PathParams&& params, Reply reply) {
      self->check(action, venue_of, inner, std::move(req), std::move(params), std::move(reply));
    };
  }

  void check(Action action, const VenueOf& venue_of, const Inner& inner, Request&& req,
             PathParams&& params, Reply reply) const {
    {
      auto token = req.bearer_token();
      std::optional<std::string_view> query_token;
      if (!token && req.route == "/api/v1/stream") query_token = req.query_param("access_token");
      auto who = service_.authenticate(token ? *token : query_token.value_or(""));
      if (!who) {
        deny(req, 401, to_string(who.error()), "");
        Response r = Response::error(401, to_string(who.error()));
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"vigil\"");
        reply(std::move(r));
        return;
      }
      const std::string venue = venue_of(req, params);
      if (!who->may(action, venue)) {
        const std::string why =
            venue.empty() ? fmt::format("role {} may not do this", to_string(who->role))
                          : fmt::format("role {} may not do this for venue \"{}\"",
                                        to_string(who->role), venue);
        deny(req, 403, why, who->token_id);
        reply(Response::error(403, why));
        return;
      }
      inner(*who, std::move(req), std::move(params), std::move(reply));
    }
  }

  // Synchronous endpoints.
  Handler sync(Action action, VenueOf venue_of,
               std::function<Response(const Principal&, const Request&, const PathParams&)> fn)
      const {
    return (*this)(action, std::move(venue_of),
                   [fn = std::move(fn)](const Principal& who, Request&& req, PathParams&& params,
                                        Reply reply) { reply(fn(who, req, params)); });
  }

 private:
  void deny(const Request& req, int status, std::string_view why, std::string_view token_id) const {
    if (options_.log) {
      options_.log(server::LogLevel::warn,
                   fmt::format("denied {} {} {} from {}{}{}: {}", status, req.method, req.path,
                               req.remote, token_id.empty() ? "" : " token ", token_id, why));
    }
    if (options_.metrics) {
      options_.metrics->counter("vigil_http_denied_total", "Requests denied (401, 403)", {"status"})
          .with({std::to_string(status)})
          .inc();
    }
  }

  Service& service_;
  const RouteOptions options_;
};

}  // namespace

void add_routes(server::Router& router, Service& service, const RouteOptions& options) {
  // The guard lives as long as the handlers: keep it in a shared_ptr captured by each.
  auto guard = std::make_shared<Guard>(service, options);
  const std::string v1 = "/api/v1";

  router.add_sync("GET", "/healthz", [](const Request&, const PathParams&) {
    return Response::json(200, R"({"status":"ok"})");
  });
  if (options.metrics && options.serve_metrics) {
    router.add("GET", "/metrics", server::metrics_handler(options.metrics));
  }

  router.add("GET", v1 + "/whoami",
             guard->sync(Action::identify, no_venue(), [](const Principal& who, const Request&,
                                                      const PathParams&) {
               const auto can = [&](Action a) {
                 return who.may(a, who.venue.value_or(""));
               };
               json j = {{"token_id", who.token_id},
                         {"role", to_string(who.role)},
                         {"venue", who.venue ? json(*who.venue) : json(nullptr)},
                         {"name", who.name},
                         {"can",
                          {{"acknowledge", can(Action::acknowledge)},
                           {"resolve", can(Action::acknowledge)},
                           {"incidents", can(Action::incident)},
                           {"posture", can(Action::posture)},
                           {"gatherings", can(Action::gatherings)},
                           {"warnings_post", can(Action::post_warning)},
                           {"audit", can(Action::audit)},
                           {"simulate", can(Action::simulate)},
                           {"admin", who.role == Role::admin}}}};
               return Response::json(200, j.dump());
             }));

  router.add("GET", v1 + "/venues",
             guard->sync(Action::read, no_venue(),
                         [&service](const Principal& who, const Request&, const PathParams&) {
                           return answer(service.list_venues(who));
                         }));
  router.add("GET", v1 + "/venues/{id}",
             guard->sync(Action::read, venue_from_path(),
                         [&service](const Principal&, const Request&, const PathParams& p) {
                           return answer(service.get_venue(p.at("id")));
                         }));
  router.add("PUT", v1 + "/venues/{id}",
             guard->sync(Action::manage_venue, venue_from_path(),
                         [&service](const Principal& who, const Request& r, const PathParams& p) {
                           auto a = service.put_venue(who, p.at("id"), r.body);
                           return answer(a, a && (*a)["created"].get<bool>() ? 201 : 200);
                         }));
  router.add("GET", v1 + "/venues/{id}/state",
             guard->sync(Action::read, venue_from_path(),
                         [&service](const Principal&, const Request&, const PathParams& p) {
                           auto text = service.venue_state_text(p.at("id"));
                           if (!text) return answer(unexpected(std::move(text.error())));
                           return Response::json(200, std::move(*text));
                         }));
  router.add("GET", v1 + "/venues/{id}/rules",
             guard->sync(Action::read, venue_from_path(),
                         [&service](const Principal&, const Request&, const PathParams& p) {
                           return answer(service.get_rules(p.at("id")));
                         }));
  router.add("PUT", v1 + "/venues/{id}/rules",
             guard->sync(Action::manage_venue, venue_from_path(),
                         [&service](const Principal& who, const Request& r, const PathParams& p) {
                           return answer(service.put_rules(who, p.at("id"), r.body));
                         }));
  router.add("PUT", v1 + "/venues/{id}/posture",
             guard->sync(Action::posture, venue_from_path(),
                         [&service](const Principal& who, const Request& r, const PathParams& p) {
                           return answer(service.set_posture(who, p.at("id"), r.body));
                         }));
  router.add("POST", v1 + "/venues/{id}/telemetry",
             (*guard)(Action::telemetry, venue_from_path(),
                      [&service](const Principal&, Request&& r, PathParams&& p, Reply reply) {
                        service.ingest(p.at("id"), r.body,
                                       [reply](Answer a) { reply(answer(a)); });
                      }));

  router.add("GET", v1 + "/venues/{id}/incidents",
             guard->sync(Action::read, venue_from_path(),
                         [&service](const Principal&, const Request&, const PathParams& p) {
                           return answer(service.list_incidents(p.at("id")));
                         }));
  router.add("POST", v1 + "/venues/{id}/incidents",
             (*guard)(Action::incident, venue_from_path(),
                      [&service](const Principal& who, Request&& r, PathParams&& p, Reply reply) {
                        service.create_incident(who, p.at("id"), r.body,
                                                [reply](Answer a) { reply(answer(a, 201)); });
                      }));
  router.add("POST", v1 + "/venues/{id}/incidents/{incident}/close",
             (*guard)(Action::incident, venue_from_path(),
                      [&service](const Principal& who, Request&& r, PathParams&& p, Reply reply) {
                        service.close_incident(who, p.at("id"), p.at("incident"), r.body,
                                               [reply](Answer a) { reply(answer(a)); });
                      }));

  if (options.simulations) {
    const std::shared_ptr<SimulationJobs> sims = options.simulations;
    router.add("POST", v1 + "/venues/{id}/simulations",
               guard->sync(Action::simulate, venue_from_path(),
                           [sims](const Principal& who, const Request& r, const PathParams& p) {
                             return answer(sims->submit(who, p.at("id"), r.body), 202);
                           }));
    router.add("GET", v1 + "/simulations",
               guard->sync(Action::read, venue_from_query(),
                           [sims](const Principal& who, const Request& r, const PathParams&) {
                             return answer(sims->list(who, param(r, "venue")));
                           }));
    // A simulation's venue is known once it is looked up: readers of that venue.
    const auto simulation_read = [sims](auto fn) {
      return [sims, fn](const Principal& who, const Request& r, const PathParams& p) {
        const std::string& id = p.at("id");
        auto venue = sims->venue_of(id);
        if (!venue) return Response::error(404, "no simulation \"" + id + "\"");
        if (!who.may(Action::read, *venue)) {
          return Response::error(403, fmt::format("role {} may not do this for venue \"{}\"",
                                                  to_string(who.role), *venue));
        }
        return fn(r, id);
      };
    };
    router.add("GET", v1 + "/simulations/{id}",
               guard->sync(Action::read, no_venue(),
                           simulation_read([sims](const Request&, const std::string& id) {
                             return answer(sims->get(id));
                           })));
    router.add("GET", v1 + "/simulations/{id}/frames",
               guard->sync(Action::read, no_venue(),
                           simulation_read([sims](const Request& r, const std::string& id) {
                             return answer(sims->frames(id, param(r, "fps"), param(r, "level")));
                           })));
  }

  router.add("GET", v1 + "/gatherings",
             guard->sync(Action::read, venue_from_query(),
                         [&service](const Principal& who, const Request& r, const PathParams&) {
                           return answer(service.list_gatherings(
                               who, param(r, "from"), param(r, "to"), param(r, "venue")));
                         }));
  // The venue of a new gathering is in its body: Service::put_gathering checks the scope.
  router.add("POST", v1 + "/gatherings",
             guard->sync(Action::gatherings, no_venue(),
                         [&service](const Principal& who, const Request& r, const PathParams&) {
                           return answer(service.put_gathering(who, r.body), 201);
                         }));

  router.add("GET", v1 + "/alerts",
             guard->sync(Action::read, venue_from_query(),
                         [&service](const Principal& who, const Request& r, const PathParams&) {
                           return answer(
                               service.list_alerts(who, param(r, "venue"), param(r, "state"),
                                                   param(r, "before"), param(r, "limit")));
                         }));
  const auto alert_action = [&service](Service::AlertAction action) {
    return [&service, action](const Principal& who, Request&& r, PathParams&& p, Reply reply) {
      // The venue is the alert's: check the scope once it is known.
      const std::string& id = p.at("id");
      auto venue = service.alert_venue(id);
      if (!venue) {
        reply(Response::error(404, "no alert \"" + id + "\""));
        return;
      }
      if (!who.may(Action::acknowledge, *venue)) {
        reply(Response::error(403, fmt::format("role {} may not do this for venue \"{}\"",
                                               to_string(who.role), *venue)));
        return;
      }
      reply(answer(service.alert_action(who, id, action, r.body)));
    };
  };
  router.add("POST", v1 + "/alerts/{id}/ack",
             (*guard)(Action::acknowledge, no_venue(),
                      alert_action(Service::AlertAction::acknowledge)));
  router.add("POST", v1 + "/alerts/{id}/resolve",
             (*guard)(Action::acknowledge, no_venue(),
                      alert_action(Service::AlertAction::resolve)));

  // Warnings (CAP) and the duty to warn.
  router.add("POST", v1 + "/warnings",
             guard->sync(Action::post_warning, no_venue(),
                         [&service](const Principal& who, const Request& r, const PathParams&) {
                           auto posted = service.post_warning(who, r.body);
                           if (!posted) return answer(unexpected(posted.error()));
                           return Response::json(posted->created ? 201 : 200, posted->body.dump());
                         }));
  router.add("GET", v1 + "/warnings",
             guard->sync(Action::read, no_venue(),
                         [&service](const Principal& who, const Request&, const PathParams&) {
                           return answer(service.list_warnings(who));
                         }));
  router.add("GET", v1 + "/warnings/{id}",
             guard->sync(Action::read, no_venue(),
                         [&service](const Principal& who, const Request&, const PathParams& p) {
                           return answer(service.get_warning(who, p.at("id")));
                         }));
  router.add("POST", v1 + "/warnings/{id}/matches/{gathering}/ack",
             guard->sync(Action::acknowledge, no_venue(),
                         [&service](const Principal& who, const Request& r, const PathParams& p) {
                           auto venue = service.match_venue(p.at("id"), p.at("gathering"));
                           if (!venue) {
                             return Response::error(404, "no match of warning " + p.at("id") +
                                                             " to gathering " + p.at("gathering"));
                           }
                           if (!who.may(Action::acknowledge, *venue)) {
                             return Response::error(
                                 403, fmt::format("role {} may not do this for venue \"{}\"",
                                                  to_string(who.role), *venue));
                           }
                           return answer(service.acknowledge_match(who, p.at("id"), p.at("gathering"),
                                                                   r.body));
                         }));
  // A gathering's advisory and timeline: readers of its venue.
  const auto gathering_venue = [&service](const Request&, const PathParams& p) {
    return service.gathering_venue(p.at("id")).value_or("?unknown");
  };
  router.add("GET", v1 + "/gatherings/{id}/advisory.cap",
             guard->sync(Action::read, gathering_venue,
                         [&service](const Principal&, const Request&, const PathParams& p) {
                           auto xml = service.advisory(p.at("id"));
                           if (!xml) return answer(unexpected(xml.error()));
                           return Response::text(200, *xml, "application/cap+xml; charset=utf-8");
                         }));
  router.add("GET", v1 + "/gatherings/{id}/timeline",
             guard->sync(Action::read, gathering_venue,
                         [&service](const Principal&, const Request& r, const PathParams& p) {
                           auto t = service.timeline(p.at("id"));
                           if (!t || r.query_param("format") != "html") return answer(t);
                           return Response::text(200, timeline_html(*t), "text/html; charset=utf-8");
                         }));

  router.add("GET", v1 + "/audit",
             guard->sync(Action::audit, no_venue(),
                         [&service](const Principal&, const Request& r, const PathParams&) {
                           return answer(service.list_audit(param(r, "from"), param(r, "to"),
                                                            param(r, "after"), param(r, "limit")));
                         }));

  router.add("GET", v1 + "/stream",
             (*guard)(Action::read, venue_from_query(),
                      [&service](const Principal& who, Request&& r, PathParams&&, Reply reply) {
                        std::string venue(param(r, "venue").value_or(""));
                        if (!venue.empty() && !service.has_venue(venue)) {
                          reply(Response::error(404, "no venue \"" + venue + "\""));
                          return;
                        }
                        auto stream = server::EventStream::create();
                        reply(Response::event_stream(stream));
                        service.subscribe(who, venue, stream);
                      }));

  if (!options.web_root.empty()) {
    router.add("GET", "/{*path}", server::static_files(options.web_root));
  }
}

}  // namespace vigil::api
