# SPDX-License-Identifier: Apache-2.0
# Every third-party library comes from a Debian 12 package (scripts/debian-packages.txt).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)            # header-only parts: Geometry, Asio, Beast
find_package(nlohmann_json 3.10 REQUIRED)
find_package(simdjson REQUIRED)              # telemetry on the ingest path
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(TBB REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)               # TLS for the operations server
find_package(LibXml2 REQUIRED)               # CAP 1.2 parsing and XSD validation
find_package(tomlplusplus REQUIRED)          # the server's configuration file
find_package(PkgConfig REQUIRED)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)  # MQTT telemetry
if(VIGIL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VIGIL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
