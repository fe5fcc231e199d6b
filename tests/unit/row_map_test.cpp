// RowMap (src/util/row_map.h) against std::unordered_map: the same answers to random inserts and
// lookups over a few hundred thousand keys, every entry reached once by iteration, and entries
// that never move while the index grows.
#include "src/util/row_map.h"

#include <catch2/catch.hpp>
#include <random>
#include <unordered_map>
#include <unordered_set>

using auditpitr::RowMap;

TEST_CASE("RowMap answers as std::unordered_map does, and its entries never move", "[row_map]") {
  std::mt19937_64 random(11);
  RowMap<std::string> map;
  std::unordered_map<std::string, std::string> reference;
  std::unordered_map<std::string, const std::string*> address;
  auto key = [&]() {  // short and long keys, many of them repeated
    uint64_t n = random() % 300000;
    return n % 7 == 0 ? std::to_string(n) + "\tlong part of a composite key " + std::to_string(n * 31)
                      : std::to_string(n);
  };
  for (int i = 0; i < 600000; ++i) {
    std::string k = key();
    if (i % 3 == 0) {
      CHECK(map.count(k) == reference.count(k));
      auto found = map.find(k);
      REQUIRE((found == map.end()) == !reference.count(k));
      if (found != map.end()) REQUIRE(found->second == reference.at(k));
      continue;
    }
    auto [at, inserted] = map.try_emplace(k);
    REQUIRE(inserted == reference.try_emplace(k).second);
    REQUIRE(at->first == k);
    if (inserted) {
      at->second = "value of " + k;
      reference[k] = at->second;
      address[k] = &at->second;
    }
    REQUIRE(&map.at(k) == address.at(k));
  }
  REQUIRE(map.size() == reference.size());
  std::unordered_set<std::string> seen;
  for (const auto& [k, v] : map) {
    REQUIRE(seen.insert(k).second);
    REQUIRE(v == reference.at(k));
    REQUIRE(&v == address.at(k));
  }
  CHECK(seen.size() == reference.size());
  CHECK_THROWS_AS(map.at("absent"), std::out_of_range);
  RowMap<std::string> moved = std::move(map);
  CHECK(moved.size() == reference.size());
  CHECK(map.empty());  // NOLINT: a moved-from map is empty
}
