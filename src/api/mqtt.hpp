// SPDX-License-Identifier: Apache-2.0
// Telemetry over MQTT: subscribes to `{prefix}/+/+` (topic `vigil/{venue}/{sensor}`, payload one
// reading as in the HTTP API, `sensor` optional) on a broker and feeds each reading into the
// Service under the same rules as HTTP (validation, idempotence on (sensor, seq), durable
// storage). libmosquitto reconnects on its own, with backoff, when the broker goes away.
//
// Delivery: subscriptions use QoS 1; libmosquitto acknowledges a message when it arrives, before
// the reading is committed (a few milliseconds later). Bad payloads are logged with their topic
// and counted (`vigil_mqtt_messages_total{result="rejected"}`), never applied.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.hpp"

struct mosquitto;

namespace vigil::server {
class MetricsRegistry;
enum class LogLevel;
}  // namespace vigil::server

namespace vigil::api {

class Service;

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id = "vigil-server";
  std::string username;  // optional broker credentials
  std::string password;
  std::string topic_prefix = "vigil";
  int keepalive_s = 30;
};

class MqttIngest {
 public:
  // Starts connecting in the background; errors only for bad options or a library failure.
  static Result<std::unique_ptr<MqttIngest>> start(
      Service& service, server::MetricsRegistry& metrics,
      std::function<void(server::LogLevel, std::string_view)> log, MqttOptions options);
  ~MqttIngest();  // stop()s
  // Disconnects and stops the network thread: no more readings come in. Readings already handed
  // to the service may still complete (their callbacks use this object: keep it alive until the
  // store has flushed). Idempotent.
  void stop();
  MqttIngest(const MqttIngest&) = delete;
  MqttIngest& operator=(const MqttIngest&) = delete;

  bool connected() const;

 private:
  struct Impl;
  explicit MqttIngest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
