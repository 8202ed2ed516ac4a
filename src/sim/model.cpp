// SPDX-License-Identifier: Apache-2.0
#include "sim/model.hpp"

#include "sim/cfsm.hpp"
#include "sim/sfm.hpp"

namespace vigil::sim {

const std::vector<ModelInfo>& model_registry() {
  static const std::vector<ModelInfo> kModels{CfsmModel::info(), SfmModel::info()};
  return kModels;
}

const ModelInfo* find_model(std::string_view name) {
  for (const ModelInfo& m : model_registry())
    if (m.name == name) return &m;
  return nullptr;
}

std::unique_ptr<OperationalModel> make_model(std::string_view name,
                                             const std::map<std::string, double>& params) {
  const ModelInfo* m = find_model(name);
  return m ? m->make(params) : nullptr;
}

}  // namespace vigil::sim
