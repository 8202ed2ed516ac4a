// SPDX-License-Identifier: Apache-2.0
#include "api/mqtt.hpp"

#include <fmt/format.h>
#include <mosquitto.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/service.hpp"
#include "ops/reading.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"

namespace vigil::api {

struct MqttIngest::Impl {
  Service& service;
  server::MetricsRegistry& metrics;
  std::function<void(server::LogLevel, std::string_view)> log;
  MqttOptions options;
  mosquitto* client = nullptr;
  std::atomic<bool> connected{false};

  void count(const char* result) {
    metrics.counter("vigil_mqtt_messages_total", "MQTT telemetry messages by result", {"result"})
        .with({result})
        .inc();
  }
  void reject(std::string_view topic, const std::string& why) {
    count("rejected");
    if (log) log(server::LogLevel::warn, fmt::format("mqtt {}: rejected: {}", topic, why));
  }

  void on_message(const mosquitto_message* m) {
    const std::string_view topic(m->topic);
    // {prefix}/{venue}/{sensor}
    const std::string prefix = options.topic_prefix + "/";
    if (!topic.starts_with(prefix)) return reject(topic, "not under " + prefix);
    const std::string_view rest = topic.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos) {
      return reject(topic, "topic must be " + prefix + "{venue}/{sensor}");
    }
    const std::string venue(rest.substr(0, slash));
    const std::string sensor(rest.substr(slash + 1));
    const std::string_view payload(static_cast<const char*>(m->payload),
                                   static_cast<std::size_t>(m->payloadlen));
    nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
    if (j.is_discarded()) return reject(topic, "payload is not JSON");
    if (!j.is_object()) return reject(topic, "payload must be one reading (a JSON object)");
    if (!j.contains("sensor")) j["sensor"] = sensor;
    auto reading = ops::parse_reading(j, "reading");
    if (!reading) {
      std::string why;
      for (const Error& e : reading.error()) why += (why.empty() ? "" : "; ") + e.to_string();
      return reject(topic, why);
    }
    if (reading->sensor != sensor) {
      return reject(topic, "reading.sensor \"" + reading->sensor + "\" differs from the topic's");
    }
    std::string topic_copy(topic);
    service.ingest_readings(venue, {std::move(*reading)}, [this, topic_copy](Answer a) {
      if (a) {
        count("accepted");
        return;
      }
      std::string why = a.error().message;
      for (const Error& e : a.error().errors) why += "; " + e.to_string();
      reject(topic_copy, why);
    });
  }
};

MqttIngest::MqttIngest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MqttIngest::~MqttIngest() { stop(); }

void MqttIngest::stop() {
  if (!impl_ || !impl_->client) return;
  mosquitto_disconnect(impl_->client);
  mosquitto_loop_stop(impl_->client, true);
  mosquitto_destroy(impl_->client);
  impl_->client = nullptr;
}

bool MqttIngest::connected() const { return impl_->connected.load(); }

Result<std::unique_ptr<MqttIngest>> MqttIngest::start(
    Service& service, server::MetricsRegistry& metrics,
    std::function<void(server::LogLevel, std::string_view)> log, MqttOptions options) {
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  if (options.port < 1 || options.port > 65535) {
    return unexpected(Error{"mqtt.port", fmt::format("{} is not a port", options.port)});
  }
  auto state = std::unique_ptr<Impl>(new Impl{service, metrics, std::move(log), options});
  state->client = mosquitto_new(options.client_id.c_str(), true, state.get());
  if (!state->client) return unexpected(Error{"mqtt", "cannot create the MQTT client"});
  std::unique_ptr<MqttIngest> self(new MqttIngest(std::move(state)));
  Impl* p = self->impl_.get();
  if (!options.username.empty()) {
    mosquitto_username_pw_set(p->client, options.username.c_str(),
                              options.password.empty() ? nullptr : options.password.c_str());
  }
  mosquitto_connect_callback_set(p->client, [](mosquitto* m, void* user, int rc) {
    auto* impl = static_cast<Impl*>(user);
    if (rc != 0) {
      if (impl->log) {
        impl->log(server::LogLevel::warn,
                  fmt::format("mqtt: broker refused the connection: {}", mosquitto_connack_string(rc)));
      }
      return;
    }
    impl->connected = true;
    const std::string sub = impl->options.topic_prefix + "/+/+";
    mosquitto_subscribe(m, nullptr, sub.c_str(), 1);
    if (impl->log) impl->log(server::LogLevel::info, "mqtt: connected, subscribed to " + sub);
  });
  mosquitto_disconnect_callback_set(p->client, [](mosquitto*, void* user, int rc) {
    auto* impl = static_cast<Impl*>(user);
    impl->connected = false;
    if (rc != 0 && impl->log) {
      impl->log(server::LogLevel::warn, "mqtt: connection lost; reconnecting");
    }
  });
  mosquitto_message_callback_set(p->client, [](mosquitto*, void* user, const mosquitto_message* m) {
    static_cast<Impl*>(user)->on_message(m);
  });
  mosquitto_reconnect_delay_set(p->client, 1, 30, true);
  // connect_async fails at once only for bad arguments; an absent broker is retried by the loop.
  const int rc = mosquitto_connect_async(p->client, options.host.c_str(), options.port,
                                         options.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) {
    return unexpected(Error{"mqtt", std::string("cannot connect: ") + mosquitto_strerror(rc)});
  }
  if (rc == MOSQ_ERR_ERRNO && p->log) {
    p->log(server::LogLevel::warn, fmt::format("mqtt: broker {}:{} not reachable yet; retrying",
                                               options.host, options.port));
  }
  if (int lr = mosquitto_loop_start(p->client); lr != MOSQ_ERR_SUCCESS) {
    return unexpected(Error{"mqtt", std::string("cannot start: ") + mosquitto_strerror(lr)});
  }
  return self;
}

}  // namespace vigil::api
